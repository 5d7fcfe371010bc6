/**
 * Looks at the world before a build: hashes build contexts, asks the engine for the external
 * bases and for images carrying each fingerprint (one batched call each), asks the registry for
 * what is not here, and turns that into a plan whose steps carry every image's facts. Shared by
 * `kbuild plan` and `kbuild build`, so the plan says exactly what a build does.
 */
import type { Family } from '../core/family.js';
import { fingerprintFamily, freshness, type Fingerprinted } from '../core/plan/freshness.js';
import { ancestors } from '../core/graph.js';
import type { Fingerprint, ImageName, Result } from '../core/model.js';
import { driftedBases } from '../core/config/lock.js';
import { FINGERPRINT_LABEL, fingerprintTag } from '../core/naming.js';
import {
  baseMissingMessage,
  planBuild,
  type Blocked,
  type ImageFacts,
  type ObservedImage,
  type Plan,
} from '../core/plan/plan.js';
import { observePackages, type PackageObservation } from './packages/observe-packages.js';
import type { Selection } from '../core/select.js';
import type { Engine, EngineKind, LocalImage, RegistryFailure, StateFile } from './ports.js';

export interface ObservePorts {
  readonly engine: Engine;
  readonly engineKind: EngineKind;
  readonly hashContext: (name: ImageName) => Promise<Record<string, string>>;
  /** The stored state (fingerprints, records, last build times, pushes, tests). */
  readonly state: StateFile;
  /**
   * Pulls an external base the engine lacks (build only): its id is then known, and the same as on
   * the host that built the family, so fingerprints match. Answers whether it worked.
   */
  readonly pullBase?: (ref: string) => Promise<boolean>;
  /** kbuild.lock's pins for this profile: base reference -> digest. */
  readonly pins?: Readonly<Record<string, string>>;
  /**
   * The digest the registry holds under repository:tag (undefined: not there); absent: the
   * registry is not asked.
   */
  readonly remote?: (
    repository: string,
    tag: string,
  ) => Promise<Result<string | undefined, RegistryFailure>>;
  /** What an image's source is (family.sources), or why it cannot be had. */
  readonly sourceIdentity?: (name: ImageName) => Promise<Result<string, string>>;
  /** Check the images that would not be rebuilt for package updates (--check-updates). */
  readonly checkUpdates?: { readonly network: string; readonly signal: AbortSignal };
}

