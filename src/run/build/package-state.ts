/**
 * The package facts a run adds to the state: the inventories the update check read from images
 * it kept (so the next check need not read them again), and, for images rebuilt for their
 * packages, the updates the rebuild did not apply (the template never upgrades them), so the same
 * candidate does not rebuild them on every run.
 */
import type { ImageName } from '../../core/model.js';
import type { Inventory } from '../../core/packages/inventory.js';
import { unapplied } from '../../core/packages/updates.js';
import type { Plan } from '../../core/plan/plan.js';
import type { ImageState, StateFile } from '../ports.js';
import type { RunSummary } from '../summary.js';

export function packageStateAfterRun(
  state: StateFile,
  summary: RunSummary,
  plan: Plan,
  read: ReadonlyMap<ImageName, Inventory> | undefined,
): StateFile {
  const images: Record<string, ImageState> = { ...state.images };
  const built = new Set(
    summary.images.filter((i) => i.status === 'built' || i.status === 'pushed').map((i) => i.name),
  );
  for (const step of plan.steps) {
    const st = images[step.name];
    const facts = step.facts;
    if (!st || !facts || st.fingerprint !== facts.fingerprint) continue;
    const inventory = read?.get(step.name);
    if (inventory && !st.packages && st.imageId === facts.localId)
      images[step.name] = { ...st, packages: inventory };
    if (step.packages?.status === 'updated' && built.has(step.name) && st.packages) {
      const stays = unapplied(step.packages.updates, st.packages.packages);
      const { notApplied: _old, ...rest } = images[step.name]!;
      images[step.name] = stays.length
        ? { ...rest, notApplied: Object.fromEntries(stays.map((u) => [u.name, u.to])) }
        : rest;
    }
  }
  return { ...state, images };
}
