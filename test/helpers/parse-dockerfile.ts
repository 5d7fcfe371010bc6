/** Short forms of parseDockerfile for its tests (src/core/dockerfile/*.test.ts). */
import {
  parseDockerfile,
  type DockerfileProblem,
  type ParsedDockerfile,
} from '../../src/core/dockerfile/dockerfile.js';

/** Dockerfile text from lines (keeps tests readable where indentation matters). */
export const df = (...lines: string[]): string => lines.join('\n') + '\n';

export function parse(text: string, buildArgs: Record<string, string> = {}): ParsedDockerfile {
  const r = parseDockerfile(text, buildArgs);
  if (!r.ok)
    throw new Error(`expected the Dockerfile to parse: line ${r.error.line}: ${r.error.message}`);
  return r.value;
}

/** Just the references, as `kind ref @line`. */
export function refs(text: string, buildArgs: Record<string, string> = {}): string[] {
  return parse(text, buildArgs).refs.map((r) => `${r.kind} ${r.ref} @${r.line}`);
}

export function problem(text: string, buildArgs: Record<string, string> = {}): DockerfileProblem {
  const r = parseDockerfile(text, buildArgs);
  if (r.ok) throw new Error(`expected a problem, got ${JSON.stringify(r.value)}`);
  return r.error;
}
