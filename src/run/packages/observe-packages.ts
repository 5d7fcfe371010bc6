/**
 * The update check as part of the observation: the inventories of the images that would not be
 * rebuilt (from the state when it has them for the same image, else read from the image, pulled
 * first when only the registry has it), then one apt question per package configuration.
 */
import type { Family } from '../../core/family.js';
import type { ImageName } from '../../core/model.js';
import { addedPackages, type Inventory } from '../../core/packages/inventory.js';
import type { PackageCheck } from '../../core/packages/updates.js';
import type { ImageFacts } from '../../core/plan/plan.js';
import { mapLimited } from '../limited.js';
import type { Engine, StateFile } from '../ports.js';
import { checkUpdates, type ImageToCheck } from './check.js';
import { readInventory } from './inventory.js';
import { storedInventory } from '../build/state-update.js';

export interface PackageObservation {
  readonly checks: ReadonlyMap<ImageName, PackageCheck>;
  /** Inventories read now (the state did not have them for these images), to be stored. */
  readonly read: ReadonlyMap<ImageName, Inventory>;
  /** Distinct package-manager configurations asked (one apt run each). */
  readonly configurations: number;
}

export interface PackagePorts {
  readonly engine: Engine;
  readonly state: StateFile;
  /** The network apt uses to reach the archive (the profile's). */
  readonly network: string;
  readonly signal: AbortSignal;
}

/** Checks `names` (images that would not be rebuilt) for package updates. */
export async function observePackages(
  family: Family,
  names: readonly ImageName[],
  facts: (name: ImageName) => ImageFacts,
  ports: PackagePorts,
): Promise<PackageObservation> {
  const checked = new Set(names);
  // Their family parents' inventories say what each image added itself.
  const needed = [
    ...new Set([...names, ...names.flatMap((n) => family.graph.nodes.get(n)!.parents)]),
  ].filter((n) => checked.has(n) || ports.state.images[n]?.packages);
  const read = new Map<ImageName, Inventory>();
  const failed = new Map<ImageName, string>();
  const inventories = new Map<ImageName, Inventory>();
  await mapLimited(needed, 4, async (n) => {
    const got = await inventoryOf(family, n, checked.has(n) ? facts(n) : undefined, ports);
    if (!got.ok) failed.set(n, got.error);
    else {
      inventories.set(n, got.value.inventory);
      if (got.value.fresh) read.set(n, got.value.inventory);
    }
  });
  const checks = new Map<ImageName, PackageCheck>();
  const toCheck: ImageToCheck[] = [];
  for (const n of names) {
    const inventory = inventories.get(n);
    if (!inventory) {
      checks.set(n, {
        status: 'check-failed',
        reason: `its packages could not be read: ${failed.get(n) ?? 'unknown'}`,
      });
      continue;
    }
    const parents = family.graph.nodes.get(n)!.parents;
    const parentInventories = parents.map((p) => inventories.get(p));
    const known = parentInventories.filter((i): i is Inventory => i !== undefined);
    toCheck.push({
      name: n,
      ref: facts(n).fpRef,
      inventory,
      // A parent whose packages are unknown: the image answers for all of its own.
      answersFor:
        known.length === parents.length ? addedPackages(inventory, known) : [...inventory.packages],
      ...(ports.state.images[n]?.notApplied
        ? { notApplied: ports.state.images[n].notApplied }
        : {}),
    });
  }
  const result = await checkUpdates(toCheck, {
    engine: ports.engine,
    network: ports.network,
    signal: ports.signal,
  });
  for (const [n, c] of result.checks) checks.set(n, c);
  return { checks, read, configurations: result.configurations };
}

/**
 * An image's inventory: the state's, when it is of this very image (same fingerprint, same id);
 * else read from the image (`fresh`), pulled first when only the registry has it.
 */
async function inventoryOf(
  family: Family,
  name: ImageName,
  facts: ImageFacts | undefined,
  ports: PackagePorts,
): Promise<
  { ok: true; value: { inventory: Inventory; fresh: boolean } } | { ok: false; error: string }
> {
  const st = ports.state.images[name];
  // A parent that is not checked itself: its recorded inventory is the best known.
  const stored = facts ? storedInventory(st, facts) : st?.packages;
  if (stored) return { ok: true, value: { inventory: stored, fresh: false } };
  if (!facts) return { ok: false, error: 'not known' };
  let ref = facts.fpRef;
  if (!facts.localId) {
    if (!facts.remoteDigest)
      return { ok: false, error: 'the image is neither here nor in the registry' };
    ref = family.naming.remoteRef(name, facts.fpTag);
    const pulled = await ports.engine.pull(ref, { signal: ports.signal, log: () => undefined });
    if (!pulled.ok)
      return {
        ok: false,
        error: `pulling ${ref}: ${'message' in pulled.error ? pulled.error.message : pulled.error.reason}`,
      };
  }
  const read = await readInventory(ports.engine, ref, { signal: ports.signal });
  return read.ok ? { ok: true, value: { inventory: read.value, fresh: true } } : read;
}
