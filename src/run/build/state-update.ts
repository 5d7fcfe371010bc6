/** How a run's outcome updates the stored state. */
import type { Plan } from '../../core/plan/plan.js';
import type { ImageState, StateFile } from '../ports.js';
import type { RunSummary } from '../summary.js';

/** The state after a run: every image that ended well gets its fingerprint and record. */
export function stateAfterRun(
  before: StateFile,
  summary: RunSummary,
  plan: Plan,
  registry: string,
): StateFile {
  const images: Record<string, ImageState> = { ...before.images };
  const facts = new Map(plan.steps.map((s) => [s.name as string, s.facts]));
  for (const i of summary.images) {
    const fp = facts.get(i.name);
    if (!fp || !i.imageId || !['built', 'pushed', 'fresh', 'retagged'].includes(i.status)) continue;
    const prev = before.images[i.name];
    const pushed = i.digest
      ? { registry, digest: i.digest }
      : prev?.fingerprint === fp.fingerprint && prev.digest
        ? { registry: prev.registry, digest: prev.digest }
        : {};
    const seconds = i.status === 'built' || i.status === 'pushed' ? i.buildSeconds : prev?.seconds;
    const testPassed =
      i.test === 'passed' || (prev?.fingerprint === fp.fingerprint && prev.testPassed === true);
    images[i.name] = {
      fingerprint: fp.fingerprint,
      record: fp.record,
      imageId: i.imageId,
      ...pushed,
      ...(seconds != null ? { seconds } : {}),
      ...(testPassed ? { testPassed } : {}),
    };
  }
  return { ...before, images };
}
