import { describe, expect, it } from 'vitest';
import { buildGraph } from '../graph.js';
import type { Family } from '../family.js';
import type { ImageName } from '../model.js';
import { makeNaming } from '../naming.js';
import { planBuild, type ImageFacts, type ObservedImage } from '../plan/plan.js';
import type { Fingerprint } from '../model.js';
import type { FingerprintRecord } from '../plan/fingerprint.js';
import type { InstalledPackage } from './inventory.js';
import {
  aptCheckScript,
  imageCheck,
  notAppliedReason,
  parseAptCheck,
  unapplied,
  updatedReason,
  type PackageCheck,
} from './updates.js';

const pkg = (name: string, version: string, arch = 'all'): InstalledPackage => ({
  name,
  arch,
  version,
  source: name,
});

describe('the apt check script and its answer', () => {
  it('asks apt itself: apt-get update, one apt-cache policy, dpkg --compare-versions', () => {
    const s = aptCheckScript([{ name: 'kbt-beta', arch: 'all', version: '1.0' }]);
    expect(s).toContain('apt-get update');
    expect(s).toContain('xargs apt-cache policy');
    expect(s).toContain('dpkg --compare-versions "$c" gt "$v"');
    expect(s).toContain('kbt-beta all 1.0\nKBU_LIST');
  });

  it('parses newer candidates by package, arch and installed version; ignores noise', () => {
    const r = parseAptCheck([
      'Get:1 http://127.0.0.1 ./ InRelease',
      'KBU\tnewer\tkbt-beta\tall\t1.0\t1.1',
      'KBU\tnone\tgone\tamd64\t2',
      'KBU\tdone',
    ]);
    expect(r).toEqual({ ok: true, value: { newer: new Map([['kbt-beta all 1.0', '1.1']]) } });
  });

  it('a failed apt-get update, or a script cut short, is a failure that says why', () => {
    expect(parseAptCheck(['KBU\tfailed\tErr:1 http://127.0.0.1:9 ./ InRelease'])).toEqual({
      ok: false,
      error: 'apt-get update failed: Err:1 http://127.0.0.1:9 ./ InRelease',
    });
    expect(parseAptCheck(['sh: apt-get: not found'])).toEqual({
      ok: false,
      error: 'the check did not finish (does the image have apt?)',
    });
  });
});

describe('imageCheck', () => {
  const answer = { newer: new Map([['kbt-beta all 1.0', '1.1']]) };
  it('an image is stale when a package it answers for has a newer candidate', () => {
    expect(
      imageCheck([pkg('kbt-beta', '1.0'), pkg('kbt-gamma', '1.0')], answer, undefined),
    ).toEqual({
      status: 'updated',
      updates: [{ name: 'kbt-beta', arch: 'all', from: '1.0', to: '1.1' }],
    });
    // Another installed version of the same package is another question.
    expect(imageCheck([pkg('kbt-beta', '1.1')], answer, undefined)).toEqual({ status: 'current' });
  });

  it('an update a rebuild did not apply does not rebuild again for the same candidate', () => {
    expect(imageCheck([pkg('kbt-beta', '1.0')], answer, { 'kbt-beta': '1.1' })).toEqual({
      status: 'not-applied',
      stays: [{ name: 'kbt-beta', arch: 'all', from: '1.0', to: '1.1' }],
    });
    // A newer candidate than the one not applied: stale again.
    expect(imageCheck([pkg('kbt-beta', '1.0')], answer, { 'kbt-beta': '1.0.5' }).status).toBe(
      'updated',
    );
  });

  it('says what changed, briefly', () => {
    const u = (name: string) => ({ name, arch: 'all', from: '1.0', to: '1.1' });
    expect(updatedReason([u('kbt-beta')])).toBe('packages-updated (kbt-beta 1.0 → 1.1)');
    expect(updatedReason([u('kbt-beta'), u('a'), u('b')])).toBe(
      'packages-updated (kbt-beta 1.0 → 1.1, +2 more)',
    );
    expect(
      notAppliedReason([{ name: 'openssl', arch: 'amd64', from: '3.0.15-1', to: '3.0.16-1' }]),
    ).toBe(
      'update-not-applied: openssl 3.0.15-1 stays; upgrade it in the template or move the base image',
    );
  });

  it('unapplied: the updates whose package kept its old version after the rebuild', () => {
    const updates = [
      { name: 'a', arch: 'all', from: '1', to: '2' },
      { name: 'b', arch: 'all', from: '1', to: '2' },
    ];
    expect(unapplied(updates, [pkg('a', '2'), pkg('b', '1')])).toEqual([updates[1]]);
  });
});

