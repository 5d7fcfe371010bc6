/**
 * `kbuild build --sbom-dir DIR`: after the run, one CycloneDX 1.5 JSON document per image whose
 * package inventory the state holds for its current fingerprint (built in this run, or unchanged
 * with the inventory read after its build), as `DIR/<image>.cdx.json`, each written atomically.
 */
import { join } from 'node:path';
import { writeFileAtomically } from '../adapters/state.js';
import type { Family } from '../core/family.js';
import { cycloneDx, sbomJson } from '../core/packages/sbom.js';
import { kbuildTool as tool } from './signing.js';
import type { Plan } from '../core/plan/plan.js';
import type { StateFile } from '../run/ports.js';
import type { RunSummary, SummaryStatus } from '../run/summary.js';

export interface SbomTarget {
  /** Absolute directory. */
  readonly dir: string;
  /** Added to each file name before `.cdx.json` (`-arm64` when a run builds several platforms). */
  readonly suffix: string;
}

/** Images the run has (built, or unchanged): an unbuildable or skipped one has no image here. */
const HAS_IMAGE: readonly SummaryStatus[] = ['built', 'pushed', 'fresh', 'retagged'];

/**
 * Writes the SBOMs of the run's images that ended well; answers the images that got none because
 * their packages are not known for this build (reading them failed, or never read).
 */
export async function writeSboms(
  target: SbomTarget,
  family: Family,
  plan: Plan,
  summary: RunSummary,
  state: StateFile,
): Promise<{ written: string[]; unknown: string[] }> {
  const by = await tool();
  const written: string[] = [];
  const unknown: string[] = [];
  const facts = new Map(plan.steps.map((s) => [s.name as string, s.facts]));
  for (const i of summary.images) {
    const f = facts.get(i.name);
    if (!f || !HAS_IMAGE.includes(i.status)) continue;
    const st = state.images[i.name];
    if (!st?.packages || st.fingerprint !== f.fingerprint) {
      unknown.push(i.name);
      continue;
    }
    const bom = cycloneDx(
      {
        repository: family.naming.repository(i.name),
        tag: family.naming.tag,
        ...(st.digest && st.registry ? { registry: st.registry, digest: st.digest } : {}),
        fingerprint: st.fingerprint,
        imageId: st.imageId,
        profile: family.profile.name,
      },
      st.packages,
      by,
    );
    const path = join(target.dir, `${i.name}${target.suffix}.cdx.json`);
    await writeFileAtomically(path, sbomJson(bom));
    written.push(path);
  }
  return { written, unknown };
}
