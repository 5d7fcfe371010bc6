/** The smoke-test runner over the fake engine, on the bb fixture (tests in bb-base, bb-lib, bb-app1, bb-app2). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadProfileFamily, loadWorkspace, type ProfileOptions } from '../src/cli/load.js';
import type { Family } from '../src/core/family.js';
import { imageName } from '../src/core/model.js';
import type { RunEvent } from '../src/run/events.js';
import type { LogStore } from '../src/run/ports.js';
import { runSmokeTests, type SmokeResult } from '../src/run/smoke.js';
import { createFakeEngine, type FakeEngine } from './helpers/fake-engine.js';
import { fixture } from './helpers/run-cli.js';

const bb = fixture('bb');
const names = ['bb-base', 'bb-lib', 'bb-tools', 'bb-app1', 'bb-app2'].map(imageName);
const ref = (n: string) => `kbuild-test/${n}:bb`;

async function family(more: Partial<ProfileOptions> = {}): Promise<Family> {
  const io = { out: () => undefined, err: () => undefined, cwd: bb, env: {} };
  const opts = { var: [], buildArg: [], templateOverride: [], project: bb, ...more };
  const ws = await loadWorkspace(io, opts);
  if (!ws.ok) throw new Error(JSON.stringify(ws.failures));
  const f = loadProfileFamily(io, ws.value, opts, 'bb');
  if (!f.ok) throw new Error(JSON.stringify(f.failures));
  return f.value;
}

/** A fake engine holding every bb image, with the file each one's test reads. */
function engineWithImages(except: string[] = []): FakeEngine {
  const images = Object.fromEntries(
    names
      .filter((n) => !except.includes(n))
      .map((n) => [ref(n), { files: { [`/etc/kbuild-${n}.txt`]: `${n} built for bb\n` } }]),
  );
  return createFakeEngine({ images });
}

/** Log files in memory: name -> lines, and which were closed as failed. */
function memoryLogs() {
  const files = new Map<string, string[]>();
  const failed = new Set<string>();
  const store: LogStore = {
    dir: '/logs',
    open: (image) => {
      const lines: string[] = [];
      files.set(image, lines);
      return {
        write: (l) => void lines.push(l),
        close: (f) => {
          if (f) failed.add(image);
          return Promise.resolve(`/logs/${image}${f ? '.FAILED' : ''}.log`);
        },
      };
    },
  };
  return { store, files, failed };
}

async function run(
  engine: FakeEngine,
  f: Family,
  o: { threads?: number; signal?: AbortSignal; onEvent?: (e: RunEvent) => void } = {},
) {
  const logs = memoryLogs();
  const events: RunEvent[] = [];
  const info = await engine.info();
  if (!info.ok) throw new Error('the fake engine did not answer info()');
  let clock = 0;
  const summary = await runSmokeTests(
    f,
    names,
    { threads: o.threads ?? 2 },
    {
      engine,
      engineInfo: info.value,
      logs: logs.store,
      now: () => (clock += 100),
    },
    { runId: 'r', startedAt: '2026-01-01T00:00:00.000Z' },
    o.signal ?? new AbortController().signal,
    (e) => {
      events.push(e);
      o.onEvent?.(e);
    },
  );
  const by = Object.fromEntries(summary.images.map((i) => [i.name, i])) as Record<
    string,
    SmokeResult
  >;
  return { summary, by, events, logs };
}

afterEach(() => vi.useRealTimers());

