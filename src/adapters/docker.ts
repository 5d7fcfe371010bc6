/**
 * The Engine port over the docker CLI.
 *
 * Which client and which build path is detected, never assumed: a client with the buildx
 * plugin builds with buildx (`--load`, so the image lands in the engine); else a client that
 * still has BuildKit built in (docker 18.09-22.x, with DOCKER_BUILDKIT=1); else the legacy
 * builder. A 23+ client without buildx refuses DOCKER_BUILDKIT=1 outright, so it is probed.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { err, ok, type Digest, type Result } from '../core/model.js';
import { canonicalName, parseReference } from '../core/dockerfile/reference.js';
import type {
  BuildPath,
  BuildRequest,
  Engine,
  EngineFailure,
  EngineInfo,
  ListedImage,
  LocalImage,
  OpOptions,
  RunRequest,
} from '../run/ports.js';
import { commandFailure, lastLine, pushFailure, runCommand, type ExecResult } from './exec.js';

export interface DockerEngineOptions {
  /** The docker client to use (a path or a name on PATH); default: the best one found. */
  readonly client?: string;
  /** A buildx builder (`docker buildx build --builder NAME`); needs a client with buildx. */
  readonly builder?: string;
  /** Build with the legacy builder (DOCKER_BUILDKIT=0) whatever the client supports. */
  readonly legacyBuilder?: boolean;
}

/** Output that means the client is there but its daemon is not. */
const DAEMON_DOWN =
  /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|docker\.sock: connect/i;
/** Short engine calls (version, probes, tag, inspect) that hang this long are treated as down. */
const QUICK_SECONDS = 30;

/** The clients to try, best guess first: the one on PATH, then the usual install places. */
async function candidateClients(client?: string): Promise<string[]> {
  if (client) {
    return [
      isAbsolute(client) || client.includes('/') ? client : ((await onPath(client)) ?? client),
    ];
  }
  const found: string[] = [];
  const seen = new Set<string>();
  for (const c of [await onPath('docker'), '/usr/bin/docker', '/usr/local/bin/docker']) {
    if (!c || !(await isExecutable(c))) continue;
    const real = await realpath(c).catch(() => c);
    if (seen.has(real)) continue;
    seen.add(real);
    found.push(c);
  }
  return found;
}

