/**
 * The fake engine's Dockerfile interpreter and the small shell its RUN steps and containers run
 * in, over an image's files held in memory (path -> content).
 *
 * FROM (a stored image, an earlier stage, or a base "pulled" out of thin air unless offline),
 * ARG/ENV with `$X` expansion, COPY/ADD of context files, LABEL, and RUN steps made of
 * `echo ... [> file]`, `cat file`, `sleep N`, `exit N`, `true`, `false`, `nc HOST PORT` (refused
 * unless the network is `host`) joined by `&&`, `;` or new lines; anything else in a RUN is
 * accepted and does nothing. The image id is the engine's business: this answers the labels,
 * the files and a trace of every input that must change the id.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { err, ok, type Result } from '../../src/core/model.js';
import type { BuildRequest, EngineFailure } from '../../src/run/ports.js';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** An image as the fake keeps it: its id, labels and files (path -> content). */
export interface FakeImage {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly files: ReadonlyMap<string, string>;
}

/** Where FROM finds the images it names that are not earlier stages. */
export interface DockerfileBases {
  /** A stored image by reference (or id), undefined when absent. */
  lookup(ref: string): FakeImage | undefined;
  /** An absent image fails the build (as on a host that cannot pull) instead of being pulled. */
  readonly offline?: boolean | undefined;
  /** Stores and tags an empty image "pulled" out of thin air for an absent reference. */
  pull(ref: string): FakeImage;
}

/** Expands `$X` and `${X}` from `vars` (unknown ones expand to nothing, as in sh). */
function expand(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (_, a: string | undefined, b: string | undefined) => vars.get(a ?? b ?? '') ?? '',
  );
}

/** Removes one level of shell quotes (good enough for `echo "a b"`). */
const unquote = (s: string) =>
  s.replace(/"([^"]*)"|'([^']*)'/g, (_, a?: string, b?: string) => a ?? b ?? '');

/** Dockerfile lines with continuations joined, comments and blank lines dropped. */
function instructions(text: string): { op: string; rest: string }[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const out: { op: string; rest: string }[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (m) out.push({ op: m[1]!.toUpperCase(), rest: m[2]! });
  }
  return out;
}

