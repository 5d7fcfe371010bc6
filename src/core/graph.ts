/**
 * The family graph: parents and children from the rendered FROM lines, a topological order
 * (toposort), depths, cycle paths, and ancestor / descendant closures.
 */
import toposort from 'toposort';
import type { BuildGraph, Failure, GraphNode, ImageName, Result } from './model.js';
import { err, ok } from './model.js';

export interface GraphInput {
  readonly name: ImageName;
  readonly parents: readonly ImageName[];
  readonly externals: readonly string[];
}

/** Builds the graph; a cycle is a failure carrying the cycle's path (a → b → a). */
export function buildGraph(inputs: readonly GraphInput[]): Result<BuildGraph, Failure> {
  const sorted = [...inputs].sort((a, b) => a.name.localeCompare(b.name));
  const children = new Map<ImageName, ImageName[]>(sorted.map((i) => [i.name, []]));
  const edges: [ImageName, ImageName][] = [];
  for (const i of sorted) {
    for (const p of i.parents) {
      children.get(p)?.push(i.name);
      edges.push([p, i.name]);
    }
  }
  const cycle = findCycle(sorted);
  if (cycle) return err({ reason: 'cycle', path: cycle });
  const depth = new Map<ImageName, number>();
  const byName = new Map(sorted.map((i) => [i.name, i]));
  for (const name of toposort.array(
    sorted.map((i) => i.name),
    edges,
  )) {
    const parents = byName.get(name)?.parents ?? [];
    depth.set(name, parents.length ? 1 + Math.max(...parents.map((p) => depth.get(p) ?? 0)) : 0);
  }
  // Level by level, then by name: still topological (a parent is shallower than its child),
  // and the order people expect to read in lists and plans.
  const order = sorted
    .map((i) => i.name)
    .sort((a, b) => depth.get(a)! - depth.get(b)! || a.localeCompare(b));
  const nodes = new Map<ImageName, GraphNode>();
  for (const name of order) {
    const i = byName.get(name)!;
    nodes.set(name, {
      name,
      parents: i.parents,
      externals: i.externals,
      children: children.get(name) ?? [],
      depth: depth.get(name) ?? 0,
    });
  }
  return ok({ nodes, order });
}

/** The first cycle found by a depth-first walk, as a closed path (first name repeated last). */
export function findCycle(inputs: readonly GraphInput[]): ImageName[] | undefined {
  const parentsOf = new Map(inputs.map((i) => [i.name, i.parents]));
  const state = new Map<ImageName, 'open' | 'done'>();
  const stack: ImageName[] = [];
  const visit = (n: ImageName): ImageName[] | undefined => {
    state.set(n, 'open');
    stack.push(n);
    for (const p of parentsOf.get(n) ?? []) {
      const s = state.get(p);
      if (s === 'open') {
        // The stack walks child → parent; print it parent → child, as the build would go.
        const loop = stack.slice(stack.indexOf(p));
        return [...loop, p].reverse();
      }
      if (s === undefined) {
        const found = visit(p);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const i of inputs) {
    if (state.get(i.name) === undefined) {
      const found = visit(i.name);
      if (found) return found;
    }
  }
  return undefined;
}

function closure(
  start: Iterable<ImageName>,
  next: (n: ImageName) => readonly ImageName[],
): Set<ImageName> {
  const out = new Set<ImageName>();
  const todo = [...start];
  while (todo.length) {
    for (const m of next(todo.pop()!)) {
      if (!out.has(m)) {
        out.add(m);
        todo.push(m);
      }
    }
  }
  return out;
}

/** Every ancestor of `names` (not including them). */
export function ancestors(g: BuildGraph, names: Iterable<ImageName>): Set<ImageName> {
  return closure(names, (n) => g.nodes.get(n)?.parents ?? []);
}

/** Every descendant of `names` (not including them). */
export function descendants(g: BuildGraph, names: Iterable<ImageName>): Set<ImageName> {
  return closure(names, (n) => g.nodes.get(n)?.children ?? []);
}
