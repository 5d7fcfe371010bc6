/** Picks the container engine a run builds with: the one asked for, or the first that answers. */
import { err, ok, type Result } from '../core/model.js';
import type { Engine, EngineFailure, EngineInfo } from '../run/ports.js';
import { createDockerEngine } from './docker.js';
import { createPodmanEngine } from './podman.js';

export interface EngineOptions {
  /** The engine's client binary (a path or a name on PATH). */
  readonly client?: string;
  /** docker only: a buildx builder to build with. */
  readonly builder?: string;
}

/** The one way detection fails. */
export type EngineUnavailable = Extract<EngineFailure, { reason: 'engine-unavailable' }>;

export interface DetectedEngine {
  readonly engine: Engine;
  readonly info: EngineInfo;
}

const HOW_TO_FIX =
  'To set this host up, run `sudo scripts/setup-host.sh` (Debian: installs docker.io, podman and a ' +
  'loopback registry, and starts them); or start the docker daemon yourself ' +
  '(`setsid dockerd >/var/log/dockerd.log 2>&1 &`) and check that `docker info` answers.';

/**
 * The engine to build with: `kind` when given (failing when it does not answer), else the
 * engine `opts.client` names, else docker, else podman. The failure says what each engine answered and how to set the host up.
 */
export async function detectEngine(
  kind?: 'docker' | 'podman',
  opts: EngineOptions = {},
): Promise<Result<DetectedEngine, EngineUnavailable>> {
  // A client given without a kind says which engine it is.
  const implied = opts.client
    ? /podman[^/]*$/.test(opts.client)
      ? 'podman'
      : 'docker'
    : undefined;
  const wanted = kind ?? implied;
  const kinds = wanted ? [wanted] : (['docker', 'podman'] as const);
  const problems: string[] = [];
  for (const k of kinds) {
    const engine =
      k === 'docker'
        ? createDockerEngine(opts)
        : createPodmanEngine(opts.client ? { client: opts.client } : {});
    const info = await engine.info();
    if (info.ok) return ok({ engine, info: info.value });
    const message = 'message' in info.error ? info.error.message : info.error.reason;
    // DOCKER_BUILDKIT asked docker for what it cannot do (or is no boolean): an error, as with
    // the docker CLI, not a reason to build with another engine.
    if (k === 'docker' && message.startsWith('DOCKER_BUILDKIT'))
      return err({ reason: 'engine-unavailable', message });
    problems.push(`${k}: ${message}`);
  }
  return err({
    reason: 'engine-unavailable',
    message: `${wanted ? `${wanted} does not answer` : 'neither docker nor podman answers'} (${problems.join('; ')}). ${HOW_TO_FIX}`,
  });
}