export interface Observed {
  /** The plan; its steps carry each image's facts and why a build cannot start. */
  readonly plan: Plan;
  /** Fingerprints of the selection and its ancestors (what explain and reports show). */
  readonly fingerprints: ReadonlyMap<ImageName, Fingerprinted>;
  /** Bases the engine holds at another digest than kbuild.lock pins. */
  readonly drift: readonly { ref: string; pinned: string; now: string }[];
  /** Each image's source identity (see FingerprintRecord.source). */
  readonly sources: ReadonlyMap<ImageName, string>;
  /** Why the registry could not be asked (images then count as not there), if so. */
  readonly registryProblem?: string;
  /** The update check, when it ran: inventories it read, configurations it asked. */
  readonly packages?: PackageObservation;
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
  // The bases as the last run saw them (or pinned): with an id for each, the fingerprints can be
  // computed before the engine is asked, and one inspect asks for the bases and the family's
  // images together instead of one after the other (each is an engine round trip before the
  // first build can start). A base that moved since is seen in that same answer; only what its
  // new fingerprints name is asked again.
  const lastSeen = lastSeenBases(externals, ports);
  const [hashes, identities, inspected] = await Promise.all([
    Promise.all([...names].map(async (n) => [n, await ports.hashContext(n)] as const)),
    identify
      ? Promise.all(withSource.map(async (n) => [n, await identify(n)] as const))
      : Promise.resolve([]),
    lastSeen ? Promise.resolve(undefined) : inspectBases(ports, externals),
  ]);
  const sources = new Map<ImageName, string>();
  const sourceProblems = new Map<ImageName, string>();
  for (const [n, r] of identities) {
    // One that cannot be had is fingerprinted as such: never fresh, it fails when its turn comes.
    sources.set(n, r.ok ? r.value : 'unresolved');
    if (!r.ok) sourceProblems.set(n, r.error);
  }
  const fingerprintWith = (baseIds: ReadonlyMap<string, string>) =>
    fingerprintFamily(family, names, {
      contexts: new Map(hashes),
      // Pinned bases are fingerprinted by their pin: moving one is a new lock, seen as base-moved.
      bases: new Map([...baseIds, ...Object.entries(ports.pins ?? {})]),
      engine: ports.engineKind,
      labels: (n) => family.naming.labels(n),
      sources,
    });
  const { naming } = family;
  // The last build of a fingerprint, by id: under another namespace or prefix (the names are not
  // in the fingerprint) it is the same image, to be retagged rather than built again.
  const lastBuildOf = (fps: ReadonlyMap<ImageName, Fingerprinted>, n: ImageName) => {
    const st = ports.state.images[n];
    return st?.fingerprint === fps.get(n)!.fingerprint ? st.imageId : undefined;
  };
  const refsOf = (fps: ReadonlyMap<ImageName, Fingerprinted>) =>
    [...names].flatMap((n) =>
      [
        naming.fpRef(n, fps.get(n)!.fingerprint),
        ...naming.tags(n),
        lastBuildOf(fps, n) ?? [],
      ].flat(),
    );
  let bases: Map<string, LocalImage>;
  let fingerprints: Map<ImageName, Fingerprinted>;
  let local: Map<string, LocalImage>;
  if (lastSeen) {
    const asked = new Set(refsOf(fingerprintWith(lastSeen)));
    const found = await ports.engine.inspect([...externals, ...asked]);
    bases = await pullMissing(ports, externals, found);
    fingerprints = fingerprintWith(idsOf(bases));
    const more = refsOf(fingerprints).filter((r) => !asked.has(r));
    local = more.length ? new Map([...found, ...(await ports.engine.inspect(more))]) : found;
  } else {
    bases = inspected ?? new Map<string, LocalImage>();
    fingerprints = fingerprintWith(idsOf(bases));
    local = await ports.engine.inspect(refsOf(fingerprints));
  }
  const fpRef = (n: ImageName) => naming.fpRef(n, fingerprints.get(n)!.fingerprint);
  const lastBuild = (n: ImageName) => lastBuildOf(fingerprints, n);
  /** The local image of an image's fingerprint: under its fp ref, else its last build's id. */
  const localImage = (n: ImageName): { image: LocalImage; sameAs?: string } | undefined => {
    const byRef = local.get(fpRef(n));
    if (byRef) return { image: byRef };
    const id = lastBuild(n);
    const byId = id ? local.get(id) : undefined;
    if (!id || byId?.labels[FINGERPRINT_LABEL] !== fingerprints.get(n)!.fingerprint) return;
    const refs = byId.refs ?? [];
    return { image: byId, sameAs: refs.find((r) => r.includes(':fp-')) ?? refs[0] ?? id };
  };
  const { remoteDigests, problem } = await lookInRegistry(
    ports,
    force ? [] : [...names].filter((n) => !localImage(n)),
    (n) => [naming.repository(n), fingerprintTag(fingerprints.get(n)!.fingerprint)],
  );
  const expected = expectedSeconds(ports.state);
  const observeOne = (n: ImageName): ObservedImage => {
    const fp = fingerprints.get(n)!;
    const mine = localImage(n);
    const found = mine?.image;
    const tagged =
      mine !== undefined &&
      !mine.sameAs &&
      naming.tags(n).every((t) => local.get(t)?.id === mine.image.id);
    const remoteDigest = remoteDigests.get(n);
    const st = ports.state.images[n];
    const same = st?.fingerprint === fp.fingerprint;
    const facts: ImageFacts = {
      fingerprint: fp.fingerprint,
      record: fp.record,
      fpTag: fingerprintTag(fp.fingerprint),
      fpRef: fpRef(n),
      ...(found ? { localId: found.id } : {}),
      ...(mine?.sameAs ? { sameAs: mine.sameAs } : {}),
      ...(st && !same ? { previousFpTag: fingerprintTag(st.fingerprint as Fingerprint) } : {}),
      ...(remoteDigest ? { remoteDigest } : {}),
      // Pushed before, with this very fingerprint, to this registry.
      ...(same && st.digest && st.registry === naming.registry
        ? { publishedDigest: st.digest }
        : {}),
      testPassed: same && st.testPassed === true,
      ...(st?.seconds !== undefined ? { lastSeconds: st.seconds } : {}),
      expectedSeconds: expected(n),
    };
    const seen = {
      present: found !== undefined,
      tagged,
      ...(remoteDigest ? { remoteDigest } : {}),
    };
    const blocked = blockedBy(family, n, bases, sourceProblems, ports);
    return {
      freshness: freshness(fp, st?.record, seen, force),
      facts,
      ...(blocked ? { blocked } : {}),
    };
  };
  const seen = new Map(
    selection.images.filter((n) => names.has(n)).map((n) => [n, observeOne(n)] as const),
  );
  // The update check covers what would otherwise not be rebuilt.
  const packages = ports.checkUpdates
    ? await observePackages(
        family,
        [...seen].filter(([, o]) => o.freshness.action !== 'build').map(([n]) => n),
        (n) => seen.get(n)!.facts,
        { engine: ports.engine, state: ports.state, ...ports.checkUpdates },
      )
    : undefined;
  const plan = planBuild(family, selection, (n) => {
    const o = seen.get(n)!;
    const checked = packages?.checks.get(n);
    return checked ? { ...o, packages: checked } : o;
  });
  const drift = driftedBases(ports.pins, new Map([...bases].map(([ref, img]) => [ref, img.id])));
  return {
    plan,
    fingerprints,
    drift,
    sources,
    ...(problem ? { registryProblem: problem } : {}),
    ...(packages ? { packages } : {}),
  };
}

