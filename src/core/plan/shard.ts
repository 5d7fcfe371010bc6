/**
 * Splitting a selection into N shares for CI fan-out (one job per share, on different hosts).
 * Shares follow subtrees, so most parents are built where their children are; a share that needs
 * a parent from another one takes it from the registry by its fingerprint. Balanced by expected
 * build seconds (the previous run's, 1 when unknown). Pure and deterministic: every job computes
 * the same split from the same inputs.
 */
import { ancestors } from '../graph.js';
import type { BuildGraph, ImageName } from '../model.js';
import type { Selection } from '../select.js';

export interface ShardSpec {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

/** `2/5` -> {index: 2, count: 5}; an error text for anything else. */
export function parseShard(text: string): ShardSpec | string {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count)
    return `--shard expects i/N with 1 <= i <= N (e.g. 2/4), got '${text}'`;
  return { index, count };
}

/**
 * Assigns each of `images` (which include their ancestors, in graph order) to one of `count`
 * shares: a subtree heavier than a fair share is split into its root and its children's subtrees,
 * then the pieces go heaviest first to the lightest share (ties: the lower index).
 */
export function assignShards(
  graph: BuildGraph,
  images: readonly ImageName[],
  count: number,
  weight: (name: ImageName) => number,
): Map<ImageName, number> {
  const set = new Set(images);
  const kids = (n: ImageName) => graph.nodes.get(n)!.children.filter((c) => set.has(c));
  // A child with two parents in the selection belongs to the subtree of the first one (graph order).
  const owner = new Map<ImageName, ImageName>();
  for (const n of images) {
    for (const c of kids(n)) if (!owner.has(c)) owner.set(c, n);
  }
  const children = (n: ImageName) => kids(n).filter((c) => owner.get(c) === n);
  const subtreeWeight = new Map<ImageName, number>();
  for (const n of [...images].reverse()) {
    subtreeWeight.set(n, weight(n) + children(n).reduce((t, c) => t + subtreeWeight.get(c)!, 0));
  }
  const roots = images.filter((n) => !owner.has(n));
  const total = roots.reduce((t, r) => t + subtreeWeight.get(r)!, 0);
  const fair = total / count;

  /** Pieces of at most a fair share where possible; a split subtree's root is a piece of its own. */
  const pieces: { images: ImageName[]; weight: number }[] = [];
  const subtree = (n: ImageName): ImageName[] => [n, ...children(n).flatMap(subtree)];
  const split = (root: ImageName) => {
    const cs = children(root);
    if (subtreeWeight.get(root)! <= fair || cs.length === 0) {
      pieces.push({ images: subtree(root), weight: subtreeWeight.get(root)! });
      return;
    }
    pieces.push({ images: [root], weight: weight(root) });
    for (const c of cs) split(c);
  };
  for (const r of roots) split(r);

  const load = Array.from({ length: count }, () => 0);
  const out = new Map<ImageName, number>();
  const order = new Map(images.map((n, i) => [n, i]));
  pieces
    .sort((a, b) => b.weight - a.weight || order.get(a.images[0]!)! - order.get(b.images[0]!)!)
    .forEach((p) => {
      const i = load.indexOf(Math.min(...load));
      load[i] = load[i]! + p.weight;
      for (const n of p.images) out.set(n, i + 1);
    });
  return out;
}

/**
 * One share of a selection: its own images, plus the ancestors it needs from other shares
 * (`foreign`: image -> "shard j/N", waited for in the registry). Unbuildable images are in no share.
 */
export function shardSelection(
  graph: BuildGraph,
  selection: Selection,
  unbuildable: ReadonlyMap<ImageName, string>,
  spec: ShardSpec,
  weight: (name: ImageName) => number,
): { selection: Selection; foreign: Map<ImageName, string>; shares: Map<ImageName, number> } {
  const buildable = selection.images.filter((n) => !unbuildable.has(n));
  const shares = assignShards(graph, buildable, spec.count, weight);
  const mine = new Set(buildable.filter((n) => shares.get(n) === spec.index));
  const needed = ancestors(graph, mine);
  const foreign = new Map<ImageName, string>();
  for (const n of buildable) {
    if (!mine.has(n) && needed.has(n)) foreign.set(n, `shard ${shares.get(n)!}/${spec.count}`);
  }
  return {
    selection: {
      images: selection.images.filter((n) => mine.has(n) || foreign.has(n)),
      addedAncestors: new Set(foreign.keys()),
      addedDescendants: new Set(),
    },
    foreign,
    shares,
  };
}
