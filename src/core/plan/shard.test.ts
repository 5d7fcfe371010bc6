import { describe, expect, it } from 'vitest';
import { buildGraph } from '../graph.js';
import type { BuildGraph, ImageName } from '../model.js';
import { assignShards, parseShard } from './shard.js';

const n = (s: string) => s as ImageName;
function graph(edges: Record<string, string[]>): BuildGraph {
  const r = buildGraph(
    Object.entries(edges).map(([name, parents]) => ({
      name: n(name),
      parents: parents.map(n),
      externals: [],
    })),
  );
  if (!r.ok) throw new Error('bad graph');
  return r.value;
}

// base -> {svc-base -> s1..s4, mon-base -> m1, m2, m3, web}
const g = graph({
  base: [],
  'svc-base': ['base'],
  s1: ['svc-base'],
  s2: ['svc-base'],
  s3: ['svc-base'],
  s4: ['svc-base'],
  'mon-base': ['base'],
  m1: ['mon-base'],
  m2: ['mon-base'],
  m3: ['mon-base'],
  web: ['base'],
});
const all = g.order;

describe('assignShards', () => {
  it('puts every image in exactly one share, keeping subtrees together', () => {
    const a = assignShards(g, all, 2, () => 1);
    expect([...a.keys()].sort()).toEqual([...all].sort());
    // Each base rides with its own children.
    for (const s of ['s1', 's2', 's3', 's4']) expect(a.get(n(s))).toBe(a.get(n('svc-base')));
    for (const m of ['m1', 'm2', 'm3']) expect(a.get(n(m))).toBe(a.get(n('mon-base')));
    const sizes = [1, 2].map((i) => [...a.values()].filter((x) => x === i).length);
    expect(Math.abs(sizes[0]! - sizes[1]!)).toBeLessThanOrEqual(2);
  });

  it('balances by expected seconds, not by counts', () => {
    const slow = new Set(['m1', 'm2', 'm3']);
    const a = assignShards(g, all, 2, (x) => (slow.has(x) ? 100 : 1));
    const load = [1, 2].map((i) =>
      all.filter((x) => a.get(x) === i).reduce((t, x) => t + (slow.has(x) ? 100 : 1), 0),
    );
    // The three slow images cannot all share one job: the fair share is about 154 s.
    expect(Math.max(...load)).toBeLessThanOrEqual(210);
  });

  it('is deterministic, and one share takes everything', () => {
    expect(assignShards(g, all, 3, () => 1)).toEqual(assignShards(g, all, 3, () => 1));
    expect(new Set(assignShards(g, all, 1, () => 1).values())).toEqual(new Set([1]));
  });

  it('gives more shares than pieces some empty shares, never an image twice', () => {
    const a = assignShards(g, all, 20, () => 1);
    expect(a.size).toBe(all.length);
  });
});

describe('parseShard', () => {
  it('reads i/N and refuses the rest', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard('0/4')).toMatch(/1 <= i <= N/);
    expect(parseShard('5/4')).toMatch(/1 <= i <= N/);
    expect(parseShard('x')).toMatch(/got 'x'/);
  });
});