/** Why an image could not start building here: a base that is not there, a source not to be had. */
function blockedBy(
  family: Family,
  name: ImageName,
  bases: ReadonlyMap<string, LocalImage>,
  sourceProblems: ReadonlyMap<ImageName, string>,
  ports: ObservePorts,
): Blocked | undefined {
  const missing = family.graph.nodes.get(name)!.externals.find((b) => !bases.has(b));
  if (missing !== undefined)
    return {
      reason: 'base-missing',
      message: baseMissingMessage(missing, ports.engineKind, ports.pullBase !== undefined),
    };
  const source = sourceProblems.get(name);
  return source !== undefined ? { reason: 'source-failed', message: source } : undefined;
}

/** Per image, seconds its next build is expected to take: its last, else the mean of those known. */
function expectedSeconds(state: StateFile): (name: ImageName) => number {
  const known = Object.values(state.images)
    .map((i) => i.seconds)
    .filter((s): s is number => typeof s === 'number' && s > 0);
  const mean = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  return (n) => state.images[n]?.seconds ?? mean;
}

/** Digests of images found (by fingerprint) only in the registry: one HEAD each, at once. */
async function lookInRegistry(
  ports: ObservePorts,
  names: readonly ImageName[],
  where: (name: ImageName) => [repository: string, tag: string],
): Promise<{ remoteDigests: Map<ImageName, string>; problem?: string }> {
  const remoteDigests = new Map<ImageName, string>();
  const remote = ports.remote;
  let problem: string | undefined;
  if (!remote) return { remoteDigests };
  await Promise.all(
    names.map(async (n) => {
      const r = await remote(...where(n));
      if (r.ok && r.value) remoteDigests.set(n, r.value);
      else if (!r.ok) problem ??= r.error.message;
    }),
  );
  return { remoteDigests, ...(problem ? { problem } : {}) };
}

/** Each base's image id. */
const idsOf = (bases: ReadonlyMap<string, LocalImage>) =>
  new Map([...bases].map(([ref, img]) => [ref, img.id] as const));

/**
 * The ids the external bases had when the state was written (the records of the images built on
 * them), or their pins; undefined when any base has neither (a first run, a new base).
 */
function lastSeenBases(
  externals: readonly string[],
  ports: Pick<ObservePorts, 'state' | 'pins'>,
): Map<string, string> | undefined {
  const seen = new Map<string, string>();
  for (const st of Object.values(ports.state.images))
    for (const [ref, id] of Object.entries(st.record?.bases ?? {})) if (id) seen.set(ref, id);
  const out = new Map<string, string>();
  for (const ref of externals) {
    const id = ports.pins?.[ref] ?? seen.get(ref);
    if (id === undefined) return undefined;
    out.set(ref, id);
  }
  return out;
}

/** The external bases in the engine, pulling the missing ones first when allowed. */
async function inspectBases(
  ports: ObservePorts,
  externals: readonly string[],
): Promise<Map<string, LocalImage>> {
  return pullMissing(ports, externals, await ports.engine.inspect(externals));
}

/** The bases `found` holds (an inspect's answer), and those missing pulled when allowed. */
async function pullMissing(
  ports: ObservePorts,
  externals: readonly string[],
  found: ReadonlyMap<string, LocalImage>,
): Promise<Map<string, LocalImage>> {
  const here = new Map(externals.flatMap((r) => (found.has(r) ? [[r, found.get(r)!]] : [])));
  const missing = externals.filter((r) => !here.has(r));
  const pullBase = ports.pullBase;
  if (!pullBase || missing.length === 0) return here;
  const pulled = (
    await Promise.all(missing.map(async (r) => ((await pullBase(r)) ? r : undefined)))
  ).filter((r): r is string => r !== undefined);
  if (pulled.length === 0) return here;
  return new Map([...here, ...(await ports.engine.inspect(pulled))]);
}
