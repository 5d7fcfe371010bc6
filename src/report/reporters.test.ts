import { describe, expect, it } from 'vitest';
import { imageName } from '../core/model.js';
import type { RunEvent } from '../run/events.js';
import type { EngineInfo } from '../run/ports.js';
import type { Outcome } from '../run/scheduler.js';
import type { SmokeResult, SmokeSummary } from '../run/smoke-result.js';
import type { RunSummary } from '../run/summary.js';
import { etaSeconds } from './eta.js';
import { jsonLinesReporter } from './json-lines.js';
import { plainReporter } from './plain.js';
import { ttyReporter } from './tty.js';

const engine: EngineInfo = {
  kind: 'fake',
  client: 'fake',
  clientVersion: '1',
  serverVersion: '1',
  buildPath: 'buildkit',
  platform: 'linux/amd64',
};
const a = imageName('a');
const b = imageName('b');
const done = (name: typeof a, status: Outcome['status'], message?: string): RunEvent => ({
  type: 'scheduler',
  event: {
    type: 'done',
    outcome: {
      name,
      status,
      buildAttempts: 1,
      pushAttempts: 0,
      ...(message ? { message, reason: 'engine-exit' } : {}),
    },
  },
});
const summary: RunSummary = {
  runId: 'r',
  profile: 'p',
  tag: 't',
  registry: '',
  threads: 2,
  start: '2026-01-01T00:00:00.000Z',
  seconds: 3.5,
  engine,
  interrupted: false,
  ok: false,
  counts: {
    built: 1,
    pushed: 0,
    fresh: 0,
    retagged: 0,
    skipped: 0,
    'parent-failed': 0,
    failed: 1,
    cancelled: 0,
    unbuildable: 0,
  },
  images: [],
};
// Two images building at once, their lines interleaved as the engine prints them.
const events: RunEvent[] = [
  {
    type: 'run-start',
    runId: 'r',
    profile: 'p',
    images: [a, b],
    unbuildable: new Map(),
    threads: 2,
    push: false,
    engine,
    logsDir: '/logs',
  },
  { type: 'scheduler', event: { type: 'build-start', name: a, attempt: 1 } },
  { type: 'scheduler', event: { type: 'build-start', name: b, attempt: 1 } },
  { type: 'log', name: a, line: 'a step 1' },
  { type: 'log', name: b, line: 'b step 1' },
  { type: 'log', name: a, line: 'a step 2' },
  { type: 'log', name: b, line: 'b failed' },
  done(b, 'failed', 'exit 1'),
  done(a, 'built'),
  { type: 'run-end', summary },
];

describe('plainReporter', () => {
  it("prints each image's log together, never interleaved", () => {
    let out = '';
    const r = plainReporter({ write: (t) => (out += t), showLogs: 'all', githubGroups: false });
    events.forEach(r);
    expect(out).toContain(
      '----- b -----\nb step 1\nb failed\n----- end of b -----\nkbuild: [1/2] b: failed: exit 1\n',
    );
    expect(out).toContain(
      '----- a -----\na step 1\na step 2\n----- end of a -----\nkbuild: [2/2] a: built\n',
    );
    expect(out).toContain('FAILED: 1 built, 1 failed in 3.5s (profile p, tag t)');
  });

  it("with --quiet prints only failures' logs; with GitHub Actions folds them into groups", () => {
    let out = '';
    const r = plainReporter({ write: (t) => (out += t), showLogs: 'failures', githubGroups: true });
    events.forEach(r);
    expect(out).toContain('::group::b (failed)\nb step 1\nb failed\n::endgroup::\n');
    expect(out).not.toContain('a step 1');
  });
});

