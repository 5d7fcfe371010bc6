/**
 * Which local images of a family `kbuild prune --local` removes: per image, every build that no
 * current fingerprint uses, except the newest `keep` of them (to go back to). Pure: what the
 * engine lists and which ids are current in; a decision with its reason per local image out.
 */
import type { ImageName } from '../model.js';

export interface LocalBuild {
  readonly id: string;
  /** Its references in the image's repositories. */
  readonly refs: readonly string[];
  readonly size: number;
  /** When it was made here (ISO 8601), as the engine says. */
  readonly madeAt: string;
}

export interface LocalImageBuilds {
  readonly name: ImageName;
  /** Ids carrying the image's current fingerprint tag. */
  readonly current: ReadonlySet<string>;
  readonly builds: readonly LocalBuild[];
}

export interface LocalDecision extends LocalBuild {
  readonly name: ImageName;
  readonly keep: boolean;
  readonly reason: string;
}

/** Decides per local build; in the order of the images, newest build first within each. */
export function chooseLocalRemovals(
  images: readonly LocalImageBuilds[],
  keep: number,
): LocalDecision[] {
  return images.flatMap(({ name, current, builds }) => {
    let older = 0;
    return [...builds]
      .sort((a, b) => Date.parse(b.madeAt) - Date.parse(a.madeAt) || (a.id < b.id ? -1 : 1))
      .map((b): LocalDecision => {
        if (current.has(b.id)) return { ...b, name, keep: true, reason: 'current fingerprint' };
        older++;
        return older <= keep
          ? { ...b, name, keep: true, reason: `older build #${older}, within --keep ${keep}` }
          : { ...b, name, keep: false, reason: `older build #${older}, beyond --keep ${keep}` };
      });
  });
}
