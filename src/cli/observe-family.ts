/** The observation both `plan` and `build` start from: engine, state, fingerprints, plan. */
import { join } from 'node:path';
import { hashContext } from '../adapters/context-hash.js';
import { readLockFile, readState } from '../adapters/state.js';
import { Failed } from './options.js';
import type { Family } from '../core/family.js';
import type { ImageName } from '../core/model.js';
import type { Selection } from '../core/select.js';
import { imageLabels, imageTags } from '../run/build.js';
import { observe, type Observed } from '../run/observe.js';
import type { Engine, EngineInfo, Publisher, StateFile } from '../run/ports.js';
import type { SourceFetcher } from '../adapters/sources.js';

export interface FamilyObservation {
  readonly engine: Engine;
  readonly info: EngineInfo;
  readonly state: StateFile;
  readonly observed: Observed;
  /** The registry, when one is configured (and may be asked). */
  readonly publisher?: Publisher;
  /** Fetches the family's sources, when it has any. */
  readonly sources?: SourceFetcher;
}

/** Detects the engine (unless given) and observes the family; the engine failure message when none answers. */
export async function observeFamily(
  root: string,
  family: Family,
  selection: Selection,
  opts: {
    engine?: 'docker' | 'podman';
    builder?: string;
    force: boolean;
    registryCache?: boolean;
    /** Pull external bases the engine lacks before fingerprinting (build, not plan). */
    pullBases?: boolean;
    /** The state file to use (one per platform when building several); default: the profile's name. */
    stateKey?: string;
    /** An engine already chosen (benchmarks drive a fake one); default: detected. */
    use?: { engine: Engine; info: EngineInfo };
  },
): Promise<{ ok: true; value: FamilyObservation } | { ok: false; message: string }> {
  let chosen = opts.use;
  if (!chosen) {
    // Loaded here, not at start-up: the engine adapters (execa) cost every other command ~0.2 s.
    const { detectEngine } = await import('../adapters/engines.js');
    const detected = await detectEngine(opts.engine, opts.builder ? { builder: opts.builder } : {});
    if (!detected.ok) return { ok: false, message: detected.error.message };
    chosen = detected.value;
  }
  const { engine, info } = chosen;
  const state = await readState(root, opts.stateKey ?? family.profile.name);
  const lock = await readLockFile(root);
  if (!lock.ok) throw new Failed([{ reason: 'config-invalid', problems: lock.error }]);
  const pins = lock.value.profiles[family.profile.name];
  const publisher = family.naming.registry
    ? await registryPublisher(family.naming.registry)
    : undefined;
  const remote = opts.registryCache === false ? undefined : publisher;
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
      hashContext: (n) =>
        hashContext(join(root, family.project.imagesDir, family.images.get(n)!.spec.dir)),
      stored: (n) => state.images[n]?.record,
      labels: (n) => imageLabels(family, n),
      tags: (n) => imageTags(family, n),
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
              remote.current(repo, tag, AbortSignal.timeout(30_000)),
          }
        : {}),
      ...(sources
        ? {
            sourceIdentity: (n: ImageName) =>
              sources.identify(n, family.sources.get(n)!, AbortSignal.timeout(120_000)),
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
      state,
      observed,
      ...(publisher ? { publisher } : {}),
      ...(sources ? { sources } : {}),
    },
  };
}

/** The registry as the run's Publisher (loaded only when pushing). */
async function registryPublisher(registry: string): Promise<Publisher> {
  const { createRegistryClient } = await import('../adapters/registry.js');
  const client = createRegistryClient({ retries: 2 });
  return {
    current: async (repository, tag, signal) => {
      const r = await client.headManifest({ registry, repository, reference: tag }, signal);
      return r.ok ? r.value.digest : undefined;
    },
    alias: async (repository, fromTag, toTag, signal) => {
      const r = await client.copyTag({ registry, repository, reference: fromTag }, toTag, signal);
      return r.ok ? undefined : r.error.message;
    },
    manifest: async (repository, reference, signal) => {
      const r = await client.getManifest({ registry, repository, reference }, signal);
      return r.ok
        ? {
            digest: r.value.digest,
            mediaType: r.value.mediaType,
            body: new TextDecoder().decode(r.value.body),
            size: r.value.body.length,
          }
        : undefined;
    },
    put: async (repository, tag, mediaType, body, signal) => {
      const r = await client.putManifest(
        { registry, repository, reference: tag },
        { mediaType, body: new TextEncoder().encode(body) },
        signal,
      );
      return r.ok ? { digest: r.value.digest } : { error: r.error.message };
    },
  };
}
