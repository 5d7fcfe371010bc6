import { describe, expect, it } from 'vitest';
import { watchLoop, type WatchClock } from './watch-loop.js';

/** A clock whose time moves only when the test says; due timers fire in order. */
function fakeClock(): WatchClock & { advance: (ms: number) => Promise<void> } {
  let now = 0;
  let next = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer: (fn, ms) => {
      const id = next++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimer: (t) => void timers.delete(t as number),
    advance: async (ms) => {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, t]) => t.at <= end)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await settle();
      }
      now = end;
      await settle();
    },
  };
}

/** Lets resolved promises' callbacks run. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** A loop whose builds are recorded and end when the test says. */
function harness(debounceMs = 300) {
  const clock = fakeClock();
  const builds: { changed: readonly string[]; at: number }[] = [];
  const ends: (() => void)[] = [];
  const loop = watchLoop({
    debounceMs,
    clock,
    build: (changed) => {
      builds.push({ changed, at: clock.now() });
      return new Promise<void>((resolve) => ends.push(resolve));
    },
  });
  /** Ends the running build. */
  const finish = async () => {
    ends.shift()!();
    await settle();
  };
  return { clock, builds, loop, finish };
}

describe('watchLoop', () => {
  it('builds once at start, with no changed paths', async () => {
    const { loop, builds, finish } = harness();
    loop.start();
    expect(builds).toEqual([{ changed: [], at: 0 }]);
    expect(loop.building()).toBe(true);
    await finish();
    expect(loop.building()).toBe(false);
  });

  it('a burst of changes makes one build, after the files are quiet for the debounce time', async () => {
    const { loop, builds, clock, finish } = harness(300);
    loop.start();
    await finish();
    for (const p of ['a/x', 'a/y', 'a/x', 'b/z']) {
      loop.changed(p);
      await clock.advance(100); // each change inside the quiet time of the one before
    }
    expect(builds).toHaveLength(1);
    await clock.advance(199);
    expect(builds).toHaveLength(1);
    await clock.advance(1);
    expect(builds).toHaveLength(2);
    expect(builds[1]).toEqual({ changed: ['a/x', 'a/y', 'b/z'], at: 600 });
    await finish();
    await clock.advance(10_000);
    expect(builds).toHaveLength(2);
  });

  it('changes during a build make exactly one more build after it ends, with all of them', async () => {
    const { loop, builds, clock, finish } = harness(300);
    loop.start();
    loop.changed('a/x');
    await clock.advance(1000);
    loop.changed('b/y');
    await clock.advance(1000);
    loop.changed('a/x');
    // Long quiet, but the first build still runs: nothing new starts.
    await clock.advance(5000);
    expect(builds).toHaveLength(1);
    await finish();
    // The files were quiet long enough already: the next build starts at once.
    await clock.advance(0);
    expect(builds).toHaveLength(2);
    expect(builds[1]!.changed).toEqual(['a/x', 'b/y']);
    await finish();
    await clock.advance(10_000);
    expect(builds).toHaveLength(2);
  });

  it('a build that ends right after a change waits for the rest of the quiet time', async () => {
    const { loop, builds, clock, finish } = harness(300);
    loop.start();
    await clock.advance(1000);
    loop.changed('a/x');
    await clock.advance(100);
    await finish();
    await clock.advance(199);
    expect(builds).toHaveLength(1);
    await clock.advance(1);
    expect(builds.map((b) => b.at)).toEqual([0, 1300]);
  });

  it('separate changes, each after quiet, make a build each', async () => {
    const { loop, builds, clock, finish } = harness(300);
    loop.start();
    await finish();
    loop.changed('a/x');
    await clock.advance(300);
    await finish();
    loop.changed('b/y');
    await clock.advance(300);
    await finish();
    expect(builds.map((b) => b.changed)).toEqual([[], ['a/x'], ['b/y']]);
  });

  it('stop: no build after it, and it waits for the running build', async () => {
    const { loop, builds, clock, finish } = harness(300);
    loop.start();
    loop.changed('a/x');
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    await finish();
    await stopping;
    expect(stopped).toBe(true);
    loop.changed('b/y');
    await clock.advance(10_000);
    expect(builds).toHaveLength(1);
  });
});
