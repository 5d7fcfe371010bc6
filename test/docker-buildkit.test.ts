/** DOCKER_BUILDKIT read as the docker CLI reads it (Go's strconv.ParseBool; empty is unset). */
import { describe, expect, it } from 'vitest';
import { buildkitWanted, firstAnswering } from '../src/adapters/docker.js';

describe('buildkitWanted', () => {
  it.each(['1', 't', 'T', 'TRUE', 'true', 'True'])('%s: BuildKit', (v) => {
    expect(buildkitWanted(v)).toEqual({ ok: true, value: true });
  });
  it.each(['0', 'f', 'F', 'FALSE', 'false', 'False'])('%s: the legacy builder', (v) => {
    expect(buildkitWanted(v)).toEqual({ ok: true, value: false });
  });
  it('unset or empty: the client decides (kbuild: its best path)', () => {
    expect(buildkitWanted(undefined)).toEqual({ ok: true, value: undefined });
    expect(buildkitWanted('')).toEqual({ ok: true, value: undefined });
  });
  it.each(['yes', 'on', '2', ' 1', 'tRUE'])(
    '%j: an error naming the value, as the CLI says',
    (v) => {
      const r = buildkitWanted(v);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(`DOCKER_BUILDKIT=${v}:`);
    },
  );
});

/**
 * DOCKER_BUILDKIT=0: every client builds with the legacy builder alike, so the first that answers
 * is used, and the others are probed only when it fails or is slow (one probe process, not three).
 */
describe('firstAnswering', () => {
  const probeOf = (answers: Record<string, { info?: string; ms: number }>) => {
    const asked: string[] = [];
    const events: string[] = [];
    const probe = async (c: string) => {
      asked.push(c);
      events.push(c);
      const a = answers[c]!;
      await new Promise((r) => setTimeout(r, a.ms));
      events.push(`${c} done`);
      return a.info ? { info: a.info } : { problem: `${c}: down` };
    };
    return { asked, events, probe };
  };

  it('the first client answers: the others are not probed', async () => {
    const { asked, probe } = probeOf({ a: { info: 'A', ms: 5 }, b: { info: 'B', ms: 1 } });
    expect(await firstAnswering(['a', 'b'], probe, 1000)).toEqual([{ info: 'A' }]);
    expect(asked).toEqual(['a']);
  });

  it('the first fails: the others are probed, in order after it', async () => {
    const { asked, probe } = probeOf({ a: { ms: 1 }, b: { info: 'B', ms: 1 }, c: { ms: 1 } });
    expect(await firstAnswering(['a', 'b', 'c'], probe, 1000)).toEqual([
      { problem: 'a: down' },
      { info: 'B' },
      { problem: 'c: down' },
    ]);
    expect(asked).toEqual(['a', 'b', 'c']);
  });

  it('the first is slow: the others are probed meanwhile, and the first still comes first', async () => {
    const { events, probe } = probeOf({ a: { info: 'A', ms: 300 }, b: { info: 'B', ms: 1 } });
    expect(await firstAnswering(['a', 'b'], probe, 50)).toEqual([{ info: 'A' }, { info: 'B' }]);
    // b was probed while a had not answered yet, not after it.
    expect(events).toEqual(['a', 'b', 'b done', 'a done']);
  });
});