describe('runSmokeTests', () => {
  it('runs every test in its image with no network, at most `threads` at a time, each in its own log', async () => {
    const engine = engineWithImages();
    const { summary, by, events, logs } = await run(engine, await family(), { threads: 2 });
    expect(summary.images.map((i) => [i.name, i.status])).toEqual([
      ['bb-base', 'passed'],
      ['bb-lib', 'passed'],
      ['bb-tools', 'no-test'],
      ['bb-app1', 'passed'],
      ['bb-app2', 'passed'],
    ]);
    expect(summary.ok).toBe(true);
    expect(summary.counts).toMatchObject({ passed: 4, 'no-test': 1, failed: 0 });
    expect(engine.maxConcurrentRuns).toBe(2);
    expect(engine.calls.filter((c) => c.startsWith('run '))).toEqual(
      ['bb-base', 'bb-lib', 'bb-app1', 'bb-app2'].map((n) => `run ${ref(n)}`),
    );
    // The test's own output is in its image's log, and nobody else's.
    expect(logs.files.get('bb-app1')).toContain('bb-app1 built for bb');
    expect(logs.files.get('bb-app1')!.join('\n')).not.toContain('bb-app2');
    expect(logs.files.has('bb-tools')).toBe(false);
    expect(by['bb-app1']).toMatchObject({ image: ref('bb-app1'), log: '/logs/bb-app1.log' });
    expect(by['bb-app1']!.seconds).toBeGreaterThan(0);
    expect(events[0]!.type).toBe('test-run-start');
    expect(events.at(-1)).toEqual({ type: 'test-run-end', summary });
    expect(events.filter((e) => e.type === 'test-end')).toHaveLength(5);
    expect(events.filter((e) => e.type === 'test-start')).toHaveLength(4);
  });

  it('a failing test: its exit code, its last line in the message, its tail; the run is not ok', async () => {
    const engine = engineWithImages();
    engine.scriptRun(ref('bb-app1'), { exitCode: 3, output: ['checking', 'boom: it broke'] });
    const { summary, by, logs } = await run(engine, await family());
    expect(by['bb-app1']).toMatchObject({
      status: 'failed',
      exitCode: 3,
      message: 'smoke test exited with 3: boom: it broke',
      log: '/logs/bb-app1.FAILED.log',
    });
    expect(by['bb-app1']!.tail).toEqual(expect.arrayContaining(['checking', 'boom: it broke']));
    expect(logs.failed).toEqual(new Set(['bb-app1']));
    expect(by['bb-app2']!.status).toBe('passed');
    expect(summary.ok).toBe(false);
  });

  it('a test over its time limit (image.yaml timeout) is stopped and reported as timeout', async () => {
    const f = await family();
    vi.useFakeTimers();
    const engine = engineWithImages();
    engine.scriptRun(ref('bb-app2'), { output: ['waiting'], ms: 3_600_000 });
    let started: () => void = () => undefined;
    const testStarted = new Promise<void>((resolve) => (started = resolve));
    const done = run(engine, f, {
      onEvent: (e) => {
        if (e.type === 'log' && e.line === 'waiting') started();
      },
    });
    await testStarted;
    await vi.advanceTimersByTimeAsync(30_000); // bb-app2's image.yaml: timeout 30
    const { summary, by } = await done;
    expect(by['bb-app2']).toMatchObject({
      status: 'timeout',
      message: 'smoke test timed out after 30 s',
    });
    expect(by['bb-app2']!.tail).toContain('waiting');
    expect(engine.containers()).toEqual([]);
    expect(summary.ok).toBe(false);
    expect(summary.counts.timeout).toBe(1);
  });

  it('an image not in the engine is not-built, saying to build it first; with a registry it is pulled', async () => {
    const engine = engineWithImages(['bb-lib']);
    const local = await run(engine, await family());
    expect(local.by['bb-lib']).toMatchObject({
      status: 'not-built',
      message:
        "kbuild-test/bb-lib:bb is not in the fake engine: run 'kbuild build --profile bb bb-lib' first",
      log: null,
    });
    expect(local.summary.ok).toBe(false);
    expect(engine.calls).not.toContain(`run ${ref('bb-lib')}`);

    // With a registry: pulled from there when it has the image, not-built when it has not.
    const registry = '127.0.0.1:5000';
    const withRegistry = await family({ registry });
    const remote = `${registry}/${ref('bb-app1')}`;
    expect((await engine.tag(ref('bb-app1'), remote)).ok).toBe(true);
    const op = { signal: new AbortController().signal, log: () => undefined };
    expect((await engine.push(remote, op)).ok).toBe(true);
    engine.remove([ref('bb-app1'), remote]);
    const pulled = await run(engine, withRegistry);
    expect(pulled.by['bb-app1']).toMatchObject({ status: 'passed', image: remote });
    expect(engine.calls).toContain(`pull ${remote}`);
    expect(pulled.by['bb-lib']!.status).toBe('not-built');
    expect(pulled.by['bb-lib']!.message).toMatch(
      /^kbuild-test\/bb-lib:bb is neither in the fake engine nor in 127\.0\.0\.1:5000 \(.*\): run 'kbuild build --profile bb bb-lib' first$/,
    );
  });

  it('aborting cancels the running tests and starts no more', async () => {
    const engine = engineWithImages();
    engine.scriptRun(/bb-(base|lib)/, { ms: 3_600_000 });
    const controller = new AbortController();
    let started = 0;
    const { summary, by } = await run(engine, await family(), {
      threads: 2,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'test-start' && ++started === 2) setTimeout(() => controller.abort(), 10);
      },
    });
    expect(by['bb-base']!.status).toBe('cancelled');
    expect(by['bb-lib']!.status).toBe('cancelled');
    expect(by['bb-app1']).toMatchObject({
      status: 'cancelled',
      message: 'the run was interrupted',
    });
    expect(engine.calls.filter((c) => c.startsWith('run '))).toHaveLength(2);
    expect(engine.containers()).toEqual([]);
    expect(summary).toMatchObject({ interrupted: true, ok: false });
  });
});
