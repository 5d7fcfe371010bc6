import { describe, expect, it } from 'vitest';
import { chooseLocalRemovals } from './local-prune.js';
import { imageName } from '../model.js';

const build = (id: string, day: number, size = 100) => ({
  id,
  refs: [`kbuild/app:${id}`],
  size,
  madeAt: new Date(Date.UTC(2026, 10, day)).toISOString(),
});

describe('chooseLocalRemovals', () => {
  it('keeps the current build and the newest N others; removes the rest, newest first', () => {
    const decisions = chooseLocalRemovals(
      [
        {
          name: imageName('app'),
          current: new Set(['cur']),
          builds: [
            build('old1', 1),
            build('cur', 5),
            build('old3', 3),
            build('old4', 4),
            build('old2', 2),
          ],
        },
        { name: imageName('base'), current: new Set(), builds: [build('b1', 1)] },
      ],
      2,
    );
    expect(decisions.map((d) => [d.name, d.id, d.keep, d.reason])).toEqual([
      ['app', 'cur', true, 'current fingerprint'],
      ['app', 'old4', true, 'older build #1, within --keep 2'],
      ['app', 'old3', true, 'older build #2, within --keep 2'],
      ['app', 'old2', false, 'older build #3, beyond --keep 2'],
      ['app', 'old1', false, 'older build #4, beyond --keep 2'],
      ['base', 'b1', true, 'older build #1, within --keep 2'],
    ]);
  });

  it('--keep 0 removes every build but the current one, even a newer one', () => {
    const decisions = chooseLocalRemovals(
      [
        {
          name: imageName('app'),
          current: new Set(['cur']),
          builds: [build('cur', 1), build('newer', 2)],
        },
      ],
      0,
    );
    expect(decisions.map((d) => [d.id, d.keep])).toEqual([
      ['newer', false],
      ['cur', true],
    ]);
  });
});
