/**
 * How long a run still takes, from what each image's build took last time (.kbuild/state).
 * Pure arithmetic over the run's images and progress: the reporters pass in the clock's readings.
 */
import type { ImageName } from '../core/model.js';
import { remainingPath } from '../run/scheduler.js';

/** An image of the run: its parents in the run, and its expected seconds (null: never built). */
export interface EtaImage {
  readonly name: ImageName;
  readonly parents: readonly ImageName[];
  readonly seconds: number | null;
}

export interface EtaProgress {
  /** Images that ended (whatever their status). */
  readonly done: ReadonlySet<ImageName>;
  /** Running images, with the seconds each has run so far. */
  readonly running: ReadonlyMap<ImageName, number>;
}

/**
 * Seconds left, or undefined when no image to build has a known duration. An image never built
 * counts as the mean of the known ones; a running image as what it has left (never below zero).
 * The estimate is the longer of the longest remaining chain (a child waits for its parents) and
 * the remaining work spread over the threads.
 */
export function etaSeconds(
  images: readonly EtaImage[],
  progress: EtaProgress,
  threads: number,
): number | undefined {
  const known = images.filter((i) => i.seconds !== null && i.seconds > 0).map((i) => i.seconds!);
  const unknown = images.some((i) => i.seconds === null);
  if (unknown && known.length === 0) return undefined;
  const mean = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 0;
  const left = new Map<ImageName, number>();
  for (const i of images) {
    const expected = i.seconds ?? mean;
    const ran = progress.running.get(i.name);
    left.set(
      i.name,
      progress.done.has(i.name) ? 0 : ran === undefined ? expected : Math.max(0, expected - ran),
    );
  }
  // The longest remaining chain: the scheduler's own priority, over what is left of each image.
  const longest = Math.max(
    0,
    ...remainingPath(
      images.map((i) => ({ name: i.name, parents: i.parents, weight: left.get(i.name)! })),
    ).values(),
  );
  const work = [...left.values()].reduce((a, b) => a + b, 0);
  return Math.max(longest, work / Math.max(1, threads));
}
