import { describe, expect, it } from 'vitest';
import { driftedBases, EMPTY_LOCK, parseLock, withProfile } from './lock.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

describe('kbuild.lock', () => {
  it('round-trips, sorted, one profile replaced at a time', () => {
    const lock = withProfile(withProfile(EMPTY_LOCK, 'z', { 'x:1': A }), 'a', {
      'debian:bookworm': B,
      'alpine:3': A,
    });
    expect(Object.keys(lock.profiles)).toEqual(['a', 'z']);
    expect(Object.keys(lock.profiles['a']!)).toEqual(['alpine:3', 'debian:bookworm']);
    expect(parseLock(JSON.stringify(lock), 'kbuild.lock')).toEqual({ ok: true, value: lock });
  });

  it('says what is wrong with a broken lock', () => {
    const r = parseLock(
      '{"schema":1,"profiles":{"p":{"debian:bookworm":"latest"}}}',
      'kbuild.lock',
    );
    expect(!r.ok && r.error[0]!.message).toBe(
      `p: 'debian:bookworm' is pinned to "latest", not a sha256 digest`,
    );
    expect(!parseLock('{', 'kbuild.lock').ok).toBe(true);
  });

  it('finds bases that drifted from their pins (a missing base is not drift)', () => {
    expect(
      driftedBases({ 'debian:bookworm': A, 'x:1': A }, new Map([['debian:bookworm', B]])),
    ).toEqual([{ ref: 'debian:bookworm', pinned: A, now: B }]);
    expect(driftedBases(undefined, new Map([['debian:bookworm', B]]))).toEqual([]);
  });
});
