/**
 * What the docker and podman adapters share. Both are CLIs of one shape (podman copies docker's
 * commands and output), so tagging, pulling, running a container, inspecting, listing and
 * removing images are the same calls; what differs is a parameter (`EngineCli`): the client,
 * the output meaning the engine itself is not there, and the few flags one needs and the other
 * does not. docker.ts and podman.ts keep only what differs: detection, build and push.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { canonicalName, parseReference } from '../core/dockerfile/reference.js';
import { err, ok, type Result } from '../core/model.js';
import type {
  BuildRequest,
  Engine,
  EngineFailure,
  EngineInfo,
  ListedImage,
  LocalImage,
  OpOptions,
  RunRequest,
} from '../run/ports.js';
import { commandFailure, pushFailure, runCommand, type ExecResult } from './exec.js';

/** Short engine calls (version, probes, tag, inspect) that hang this long are treated as down. */
export const QUICK_SECONDS = 30;

/** A short engine call: limited to QUICK_SECONDS, killed one second after it is stopped. */
export function runQuick(
  client: string,
  args: readonly string[],
  env?: Readonly<Record<string, string>>,
): Promise<ExecResult> {
  return runCommand({
    file: client,
    args,
    ...(env ? { env } : {}),
    timeoutSeconds: QUICK_SECONDS,
    killGraceMs: 1000,
  });
}

/** The run options of a long engine operation (build, push, pull): its signal, log and limit. */
export function operationLimits(
  op: OpOptions,
): Pick<OpOptions, 'signal' | 'log'> & { timeoutSeconds?: number } {
  return {
    signal: op.signal,
    log: op.log,
    ...(op.timeoutSeconds ? { timeoutSeconds: op.timeoutSeconds } : {}),
  };
}

export async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Where a command is on PATH, like `command -v`. */
export async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