describe('ttyReporter', () => {
  it('shows counts and each running image with its last line, and prints finished images above', () => {
    let out = '';
    let now = 0;
    const live = ttyReporter({
      write: (t) => (out += t),
      columns: () => 80,
      now: () => now,
      color: false,
    });
    events.slice(0, 6).forEach(live.report);
    now = 4200;
    out = '';
    live.report(events[6]!); // b's last line
    live.report(done(a, 'built')); // repaint happens on a finished image
    expect(out).toContain('✓ a built\n');
    expect(out).toContain('kbuild: 1/2 done, 1 running, 0 queued');
    expect(out).toContain('  b 4s b failed');
    live.stop();
  });
});

describe('smoke test reports', () => {
  const result = (name: typeof a, status: SmokeResult['status'], more: Partial<SmokeResult> = {}) =>
    ({
      name,
      status,
      image: `k/${name}:t`,
      exitCode: null,
      message: null,
      seconds: 1.5,
      tail: [],
      log: `/logs/${name}.log`,
      ...more,
    }) satisfies SmokeResult;
  const failedB = result(b, 'failed', {
    exitCode: 4,
    message: 'smoke test exited with 4: b broke',
    log: '/logs/b.FAILED.log',
  });
  const testSummary: SmokeSummary = {
    runId: 'r',
    profile: 'p',
    tag: 't',
    threads: 2,
    start: '2026-01-01T00:00:00.000Z',
    seconds: 2,
    engine,
    interrupted: false,
    ok: false,
    counts: { passed: 1, failed: 1, timeout: 0, 'no-test': 0, 'not-built': 0, cancelled: 0 },
    images: [result(a, 'passed'), failedB],
  };
  const testEvents: RunEvent[] = [
    {
      type: 'test-run-start',
      runId: 'r',
      profile: 'p',
      images: [a, b],
      threads: 2,
      engine,
      logsDir: '/logs',
    },
    { type: 'test-start', name: a },
    { type: 'test-start', name: b },
    { type: 'log', name: a, line: 'a ok' },
    { type: 'log', name: b, line: 'b broke' },
    { type: 'test-end', result: result(a, 'passed') },
    { type: 'test-end', result: failedB },
    { type: 'test-run-end', summary: testSummary },
  ];

  it("plain: a failed test's log together, its status line, the table and where its log is", () => {
    let out = '';
    const r = plainReporter({
      write: (t) => (out += t),
      showLogs: 'failures',
      githubGroups: false,
    });
    testEvents.forEach(r);
    expect(out).not.toContain('a ok');
    expect(out).not.toContain('a: passed'); // quiet: only failures and the summary
    expect(out).toContain(
      '----- b -----\nb broke\n----- end of b -----\nkbuild: [2/2] b: failed in 1.5s: smoke test exited with 4: b broke\n',
    );
    expect(out).toMatch(/^b +failed +1\.5s +smoke test exited with 4: b broke$/m);
    expect(out).toContain('FAILED: 1 passed, 1 failed in 2.0s (profile p, tag t)');
    expect(out).toContain('kbuild: b failed; full log: /logs/b.FAILED.log');
  });

  it('tty: the failed test with its tail above the live block, and the table at the end', () => {
    let out = '';
    const live = ttyReporter({
      write: (t) => (out += t),
      columns: () => 80,
      now: () => 0,
      color: false,
    });
    testEvents.forEach(live.report);
    expect(out).toContain('✓ a passed\n');
    expect(out).toContain('✗ b failed: smoke test exited with 4: b broke\n    b broke\n');
    expect(out).toContain('FAILED: 1 passed, 1 failed');
    live.stop();
  });
});

