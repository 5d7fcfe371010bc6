import { describe, expect, it } from 'vitest';
import type { Fingerprint, ImageName } from '../../core/model.js';
import type { Inventory } from '../../core/packages/inventory.js';
import type { Plan, PlanStep } from '../../core/plan/plan.js';
import type { FingerprintRecord } from '../../core/plan/fingerprint.js';
import type { ImageState, StateFile } from '../ports.js';
import type { RunSummary } from '../summary.js';
import { packageStateAfterRun } from './package-state.js';

const inv = (version: string): Inventory => ({
  manager: 'dpkg',
  distro: 'debian',
  distroVersion: '12',
  config: 'c',
  packages: [{ name: 'openssl', arch: 'amd64', version, source: 'openssl' }],
});
const entry = (imageId: string, packages?: Inventory): ImageState => ({
  fingerprint: 'fp',
  record: {} as FingerprintRecord,
  imageId,
  ...(packages ? { packages } : {}),
});
const step = (name: string, localId: string, extra: Partial<PlanStep> = {}): PlanStep =>
  ({
    name: name as ImageName,
    action: 'fresh',
    facts: { fingerprint: 'fp' as Fingerprint, localId },
    ...extra,
  }) as PlanStep;
const plan = (...steps: PlanStep[]) => ({ steps }) as unknown as Plan;
const summary = (built: string[]) =>
  ({ images: built.map((name) => ({ name, status: 'built' })) }) as unknown as RunSummary;
const state = (images: Record<string, ImageState>): StateFile => ({
  schema: 1,
  profile: 'p',
  images,
});
const update = { name: 'openssl', arch: 'amd64', from: '3.0.15-1', to: '3.0.16-1' };

describe('packageStateAfterRun', () => {
  it('keeps an inventory the check read, for the very image it was read from', () => {
    const read = new Map([['a' as ImageName, inv('1')]]);
    const s = packageStateAfterRun(
      state({ a: entry('id-a'), b: entry('id-new') }),
      summary([]),
      plan(step('a', 'id-a'), step('b', 'id-old')),
      new Map([...read, ['b' as ImageName, inv('1')]]),
    );
    expect(s.images['a']!.packages).toEqual(inv('1'));
    // b's state names another image than the one read: not stored.
    expect(s.images['b']!.packages).toBeUndefined();
  });

  it('records an update the rebuild did not apply, and forgets it once applied', () => {
    const flagged = step('a', 'id-old', {
      action: 'build',
      packages: { status: 'updated', updates: [update] },
    });
    const stays = packageStateAfterRun(
      state({ a: entry('id-new', inv('3.0.15-1')) }),
      summary(['a']),
      plan(flagged),
      undefined,
    );
    expect(stays.images['a']!.notApplied).toEqual({ openssl: '3.0.16-1' });
    const applied = packageStateAfterRun(
      state({ a: { ...entry('id-new', inv('3.0.16-1')), notApplied: { openssl: '3.0.16-0' } } }),
      summary(['a']),
      plan(flagged),
      undefined,
    );
    expect(applied.images['a']!.notApplied).toBeUndefined();
    // Not rebuilt (failed): nothing is concluded.
    const failed = packageStateAfterRun(
      state({ a: entry('id-old', inv('3.0.15-1')) }),
      summary([]),
      plan(flagged),
      undefined,
    );
    expect(failed.images['a']!.notApplied).toBeUndefined();
  });
});
