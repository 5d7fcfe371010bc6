/**
 * The Engine port over the podman CLI (daemonless; builds with buildah inside podman).
 *
 * Images are built in docker format (`--format docker`), so that instructions OCI image
 * configs cannot hold (HEALTHCHECK, SHELL, ONBUILD) keep their docker meaning. Pushes to a
 * loopback registry go without TLS (`--tls-verify=false`), as docker does for 127.0.0.0/8.
 */
import { join } from 'node:path';
import { err, ok, type Digest, type Result } from '../core/model.js';
import { isLoopbackHost, parseReference } from '../core/dockerfile/reference.js';
import type { BuildRequest, Engine, EngineFailure, EngineInfo, OpOptions } from '../run/ports.js';
import {
  missingRefs,
  onPath,
  pairInspected,
  parseInspect,
  readImageId,
  withTempDir,
  onceUntilSuccess,
  pullImage,
  runContainer,
  listRepositoryImages,
  removeLocalImages,
} from './docker.js';
import { commandFailure, lastLine, pushFailure, runCommand, type ExecResult } from './exec.js';

export interface PodmanEngineOptions {
  /** The podman binary (a path or a name on PATH); default: `podman` on PATH. */
  readonly client?: string;
}

/** Short engine calls that hang this long are treated as a broken engine. */
const QUICK_SECONDS = 30;
/** Output that means podman cannot reach its service (podman --remote) or its storage. */
const UNAVAILABLE = /Cannot connect to Podman|unable to connect to Podman|database is locked/i;

/** Whether a reference's registry is on this host (no TLS there, as docker assumes too). */
export function isLoopbackRegistry(ref: string): boolean {
  const r = parseReference(ref);
  return r.ok && r.value.domain !== undefined && isLoopbackHost(r.value.domain);
}

function buildArgs(req: BuildRequest, iidfile: string): string[] {
  const args = ['build', '--format', 'docker', '--iidfile', iidfile, '-f', req.dockerfile];
  for (const t of req.tags) args.push('-t', t);
  for (const [k, v] of Object.entries(req.buildArgs)) args.push('--build-arg', `${k}=${v}`);
  for (const [k, v] of Object.entries(req.labels)) args.push('--label', `${k}=${v}`);
  if (req.network) args.push('--network', req.network);
  if (req.platform) args.push('--platform', req.platform);
  if (req.pull) args.push('--pull=always');
  if (req.noCache) args.push('--no-cache');
  args.push(req.contextDir);
  return args;
}

/** What podman is and whether its storage answers. */
export async function detectPodman(
  opts: PodmanEngineOptions = {},
): Promise<Result<EngineInfo, EngineFailure>> {
  const client =
    opts.client && opts.client.includes('/') ? opts.client : await onPath(opts.client ?? 'podman');
  if (!client) {
    return err({ reason: 'engine-unavailable', message: 'podman is not installed (not on PATH)' });
  }
  const r = await runCommand({
    file: client,
    args: ['info', '--format', '{{json .Version}}\t{{.Host.OS}}/{{.Host.Arch}}'],
    timeoutSeconds: QUICK_SECONDS,
    killGraceMs: 1000,
  });
  if (r.status !== 'exited' || r.exitCode !== 0) {
    const f = commandFailure(r);
    const why =
      'message' in f
        ? f.message
        : f.reason === 'timeout'
          ? `no answer in ${QUICK_SECONDS} s`
          : f.reason;
    return err({ reason: 'engine-unavailable', message: `${client} info: ${why}` });
  }
  const [versionJson = '', platform = ''] = r.stdout.trim().split('\t');
  let version = 'unknown';
  try {
    version = (JSON.parse(versionJson) as { Version?: string }).Version ?? version;
  } catch {
    // keep 'unknown': the engine works, only its version text is odd
  }
  return ok({
    kind: 'podman',
    client,
    clientVersion: version,
    serverVersion: version,
    buildPath: 'buildah',
    platform: platform || 'linux/amd64',
  });
}

/** An Engine over the podman CLI; detection runs once per engine (a failed one is retried). */
export function createPodmanEngine(opts: PodmanEngineOptions = {}): Engine {
  const info = onceUntilSuccess(() => detectPodman(opts));
  const quick = (client: string, args: string[]): Promise<ExecResult> =>
    runCommand({ file: client, args, timeoutSeconds: QUICK_SECONDS, killGraceMs: 1000 });

  return {
    kind: 'podman',
    info,

    async build(req, op: OpOptions) {
      const i = await info();
      if (!i.ok) return i;
      const { client } = i.value;
      op.log(`kbuild: building with podman ${i.value.clientVersion} (${client}), buildah`);
      return withTempDir(async (dir) => {
        const iidfile = join(dir, 'iid');
        const r = await runCommand({
          file: client,
          args: buildArgs(req, iidfile),
          // podman leaves its RUN container (a session of its own) running when signalled, and
          // its working containers in storage: kill the container, and podman cleans up itself.
          stopStyle: 'work-first',
          signal: op.signal,
          log: op.log,
          ...(op.timeoutSeconds ? { timeoutSeconds: op.timeoutSeconds } : {}),
        });
        if (r.status !== 'exited' || r.exitCode !== 0) return err(commandFailure(r, UNAVAILABLE));
        const imageId = await readImageId(iidfile);
        if (!imageId) {
          return err({
            reason: 'engine-exit',
            exitCode: 0,
            message: 'podman build succeeded but wrote no image id to --iidfile',
          } as const);
        }
        return ok({ imageId });
      });
    },

    async tag(source, target) {
      const i = await info();
      if (!i.ok) return i;
      const r = await quick(i.value.client, ['tag', source, target]);
      if (r.status !== 'exited' || r.exitCode !== 0) return err(commandFailure(r, UNAVAILABLE));
      return ok(undefined);
    },

    async pull(ref, op) {
      const i = await info();
      const tls = isLoopbackRegistry(ref) ? ['--tls-verify=false'] : [];
      return i.ok ? pullImage(i.value.client, tls, ref, op, UNAVAILABLE) : i;
    },

    async run(req, op) {
      const i = await info();
      // Without --time 0, podman first waits 10 s for the container to stop by itself.
      return i.ok
        ? runContainer(i.value.client, req, op, {
            unavailable: UNAVAILABLE,
            forceRemove: ['rm', '--force', '--time', '0'],
          })
        : i;
    },

    async push(ref, op) {
      const i = await info();
      if (!i.ok) return i;
      return withTempDir(async (dir) => {
        const digestfile = join(dir, 'digest');
        const r = await runCommand({
          file: i.value.client,
          args: [
            'push',
            ...(isLoopbackRegistry(ref) ? ['--tls-verify=false'] : []),
            '--digestfile',
            digestfile,
            ref,
          ],
          stopStyle: 'work-first',
          signal: op.signal,
          log: op.log,
          ...(op.timeoutSeconds ? { timeoutSeconds: op.timeoutSeconds } : {}),
        });
        if (r.status !== 'exited' || r.exitCode !== 0) return err(pushFailure(r, UNAVAILABLE));
        const digest = await readImageId(digestfile);
        if (!digest) {
          return err({
            reason: 'push-failed',
            message: `pushed ${ref}, but podman wrote no digest (${lastLine(r.stderr)})`,
            transient: false,
          } as const);
        }
        return ok({ digest: digest as Digest });
      });
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
      return i.ok ? listRepositoryImages(i.value.client, repositories, UNAVAILABLE) : i;
    },

    async removeImages(refs) {
      const i = await info();
      return i.ok ? removeLocalImages(i.value.client, refs, UNAVAILABLE) : i;
    },
  };
}