/** JSON an engine printed, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Runs `detect` once and keeps its answer, unless it failed: then the next call tries again. */
export function onceUntilSuccess<T, E>(
  detect: () => Promise<Result<T, E>>,
): () => Promise<Result<T, E>> {
  let detected: Promise<Result<T, E>> | undefined;
  return () => {
    detected ??= detect().then((r) => {
      if (!r.ok) detected = undefined;
      return r;
    });
    return detected;
  };
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kbuild-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The image id an engine wrote into its --iidfile, as `sha256:<hex>`. */
export async function readImageId(iidfile: string): Promise<string | undefined> {
  const text = (await readFile(iidfile, 'utf8').catch(() => '')).trim();
  if (!text) return undefined;
  return text.includes(':') ? text : `sha256:${text}`;
}

/**
 * The `build` arguments both engines take alike, from `--iidfile` to the context directory.
 * `pullFlag`: how the engine spells "always pull the base" (`--pull`, `--pull=always`).
 */
export function buildFlags(req: BuildRequest, iidfile: string, pullFlag: string): string[] {
  const args = ['--iidfile', iidfile, '-f', req.dockerfile];
  for (const t of req.tags) args.push('-t', t);
  for (const [k, v] of Object.entries(req.buildArgs)) args.push('--build-arg', `${k}=${v}`);
  for (const [k, v] of Object.entries(req.labels)) args.push('--label', `${k}=${v}`);
  if (req.network) args.push('--network', req.network);
  if (req.platform) args.push('--platform', req.platform);
  if (req.pull) args.push(pullFlag);
  if (req.noCache) args.push('--no-cache');
  for (const s of req.secrets ?? [])
    args.push('--secret', `id=${s.id},${'src' in s ? csvField(`src=${s.src}`) : `env=${s.env}`}`);
  args.push(req.contextDir);
  return args;
}

/** A field of a CSV flag value (`--secret`), quoted when it holds a comma or a quote. */
const csvField = (f: string) => (/[,"]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);

/**
 * Runs a build (`argv(iidfile)`) and answers the image id it wrote to its --iidfile, never one
 * read from its output. `name` says which engine in the failure when no id was written.
 */
export function buildWithIidfile(
  client: string,
  argv: (iidfile: string) => string[],
  op: OpOptions,
  o: {
    readonly name: string;
    readonly unavailable: RegExp;
    readonly env?: Readonly<Record<string, string>>;
    readonly stopStyle?: 'group' | 'work-first';
  },
): Promise<Result<{ readonly imageId: string }, EngineFailure>> {
  return withTempDir(async (dir) => {
    const iidfile = join(dir, 'iid');
    const r = await runCommand({
      file: client,
      args: argv(iidfile),
      ...(o.env ? { env: o.env } : {}),
      ...(o.stopStyle ? { stopStyle: o.stopStyle } : {}),
      ...operationLimits(op),
    });
    if (r.status !== 'exited' || r.exitCode !== 0) return err(commandFailure(r, o.unavailable));
    const imageId = await readImageId(iidfile);
    if (!imageId) {
      return err({
        reason: 'engine-exit',
        exitCode: 0,
        message: `${o.name} build succeeded but wrote no image id to --iidfile`,
      } as const);
    }
    return ok({ imageId });
  });
}

/** What one engine CLI is, for the operations both do alike. */
export interface EngineCli {
  /** The detected client (detection once, see onceUntilSuccess). */
  readonly info: () => Promise<Result<EngineInfo, EngineFailure>>;
  /** Output meaning the engine itself is not there (no daemon, no podman service or storage). */
  readonly unavailable: RegExp;
  /** Flags `pull` needs for a reference (podman: no TLS to a loopback registry). */
  readonly pullFlags: (ref: string) => readonly string[];
  /** The command that removes a container at once, before its name. */
  readonly forceRemove: readonly string[];
}

/** The Engine operations docker and podman do with the same commands. */
export function engineCliOperations(
  cli: EngineCli,
): Pick<Engine, 'tag' | 'pull' | 'run' | 'inspect' | 'listImages' | 'removeImages'> {
  const { info, unavailable } = cli;
  return {
    async tag(source, target) {
      const i = await info();
      if (!i.ok) return i;
      const r = await runQuick(i.value.client, ['tag', source, target]);
      if (r.status !== 'exited' || r.exitCode !== 0) return err(commandFailure(r, unavailable));
      return ok(undefined);
    },

    async pull(ref, op) {
      const i = await info();
      return i.ok ? pullImage(i.value.client, cli.pullFlags(ref), ref, op, unavailable) : i;
    },

    async run(req, op) {
      const i = await info();
      return i.ok
        ? runContainer(i.value.client, req, op, { unavailable, forceRemove: cli.forceRemove })
        : i;
    },

    async inspect(refs) {
      const unique = [...new Set(refs)];
      if (unique.length === 0) return new Map();
      const i = await info();
      if (!i.ok) return new Map();
      const r = await runQuick(i.value.client, ['image', 'inspect', ...unique]);
      if (r.status !== 'exited') return new Map();
      return pairInspected(unique, parseInspect(r.stdout), missingRefs(r.stderr, unique));
    },

    async listImages(repositories) {
      const i = await info();
      return i.ok ? listRepositoryImages(i.value.client, repositories, unavailable) : i;
    },

    async removeImages(refs) {
      const i = await info();
      return i.ok ? removeLocalImages(i.value.client, refs, unavailable) : i;
    },
  };
}

interface InspectJson {
  Id?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Config?: { Labels?: Record<string, string> | null } | null;
  Size?: number;
  Created?: string;
  /** docker only: when the image was last tagged here (a zero time when never). */
  Metadata?: { LastTagTime?: string } | null;
}

/**
 * Pairs each looked-up reference with its inspect record. Engines print the found ones in
 * the order asked and name each missing one on stderr, so the found references, in order,
 * line up with the records; when that does not add up, each record is matched by its tags,
 * digests and id instead.
 */
export function pairInspected(
  refs: readonly string[],
  records: readonly InspectJson[],
  missing: ReadonlySet<string>,
): Map<string, LocalImage> {
  const toImage = (r: InspectJson): LocalImage => ({
    id: r.Id?.includes(':') ? r.Id : `sha256:${r.Id ?? ''}`,
    labels: { ...(r.Config?.Labels ?? {}) },
    refs: [...(r.RepoTags ?? [])],
  });
  const out = new Map<string, LocalImage>();
  const found = refs.filter((r) => !missing.has(r));
  if (found.length === records.length) {
    found.forEach((ref, i) => out.set(ref, toImage(records[i]!)));
    return out;
  }
  const canon = (ref: string) => {
    const p = parseReference(ref);
    return p.ok ? canonicalName(p.value) : ref;
  };
  for (const ref of refs) {
    const want = canon(ref);
    const hit = records.find(
      (r) =>
        [...(r.RepoTags ?? []), ...(r.RepoDigests ?? [])].some((t) => canon(t) === want) ||
        r.Id === ref ||
        r.Id === `sha256:${ref}` ||
        (ref.length >= 12 && (r.Id ?? '').replace(/^sha256:/, '').startsWith(ref)),
    );
    if (hit) out.set(ref, toImage(hit));
  }
  return out;
}

/** References an engine said it does not have (`No such image: REF`, `REF: image not known`). */
export function missingRefs(stderr: string, refs: readonly string[]): Set<string> {
  const missing = new Set<string>();
  for (const line of stderr.split('\n')) {
    const m = /no such image: (\S+?)(?::\s|$)/i.exec(line.trim());
    if (m?.[1]) missing.add(m[1]);
    for (const ref of refs) if (line.includes(`${ref}: image not known`)) missing.add(ref);
  }
  return missing;
}

/** Parses `image inspect` output: a JSON array, possibly empty or absent. */
export function parseInspect(stdout: string): InspectJson[] {
  const parsed = parseJson(stdout.trim());
  return Array.isArray(parsed) ? (parsed as InspectJson[]) : [];
}

/** `<client> pull [extra…] ref`, then the local id of `ref`. */
async function pullImage(
  client: string,
  extra: readonly string[],
  ref: string,
  op: OpOptions,
  unavailable: RegExp,
): Promise<Result<{ readonly imageId: string }, EngineFailure>> {
  const r = await runCommand({
    file: client,
    args: ['pull', ...extra, ref],
    ...operationLimits(op),
  });
  if (r.status !== 'exited' || r.exitCode !== 0) {
    const f = pushFailure(r, unavailable);
    return err(f.reason === 'push-failed' ? { ...f, reason: 'pull-failed' as const } : f);
  }
  const id = await runQuick(client, ['image', 'inspect', '--format', '{{.Id}}', ref]);
  const hex = id.stdout.trim();
  return ok({ imageId: hex.startsWith('sha256:') ? hex : `sha256:${hex}` });
}

/**
 * `<client> run --rm` of a local image: the command's exit code. The container gets a unique
 * name: a client killed on timeout or abort leaves its container running (it belongs to the
 * daemon, or to conmon), and `forceRemove` by that name removes it. Exit code 125 is the
 * client's own failure (no such image, bad option), not the command's.
 */
async function runContainer(
  client: string,
  req: RunRequest,
  op: OpOptions,
  o: { readonly unavailable: RegExp; readonly forceRemove: readonly string[] },
): Promise<Result<{ readonly exitCode: number }, EngineFailure>> {
  const name = `kbuild-run-${randomBytes(6).toString('hex')}`;
  const r = await runCommand({
    file: client,
    args: [
      'run',
      '--rm',
      '--name',
      name,
      '--pull=never',
      '--network',
      req.network,
      ...(req.user ? ['--user', req.user] : []),
      ...(req.entrypoint ? ['--entrypoint', req.entrypoint] : []),
      req.image,
      ...req.command,
    ],
    // The container, not the client, is what must stop: it is removed right after (and by the
    // next run, when this one is killed with SIGKILL).
    killGraceMs: 1000,
    afterKill: [client, ...o.forceRemove, name],
    ...operationLimits(op),
  });
  if (r.status !== 'exited') await runQuick(client, [...o.forceRemove, name]);
  if (r.status !== 'exited' || r.exitCode === 125) return err(commandFailure(r, o.unavailable));
  return ok({ exitCode: r.exitCode });
}

/** `sha256:<hex>` whether the engine printed the prefix (docker) or not (podman inspect). */
const fullId = (id: string) => (id.startsWith('sha256:') ? id : `sha256:${id}`);

/**
 * Whether a repository an engine lists is the one asked for: `kbuild/base` is docker's
 * `docker.io/kbuild/base`, and podman's `localhost/kbuild/base` (where podman keeps local builds).
 */
export function sameRepository(asked: string, listed: string): boolean {
  const canon = (repo: string) => {
    const p = parseReference(`${repo}:x`);
    return p.ok ? canonicalName(p.value) : repo;
  };
  const want = canon(asked);
  return (
    want === canon(listed) ||
    (listed.startsWith('localhost/') && want === canon(listed.slice('localhost/'.length)))
  );
}

/**
 * The local images tagged in `repositories`: `images` lists every tag, then one
 * `image inspect` of the ids found gives each one's size and creation time.
 */
async function listRepositoryImages(
  client: string,
  repositories: readonly string[],
  unavailable: RegExp,
): Promise<Result<ListedImage[], EngineFailure>> {
  const listed = await runQuick(client, [
    'images',
    '--no-trunc',
    '--format',
    '{{.ID}}\t{{.Repository}}\t{{.Tag}}',
  ]);
  if (listed.status !== 'exited' || listed.exitCode !== 0)
    return err(commandFailure(listed, unavailable));
  const refs = new Map<string, Set<string>>();
  for (const line of listed.stdout.split('\n')) {
    const [id, repository, tag] = line.trim().split('\t');
    if (!id || !repository || !tag || tag === '<none>') continue;
    const asked = repositories.find((a) => sameRepository(a, repository));
    if (asked === undefined) continue;
    const set = refs.get(fullId(id)) ?? new Set<string>();
    refs.set(fullId(id), set.add(`${asked}:${tag}`));
  }
  if (refs.size === 0) return ok([]);
  const inspected = await runQuick(client, ['image', 'inspect', ...refs.keys()]);
  if (inspected.status !== 'exited' || inspected.exitCode !== 0)
    return err(commandFailure(inspected, unavailable));
  const records = new Map(parseInspect(inspected.stdout).map((r) => [fullId(r.Id ?? ''), r]));
  return ok(
    [...refs].map(([id, tags]) => ({
      id,
      refs: [...tags].sort(),
      size: records.get(id)?.Size ?? 0,
      madeAt: records.get(id)?.Metadata?.LastTagTime || records.get(id)?.Created || '',
    })),
  );
}

/** `<client> rmi REF…`: untags, and removes each image whose last tag goes (never forced). */
async function removeLocalImages(
  client: string,
  refs: readonly string[],
  unavailable: RegExp,
): Promise<Result<void, EngineFailure>> {
  if (refs.length === 0) return ok(undefined);
  const r = await runQuick(client, ['rmi', ...refs]);
  return r.status === 'exited' && r.exitCode === 0
    ? ok(undefined)
    : err(commandFailure(r, unavailable));
}
