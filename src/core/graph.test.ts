import { describe, expect, it } from 'vitest';
import { ancestors, buildGraph, descendants, findCycle } from './graph.js';
import { imageName, type ImageName } from './model.js';

const n = (s: string) => imageName(s);
const img = (name: string, parents: string[] = []) => ({
  name: n(name),
  parents: parents.map(n),
  externals: [],
});

describe('buildGraph', () => {
  const family = [
    img('svc-a', ['mid']),
    img('base'),
    img('mid', ['base']),
    img('svc-b', ['mid', 'other']),
    img('other', ['base']),
  ];

  it('orders parents before children, with depths and children', () => {
    const g = buildGraph(family);
    expect(g.ok).toBe(true);
    if (!g.ok) return;
    const pos = (x: string) => g.value.order.indexOf(n(x));
    for (const i of family) for (const p of i.parents) expect(pos(p)).toBeLessThan(pos(i.name));
    expect(Object.fromEntries([...g.value.nodes].map(([k, v]) => [k, v.depth]))).toEqual({
      base: 0,
      mid: 1,
      other: 1,
      'svc-a': 2,
      'svc-b': 2,
    });
    expect(g.value.nodes.get(n('mid'))!.children).toEqual(['svc-a', 'svc-b']);
  });

  it('is deterministic whatever the input order', () => {
    const a = buildGraph(family);
    const b = buildGraph([...family].reverse());
    expect(a.ok && b.ok && a.value.order).toEqual(b.ok && b.value.order);
  });

  it('reports a cycle as a path in build order', () => {
    const g = buildGraph([img('a', ['c']), img('b', ['a']), img('c', ['b']), img('d')]);
    expect(g.ok).toBe(false);
    if (g.ok) return;
    expect(g.error).toEqual({ reason: 'cycle', path: ['a', 'b', 'c', 'a'] });
  });

  it('reports a self-reference as a cycle', () => {
    expect(findCycle([img('a', ['a'])])).toEqual(['a', 'a']);
  });

  it('finds ancestors and descendants', () => {
    const g = buildGraph(family);
    if (!g.ok) throw new Error();
    const sorted = (s: Set<ImageName>) => [...s].sort();
    expect(sorted(ancestors(g.value, [n('svc-b')]))).toEqual(['base', 'mid', 'other']);
    expect(sorted(descendants(g.value, [n('mid')]))).toEqual(['svc-a', 'svc-b']);
    expect(sorted(descendants(g.value, [n('svc-a')]))).toEqual([]);
  });
});
