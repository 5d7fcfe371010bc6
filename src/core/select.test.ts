import { describe, expect, it } from 'vitest';
import { buildGraph } from './graph.js';
import { globToRegExp, selectImages, type SelectionRequest } from './select.js';
import { imageName, type BuildGraph } from './model.js';

const img = (name: string, parents: string[] = []) => ({
  name: imageName(name),
  parents: parents.map(imageName),
  externals: [],
});
const g = ((): BuildGraph => {
  const r = buildGraph([
    img('base'),
    img('service-base', ['base']),
    img('nginx', ['service-base']),
    img('prometheus-base', ['service-base']),
    img('prometheus-server', ['prometheus-base']),
    img('prometheus-node-exporter', ['prometheus-base']),
    img('sidecar', ['base']),
    img('combo', ['nginx', 'sidecar']),
  ]);
  if (!r.ok) throw new Error('bad fixture');
  return r.value;
})();
const groups = { web: ['nginx'], monitoring: ['prometheus-*'], both: ['web', 'monitoring'] };
const req = (over: Partial<SelectionRequest>): SelectionRequest => ({
  patterns: [],
  source: 'cli',
  exclude: [],
  skipParents: false,
  withDescendants: false,
  ...over,
});
const run = (over: Partial<SelectionRequest>) => selectImages(g, groups, req(over));

describe('selectImages', () => {
  it('selects everything by default, in topological order', () => {
    expect(run({}).selection.images).toEqual(g.order);
  });

  it('adds ancestors of named images, unless --skip-parents', () => {
    const r = run({ patterns: ['nginx'] });
    expect(r.selection.images).toEqual(['base', 'service-base', 'nginx']);
    expect([...r.selection.addedAncestors].sort()).toEqual(['base', 'service-base']);
    expect(run({ patterns: ['nginx'], skipParents: true }).selection.images).toEqual(['nginx']);
  });

  it('matches globs, /regex/ and (nested) groups', () => {
    expect(run({ patterns: ['prometheus-*'], skipParents: true }).selection.images).toEqual([
      'prometheus-base',
      'prometheus-node-exporter',
      'prometheus-server',
    ]);
    expect(run({ patterns: ['/exporter$/'], skipParents: true }).selection.images).toEqual([
      'prometheus-node-exporter',
    ]);
    expect(run({ patterns: ['both'], skipParents: true }).selection.images).toHaveLength(4);
    expect(run({ patterns: ['all'] }).selection.images).toHaveLength(8);
  });

  it('adds descendants, and the other parents those need', () => {
    const r = run({ patterns: ['nginx'], withDescendants: true, skipParents: false });
    expect(r.selection.images).toEqual(['base', 'service-base', 'sidecar', 'nginx', 'combo']);
    expect([...r.selection.addedDescendants]).toEqual(['combo']);
  });

  it('lets excludes win, even over added ancestors', () => {
    expect(
      run({
        patterns: ['monitoring'],
        exclude: [{ patterns: ['service-base', 'prometheus-server'], source: 'cli' }],
      }).selection.images,
    ).toEqual(['base', 'prometheus-base', 'prometheus-node-exporter']);
  });

  it('reports a pattern that matches nothing, with the nearest name', () => {
    const r = run({ patterns: ['ngnix'], source: 'the command line' });
    expect(r.failures).toEqual([
      {
        reason: 'selection-unknown',
        pattern: 'ngnix',
        source: 'the command line',
        suggestion: "did you mean 'nginx'?",
      },
    ]);
    expect(run({ exclude: [{ patterns: ['/[/'], source: 'cli' }] }).failures[0]).toMatchObject({
      reason: 'selection-unknown',
      pattern: '/[/',
    });
  });
});

describe('globToRegExp', () => {
  it.each([
    ['nova-*', 'nova-api', true],
    ['nova-*', 'nova', false],
    ['?ginx', 'nginx', true],
    ['[mn]ginx', 'nginx', true],
    ['[!n]ginx', 'nginx', false],
    ['a.b', 'axb', false],
  ])('%s matches %s: %s', (glob, name, expected) => {
    expect(globToRegExp(glob).test(name)).toBe(expected);
  });
});
