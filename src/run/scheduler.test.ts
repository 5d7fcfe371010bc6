import { describe, expect, it } from 'vitest';
import { imageName, type ImageName } from '../core/model.js';
import {
  remainingPath,
  schedule,
  type Job,
  type SchedulerEvent,
  type SchedulerOptions,
  type StepResult,
} from './scheduler.js';

const n = imageName;
const job = (name: string, parents: string[] = [], weight = 1): Job => ({
  name: n(name),
  parents: parents.map(n),
  weight,
});

/** Builds that finish when the test says so, with a log of what happened in which order. */
function harness(
  opts: Partial<SchedulerOptions> & {
    fail?: Record<string, number>;
    pushFail?: Record<string, StepResult<never>[]>;
  } = {},
) {
  const log: string[] = [];
  const pending = new Map<string, () => void>();
  let running = 0;
  let maxRunning = 0;
  const failures = { ...opts.fail };
  const pushFailures = Object.fromEntries(
    Object.entries(opts.pushFail ?? {}).map(([k, v]) => [k, [...v]]),
  );
  const events: SchedulerEvent[] = [];
  const controller = new AbortController();
  const build = async (
    name: ImageName,
    attempt: number,
    signal: AbortSignal,
  ): Promise<StepResult<{ imageId: string }>> => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    log.push(`start ${name}#${attempt}`);
    const cancelled = await new Promise<boolean>((resolve) => {
      pending.set(name, () => resolve(false));
      signal.addEventListener('abort', () => resolve(true), { once: true });
    });
    running--;
    pending.delete(name);
    log.push(`end ${name}`);
    if (cancelled) return { ok: false, error: { reason: 'cancelled', message: 'killed' } };
    if ((failures[name] ?? 0) > 0) {
      failures[name]!--;
      return { ok: false, error: { reason: 'engine-exit', message: 'RUN failed' } };
    }
    return { ok: true, value: { imageId: `id-${name}` } };
  };
  const push = async (name: ImageName): Promise<StepResult<{ digest: string }>> => {
    log.push(`push ${name}`);
    await Promise.resolve();
    const next = pushFailures[name]?.shift();
    return next ?? { ok: true, value: { digest: `sha256:${name}` } };
  };
  let clock = 0;
  const options: SchedulerOptions = {
    threads: 4,
    pushThreads: 2,
    retries: 0,
    pushRetries: 3,
    failFast: false,
    signal: controller.signal,
    build,
    emit: (e) => events.push(e),
    now: () => clock++,
    sleep: async (ms) => {
      log.push(`sleep ${ms}`);
      await Promise.resolve();
    },
    ...opts,
  };
  /** Lets the scheduler run until every started build waits for the test. */
  const settle = () => new Promise((r) => setTimeout(r, 0));
  const finish = async (name: string) => {
    await settle();
    const f = pending.get(name);
    if (!f) throw new Error(`${name} is not running (log: ${log.join(', ')})`);
    f();
    await settle();
  };
  return {
    log,
    options,
    finish,
    settle,
    events,
    controller,
    push,
    stats: () => ({ maxRunning }),
    running: () => [...pending.keys()].sort(),
  };
}

