import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

export const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** Runs kbuild in-process with captured output. */
export async function runCli(args: string[], cwd: string, env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    cwd,
    env,
  });
  return { code, stdout, stderr };
}
