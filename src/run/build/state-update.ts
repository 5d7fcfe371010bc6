/** How a run's outcome updates the stored state. */
import type { ImageName } from '../../core/model.js';
import type { Inventory } from '../../core/packages/inventory.js';
import type { ImageFacts, Plan } from '../../core/plan/plan.js';
import type { ImageState, StateFile } from '../ports.js';
import type { RunSummary } from '../summary.js';

/**
 * The state after a run: every image that ended well gets its fingerprint and record. An image
 * gets the package inventory the run read from it (`inventories`: after its build, or, for one
 * not built, when the sign step needed it for its SBOM), else, unchanged (same fingerprint, same
 * image), its previous one; an unchanged image keeps the package updates recorded as not applied
 * to it.
 */
export function stateAfterRun(
  before: StateFile,
  summary: RunSummary,
  plan: Plan,
  registry: string,
  inventories?: ReadonlyMap<ImageName, Inventory>,
): StateFile {
  const images: Record<string, ImageState> = { ...before.images };
  const facts = new Map(plan.steps.map((s) => [s.name as string, s.facts]));
  for (const i of summary.images) {
    const fp = facts.get(i.name);
    if (!fp || !i.imageId || !['built', 'pushed', 'fresh', 'retagged'].includes(i.status)) continue;
    const prev = before.images[i.name];
    const built = i.status === 'built' || i.status === 'pushed';
    const pushed = i.digest
      ? { registry, digest: i.digest }
      : prev?.fingerprint === fp.fingerprint && prev.digest
        ? { registry: prev.registry, digest: prev.digest }
        : {};
    const seconds = built ? i.buildSeconds : prev?.seconds;
    const testPassed =
      i.test === 'passed' || (prev?.fingerprint === fp.fingerprint && prev.testPassed === true);
    const sameImage = prev?.fingerprint === fp.fingerprint && prev.imageId === i.imageId;
    // Kept even for an image not built: else each signed re-run would read it again (a container).
    const packages = inventories?.get(i.name) ?? (sameImage ? prev.packages : undefined);
    const notApplied = !built && sameImage ? prev.notApplied : undefined;
    images[i.name] = {
      fingerprint: fp.fingerprint,
      record: fp.record,
      imageId: i.imageId,
      ...pushed,
      ...(seconds != null ? { seconds } : {}),
      ...(testPassed ? { testPassed } : {}),
      ...(packages ? { packages } : {}),
      ...(notApplied ? { notApplied } : {}),
    };
  }
  return { ...before, images };
}

/**
 * The inventories the state holds for the images a plan does not build, for their current
 * fingerprints (and local image, when there is one): what a build loop counts an image's added
 * packages against, and what --sbom-dir writes for images that stay fresh.
 */
export function knownInventories(state: StateFile, plan: Plan): Map<ImageName, Inventory> {
  const out = new Map<ImageName, Inventory>();
  for (const step of plan.steps) {
    const known =
      step.action === 'build' ? undefined : storedInventory(state.images[step.name], step.facts);
    if (known) out.set(step.name, known);
  }
  return out;
}

/**
 * The state's inventory when it is of the image the facts describe: the same fingerprint, and the
 * same image when it is here (one only the registry has is taken as the one recorded).
 */
export function storedInventory(
  st: ImageState | undefined,
  facts: ImageFacts | undefined,
): Inventory | undefined {
  if (!st?.packages || !facts || st.fingerprint !== facts.fingerprint) return undefined;
  return !facts.localId || st.imageId === facts.localId ? st.packages : undefined;
}
