/**
 * The Engine port over the docker CLI.
 *
 * Which client and which build path is detected, never assumed: a client with the buildx
 * plugin builds with buildx (`--load`, so the image lands in the engine); else a client that
 * still has BuildKit built in (docker 18.09-22.x, with DOCKER_BUILDKIT=1); else the legacy
 * builder. A 23+ client without buildx refuses DOCKER_BUILDKIT=1 outright, so it is probed.
 * DOCKER_BUILDKIT, when set, decides as it does for the docker CLI: 0 the legacy builder, 1
 * BuildKit (an error when no client here has it).
 */
import { readFile, realpath, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { appendLabels } from '../core/dockerfile/label-instruction.js';
import { err, ok, type Digest, type Result } from '../core/model.js';
import { canonicalName, parseReference } from '../core/dockerfile/reference.js';
import type { BuildPath, BuildRequest, Engine, EngineFailure, EngineInfo } from '../run/ports.js';
import {
  buildFlags,
  buildWithIidfile,
  engineCliOperations,
  isExecutable,
  onceUntilSuccess,
  onPath,
  operationLimits,
  parseJson,
  QUICK_SECONDS,
  runQuick,
  withTempDir,
} from './engine-cli.js';
import { lastLine, pushFailure, runCommand } from './exec.js';

export interface DockerEngineOptions {
  /** The docker client to use (a path or a name on PATH); default: the best one found. */
  readonly client?: string;
  /** A buildx builder (`docker buildx build --builder NAME`); needs a client with buildx. */
  readonly builder?: string;
  /** Build with the legacy builder (DOCKER_BUILDKIT=0) whatever the client supports. */
  readonly legacyBuilder?: boolean;
  /** DOCKER_BUILDKIT as the docker CLI would see it; default: this process's environment's. */
  readonly buildkitEnv?: string;
}

/**
 * What DOCKER_BUILDKIT asks for, read as the docker CLI reads it (Go's strconv.ParseBool; unset
 * or empty: nothing, the client's best path). A value that is no boolean is an error there too.
 */
export function buildkitWanted(value: string | undefined): Result<boolean | undefined, string> {
  if (value === undefined || value === '') return ok(undefined);
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return ok(true);
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return ok(false);
  return err(
    `DOCKER_BUILDKIT=${value}: the docker CLI expects a boolean value there (1 or 0); unset it to let kbuild choose`,
  );
}

/** Output that means the client is there but its daemon is not. */
const DAEMON_DOWN =
  /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|docker\.sock: connect/i;

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

interface VersionJson {
  Client?: { Version?: string };
  Server?: { Version?: string; Os?: string; Arch?: string } | null;
}

interface Probe {
  readonly info?: EngineInfo;
  readonly problem?: string;
}

/** What one client is, whether its daemon answers, and how it can build. */
async function probeClient(client: string, builder?: string, legacy = false): Promise<Probe> {
  // At once: three short processes side by side cost one round trip, not two (this runs on every
  // build); the BuildKit probe is wasted on a client with buildx. For the legacy builder (asked
  // for), only the version: how else the client could build does not matter.
  const none = Promise.resolve(undefined);
  const [v, buildx, help] = await Promise.all([
    runQuick(client, ['version', '--format', '{{json .}}']),
    legacy ? none : runQuick(client, ['buildx', 'version']),
    // Only a client with BuildKit built in accepts DOCKER_BUILDKIT=1 without buildx.
    legacy ? none : runQuick(client, ['build', '--help'], { DOCKER_BUILDKIT: '1' }),
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
  if (legacy) return { info: { ...base, buildPath: 'legacy' } };
  if (buildx?.status === 'exited' && buildx.exitCode === 0) {
    if (builder) {
      const inspect = await runQuick(client, ['buildx', 'inspect', builder]);
      if (inspect.status !== 'exited' || inspect.exitCode !== 0) {
        return { problem: `${client}: buildx builder '${builder}': ${lastLine(inspect.stderr)}` };
      }
    }
    return { info: { ...base, buildPath: 'buildx' } };
  }
  const buildPath: BuildPath =
    help?.status === 'exited' && help.exitCode === 0 ? 'buildkit' : 'legacy';
  return { info: { ...base, buildPath } };
}

const RANK: Record<BuildPath, number> = { buildx: 0, buildkit: 1, legacy: 2, buildah: 3 };

/** How long the first client has to answer before the others are probed too. */
export const HEDGE_MS = 1000;

/**
 * The probes of `clients` when any client that answers will do, the first preferred: the first
 * alone, unless it fails or has not answered within `hedgeMs`; then the others too, at once (so a
 * hung daemon costs no more time than probing all at once did). A healthy host runs one probe
 * process instead of one per client, at start-up, where kbuild is CPU-bound on a small host.
 */
export async function firstAnswering<P extends { readonly info?: unknown }>(
  clients: readonly string[],
  probe: (client: string) => Promise<P>,
  hedgeMs = HEDGE_MS,
): Promise<P[]> {
  const [head, ...rest] = clients;
  if (head === undefined) return [];
  const first = probe(head);
  let timer: NodeJS.Timeout | undefined;
  const answered = await Promise.race([
    first.then((p) => p.info !== undefined),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), hedgeMs))),
  ]);
  clearTimeout(timer);
  if (answered) return [await first];
  const others = await Promise.all(rest.map(probe));
  return [await first, ...others];
}

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
  const env = opts.buildkitEnv ?? process.env['DOCKER_BUILDKIT'];
  const wanted = opts.legacyBuilder ? ok(false) : buildkitWanted(env);
  if (!wanted.ok) return err({ reason: 'engine-unavailable', message: wanted.error });
  if (wanted.value === false && opts.builder) {
    return err({
      reason: 'engine-unavailable',
      message: `--builder ${opts.builder} builds with BuildKit, and DOCKER_BUILDKIT=${env ?? '0'} asks for the legacy builder: drop one of them`,
    });
  }
  const problems: string[] = [];
  let best: EngineInfo | undefined;
  // Clients are probed at once: each probe is a few client processes, and this runs on every build.
  // For the legacy builder every client builds alike, so the first that answers is the one.
  const legacy = wanted.value === false;
  const probe = (c: string) => probeClient(c, opts.builder, legacy);
  const probes = legacy
    ? await firstAnswering(clients, probe)
    : await Promise.all(clients.map(probe));
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
  if (wanted.value === true && best.buildPath === 'legacy') {
    return err({
      reason: 'engine-unavailable',
      message: `DOCKER_BUILDKIT=${env ?? '1'}, but no docker client here builds with BuildKit (${clients.join(', ')}: no buildx plugin, and none has BuildKit built in as docker 18.09-22.x clients do): install docker-buildx, or unset DOCKER_BUILDKIT to use the legacy builder`,
    });
  }
  if (wanted.value === false) {
    const why = opts.legacyBuilder ? 'asked for' : `DOCKER_BUILDKIT=${env ?? '0'}`;
    return ok({ ...best, buildPath: 'legacy', buildPathWhy: why });
  }
  return ok(best);
}

