/**
 * `kbuild explain IMAGE`: everything that decides how one image is built, in one value — where it
 * sits in the graph, what it is made of (its fingerprint inputs), and whether it would be rebuilt
 * now and why. Pure: the CLI observes the engine and the state, this only assembles.
 */
import type { Family } from '../family.js';
import { diffRecords, formatReason, type FingerprintRecord } from './fingerprint.js';
import { fingerprintTag } from '../naming.js';
import type { Fingerprinted } from './freshness.js';
import { ancestors, descendants } from '../graph.js';
import type { ImageName } from '../model.js';
import type { PlanStep, StepAction } from './plan.js';

/** What the state file remembers of the image's last successful build. */
export interface StoredBuild {
  readonly fingerprint: string;
  readonly record: FingerprintRecord;
  readonly imageId: string;
  readonly seconds?: number;
  readonly digest?: string;
}

export interface Explanation {
  readonly image: ImageName;
  readonly profile: string;
  readonly ref: string;
  /** The template, relative to the project root. */
  readonly template: string;
  /** Family parents and external bases, straight from the rendered FROM lines. */
  readonly parents: readonly ImageName[];
  readonly externals: readonly string[];
  /** Every ancestor with its own parents and bases, in build order (enough to draw the chain). */
  readonly ancestors: readonly {
    readonly name: ImageName;
    readonly parents: readonly ImageName[];
    readonly externals: readonly string[];
  }[];
  readonly children: readonly ImageName[];
  /** Every descendant, in build order: what a rebuild of this image rebuilds too. */
  readonly descendants: readonly ImageName[];
  readonly dockerfile: string;
  /** Why it cannot be built with this profile; null when it can. */
  readonly unbuildable: string | null;
  readonly fingerprint: string | null;
  readonly fingerprintTag: string | null;
  readonly inputs: FingerprintRecord | null;
  readonly rebuild: {
    /** False when no engine answered: the action is then unknown. */
    readonly known: boolean;
    readonly action: StepAction | null;
    /** The plan's reason (what `kbuild plan` prints), or why it is unknown. */
    readonly reason: string;
  };
  /** Differences from the record of the last successful build (`new` when there is none). */
  readonly changes: readonly string[];
  readonly lastBuild: StoredBuild | null;
}

/** Assembles the explanation; `step` is the plan's step for the image when an engine answered. */
export function explainImage(
  family: Family,
  name: ImageName,
  seen: {
    readonly fingerprinted: Fingerprinted | undefined;
    readonly step: PlanStep | undefined;
    readonly stored: StoredBuild | undefined;
    /** Why freshness is unknown (no engine answered); undefined when it is known. */
    readonly unknown?: string;
  },
): Explanation {
  const img = family.images.get(name)!;
  const node = family.graph.nodes.get(name)!;
  const up = ancestors(family.graph, [name]);
  const down = descendants(family.graph, [name]);
  const fp = seen.fingerprinted;
  const unbuildable = family.unbuildable.get(name) ?? null;
  return {
    image: name,
    profile: family.profile.name,
    ref: family.naming.ref(name),
    template: `${family.project.imagesDir}/${img.spec.template}`,
    parents: node.parents,
    externals: node.externals,
    ancestors: family.graph.order
      .filter((n) => up.has(n))
      .map((n) => {
        const a = family.graph.nodes.get(n)!;
        return { name: n, parents: a.parents, externals: a.externals };
      }),
    children: node.children,
    descendants: family.graph.order.filter((n) => down.has(n)),
    dockerfile: img.dockerfile,
    unbuildable,
    fingerprint: fp?.fingerprint ?? null,
    fingerprintTag: fp ? fingerprintTag(fp.fingerprint) : null,
    inputs: fp?.record ?? null,
    rebuild:
      unbuildable !== null
        ? { known: true, action: 'unbuildable', reason: unbuildable }
        : seen.unknown !== undefined || !seen.step
          ? { known: false, action: null, reason: seen.unknown ?? 'not planned' }
          : { known: true, action: seen.step.action, reason: seen.step.reason },
    changes: fp ? diffRecords(seen.stored?.record, fp.record).map(formatReason) : [],
    lastBuild: seen.stored ?? null,
  };
}
