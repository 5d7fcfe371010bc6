/**
 * Looks at the world before a build: hashes build contexts, asks the engine for the external
 * bases and for images carrying each fingerprint (one batched call each), and turns that into a
 * plan. Shared by `kbuild plan` and `kbuild build`, so the plan says exactly what a build does.
 */
import type { Family } from '../core/family.js';
import { fingerprintFamily, freshness, type Fingerprinted } from '../core/plan/freshness.js';
import { fingerprintTag, type FingerprintRecord } from '../core/plan/fingerprint.js';
import { ancestors } from '../core/graph.js';
import type { ImageName, Result } from '../core/model.js';
import { driftedBases } from '../core/config/lock.js';
import { planBuild, type Plan } from '../core/plan/plan.js';
import type { Selection } from '../core/select.js';
import type { Engine, EngineKind, LocalImage } from './ports.js';

export interface ObservePorts {
  readonly engine: Engine;
  readonly engineKind: EngineKind;
  readonly hashContext: (name: ImageName) => Promise<Record<string, string>>;
  readonly stored: (name: ImageName) => FingerprintRecord | undefined;
  readonly labels: (name: ImageName) => Record<string, string>;
  readonly tags: (name: ImageName) => string[];
  /**
   * Pulls an external base the engine lacks (build only): its id is then known, and the same as on
   * the host that built the family, so fingerprints match. Answers whether it worked.
   */
  readonly pullBase?: (ref: string) => Promise<boolean>;
  /** kbuild.lock's pins for this profile: base reference -> digest. */
  readonly pins?: Readonly<Record<string, string>>;
  /** The digest the registry holds under repository:tag (absent: the registry is not asked). */
  readonly remote?: (repository: string, tag: string) => Promise<string | undefined>;
  /** What an image's source is (family.sources), or why it cannot be had. */
  readonly sourceIdentity?: (name: ImageName) => Promise<Result<string, string>>;
}

export interface Observed {
  readonly plan: Plan;
  readonly fingerprints: ReadonlyMap<ImageName, Fingerprinted>;
  /** The local reference carrying each image's fingerprint, e.g. kbuild/base:fp-0123… */
  readonly fpRef: (name: ImageName) => string;
  /** Local images found, by reference. */
  readonly local: ReadonlyMap<string, LocalImage>;
  /** Bases the engine holds at another digest than kbuild.lock pins. */
  readonly drift: readonly { ref: string; pinned: string; now: string }[];
  /** Digests of images found (by fingerprint) only in the registry. */
  readonly remoteDigests: ReadonlyMap<ImageName, string>;
  /** External bases the engine does not have, with the images built on them. */
  readonly missingBases: ReadonlyMap<string, ImageName[]>;
  /** Each image's source identity (see FingerprintRecord.source). */
  readonly sources: ReadonlyMap<ImageName, string>;
  /** Images whose source cannot be had (a git reference that does not exist…), with why. */
  readonly sourceProblems: ReadonlyMap<ImageName, string>;
}

export async function observe(
  family: Family,
  selection: Selection,
  ports: ObservePorts,
  force: boolean,
): Promise<Observed> {
  const wanted = new Set(selection.images);
  const names = new Set(
    [...wanted, ...ancestors(family.graph, wanted)].filter((n) => !family.unbuildable.has(n)),
  );
  const externals = [...new Set([...names].flatMap((n) => family.graph.nodes.get(n)!.externals))];
  const withSource = [...names].filter((n) => family.sources.has(n));
  const identify = ports.sourceIdentity;
  const [hashes, bases, identities] = await Promise.all([
    Promise.all([...names].map(async (n) => [n, await ports.hashContext(n)] as const)),
    inspectBases(ports, externals),
    identify
      ? Promise.all(withSource.map(async (n) => [n, await identify(n)] as const))
      : Promise.resolve([]),
  ]);
  const sources = new Map<ImageName, string>();
  const sourceProblems = new Map<ImageName, string>();
  for (const [n, r] of identities) {
    // One that cannot be had is fingerprinted as such: never fresh, it fails when its turn comes.
    sources.set(n, r.ok ? r.value : 'unresolved');
    if (!r.ok) sourceProblems.set(n, r.error);
  }
  const fingerprints = fingerprintFamily(family, names, {
    contexts: new Map(hashes),
    // Pinned bases are fingerprinted by their pin: moving one is a new lock, seen as base-moved.
    bases: new Map([
      ...[...bases].map(([ref, img]) => [ref, img.id] as const),
      ...Object.entries(ports.pins ?? {}),
    ]),
    engine: ports.engineKind,
    labels: ports.labels,
    sources,
  });
  const fpRef = (n: ImageName) =>
    `${family.naming.repository(n)}:${fingerprintTag(fingerprints.get(n)!.fingerprint)}`;
  const refs = [...names].flatMap((n) => [fpRef(n), ...ports.tags(n)]);
  const local = await ports.engine.inspect(refs);
  // What is not here may be in the registry, built by another host: one HEAD each, at once.
  const remoteDigests = new Map<ImageName, string>();
  const remote = ports.remote;
  if (remote && !force) {
    await Promise.all(
      [...names]
        .filter((n) => !local.has(fpRef(n)))
        .map(async (n) => {
          const d = await remote(
            family.naming.repository(n),
            fingerprintTag(fingerprints.get(n)!.fingerprint),
          );
          if (d) remoteDigests.set(n, d);
        }),
    );
  }
  const plan = planBuild(family, selection, (n) => {
    const fp = fingerprints.get(n)!;
    const found = local.get(fpRef(n));
    const tagged = found !== undefined && ports.tags(n).every((t) => local.get(t)?.id === found.id);
    const remoteDigest = remoteDigests.get(n);
    const seen = {
      present: found !== undefined,
      tagged,
      ...(remoteDigest ? { remoteDigest } : {}),
    };
    return freshness(fp, ports.stored(n), seen, force);
  });
  const missingBases = new Map<string, ImageName[]>();
  for (const step of plan.steps) {
    if (step.action !== 'build') continue;
    for (const b of family.graph.nodes.get(step.name)!.externals) {
      if (!bases.has(b)) missingBases.set(b, [...(missingBases.get(b) ?? []), step.name]);
    }
  }
  const drift = driftedBases(ports.pins, new Map([...bases].map(([ref, img]) => [ref, img.id])));
  return {
    plan,
    fingerprints,
    fpRef,
    local,
    missingBases,
    remoteDigests,
    drift,
    sources,
    sourceProblems,
  };
}

/** The external bases in the engine, pulling the missing ones first when allowed. */
async function inspectBases(
  ports: ObservePorts,
  externals: readonly string[],
): Promise<Map<string, LocalImage>> {
  const found = await ports.engine.inspect(externals);
  const missing = externals.filter((r) => !found.has(r));
  const pullBase = ports.pullBase;
  if (!pullBase || missing.length === 0) return found;
  const pulled = (
    await Promise.all(missing.map(async (r) => ((await pullBase(r)) ? r : undefined)))
  ).filter((r): r is string => r !== undefined);
  if (pulled.length === 0) return found;
  return new Map([...found, ...(await ports.engine.inspect(pulled))]);
}