/** `K=V K2="V 2"` or `K V` (ENV/LABEL/ARG forms). */
function keyValues(
  rest: string,
  vars: ReadonlyMap<string, string>,
): [string, string | undefined][] {
  if (!rest.includes('=')) {
    const [k, ...v] = rest.split(/\s+/);
    return k ? [[k, v.length ? expand(unquote(v.join(' ')), vars) : undefined]] : [];
  }
  const out: [string, string | undefined][] = [];
  for (const m of rest.matchAll(/([\w.-]+)(?:=("[^"]*"|'[^']*'|\S*))?/g)) {
    out.push([m[1]!, m[2] === undefined ? undefined : expand(unquote(m[2]), vars)]);
  }
  return out;
}

/** Runs a RUN instruction's or a container's command in the fake's simple shell; answers the exit code. */
export async function runShell(
  cmd: string,
  vars: ReadonlyMap<string, string>,
  files: Map<string, string>,
  log: (l: string) => void,
  sleep: (ms: number) => Promise<void>,
  network: string,
): Promise<number> {
  for (const part of cmd.split(/&&|;|\n/).map((p) => p.trim())) {
    if (!part) continue;
    const [word = '', ...args] = part.split(/\s+/);
    const rest = expand(args.join(' '), vars);
    switch (word) {
      case 'echo': {
        const m = /^(.*?)\s*(>>?)\s*(\S+)$/.exec(rest);
        const text = unquote(m ? m[1]! : rest);
        if (!m) log(text);
        else files.set(m[3]!, (m[2] === '>>' ? (files.get(m[3]!) ?? '') : '') + `${text}\n`);
        break;
      }
      case 'cat':
        for (const f of rest.split(/\s+/).filter(Boolean)) {
          const c = files.get(f);
          if (c === undefined) {
            log(`cat: can't open '${f}': No such file or directory`);
            return 1;
          }
          for (const l of c.replace(/\n$/, '').split('\n')) log(l);
        }
        break;
      case 'sleep':
        await sleep(Number(rest) * 1000 || 0);
        break;
      case 'exit':
        if (Number(rest) !== 0) return Number(rest) || 1;
        return 0;
      case 'false':
        return 1;
      case 'nc':
        if (network !== 'host') {
          log(`nc: can't connect to remote host (${args.at(-2) ?? ''}): Connection refused`);
          return 1;
        }
        break;
      default:
        break; // true, and anything the fake does not model
    }
  }
  return 0;
}

/** Reads and "runs" a Dockerfile; answers the image to store or a failure. */
export async function runDockerfile(
  req: BuildRequest,
  log: (l: string) => void,
  sleep: (ms: number) => Promise<void>,
  bases: DockerfileBases,
): Promise<
  Result<
    { labels: Record<string, string>; files: Map<string, string>; trace: string[] },
    EngineFailure
  >
> {
  const text = await readFile(req.dockerfile, 'utf8').catch(() => '');
  const stages = new Map<string, { labels: Record<string, string>; files: Map<string, string> }>();
  const globalArgs = new Map<string, string>();
  let vars = new Map<string, string>();
  let labels: Record<string, string> = {};
  let files = new Map<string, string>();
  const trace: string[] = [];
  let inStage = false;
  const argValue = (k: string, dflt: string | undefined) => req.buildArgs[k] ?? dflt;
  const steps = instructions(text);
  for (const [n, { op, rest }] of steps.entries()) {
    const line = `${op} ${rest}`;
    log(`#${n + 1} ${line}`);
    trace.push(line);
    switch (op) {
      case 'ARG':
        for (const [k, v] of keyValues(rest, inStage ? vars : globalArgs)) {
          const value = argValue(k, v ?? (inStage ? globalArgs.get(k) : undefined));
          if (value !== undefined) (inStage ? vars : globalArgs).set(k, value);
        }
        break;
      case 'FROM': {
        const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest);
        const ref = expand(m?.[1] ?? '', globalArgs);
        const stage = stages.get(ref);
        let parent:
          { labels: Record<string, string>; files: ReadonlyMap<string, string> } | undefined =
          stage;
        if (!parent && ref !== 'scratch') {
          let img = bases.lookup(ref);
          if (!img) {
            if (bases.offline) {
              const message = `pull access denied for ${ref}, repository does not exist or may require 'docker login'`;
              log(`ERROR: ${message}`);
              return err({ reason: 'engine-exit', exitCode: 1, message });
            }
            log(`#${n + 1} pulling ${ref}`);
            img = bases.pull(ref);
          }
          parent = img;
          trace.push(`parent ${img.id}`);
        }
        labels = { ...parent?.labels };
        files = new Map(parent?.files ?? []);
        vars = new Map();
        inStage = true;
        if (m?.[2]) stages.set(m[2], { labels, files });
        break;
      }
      case 'ENV':
        for (const [k, v] of keyValues(rest, vars)) vars.set(k, v ?? '');
        break;
      case 'LABEL':
        for (const [k, v] of keyValues(rest, vars)) labels[k] = v ?? '';
        break;
      case 'COPY':
      case 'ADD': {
        const words = rest.split(/\s+/).filter((w) => !w.startsWith('--'));
        const dest = expand(words.pop() ?? '/', vars);
        for (const src of words) {
          const content = await readFile(join(req.contextDir, src), 'utf8').catch(() => undefined);
          if (content === undefined) {
            const message = `failed to compute cache key: "/${src}" not found: not found`;
            log(`ERROR: ${message}`);
            return err({ reason: 'engine-exit', exitCode: 1, message });
          }
          trace.push(`file ${src} ${sha256(content)}`);
          files.set(dest.endsWith('/') ? posix.join(dest, posix.basename(src)) : dest, content);
        }
        break;
      }
      case 'RUN': {
        const code = await runShell(
          rest,
          vars,
          files,
          (l) => log(`#${n + 1} ${l}`),
          sleep,
          req.network,
        );
        if (code !== 0) {
          const message = `process "/bin/sh -c ${rest}" did not complete successfully: exit code: ${code}`;
          log(`ERROR: ${message}`);
          return err({ reason: 'engine-exit', exitCode: 1, message });
        }
        break;
      }
      default:
        break;
    }
  }
  return ok({ labels, files, trace });
}
