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
import type { Fingerprint, ImageName } from '../model.js';
import {
  addedPackages,
  type InstalledPackage,
  type Inventory,
  type PackageManager,
} from '../packages/inventory.js';
import type { PlanStep, StepAction } from './plan.js';

/** What the state file remembers of the image's last successful build. */
export interface StoredBuild {
  readonly fingerprint: string;
  readonly record: FingerprintRecord;
  readonly imageId: string;
  readonly seconds?: number;
  readonly digest?: string;
  /** Its package inventory, read after that build. */
  readonly packages?: Inventory;
}

/** The image's packages, as the state has them for its current fingerprint. */
export type ExplainedPackages =
  | {
      readonly known: false;
      /** Why they are not known (never built here, built with other inputs, not read). */
      readonly reason: string;
    }
  | {
      readonly known: true;
      readonly manager: PackageManager;
      readonly distro: string;
      readonly distroVersion: string;
      readonly count: number;
      /** Why there are none, when there are none (no package database, no shell to ask). */
      readonly empty?: string;
      /** The family parents they are compared with (none: a root image answers for all). */
      readonly parents: readonly ImageName[];
      /** Parents whose packages the state does not have for the image's build: `added` is null. */
      readonly parentsUnknown: readonly ImageName[];
      /** What the image added or changed relative to its parents; a root image: everything. */
      readonly added: readonly InstalledPackage[] | null;
      readonly packages: readonly InstalledPackage[];
    };

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
  /** The last successful build as the state has it (its packages are in `packages`). */
  readonly lastBuild: Omit<StoredBuild, 'packages'> | null;
  readonly packages: ExplainedPackages;
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
    /** The state's entries of the image's family parents (for the packages it added). */
    readonly parentsStored?: ReadonlyMap<ImageName, StoredBuild>;
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
    lastBuild: seen.stored ? lastBuildOf(seen.stored) : null,
    packages: explainPackages(node.parents, fp?.fingerprint, seen.stored, seen.parentsStored),
  };
}

/** The stored build without its inventory (the explanation's `packages` has that). */
const lastBuildOf = (s: StoredBuild): Omit<StoredBuild, 'packages'> => ({
  fingerprint: s.fingerprint,
  record: s.record,
  imageId: s.imageId,
  ...(s.seconds !== undefined ? { seconds: s.seconds } : {}),
  ...(s.digest !== undefined ? { digest: s.digest } : {}),
});

/**
 * The image's packages from the state, only when read for its current fingerprint; what it
 * added, against its parents' packages as read for the parent fingerprints it was built on.
 */
export function explainPackages(
  parents: readonly ImageName[],
  fingerprint: string | undefined,
  stored: StoredBuild | undefined,
  parentsStored: ReadonlyMap<ImageName, StoredBuild> | undefined,
): ExplainedPackages {
  if (!fingerprint) return { known: false, reason: 'its fingerprint is not known' };
  if (!stored) return { known: false, reason: 'never built here (no record in .kbuild/state)' };
  if (stored.fingerprint !== fingerprint)
    return {
      known: false,
      reason: `they were read for its last build (${fingerprintTag(stored.fingerprint as Fingerprint)}), not for its current inputs; build it to read them`,
    };
  const inv = stored.packages;
  if (!inv)
    return {
      known: false,
      reason:
        'not recorded for this build, and the image is not here to read them from (a build reads them when the update check or --sbom-dir needs them; `kbuild explain` reads those of a local image)',
    };
  const known: Inventory[] = [];
  const unknown: ImageName[] = [];
  for (const p of parents) {
    const ps = parentsStored?.get(p);
    if (ps?.packages && ps.fingerprint === stored.record.parents[p]) known.push(ps.packages);
    else unknown.push(p);
  }
  const empty =
    inv.packages.length > 0
      ? undefined
      : (inv.unreadable ??
        (inv.manager === 'none'
          ? 'the image has no package database (no dpkg, no rpm)'
          : 'none installed'));
  return {
    known: true,
    manager: inv.manager,
    distro: inv.distro,
    distroVersion: inv.distroVersion,
    count: inv.packages.length,
    ...(empty !== undefined ? { empty } : {}),
    parents,
    parentsUnknown: unknown,
    added: unknown.length ? null : addedPackages(inv, known),
    packages: inv.packages,
  };
}
