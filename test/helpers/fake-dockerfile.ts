/**
 * The fake engine's Dockerfile interpreter and the small shell its RUN steps and containers run
 * in, over an image's files held in memory (path -> content).
 *
 * FROM (a stored image, an earlier stage, or a base "pulled" out of thin air unless offline),
 * ARG/ENV with `$X` expansion, COPY/ADD of context files, LABEL, ENTRYPOINT (exec or shell form,
 * inherited from the parent), and RUN steps made of
 * `echo ... [> file]`, `cat file`, `sleep N`, `exit N`, `true`, `false`, `nc HOST PORT` (refused
 * unless the network is `host`) joined by `&&`, `;` or new lines; anything else in a RUN is
 * accepted and does nothing. The image id is the engine's business: this answers the labels,
 * the files and a trace of every input that must change the id.
 *
 * A container runs the argv its entrypoint (the image's, or the one the request overrides it
 * with) makes of its command, in the same shell. kbuild's package inventory script, which that
 * shell cannot run, is answered the way the real script answers, from the image's files: its
 * /etc/os-release, and the dpkg database at /var/lib/dpkg/status when the image has one (a test
 * seeds a base with one, or a RUN appends to it); an image without it has no package database
 * (`manager none`), as busybox has none.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { err, ok, type Result } from '../../src/core/model.js';
import { inventoryScript } from '../../src/core/packages/inventory.js';
import type { BuildRequest, EngineFailure, RunRequest } from '../../src/run/ports.js';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** An image as the fake keeps it: its id, labels and files (path -> content). */
export interface FakeImage {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly files: ReadonlyMap<string, string>;
  /** ENTRYPOINT as argv (the shell form as `/bin/sh -c …`); absent: none. */
  readonly entrypoint?: readonly string[];
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

/** ENTRYPOINT's argv: the exec form's JSON array, else the shell form run by `/bin/sh -c`. */
function entrypointOf(rest: string): string[] {
  if (rest.startsWith('[')) {
    try {
      const argv: unknown = JSON.parse(rest);
      if (Array.isArray(argv)) return argv.map(String);
    } catch {
      // not JSON: the shell form, as docker takes it
    }
  }
  return ['/bin/sh', '-c', rest];
}

/** Reads and "runs" a Dockerfile; answers the image to store or a failure. */
export async function runDockerfile(
  req: BuildRequest,
  log: (l: string) => void,
  sleep: (ms: number) => Promise<void>,
  bases: DockerfileBases,
): Promise<
  Result<
    {
      labels: Record<string, string>;
      files: Map<string, string>;
      entrypoint?: readonly string[];
      trace: string[];
    },
    EngineFailure
  >
> {
  const text = await readFile(req.dockerfile, 'utf8').catch(() => '');
  type Stage = {
    labels: Record<string, string>;
    files: Map<string, string>;
    entrypoint?: readonly string[] | undefined;
  };
  const stages = new Map<string, Stage>();
  const globalArgs = new Map<string, string>();
  let vars = new Map<string, string>();
  let labels: Record<string, string> = {};
  let files = new Map<string, string>();
  let entrypoint: readonly string[] | undefined;
  /** The named stage being built (a later stage's FROM sees its ENTRYPOINT too). */
  let named: Stage | undefined;
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
          | {
              labels: Record<string, string>;
              files: ReadonlyMap<string, string>;
              entrypoint?: readonly string[] | undefined;
            }
          | undefined = stage;
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
        entrypoint = parent?.entrypoint;
        vars = new Map();
        inStage = true;
        named = m?.[2] ? { labels, files, entrypoint } : undefined;
        if (m?.[2] && named) stages.set(m[2], named);
        break;
      }
      case 'ENV':
        for (const [k, v] of keyValues(rest, vars)) vars.set(k, v ?? '');
        break;
      case 'LABEL':
        for (const [k, v] of keyValues(rest, vars)) labels[k] = v ?? '';
        break;
      case 'ENTRYPOINT':
        entrypoint = entrypointOf(rest);
        if (named) named.entrypoint = entrypoint;
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
  return ok({ labels, files, ...(entrypoint ? { entrypoint } : {}), trace });
}

/** Entrypoints that only start the command they are given (after `--`), like tini and dumb-init. */
const WRAPPERS = new Set(['tini', 'dumb-init']);
const SHELLS = new Set(['sh', 'ash', 'bash']);

/** The script the fake's shell runs for a container: `sh -c SCRIPT`'s script, else the argv. */
export function containerScript(req: RunRequest, image: FakeImage): string {
  let argv =
    req.entrypoint !== undefined
      ? [req.entrypoint, ...req.command]
      : [...(image.entrypoint ?? []), ...req.command];
  if (argv[0] && WRAPPERS.has(posix.basename(argv[0]))) {
    const dashes = argv.indexOf('--');
    argv = argv.slice(dashes >= 0 ? dashes + 1 : 1);
  }
  const [first = '', flag, script] = argv;
  return SHELLS.has(posix.basename(first)) && flag === '-c' ? (script ?? '') : argv.join(' ');
}

/** The inventory script's output lines for an image's files; undefined for any other script. */
export function inventoryAnswer(
  script: string,
  files: ReadonlyMap<string, string>,
): string[] | undefined {
  if (script !== inventoryScript()) return undefined;
  const line = (...fields: string[]) => ['KBI', ...fields].join('\t');
  const os = osRelease(files.get('/etc/os-release') ?? '');
  const out = [line('os', os.get('ID') ?? '', os.get('VERSION_ID') ?? '')];
  const status = files.get('/var/lib/dpkg/status');
  if (status === undefined) return [...out, line('manager', 'none', '')];
  const apt = [...files.keys()]
    .filter((f) => f.startsWith('/etc/apt/'))
    .sort()
    .map((f) => `${f}\n${files.get(f)!}`)
    .join('');
  out.push(line('manager', 'dpkg', sha256(apt)));
  for (const p of dpkgStatus(status)) {
    out.push(line('pkg', p.name, p.arch, p.version, p.source, p.status));
  }
  return out;
}

/** os-release's KEY=value lines, quotes removed. */
function osRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^(\w+)=("?)(.*)\2$/gm)) out.set(m[1]!, m[3]!);
  return out;
}

/** A dpkg status file's paragraphs, as dpkg-query -W prints them (status abbreviated: ii, rc, un). */
function dpkgStatus(
  text: string,
): { name: string; arch: string; version: string; source: string; status: string }[] {
  return text
    .split(/\n\s*\n/)
    .map((para) => {
      const f = new Map<string, string>();
      for (const m of para.matchAll(/^([\w-]+):\s*(.*)$/gm)) f.set(m[1]!.toLowerCase(), m[2]!);
      const status = f.get('status') ?? '';
      return {
        name: f.get('package') ?? '',
        arch: f.get('architecture') ?? '',
        version: f.get('version') ?? '',
        source: (f.get('source') ?? '').replace(/\s*\(.*\)$/, '') || (f.get('package') ?? ''),
        status: status.endsWith(' installed')
          ? 'ii '
          : status.endsWith(' config-files')
            ? 'rc '
            : 'un ',
      };
    })
    .filter((p) => p.name);
}