describe('planBuild with the update check', () => {
  const n = (s: string) => s as ImageName;
  // base -> one -> leaf; base -> two
  const edges: Record<string, string[]> = { base: [], one: ['base'], two: ['base'], leaf: ['one'] };
  const g = buildGraph(
    Object.entries(edges).map(([name, parents]) => ({
      name: n(name),
      parents: parents.map(n),
      externals: [],
    })),
  );
  if (!g.ok) throw new Error('bad graph');
  const family = {
    profile: { name: 'p' },
    graph: g.value,
    unbuildable: new Map(),
    naming: makeNaming({ registry: '', namespace: 'kt', prefix: '', tag: 't', labels: () => ({}) }),
  } as unknown as Family;
  const selection = {
    images: g.value.order,
    addedAncestors: new Set<ImageName>(),
    addedDescendants: new Set<ImageName>(),
  };
  const facts = { fingerprint: 'f' as Fingerprint, record: {} as FingerprintRecord } as ImageFacts;
  const plan = (checks: Record<string, PackageCheck>) =>
    planBuild(family, selection, (name): ObservedImage => ({
      freshness: { action: 'fresh' },
      facts,
      ...(checks[name] ? { packages: checks[name] } : {}),
    }));
  const actions = (p: ReturnType<typeof plan>) =>
    Object.fromEntries(p.steps.map((s) => [s.name, [s.action, s.reason]]));
  const updated: PackageCheck = {
    status: 'updated',
    updates: [{ name: 'kbt-beta', arch: 'all', from: '1.0', to: '1.1' }],
  };

  it('rebuilds the image whose packages have updates, without the layer cache, and its descendants', () => {
    const p = plan({ one: updated, base: { status: 'current' }, two: { status: 'current' } });
    expect(actions(p)).toEqual({
      base: ['fresh', 'up to date'],
      one: ['build', 'packages-updated (kbt-beta 1.0 → 1.1)'],
      two: ['fresh', 'up to date'],
      leaf: ['build', 'parent-changed (one)'],
    });
    const one = p.steps.find((s) => s.name === 'one')!;
    expect(one.refresh).toBe(true);
    expect(one.packages).toEqual(updated);
    expect(p.steps.find((s) => s.name === 'leaf')!.refresh).toBeUndefined();
  });

  it('an update in the root rebuilds the whole tree', () => {
    expect(Object.values(actions(plan({ base: updated }))).map(([a]) => a)).toEqual([
      'build',
      'build',
      'build',
      'build',
    ]);
  });

  it('a failed check marks the image and builds nothing extra; a not-applied update says so', () => {
    const p = plan({
      one: { status: 'check-failed', reason: 'apt-get update failed: Err:1' },
      two: { status: 'not-applied', stays: updated.updates },
    });
    expect(actions(p)).toEqual({
      base: ['fresh', 'up to date'],
      one: ['fresh', 'check-failed: apt-get update failed: Err:1'],
      two: [
        'fresh',
        'update-not-applied: kbt-beta 1.0 stays; upgrade it in the template or move the base image',
      ],
      leaf: ['fresh', 'up to date'],
    });
  });
});