/** How the build path reads in the log's first line. */
function describePath(info: EngineInfo, builder?: string): string {
  switch (info.buildPath) {
    case 'buildx':
      return builder ? `buildx, builder '${builder}'` : 'buildx (the current builder)';
    case 'buildkit':
      return 'BuildKit built into the client';
    case 'legacy':
      return `the legacy builder (${info.buildPathWhy ?? 'this client has neither buildx nor BuildKit built in'})`;
    case 'buildah':
      return 'buildah';
  }
}

/**
 * `docker build` arguments (after `build` or `buildx build`) for a request. BuildKit writes inline
 * cache metadata into every image (so that another host can use its layers) and reads that of
 * `cacheFrom`; the legacy builder takes cache only from local images, so it gets neither.
 */
function buildArgs(req: BuildRequest, iidfile: string, path: BuildPath): string[] {
  const buildkit = path !== 'legacy';
  return [
    ...(buildkit ? ['--progress=plain', '--build-arg', 'BUILDKIT_INLINE_CACHE=1'] : []),
    ...(buildkit ? (req.cacheFrom ?? []).flatMap((ref) => ['--cache-from', ref]) : []),
    ...buildFlags(req, iidfile, '--pull'),
  ];
}

/**
 * The request with its labels moved into a copy of its Dockerfile (written in `dir`, outside the
 * context) as one LABEL instruction at the end of the final stage; undefined when the Dockerfile
 * cannot take it (see appendLabels), and the labels stay flags. The fingerprint is the rendered
 * Dockerfile's, not the copy's. Only for the legacy builder: it reads `.dockerignore` from the
 * context whatever `-f` names (checked: the same files reach COPY), while BuildKit would look
 * for `<Dockerfile>.dockerignore` beside the copy and miss the one beside the original.
 */