describe('etaSeconds', () => {
  // a (10 s) -> b (20 s); c (30 s) on its own.
  const images = [
    { name: a, parents: [], seconds: 10 },
    { name: b, parents: [a], seconds: 20 },
    { name: imageName('c'), parents: [], seconds: 30 },
  ];
  const none = { done: new Set<typeof a>(), running: new Map<typeof a, number>() };

  it('is the longer of the longest chain and the work spread over the threads', () => {
    expect(etaSeconds(images, none, 2)).toBe(30); // chain a+b = 30, c = 30, work 60 / 2
    expect(etaSeconds(images, none, 1)).toBe(60); // all work, one at a time
    expect(etaSeconds(images, none, 8)).toBe(30); // never below the longest chain
  });

  it('counts what a running image has left, and nothing for finished ones', () => {
    const progress = { done: new Set([a]), running: new Map([[b, 5]]) };
    expect(etaSeconds(images, progress, 2)).toBe(30); // c alone is 30; b has 15 left
    const late = { done: new Set([a, imageName('c')]), running: new Map([[b, 25]]) };
    expect(etaSeconds(images, late, 2)).toBe(0); // overran: never negative
  });

  it('takes the mean for an image never built, and gives up when nothing is known', () => {
    const withNew = [...images, { name: imageName('d'), parents: [b], seconds: null }];
    expect(etaSeconds(withNew, none, 1)).toBe(80); // d counts as mean(10, 20, 30) = 20
    expect(etaSeconds(withNew, none, 4)).toBe(50); // chain a+b+d
    expect(etaSeconds([{ name: a, parents: [], seconds: null }], none, 2)).toBeUndefined();
    expect(etaSeconds([{ name: a, parents: [], seconds: 0 }], none, 2)).toBe(0); // fresh only
  });
});

describe('live view: ETA, quiet and verbose', () => {
  const start: RunEvent = {
    ...(events[0] as Extract<RunEvent, { type: 'run-start' }>),
    expected: [
      { name: a, action: 'build', reason: 'new', parents: [], seconds: 10 },
      { name: b, action: 'build', reason: 'parent-changed (a)', parents: [a], seconds: 20 },
    ],
  };
  const live = (verbosity: 'quiet' | 'normal' | 'verbose', clock: { now: number }) => {
    const out = { text: '' };
    const r = ttyReporter({
      write: (t) => (out.text += t),
      columns: () => 80,
      now: () => clock.now,
      color: false,
      verbosity,
    });
    return { out, r };
  };

  it("shows the ETA from the previous run's build times, and each image's elapsed / expected", () => {
    const clock = { now: 0 };
    const { out, r } = live('normal', clock);
    r.report(start);
    expect(out.text).toContain('kbuild: 0/2 done, 0 running, 2 queued, ETA 30s');
    r.report({ type: 'scheduler', event: { type: 'build-start', name: a, attempt: 1 } });
    clock.now = 4000;
    r.report({ type: 'log', name: a, line: 'a step 1' });
    r.report({ type: 'interrupt', signal: 'SIGINT' }); // any line above forces a redraw
    expect(out.text).toContain('kbuild: 0/2 done, 1 running, 1 queued, ETA 26s');
    expect(out.text).toContain('  a 4s/10s a step 1');
    r.stop();
  });

  it('quiet: no line for an image that succeeded, a failure with its tail, the summary', () => {
    const { out, r } = live('quiet', { now: 0 });
    events.forEach(r.report);
    expect(out.text).not.toContain('✓ a built');
    expect(out.text).not.toContain('kbuild: profile p');
    expect(out.text).toContain('✗ b failed: exit 1\n    b step 1\n    b failed\n');
    expect(out.text).toContain('FAILED: 1 built, 1 failed');
  });

  it('verbose: every log line above the live block, named', () => {
    const { out, r } = live('verbose', { now: 0 });
    events.forEach(r.report);
    expect(out.text).toContain('a | a step 1\nb | b step 1\na | a step 2\nb | b failed\n');
  });
});

