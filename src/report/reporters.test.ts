import { describe, expect, it } from 'vitest';
import { imageName } from '../core/model.js';
import type { RunEvent } from '../run/events.js';
import type { EngineInfo } from '../run/ports.js';
import type { Outcome } from '../run/scheduler.js';
import type { SmokeResult, SmokeSummary } from '../run/smoke.js';
import type { RunSummary } from '../run/summary.js';
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
    expect(out).toContain('kbuild: [1/2] a: passed in 1.5s\n');
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