export async function labelledCopy(
  req: BuildRequest,
  dir: string,
): Promise<BuildRequest | undefined> {
  const text = await readFile(req.dockerfile, 'utf8').catch(() => undefined);
  const labelled = text === undefined ? undefined : appendLabels(text, req.labels);
  if (!labelled) return undefined;
  const dockerfile = join(dir, 'Dockerfile');
  await writeFile(dockerfile, labelled.text);
  return { ...req, dockerfile, labels: labelled.flags };
}

/** A reference's repository in canonical form (`busybox` -> `docker.io/library/busybox`). */
export function canonicalRepository(ref: string): string | undefined {
  const r = parseReference(ref);
  if (!r.ok) return undefined;
  // canonicalName needs a tag or digest to leave off the default one; give it a fixed tag.
  return canonicalName({ domain: r.value.domain, path: r.value.path, tag: 'x' }).slice(0, -2);
}

/** An Engine over the docker CLI; detection runs once per engine (a failed one is retried). */
export function createDockerEngine(opts: DockerEngineOptions = {}): Engine {
  const info = onceUntilSuccess(() => detectDocker(opts));

  return {
    kind: 'docker',
    info,
    ...engineCliOperations({
      info,
      unavailable: DAEMON_DOWN,
      pullFlags: () => [],
      forceRemove: ['rm', '--force'],
    }),

    async build(req, op) {
      const i = await info();
      if (!i.ok) return i;
      const { client, buildPath } = i.value;
      op.log(
        `kbuild: building with docker ${i.value.clientVersion} (${client}), ${describePath(i.value, opts.builder)}`,
      );
      const env: Record<string, string> =
        buildPath === 'buildkit'
          ? { DOCKER_BUILDKIT: '1' }
          : buildPath === 'legacy'
            ? { DOCKER_BUILDKIT: '0' }
            : { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' };
      const run = (r: BuildRequest) => {
        const argv = (iidfile: string) => {
          const args = buildArgs(r, iidfile, buildPath);
          return buildPath === 'buildx'
            ? [
                'buildx',
                'build',
                ...(opts.builder ? ['--builder', opts.builder] : []),
                '--load',
                ...args,
              ]
            : ['build', ...args];
        };
        return buildWithIidfile(client, argv, op, {
          name: 'docker',
          unavailable: DAEMON_DOWN,
          env,
        });
      };
      // BuildKit puts --label flags into the image config for nothing; the legacy builder
      // commits a container for each (7 per image here), so there they go in as one LABEL.
      if (buildPath !== 'legacy' || Object.keys(req.labels).length === 0) return run(req);
      return withTempDir(async (dir) => run((await labelledCopy(req, dir)) ?? req));
    },

    async push(ref, op) {
      const i = await info();
      if (!i.ok) return i;
      const client = i.value.client;
      const r = await runCommand({ file: client, args: ['push', ref], ...operationLimits(op) });
      if (r.status !== 'exited' || r.exitCode !== 0) return err(pushFailure(r, DAEMON_DOWN));
      // The digest the registry stored is recorded by the engine per repository.
      const d = await runQuick(client, [
        'image',
        'inspect',
        '--format',
        '{{json .RepoDigests}}',
        ref,
      ]);
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
  };
}