async function isExecutable(path: string): Promise<boolean> {
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

interface VersionJson {
  Client?: { Version?: string };
  Server?: { Version?: string; Os?: string; Arch?: string } | null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface Probe {
  readonly info?: EngineInfo;
  readonly problem?: string;
}

/** What one client is, whether its daemon answers, and how it can build. */
async function probeClient(client: string, builder?: string): Promise<Probe> {
  const quick = { timeoutSeconds: QUICK_SECONDS, killGraceMs: 1000 };
  const [v, buildx] = await Promise.all([
    runCommand({ file: client, args: ['version', '--format', '{{json .}}'], ...quick }),
    runCommand({ file: client, args: ['buildx', 'version'], ...quick }),
  ]);
  if (v.status === 'spawn-failed') return { problem: v.message };
  const version = parseJson(v.stdout.trim()) as VersionJson | undefined;
  const server = version?.Server;
  if (v.status !== 'exited' || v.exitCode !== 0 || !server?.Version) {
    const why =
      v.status === 'timeout'
        ? `no answer in ${QUICK_SECONDS} s`
        : lastLine(v.stderr) || lastLine(v.stdout) || 'no server version';
    return { problem: `${client}: ${why}` };
  }
  const base = {
    kind: 'docker' as const,
    client,
    clientVersion: version?.Client?.Version ?? 'unknown',
    serverVersion: server.Version,
    platform: `${server.Os ?? 'linux'}/${server.Arch ?? 'amd64'}`,
  };
  if (buildx.status === 'exited' && buildx.exitCode === 0) {
    if (builder) {
      const inspect = await runCommand({
        file: client,
        args: ['buildx', 'inspect', builder],
        ...quick,
      });
      if (inspect.status !== 'exited' || inspect.exitCode !== 0) {
        return { problem: `${client}: buildx builder '${builder}': ${lastLine(inspect.stderr)}` };
      }
    }
    return { info: { ...base, buildPath: 'buildx' } };
  }
  // Only a client with BuildKit built in accepts DOCKER_BUILDKIT=1 without buildx.
  const help = await runCommand({
    file: client,
    args: ['build', '--help'],
    env: { DOCKER_BUILDKIT: '1' },
    ...quick,
  });
  const buildPath: BuildPath =
    help.status === 'exited' && help.exitCode === 0 ? 'buildkit' : 'legacy';
  return { info: { ...base, buildPath } };
}

const RANK: Record<BuildPath, number> = { buildx: 0, buildkit: 1, legacy: 2, buildah: 3 };

/**
 * Finds the docker client to use: the first with buildx, else the first with BuildKit built
 * in, else the first whose daemon answers (legacy builder). With `builder`, only buildx will do.
 */
export async function detectDocker(
  opts: DockerEngineOptions = {},
): Promise<Result<EngineInfo, EngineFailure>> {
  const clients = await candidateClients(opts.client);
  if (clients.length === 0) {
    return err({
      reason: 'engine-unavailable',
      message: 'no docker client found (looked on PATH, /usr/bin/docker, /usr/local/bin/docker)',
    });
  }
  const problems: string[] = [];
  let best: EngineInfo | undefined;
  // Clients are probed at once: each probe is a few client processes, and this runs on every build.
  const probes = await Promise.all(clients.map((c) => probeClient(c, opts.builder)));
  for (const p of probes) {
    if (p.problem) problems.push(p.problem);
    if (!p.info) continue;
    if (!best || RANK[p.info.buildPath] < RANK[best.buildPath]) best = p.info;
  }
  if (best && opts.builder && best.buildPath !== 'buildx') {
    return err({
      reason: 'engine-unavailable',
      message: `--builder ${opts.builder} needs docker buildx, and no docker client here has it (${clients.join(', ')})`,
    });
  }
  if (!best) return err({ reason: 'engine-unavailable', message: problems.join('; ') });
  return ok(opts.legacyBuilder ? { ...best, buildPath: 'legacy' } : best);
}

/** How the build path reads in the log's first line. */
function describePath(info: EngineInfo, builder?: string): string {
  switch (info.buildPath) {
    case 'buildx':
      return builder ? `buildx, builder '${builder}'` : 'buildx (the current builder)';
    case 'buildkit':
      return 'BuildKit built into the client';
    case 'legacy':
      return 'the legacy builder (this client has neither buildx nor BuildKit built in)';
    case 'buildah':
      return 'buildah';
  }
}

/** `docker build` arguments (after `build` or `buildx build`) for a request. */
function buildArgs(req: BuildRequest, iidfile: string, path: BuildPath): string[] {
  const args: string[] = [];
  if (path !== 'legacy') args.push('--progress=plain');
  args.push('--iidfile', iidfile, '-f', req.dockerfile);
  for (const t of req.tags) args.push('-t', t);
  for (const [k, v] of Object.entries(req.buildArgs)) args.push('--build-arg', `${k}=${v}`);
  for (const [k, v] of Object.entries(req.labels)) args.push('--label', `${k}=${v}`);
  if (req.network) args.push('--network', req.network);
  if (req.platform) args.push('--platform', req.platform);
  if (req.pull) args.push('--pull');
  if (req.noCache) args.push('--no-cache');
  args.push(req.contextDir);
  return args;
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

/** A reference's repository in canonical form (`busybox` -> `docker.io/library/busybox`). */
export function canonicalRepository(ref: string): string | undefined {
  const r = parseReference(ref);
  if (!r.ok) return undefined;
  // canonicalName needs a tag or digest to leave off the default one; give it a fixed tag.
  return canonicalName({ domain: r.value.domain, path: r.value.path, tag: 'x' }).slice(0, -2);
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

/** `<client> pull [extra…] ref`, then the local id of `ref` (docker and podman alike). */
export async function pullImage(
  client: string,
  extra: readonly string[],
  ref: string,
  op: OpOptions,
  unavailable: RegExp,
): Promise<Result<{ readonly imageId: string }, EngineFailure>> {
  const r = await runCommand({
    file: client,
    args: ['pull', ...extra, ref],
    signal: op.signal,
    log: op.log,
    ...(op.timeoutSeconds ? { timeoutSeconds: op.timeoutSeconds } : {}),
  });
  if (r.status !== 'exited' || r.exitCode !== 0) {
    const f = pushFailure(r, unavailable);
    return err(f.reason === 'push-failed' ? { ...f, reason: 'pull-failed' as const } : f);
  }
  const id = await runCommand({
    file: client,
    args: ['image', 'inspect', '--format', '{{.Id}}', ref],
    timeoutSeconds: QUICK_SECONDS,
    killGraceMs: 1000,
  });
  const hex = id.stdout.trim();
  return ok({ imageId: hex.startsWith('sha256:') ? hex : `sha256:${hex}` });
}

/**
 * `<client> run --rm` of a local image (docker and podman alike): the command's exit code.
 * The container gets a unique name: a client killed on timeout or abort leaves its container
 * running (it belongs to the daemon, or to conmon), and `forceRemove` by that name removes it.
 * Exit code 125 is the client's own failure (no such image, bad option), not the command's.
 */
export async function runContainer(
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
      req.image,
      ...req.command,
    ],
    signal: op.signal,
    log: op.log,
    // The container, not the client, is what must stop: it is removed right after.
    killGraceMs: 1000,
    ...(op.timeoutSeconds ? { timeoutSeconds: op.timeoutSeconds } : {}),
  });
  if (r.status !== 'exited') {
    await runCommand({
      file: client,
      args: [...o.forceRemove, name],
      timeoutSeconds: QUICK_SECONDS,
      killGraceMs: 1000,
    });
  }
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
 * The local images tagged in `repositories` (docker and podman alike): `images` lists every
 * tag, then one `image inspect` of the ids found gives each one's size and creation time.
 */
export async function listRepositoryImages(
  client: string,
  repositories: readonly string[],
  unavailable: RegExp,
): Promise<Result<ListedImage[], EngineFailure>> {
  const quick = (args: string[]) =>
    runCommand({ file: client, args, timeoutSeconds: QUICK_SECONDS, killGraceMs: 1000 });
  const listed = await quick([
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
  const inspected = await quick(['image', 'inspect', ...refs.keys()]);
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
export async function removeLocalImages(
  client: string,
  refs: readonly string[],
  unavailable: RegExp,
): Promise<Result<void, EngineFailure>> {
  if (refs.length === 0) return ok(undefined);
  const r = await runCommand({
    file: client,
    args: ['rmi', ...refs],
    timeoutSeconds: QUICK_SECONDS,
    killGraceMs: 1000,
  });
  return r.status === 'exited' && r.exitCode === 0
    ? ok(undefined)
    : err(commandFailure(r, unavailable));
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

/** An Engine over the docker CLI; detection runs once per engine (a failed one is retried). */
export function createDockerEngine(opts: DockerEngineOptions = {}): Engine {
  const info = onceUntilSuccess(() => detectDocker(opts));
  const quick = (client: string, args: string[]): Promise<ExecResult> =>
    runCommand({ file: client, args, timeoutSeconds: QUICK_SECONDS, killGraceMs: 1000 });

  return {
    kind: 'docker',
    info,

    async build(req, op: OpOptions) {
      const i = await info();
      if (!i.ok) return i;
      const { client, buildPath } = i.value;
      op.log(
        `kbuild: building with docker ${i.value.clientVersion} (${client}), ${describePath(i.value, opts.builder)}`,
      );
      return withTempDir(async (dir) => {
        const iidfile = join(dir, 'iid');
        const args = buildArgs(req, iidfile, buildPath);
        const argv =
          buildPath === 'buildx'
            ? [
                'buildx',
                'build',
                ...(opts.builder ? ['--builder', opts.builder] : []),
                '--load',
                ...args,
              ]
            : ['build', ...args];
        const env: Record<string, string> =
          buildPath === 'buildkit'
            ? { DOCKER_BUILDKIT: '1' }
            : buildPath === 'legacy'
              ? { DOCKER_BUILDKIT: '0' }
              : { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' };
        const r = await runCommand({
          file: client,
          args: argv,
          env,
          signal: op.signal,
          log: op.log,
          ...(op.timeoutSeconds ? { timeoutSeconds: op.timeoutSeconds } : {}),
        });
        if (r.status !== 'exited' || r.exitCode !== 0) return err(commandFailure(r, DAEMON_DOWN));
        const imageId = await readImageId(iidfile);
        if (!imageId) {
          return err({
            reason: 'engine-exit',
            exitCode: 0,
            message: `docker build succeeded but wrote no image id to --iidfile`,
          } as const);
        }
        return ok({ imageId });
      });
    },

    async tag(source, target) {
      const i = await info();
      if (!i.ok) return i;
      const r = await quick(i.value.client, ['tag', source, target]);
      if (r.status !== 'exited' || r.exitCode !== 0) return err(commandFailure(r, DAEMON_DOWN));
      return ok(undefined);
    },

    async pull(ref, op) {
      const i = await info();
      return i.ok ? pullImage(i.value.client, [], ref, op, DAEMON_DOWN) : i;
    },

    async run(req, op) {
      const i = await info();
      return i.ok
        ? runContainer(i.value.client, req, op, {
            unavailable: DAEMON_DOWN,
            forceRemove: ['rm', '--force'],
          })
        : i;
    },

    async push(ref, op) {
      const i = await info();
      if (!i.ok) return i;
      const client = i.value.client;
      const r = await runCommand({
        file: client,
        args: ['push', ref],
        signal: op.signal,
        log: op.log,
        ...(op.timeoutSeconds ? { timeoutSeconds: op.timeoutSeconds } : {}),
      });
      if (r.status !== 'exited' || r.exitCode !== 0) return err(pushFailure(r, DAEMON_DOWN));
      // The digest the registry stored is recorded by the engine per repository.
      const d = await quick(client, ['image', 'inspect', '--format', '{{json .RepoDigests}}', ref]);
      const digests = (parseJson(d.stdout.trim()) as string[] | null | undefined) ?? [];
      const repo = canonicalRepository(ref);
      const matching = digests
        .map((rd) => rd.split('@'))
        .filter(([name, digest]) => digest && name && canonicalRepository(name) === repo)
        .map(([, digest]) => digest!);
      // Several digests for one repository (pushed before with another manifest format):
      // the one this push printed is the one the tag now points to.
      const digest = matching.find((m) => r.stdout.includes(m)) ?? matching[0];
      if (!digest) {
        return err({
          reason: 'push-failed',
          message: `pushed ${ref}, but docker records no digest for ${repo ?? ref} (RepoDigests: ${JSON.stringify(digests)})`,
          transient: false,
        } as const);
      }
      return ok({ digest: digest as Digest });
    },

    async inspect(refs) {
      const unique = [...new Set(refs)];
      if (unique.length === 0) return new Map();
      const i = await info();
      if (!i.ok) return new Map();
      const r = await quick(i.value.client, ['image', 'inspect', ...unique]);
      if (r.status !== 'exited') return new Map();
      return pairInspected(unique, parseInspect(r.stdout), missingRefs(r.stderr, unique));
    },

    async listImages(repositories) {
      const i = await info();
      return i.ok ? listRepositoryImages(i.value.client, repositories, DAEMON_DOWN) : i;
    },

    async removeImages(refs) {
      const i = await info();
      return i.ok ? removeLocalImages(i.value.client, refs, DAEMON_DOWN) : i;
    },
  };
}
