/**
 * The plan: what a build would do with the selected images, in order, in waves, with the
 * critical path. Pure: the graph and selection in, steps out. (Freshness — build or skip —
 * joins here when fingerprints land.)
 */
import type { Family } from './family.js';
import type { ImageName } from './model.js';
import type { Selection } from './select.js';

export type StepAction = 'build' | 'unbuildable';

export interface PlanStep {
  readonly name: ImageName;
  readonly ref: string;
  readonly action: StepAction;
  /** Why: for 'build' how the image came into the selection; for 'unbuildable' what prevents it. */
  readonly reason: string;
  /** Selected parents (parents outside the selection are assumed to exist). */
  readonly parents: readonly ImageName[];
  /** 0 for images with no selected parent; else one more than the latest parent's wave. */
  readonly wave: number;
}

export interface Plan {
  readonly profile: string;
  /** Topological order. */
  readonly steps: readonly PlanStep[];
  readonly waves: readonly (readonly ImageName[])[];
  /** The longest chain of builds (each waits for the one before it). */
  readonly criticalPath: readonly ImageName[];
}

export function planBuild(family: Family, selection: Selection): Plan {
  const selected = new Set(selection.images);
  const wave = new Map<ImageName, number>();
  const longest = new Map<ImageName, ImageName[]>();
  const steps: PlanStep[] = [];
  for (const name of selection.images) {
    const node = family.graph.nodes.get(name)!;
    const parents = node.parents.filter((p) => selected.has(p));
    const w = parents.length ? 1 + Math.max(...parents.map((p) => wave.get(p)!)) : 0;
    wave.set(name, w);
    const via = parents.reduce<ImageName[]>(
      (best, p) => (longest.get(p)!.length > best.length ? longest.get(p)! : best),
      [],
    );
    longest.set(name, [...via, name]);
    const blocked = family.unbuildable.get(name);
    steps.push({
      name,
      ref: family.naming.ref(name),
      action: blocked ? 'unbuildable' : 'build',
      reason:
        blocked ??
        (selection.addedAncestors.has(name)
          ? 'needed by a selected image'
          : selection.addedDescendants.has(name)
            ? 'descendant of a selected image'
            : 'selected'),
      parents,
      wave: w,
    });
  }
  const waves: ImageName[][] = [];
  for (const s of steps) (waves[s.wave] ??= []).push(s.name);
  const criticalPath = [...longest.values()].reduce<ImageName[]>(
    (best, p) => (p.length > best.length ? p : best),
    [],
  );
  return { profile: family.profile.name, steps, waves, criticalPath };
}
