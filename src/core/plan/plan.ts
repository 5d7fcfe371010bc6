/**
 * The plan: what a build would do with the selected images, in order, in waves, with the
 * critical path, and for each image whether it must be built and why. Pure: the graph, the
 * selection and (optionally) freshness in, steps out.
 */
import type { Family } from '../family.js';
import type { Freshness } from './freshness.js';
import type { FingerprintRecord } from './fingerprint.js';
import type { Fingerprint, ImageName } from '../model.js';
import type { Selection } from '../select.js';
import { notAppliedReason, updatedReason, type PackageCheck } from '../packages/updates.js';

/** build: run the engine; fresh: nothing to do; retag: the image exists, a tag moves; unbuildable. */
export type StepAction = 'build' | 'fresh' | 'retag' | 'unbuildable';

/**
 * What the observation found out about one image: everything a build needs to decide and do its
 * work, so that `plan` and `build` act on the same data.
 */
export interface ImageFacts {
  readonly fingerprint: Fingerprint;
  readonly record: FingerprintRecord;
  /** The tag naming the fingerprint, e.g. fp-0123… (locally and in the registry). */
  readonly fpTag: string;
  /** The local reference carrying the fingerprint, e.g. kbuild/base:fp-0123… */
  readonly fpRef: string;
  /** Id of the local image carrying the fingerprint (fresh and retagged images). */
  readonly localId?: string;
  /**
   * Set when the local image of this fingerprint (`localId`) is not under `fpRef` but was built
   * under other names (another namespace or prefix: the same fingerprint, so the same image): one
   * of its references (else its id). A retag tags it as `fpRef` first.
   */
  readonly sameAs?: string;
  /** The fp tag of this image's last build, when that build had another fingerprint. */
  readonly previousFpTag?: string;
  /** The registry's digest under the fp tag, when only the registry has the image. */
  readonly remoteDigest?: string;
  /** The digest this fingerprint was last pushed as to this registry (from the state). */
  readonly publishedDigest?: string;
  /** This fingerprint passed its smoke test in an earlier run. */
  readonly testPassed: boolean;
  /** Seconds its last build took (any fingerprint); absent: never built here. */
  readonly lastSeconds?: number;
  /** Expected build seconds: the last build's, else the mean of the family's known ones, else 1. */
  readonly expectedSeconds: number;
}

/** Why an image to build cannot even start here; the build fails it with this reason. */
export interface Blocked {
  readonly reason: 'base-missing' | 'source-failed';
  readonly message: string;
}

/** One image as observed, for planBuild. */
export interface ObservedImage {
  readonly freshness: Freshness;
  readonly facts: ImageFacts;
  /** Set only where the image would be built. */
  readonly blocked?: Blocked;
  /** What the update check found, when it ran (--check-updates). */
  readonly packages?: PackageCheck;
}

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
  /** What the observation found (absent when no engine was asked, and for unbuildable images). */
  readonly facts?: ImageFacts;
  /** Why this build cannot start here (its base or its source cannot be had). */
  readonly blocked?: Blocked;
  /** What the update check found (--check-updates), unless the image is current. */
  readonly packages?: PackageCheck;
  /**
   * Rebuilt for its own packages with an unchanged fingerprint: built without the engine's layer
   * cache, so its package installs really run again (its children's cache misses at their FROM).
   */
  readonly refresh?: true;
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
 * `observed` decides, per image, build / retag / nothing (from fingerprints) and carries its
 * facts; without it every buildable image is built (no engine was asked).
 */
export function planBuild(
  family: Family,
  selection: Selection,
  observed?: (name: ImageName) => ObservedImage,
): Plan {
  const selected = new Set(selection.images);
  const wave = new Map<ImageName, number>();
  const longest = new Map<ImageName, ImageName[]>();
  const steps: PlanStep[] = [];
  /** Images rebuilt for their packages (or a parent's): their children here are rebuilt too. */
  const repackaged = new Set<ImageName>();
  for (const name of selection.images) {
    const node = family.graph.nodes.get(name)!;
    const parents = node.parents.filter((p) => selected.has(p));
    const blocked = family.unbuildable.get(name);
    const seen = blocked ? undefined : observed?.(name);
    const checked = seen?.packages;
    let decision: Freshness = seen?.freshness ?? { action: 'build', reason: '' };
    // The update check: an image whose own packages have newer candidates is rebuilt, and so is
    // everything built on it here (their fingerprints do not change: the archive is not an input).
    if (decision.action !== 'build') {
      const parent = parents.find((p) => repackaged.has(p));
      if (checked?.status === 'updated')
        decision = { action: 'build', reason: updatedReason(checked.updates) };
      else if (parent !== undefined)
        decision = { action: 'build', reason: `parent-changed (${parent})` };
      if (decision.action === 'build') repackaged.add(name);
    }
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
          : checked?.status === 'check-failed'
            ? `check-failed: ${checked.reason}`
            : checked?.status === 'not-applied'
              ? notAppliedReason(checked.stays)
              : action === 'retag'
                ? seen?.facts.sameAs
                  ? `same fingerprint as ${seen.facts.sameAs}`
                  : 'image present; tag moves'
                : decision.action === 'fresh' && decision.from === 'registry'
                  ? 'up to date in the registry'
                  : 'up to date'),
      ...(decision.action === 'fresh' && decision.from === 'registry'
        ? { fromRegistry: true }
        : {}),
      selectedAs,
      parents,
      wave: wave.get(name) ?? -1,
      ...(seen ? { facts: seen.facts } : {}),
      ...(seen?.blocked && action === 'build' ? { blocked: seen.blocked } : {}),
      ...(checked && checked.status !== 'current' ? { packages: checked } : {}),
      ...(repackaged.has(name) && checked?.status === 'updated' ? { refresh: true } : {}),
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

/** Why a base image blocks its images, and how to provide one. */
export function baseMissingMessage(base: string, engine: string, pullTried: boolean): string {
  return (
    `base image '${base}' is not in the ${engine} engine ${pullTried ? 'and could not be pulled' : '(kbuild build tries to pull it)'}; provide it: ` +
    `--base-image REF (any local image, e.g. one made with debootstrap + '${engine} import'), ` +
    `or '${engine} tag SOME-LOCAL-IMAGE ${base}'`
  );
}

/** The builds the plan cannot start, grouped by message (one line per missing base or source). */
export function blockedSteps(plan: Plan): Map<string, ImageName[]> {
  const out = new Map<string, ImageName[]>();
  for (const s of plan.steps)
    if (s.blocked) out.set(s.blocked.message, [...(out.get(s.blocked.message) ?? []), s.name]);
  return out;
}