describe('schedule', () => {
  it('starts a child the moment its own parents are built, not when its level is', async () => {
    const h = harness();
    const jobs = [job('base'), job('slow', ['base']), job('fast', ['base']), job('leaf', ['fast'])];
    const done = schedule(jobs, h.options);
    await h.finish('base');
    expect(h.running()).toEqual(['fast', 'slow']);
    await h.finish('fast');
    // `slow` (same level as `fast`) is still building, and `leaf` has started anyway.
    expect(h.running()).toEqual(['leaf', 'slow']);
    await h.finish('leaf');
    await h.finish('slow');
    const out = await done;
    expect([...out.values()].map((o) => o.status)).toEqual(['built', 'built', 'built', 'built']);
  });

  it('never runs more builds than threads', async () => {
    const h = harness({ threads: 2 });
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((x) => job(x));
    const done = schedule(jobs, h.options);
    for (const x of ['a', 'b', 'c', 'd', 'e']) {
      await h.settle();
      expect(h.running().length).toBeLessThanOrEqual(2);
      await h.finish(h.running()[0]!);
      void x;
    }
    await done;
    expect(h.stats().maxRunning).toBe(2);
  });

  it('starts the image with the longest remaining path first', async () => {
    const h = harness({ threads: 1 });
    // `a-leaf` sorts first by name, but `z-chain` has two images below it.
    const jobs = [job('a-leaf'), job('z-chain'), job('z2', ['z-chain']), job('z3', ['z2'])];
    expect(remainingPath(jobs).get(n('z-chain'))).toBe(3);
    const done = schedule(jobs, h.options);
    await h.settle();
    expect(h.running()).toEqual(['z-chain']);
    await h.finish('z-chain');
    await h.finish('z2');
    // Now both have one image left: ties go by name.
    expect(h.running()).toEqual(['a-leaf']);
    await h.finish('a-leaf');
    await h.finish('z3');
    await done;
  });

  it('weights priorities by expected durations', () => {
    const p = remainingPath([job('a', [], 10), job('b', [], 1), job('c', ['b'], 2)]);
    expect(Object.fromEntries(p)).toEqual({ a: 10, b: 3, c: 2 });
  });

  it("skips only the failed image's descendants and keeps going", async () => {
    const h = harness({ fail: { mid: 1 } });
    const jobs = [
      job('base'),
      job('mid', ['base']),
      job('sibling', ['base']),
      job('leaf', ['mid']),
      job('leaf2', ['leaf']),
    ];
    const done = schedule(jobs, h.options);
    await h.finish('base');
    await h.finish('mid');
    await h.finish('sibling');
    const out = await done;
    expect(Object.fromEntries([...out].map(([k, v]) => [k, v.status]))).toEqual({
      base: 'built',
      mid: 'failed',
      sibling: 'built',
      leaf: 'parent-failed',
      leaf2: 'parent-failed',
    });
    expect(out.get(n('mid'))).toMatchObject({ reason: 'engine-exit', message: 'RUN failed' });
    // The message names its parent; failedParent the image that failed (the root cause).
    expect(out.get(n('leaf2'))).toMatchObject({
      reason: 'parent-failed',
      message: "parent 'leaf' failed",
      failedParent: 'mid',
    });
    expect(out.get(n('leaf'))).toMatchObject({ failedParent: 'mid' });
    expect(h.log).not.toContain('start leaf#1');
  });

  it('with --fail-fast starts nothing new after a failure, letting running builds finish', async () => {
    const h = harness({ fail: { a: 1 }, threads: 2 });
    const jobs = [job('a'), job('b'), job('c'), job('d', ['b'])];
    const done = schedule(jobs, { ...h.options, failFast: true });
    await h.finish('a');
    expect(h.running()).toEqual(['b']);
    await h.finish('b');
    const out = await done;
    expect(
      Object.fromEntries([...out].map(([k, v]) => [k, `${v.status}/${v.reason ?? ''}`])),
    ).toEqual({
      a: 'failed/engine-exit',
      b: 'built/',
      c: 'cancelled/fail-fast',
      d: 'cancelled/fail-fast',
    });
  });

  it('retries a failed build --retries times', async () => {
    const h = harness({ fail: { a: 2 }, retries: 2 });
    const done = schedule([job('a')], h.options);
    await h.finish('a');
    await h.finish('a');
    await h.finish('a');
    const out = await done;
    expect(out.get(n('a'))).toMatchObject({ status: 'built', buildAttempts: 3 });
    expect(h.events.filter((e) => e.type === 'build-retry')).toHaveLength(2);
  });

  it('pushes after each build, while children already build', async () => {
    const h = harness();
    const done = schedule([job('base'), job('child', ['base'])], { ...h.options, push: h.push });
    await h.finish('base');
    expect(h.log).toContain('push base');
    expect(h.running()).toEqual(['child']);
    await h.finish('child');
    const out = await done;
    expect(out.get(n('base'))).toMatchObject({
      status: 'pushed',
      digest: 'sha256:base',
      imageId: 'id-base',
    });
    expect(out.get(n('child'))!.status).toBe('pushed');
  });

  it('retries transient push errors with backoff, then fails with push-failed; descendants still build', async () => {
    const transient = {
      ok: false as const,
      error: { reason: 'push-failed' as const, message: '503', transient: true },
    };
    const h = harness({ pushFail: { base: [transient, transient, transient, transient] } });
    const done = schedule([job('base'), job('child', ['base'])], {
      ...h.options,
      push: h.push,
      pushRetries: 3,
    });
    await h.finish('base');
    await h.finish('child');
    const out = await done;
    expect(out.get(n('base'))).toMatchObject({
      status: 'failed',
      reason: 'push-failed',
      pushAttempts: 4,
    });
    expect(out.get(n('child'))!.status).toBe('pushed');
    expect(h.log.filter((l) => l.startsWith('sleep'))).toEqual([
      'sleep 1000',
      'sleep 2000',
      'sleep 4000',
    ]);
  });

  it('does not retry a permanent push error', async () => {
    const permanent = {
      ok: false as const,
      error: { reason: 'push-failed' as const, message: 'denied', transient: false },
    };
    const h = harness({ pushFail: { a: [permanent] } });
    const done = schedule([job('a')], { ...h.options, push: h.push });
    await h.finish('a');
    expect((await done).get(n('a'))).toMatchObject({ status: 'failed', pushAttempts: 1 });
  });

  it('on abort cancels running builds and starts nothing else', async () => {
    const h = harness({ threads: 1 });
    const done = schedule([job('a'), job('b'), job('c', ['a'])], h.options);
    await h.settle();
    expect(h.running()).toEqual(['a']);
    h.controller.abort();
    const out = await done;
    expect(
      Object.fromEntries([...out].map(([k, v]) => [k, `${v.status}/${v.reason ?? ''}`])),
    ).toEqual({
      a: 'cancelled/cancelled',
      b: 'cancelled/cancelled',
      c: 'cancelled/cancelled',
    });
    expect(h.log).toEqual(['start a#1', 'end a']);
  });

  it("turns a throw inside one image's work into its internal failure", async () => {
    const h = harness();
    const boom = async (name: ImageName): Promise<StepResult<{ imageId: string }>> => {
      await Promise.resolve();
      if (name === 'bad') throw new Error('bug');
      return { ok: true, value: { imageId: 'x' } };
    };
    const out = await schedule([job('bad'), job('good'), job('kid', ['bad'])], {
      ...h.options,
      build: boom,
    });
    expect(out.get(n('bad'))).toMatchObject({ status: 'failed', reason: 'internal' });
    expect(out.get(n('good'))!.status).toBe('built');
    expect(out.get(n('kid'))!.status).toBe('parent-failed');
  });
});
