/** The observation both `plan` and `build` start from: engine, registry, fingerprints, plan. */
import { join } from 'node:path';
import { hashContext } from '../adapters/context-hash.js';
import { readLockFile } from '../adapters/state.js';
import { Failed } from './options.js';
import type { Family } from '../core/family.js';
import { imageDir } from '../core/naming.js';
import type { CheckUpdates, ImageName } from '../core/model.js';
import type { Selection } from '../core/select.js';
import { blockedSteps } from '../core/plan/plan.js';
import type { Io } from './io.js';
import { observe, type Observed } from '../run/observe.js';
import { registryView, type RegistryView } from '../run/build/registry-view.js';
import type { Engine, EngineInfo, StateFile } from '../run/ports.js';
import type { SourceFetcher } from '../adapters/sources.js';
import { detectEngineEarly } from './engine-detection.js';

export { detectEngineEarly };

export interface FamilyObservation {
  readonly engine: Engine;
  readonly info: EngineInfo;
  readonly observed: Observed;
  /** The family's registry, when one is configured (and may be asked). */
  readonly registry?: RegistryView;
  /** Fetches the family's sources, when it has any. */
  readonly sources?: SourceFetcher;
}

/** How to observe: which engine, and what to ask. */
export interface ObserveSettings {
  readonly engine?: 'docker' | 'podman';
  readonly builder?: string;
  readonly force: boolean;
  /** false: do not look for images with the same fingerprint in the registry. */
  readonly registryCache?: boolean;
  /** --check-updates[=strict] / --no-check-updates; default: the profile's, else kbuild.yaml's. */
  readonly checkUpdates?: CheckUpdates;
  /** Pull external bases the engine lacks before fingerprinting (build, not plan). */
  readonly pullBases?: boolean;
  /** An engine already chosen (benchmarks drive a fake one); default: detected. */
  readonly use?: { engine: Engine; info: EngineInfo };
  /** The detection already started (detectEngineEarly) for `engine` and `builder`. */
  readonly detecting?: ReturnType<typeof detectEngineEarly>;
}

/** Whether to check packages for updates: the flag, else the profile's, else kbuild.yaml's. */
export const checkUpdatesOf = (family: Family, opts: Pick<ObserveSettings, 'checkUpdates'>) =>
  opts.checkUpdates ?? family.profile.checkUpdates ?? family.project.checkUpdates;

/** An image's directory on disk. */
export const imagePath = (root: string, family: Family, name: ImageName) =>
  join(root, imageDir(family.project, family.images.get(name)!.spec));

/** Detects the engine (unless given) and observes the family; the engine failure message when none answers. */
export async function observeFamily(
  root: string,
  family: Family,
  selection: Selection,
  state: StateFile,
  opts: ObserveSettings,
): Promise<{ ok: true; value: FamilyObservation } | { ok: false; message: string }> {
  let chosen = opts.use;
  if (!chosen) {
    const detected = await (opts.detecting ?? detectEngineEarly(opts));
    if (!detected.ok) return { ok: false, message: detected.error.message };
    chosen = detected.value;
  }
  const { engine, info } = chosen;
  const lock = await readLockFile(root);
  if (!lock.ok) throw new Failed([{ reason: 'config-invalid', problems: lock.error }]);
  const pins = lock.value.profiles[family.profile.name];
  const registry = family.naming.registry
    ? await familyRegistry(family.naming.registry)
    : undefined;
  const remote = opts.registryCache === false ? undefined : registry;
  // Loaded only for a family with sources (node-tar is not needed otherwise).
  const sources = family.sources.size
    ? (await import('../adapters/sources.js')).createSourceFetcher({
        root,
        cacheDir: join(root, '.kbuild', 'sources'),
      })
    : undefined;
  const observed = await observe(
    family,
    selection,
    {
      engine,
      engineKind: info.kind,
      hashContext: (n) => hashContext(imagePath(root, family, n)),
      state,
      ...(pins ? { pins } : {}),
      ...(opts.pullBases
        ? {
            pullBase: async (ref: string) =>
              (
                await engine.pull(ref, {
                  signal: AbortSignal.timeout(600_000),
                  log: () => undefined,
                })
              ).ok,
          }
        : {}),
      ...(remote
        ? {
            remote: (repo: string, tag: string) =>
              remote.digest(repo, tag, AbortSignal.timeout(30_000)),
          }
        : {}),
      ...(sources
        ? {
            sourceIdentity: (n: ImageName) =>
              sources.identify(n, family.sources.get(n)!, AbortSignal.timeout(120_000)),
          }
        : {}),
      ...(checkUpdatesOf(family, opts) !== 'off'
        ? {
            checkUpdates: {
              network: family.profile.network,
              signal: AbortSignal.timeout(1_800_000),
            },
          }
        : {}),
    },
    opts.force,
  );
  return {
    ok: true,
    value: {
      engine,
      info,
      observed,
      ...(registry ? { registry } : {}),
      ...(sources ? { sources } : {}),
    },
  };
}

/** The family's registry through the registry adapter (loaded only when there is a registry). */
async function familyRegistry(host: string): Promise<RegistryView> {
  const { createRegistryClient } = await import('../adapters/registry/index.js');
  return registryView(createRegistryClient({ retries: 2 }), host);
}

/**
 * What the observation found that a user must hear before anything runs: builds that cannot start
 * (a base or a source that cannot be had: those images fail, the rest go on), and a registry that
 * could not be asked. `plan` and `build` say the same.
 */
export function reportObservation(io: Io, found: FamilyObservation): void {
  for (const [message, users] of blockedSteps(found.observed.plan))
    io.err(`kbuild: ${message} (needed by ${users.join(', ')})\n`);
  const packages = found.observed.packages;
  if (packages) {
    const steps = found.observed.plan.steps;
    const count = (s: string) => steps.filter((x) => x.packages?.status === s).length;
    io.err(
      `kbuild: package check: ${packages.checks.size} image(s), ${packages.configurations} apt configuration(s) asked; ${count('updated')} with updates, ${count('check-failed')} check-failed\n`,
    );
    for (const s of steps)
      if (s.packages?.status === 'check-failed')
        io.err(`kbuild: ${s.name}: check-failed: ${s.packages.reason}\n`);
  }
  if (found.observed.registryProblem)
    io.err(
      `kbuild: warning: the registry could not be asked (${found.observed.registryProblem}); images are looked for in the engine only\n`,
    );
}

/** A base that moved away from its pin: say both digests and both ways out. */
export function driftMessage(
  d: { ref: string; pinned: string; now: string },
  engine: string,
): string {
  return (
    `kbuild.lock: base image '${d.ref}' is ${d.now} in ${engine}, but the lock pins ${d.pinned}; nothing was built. ` +
    `Accept the new base with 'kbuild lock --profile …' (its images then rebuild as base-moved), or put the pinned image back (${engine} tag <image> ${d.ref}).\n`
  );
}

/** With --check-updates=strict, a check that failed anywhere fails the run: its message, else none. */
export function strictCheckFailure(
  family: Family,
  opts: Pick<ObserveSettings, 'checkUpdates'>,
  found: FamilyObservation,
): string | undefined {
  if (checkUpdatesOf(family, opts) !== 'strict') return undefined;
  const failed = found.observed.plan.steps.filter((s) => s.packages?.status === 'check-failed');
  return failed.length
    ? `kbuild: --check-updates=strict: the package check failed for ${failed.map((s) => s.name).join(', ')}; nothing was built\n`
    : undefined;
}
