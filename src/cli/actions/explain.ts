/**
 * `kbuild explain`: how one image is built (ancestors and descendants, rendered Dockerfile,
 * fingerprint inputs) and whether, and why, a build would rebuild it now.
 */
import { hashContext } from '../../adapters/context-hash.js';
import { readLockFile, readState, statePath } from '../../adapters/state.js';
import { explainImage, type Explanation } from '../../core/plan/explain.js';
import type { Family } from '../../core/family.js';
import { fingerprintFamily, type Fingerprinted } from '../../core/plan/freshness.js';
import { ancestors } from '../../core/graph.js';
import { imageName, type ImageName } from '../../core/model.js';
import { suggest } from '../../core/config/schema.js';
import type { Selection } from '../../core/select.js';
import { formatExplanation } from '../../report/explain.js';
import type { ImageFacts } from '../../core/plan/plan.js';
import { readInventory } from '../../run/packages/inventory.js';
import type { Engine, ImageState, StateFile } from '../../run/ports.js';
import { UsageError, type Io } from '../io.js';
import { loadProfileFamily, loadWorkspace, profileName, type ProfileOptions } from '../load.js';
import { imagePath, observeFamily } from '../observe-family.js';
import { Failed } from '../options.js';
import { withBuildFeatures } from '../build-features.js';

export interface ExplainFlags extends ProfileOptions {
  json?: boolean;
  /** --platform: render for it instead of the profile's first. */
  platform?: string;
  /** false with --no-engine; a kind with --engine. */
  engine?: 'docker' | 'podman' | false;
}

export async function explainCommand(io: Io, image: string, opts: ExplainFlags): Promise<number> {
  const e = await explain(io, image, opts);
  io.out(opts.json ? `${JSON.stringify(e, null, 2)}\n` : formatExplanation(e));
  return 0;
}

async function explain(io: Io, image: string, opts: ExplainFlags): Promise<Explanation> {
  const ws = await loadWorkspace(io, opts);
  if (!ws.ok) throw new Failed(ws.failures);
  // Rendered for the engine's build path (build_features), as a build renders it.
  const observing =
    opts.engine === false
      ? undefined
      : await withBuildFeatures({
          ...(typeof opts.engine === 'string' ? { engine: opts.engine } : {}),
          force: false,
        });
  const loaded = loadProfileFamily(
    io,
    ws.value,
    observing ? { ...opts, buildFeatures: observing.features } : opts,
    profileName(io, ws.value, opts.profile),
    opts.platform,
  );
  if (!loaded.ok) throw new Failed(loaded.failures);
  const family = loaded.value;
  const root = ws.value.root;
  const name = imageName(image);
  if (!family.images.has(name)) {
    const s = suggest(image, [...family.images.keys()]);
    throw new UsageError(
      `no image named '${image}'${s ? ` — ${s}` : ''} ('kbuild list -p ${family.profile.name}' lists them)`,
    );
  }
  // The image and its ancestors, exactly as `kbuild plan IMAGE` sees them.
  const up = ancestors(family.graph, [name]);
  const selection: Selection = {
    images: family.graph.order.filter((n) => n === name || up.has(n)),
    addedAncestors: up,
    addedDescendants: new Set(),
  };
  const state = await readState(root, family.profile.name);
  const found = observing
    ? await observeFamily(root, family, selection, state, observing.settings)
    : { ok: false as const, message: '--no-engine' };
  const stored = state.images[name];
  // The parents' entries say what the image added over them (its packages' section).
  const parentsStored = new Map(
    family.graph.nodes
      .get(name)!
      .parents.flatMap((p) => (state.images[p] ? [[p, state.images[p]] as const] : [])),
  );
  if (found.ok) {
    const { observed, engine } = found.value;
    const steps = new Map(observed.plan.steps.map((s) => [s.name, s]));
    // A build reads packages only when something needs them (the update check, SBOMs): the ones
    // the state lacks are read now from the local images (a container each), not stored.
    const read = (n: ImageName, st: ImageState | undefined) =>
      withPackages(engine, st, steps.get(n)?.facts);
    return explainImage(family, name, {
      fingerprinted: observed.fingerprints.get(name),
      step: steps.get(name),
      stored: await read(name, stored),
      parentsStored: new Map(
        await Promise.all(
          [...parentsStored].map(async ([p, st]) => [p, (await read(p, st)) ?? st] as const),
        ),
      ),
    });
  }
  const offline = family.unbuildable.has(name)
    ? undefined
    : await offlineFingerprints(root, family, name, selection, state);
  return explainImage(family, name, {
    fingerprinted: offline?.get(name),
    step: undefined,
    stored,
    parentsStored,
    unknown:
      `no engine answers (${found.message}), so freshness is unknown; ` +
      (stored
        ? `base digests and the engine are as ${statePath(root, family.profile.name)} last recorded them`
        : 'base digests are unknown (never built here)'),
  });
}

/**
 * The state's record with its packages read from the local image when the record has none for
 * this very image (same fingerprint, same id); as it was when they cannot be read.
 */
async function withPackages(
  engine: Engine,
  st: ImageState | undefined,
  facts: ImageFacts | undefined,
): Promise<ImageState | undefined> {
  if (!st || st.packages || !facts?.localId || st.fingerprint !== facts.fingerprint) return st;
  if (st.imageId !== facts.localId) return st;
  const read = await readInventory(engine, facts.fpRef, { signal: new AbortController().signal });
  return read.ok ? { ...st, packages: read.value } : st;
}

/**
 * Fingerprints without an engine: files are hashed as usual; base digests, the engine and source
 * identities (which take an engine or the network) are taken as the state last recorded them, and
 * kbuild.lock's pins win. Equal to the real fingerprint when those did not change.
 */
async function offlineFingerprints(
  root: string,
  family: Family,
  name: ImageName,
  selection: Selection,
  state: StateFile,
): Promise<Map<ImageName, Fingerprinted>> {
  const names = new Set(selection.images.filter((n) => !family.unbuildable.has(n)));
  const records = [...names].flatMap((n) => {
    const r = state.images[n]?.record;
    return r ? [[n, r] as const] : [];
  });
  const lock = await readLockFile(root);
  const pins = (lock.ok && lock.value.profiles[family.profile.name]) || {};
  const contexts = await Promise.all(
    [...names].map(async (n) => [n, await hashContext(imagePath(root, family, n))] as const),
  );
  return fingerprintFamily(family, names, {
    contexts: new Map(contexts),
    bases: new Map([
      ...records.flatMap(([, r]) => Object.entries(r.bases)),
      ...Object.entries(pins),
    ]),
    engine: state.images[name]?.record.engine ?? '',
    labels: (n) => family.naming.labels(n),
    sources: new Map(records.flatMap(([n, r]) => (r.source ? [[n, r.source] as const] : []))),
  });
}
