/**
 * The plan: what a build would do with the selected images, in order, in waves, with the
 * critical path, and for each image whether it must be built and why. Pure: the graph, the
 * selection and (optionally) freshness in, steps out.
 */
import type { Family } from '../family.js';
import type { Freshness } from './freshness.js';
import type { ImageName } from '../model.js';
import type { Selection } from '../select.js';

/** build: run the engine; fresh: nothing to do; retag: the image exists, a tag moves; unbuildable. */
export type StepAction = 'build' | 'fresh' | 'retag' | 'unbuildable';

export interface PlanStep {
  readonly name: ImageName;
  readonly ref: string;
  readonly action: StepAction;
  /** Why: for 'build' what changed (or how it came into the selection); for 'unbuildable' what prevents it. */
  readonly reason: string;
  /** How the image came into the selection. */
  readonly selectedAs: 'selected' | 'ancestor' | 'descendant';
  /** For fresh images: only the registry has it (pulled if a child builds on it here). */
  readonly fromRegistry?: boolean;
  /** Selected parents (parents outside the selection are assumed to exist). */
  readonly parents: readonly ImageName[];
  /** For builds: 0 with no parent being built, else one more than the latest such parent's; -1 otherwise. */
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

/**
 * `fresh` decides, per image, build / retag / nothing (from fingerprints); without it every
 * buildable image is built (no engine was asked).
 */
export function planBuild(
  family: Family,
  selection: Selection,
  fresh?: (name: ImageName) => Freshness,
): Plan {
  const selected = new Set(selection.images);
  const wave = new Map<ImageName, number>();
  const longest = new Map<ImageName, ImageName[]>();
  const steps: PlanStep[] = [];
  for (const name of selection.images) {
    const node = family.graph.nodes.get(name)!;
    const parents = node.parents.filter((p) => selected.has(p));
    const blocked = family.unbuildable.get(name);
    const decision: Freshness = blocked
      ? { action: 'build', reason: '' }
      : (fresh?.(name) ?? { action: 'build', reason: '' });
    const action = blocked ? 'unbuildable' : decision.action;
    const selectedAs = selection.addedAncestors.has(name)
      ? 'ancestor'
      : selection.addedDescendants.has(name)
        ? 'descendant'
        : 'selected';
    // Waves and the critical path count builds only: what is fresh costs nothing.
    const building = parents.filter((p) => wave.has(p));
    if (action === 'build') {
      wave.set(name, building.length ? 1 + Math.max(...building.map((p) => wave.get(p)!)) : 0);
      const via = building.reduce<ImageName[]>(
        (best, p) => (longest.get(p)!.length > best.length ? longest.get(p)! : best),
        [],
      );
      longest.set(name, [...via, name]);
    }
    const why =
      decision.action === 'build' && decision.reason
        ? decision.reason
        : {
            selected: 'selected',
            ancestor: 'needed by a selected image',
            descendant: 'descendant of a selected image',
          }[selectedAs];
    steps.push({
      name,
      ref: family.naming.ref(name),
      action,
      reason:
        blocked ??
        (action === 'build'
          ? why
          : action === 'retag'
            ? 'image present; tag moves'
            : decision.action === 'fresh' && decision.from === 'registry'
              ? 'up to date in the registry'
              : 'up to date'),
      ...(decision.action === 'fresh' && decision.from === 'registry'
        ? { fromRegistry: true }
        : {}),
      selectedAs,
      parents,
      wave: wave.get(name) ?? -1,
    });
  }
  const waves: ImageName[][] = [];
  for (const s of steps) if (s.wave >= 0) (waves[s.wave] ??= []).push(s.name);
  const criticalPath = [...longest.values()].reduce<ImageName[]>(
    (best, p) => (p.length > best.length ? p : best),
    [],
  );
  return { profile: family.profile.name, steps, waves, criticalPath };
}