describe('plain output: quiet, failure tails, GitHub Actions', () => {
  it('quiet: only failures (log, status) and the summary, then the tail of each failed log', () => {
    let out = '';
    const r = plainReporter({
      write: (t) => (out += t),
      showLogs: 'failures',
      githubGroups: false,
    });
    const failedSummary: RunSummary = {
      ...summary,
      images: [{ name: b, status: 'failed', message: 'exit 1', log: '/logs/b.FAILED.log' }],
    } as unknown as RunSummary;
    [...events.slice(0, -1), { type: 'run-end', summary: failedSummary } as RunEvent].forEach(r);
    expect(out).not.toContain('building');
    expect(out).not.toContain('a: built');
    expect(out).toContain('kbuild: [1/2] b: failed: exit 1\n');
    // Under the table, before the verdict: where the log is, the whole message, the tail.
    expect(out.slice(out.indexOf('IMAGE'))).toContain(
      'kbuild: b failed; full log: /logs/b.FAILED.log\n    exit 1\n  | b step 1\n  | b failed\n\nFAILED:',
    );
  });

  it('annotates failures for GitHub Actions', () => {
    let out = '';
    const r = plainReporter({ write: (t) => (out += t), showLogs: 'all', githubGroups: true });
    const failedSummary = {
      ...summary,
      images: [{ name: b, status: 'failed', message: '50% done\nthen broke', log: null }],
    } as unknown as RunSummary;
    [...events.slice(0, -1), { type: 'run-end', summary: failedSummary } as RunEvent].forEach(r);
    expect(out).toContain('::group::a (built)\na step 1\na step 2\n::endgroup::\n');
    expect(out).toContain('::error title=kbuild: b failed::50%25 done%0Athen broke\n');
  });
});

describe('--progress json', () => {
  it('prints one JSON object per line per event, with status, seconds and counts', () => {
    let out = '';
    let now = 1000;
    const r = jsonLinesReporter({ write: (t) => (out += t), now: () => now, logs: false });
    const timed = (name: typeof a, status: Outcome['status'], message?: string): RunEvent => ({
      type: 'scheduler',
      event: {
        type: 'done',
        outcome: {
          ...(done(name, status, message) as { event: { outcome: Outcome } }).event.outcome,
          buildStart: 1000,
          buildEnd: 3500,
        },
      },
    });
    const seq: RunEvent[] = [
      {
        ...(events[0] as Extract<RunEvent, { type: 'run-start' }>),
        expected: [
          { name: a, action: 'fresh', reason: 'up to date', parents: [], seconds: 0 },
          { name: b, action: 'build', reason: 'new', parents: [], seconds: 4 },
        ],
      },
      ...events.slice(1, 7),
      timed(b, 'failed', 'exit 1'),
      timed(a, 'built'),
      events[9]!,
    ];
    seq.forEach((e, i) => {
      now = 1000 + i * 500;
      r(e);
    });
    const lines = out.trimEnd().split('\n');
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.map((o) => o['event'])).toEqual([
      'run-start',
      'image-start',
      'image-start',
      'image-end',
      'image-end',
      'run-end',
    ]);
    expect(objs[0]).toMatchObject({
      elapsed: 0,
      runId: 'r',
      profile: 'p',
      images: ['a', 'b'],
      counts: { images: 2, unbuildable: 0 },
      threads: 2,
      engine: 'fake',
      etaSeconds: 4, // b's last build; a is fresh (nothing to build)
    });
    expect(objs[1]).toEqual({ event: 'image-start', elapsed: 0.5, name: 'a', attempt: 1 });
    expect(objs[3]).toEqual({
      event: 'image-end',
      elapsed: 3.5,
      name: 'b',
      status: 'failed',
      ok: false,
      reason: 'engine-exit',
      message: 'exit 1',
      seconds: 2.5,
    });
    // a had nothing to build: fresh, as the summary will say (the scheduler says built).
    expect(objs[4]).toMatchObject({ name: 'a', status: 'fresh', ok: true, message: null });
    expect(objs[5]).toMatchObject({
      event: 'run-end',
      ok: false,
      interrupted: false,
      seconds: 3.5,
      counts: { built: 1, failed: 1 },
    });
  });

  it('with --verbose, a log object per line', () => {
    let out = '';
    const r = jsonLinesReporter({ write: (t) => (out += t), now: () => 0, logs: true });
    events.forEach(r);
    expect(out).toContain('{"event":"log","elapsed":0,"name":"a","line":"a step 1"}\n');
  });
});
