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
import type { BuildRequest, Engine, EngineFailure, EngineInfo } from '../run/ports.js';
import {
  buildFlags,
  buildWithIidfile,
  engineCliOperations,
  onceUntilSuccess,
  onPath,
  operationLimits,
  parseJson,
  QUICK_SECONDS,
  readImageId,
  runQuick,
  withTempDir,
} from './engine-cli.js';
import { commandFailure, lastLine, pushFailure, runCommand } from './exec.js';

export interface PodmanEngineOptions {
  /** The podman binary (a path or a name on PATH); default: `podman` on PATH. */
  readonly client?: string;
}

/** Output that means podman cannot reach its service (podman --remote) or its storage. */
const UNAVAILABLE = /Cannot connect to Podman|unable to connect to Podman|database is locked/i;

/** Whether a reference's registry is on this host (no TLS there, as docker assumes too). */
export function isLoopbackRegistry(ref: string): boolean {
  const r = parseReference(ref);
  return r.ok && r.value.domain !== undefined && isLoopbackHost(r.value.domain);
}

function buildArgs(req: BuildRequest, iidfile: string): string[] {
  return ['build', '--format', 'docker', ...buildFlags(req, iidfile, '--pull=always')];
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
  const r = await runQuick(client, [
    'info',
    '--format',
    '{{json .Version}}\t{{.Host.OS}}/{{.Host.Arch}}',
  ]);
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
  // An odd version text leaves 'unknown': the engine works all the same.
  const version =
    (parseJson(versionJson) as { Version?: string } | null | undefined)?.Version ?? 'unknown';
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
  const noTls = (ref: string) => (isLoopbackRegistry(ref) ? ['--tls-verify=false'] : []);

  return {
    kind: 'podman',
    info,
    ...engineCliOperations({
      info,
      unavailable: UNAVAILABLE,
      pullFlags: noTls,
      // Without --time 0, podman first waits 10 s for the container to stop by itself.
      forceRemove: ['rm', '--force', '--time', '0'],
    }),

    async build(req, op) {
      const i = await info();
      if (!i.ok) return i;
      const { client } = i.value;
      op.log(`kbuild: building with podman ${i.value.clientVersion} (${client}), buildah`);
      return buildWithIidfile(client, (iidfile) => buildArgs(req, iidfile), op, {
        name: 'podman',
        unavailable: UNAVAILABLE,
        // podman leaves its RUN container (a session of its own) running when signalled, and
        // its working containers in storage: kill the container, and podman cleans up itself.
        stopStyle: 'work-first',
      });
    },

    async push(ref, op) {
      const i = await info();
      if (!i.ok) return i;
      return withTempDir(async (dir) => {
        const digestfile = join(dir, 'digest');
        const r = await runCommand({
          file: i.value.client,
          args: ['push', ...noTls(ref), '--digestfile', digestfile, ref],
          stopStyle: 'work-first',
          ...operationLimits(op),
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
  };
}
