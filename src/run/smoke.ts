/**
 * Smoke tests: each image's `image.yaml` test, run inside the image with no network, a few at a
 * time, each with its timeout and its own log. `kbuild test` runs them over built images;
 * `kbuild build --test` runs one right after its image is built (see `runTest`).
 */
import { mapLimited } from './limited.js';
import type { Family } from '../core/family.js';
import type { ImageMeta, ImageName } from '../core/model.js';
import type { Reporter } from './events.js';
import { imageLogs } from './image-logs.js';
import type { Engine, EngineInfo, LogStore } from './ports.js';
import type { SmokeResult, SmokeStatus, SmokeSummary, TestRun } from './smoke-result.js';

// The results live in smoke-result.ts (events.ts and summary.ts name them without importing this).
export type { SmokeResult, SmokeStatus, SmokeSummary, TestRun } from './smoke-result.js';

export type ImageTest = NonNullable<ImageMeta['test']>;

/** Runs an image's smoke test in a new container of `image` (no network); its output goes to `log`. */
export async function runTest(
  engine: Engine,
  image: string,
  test: ImageTest,
  op: { signal: AbortSignal; log: (line: string) => void },
): Promise<TestRun> {
  op.log(`kbuild: smoke test of ${image} (${test.timeoutSeconds} s at most, no network)`);
  let last = '';
  const log = (line: string) => {
    if (line.trim()) last = line.trim();
    op.log(line);
  };
  const r = await engine.run(
    { image, command: test.command, network: 'none' },
    { signal: op.signal, log, timeoutSeconds: test.timeoutSeconds },
  );
  if (r.ok && r.value.exitCode === 0) {
    op.log('kbuild: smoke test passed');
    return { status: 'passed', exitCode: 0, message: null };
  }
  if (r.ok) {
    const message = `smoke test exited with ${r.value.exitCode}${last ? `: ${last}` : ''}`;
    op.log(`kbuild: ${message}`);
    return { status: 'failed', exitCode: r.value.exitCode, message };
  }
  switch (r.error.reason) {
    case 'timeout': {
      const message = `smoke test timed out after ${r.error.seconds} s`;
      op.log(`kbuild: ${message}`);
      return { status: 'timeout', exitCode: null, message };
    }
    case 'cancelled':
      return { status: 'cancelled', exitCode: null, message: 'cancelled' };
    case 'engine-exit':
    case 'engine-unavailable':
    case 'pull-failed':
    case 'push-failed': {
      const message = `smoke test could not run: ${r.error.message}`;
      op.log(`kbuild: ${message}`);
      return { status: 'failed', exitCode: null, message };
    }
  }
}

export interface SmokePorts {
  readonly engine: Engine;
  readonly engineInfo: EngineInfo;
  readonly logs: LogStore;
  /** Monotonic milliseconds. */
  readonly now: () => number;
}

/**
 * Tests the local images of `names` (under their shared reference; pulled from the family's
 * registry when absent here), `threads` at a time. Aborting cancels the running tests, and
 * starts no more.
 */
export async function runSmokeTests(
  family: Family,
  names: readonly ImageName[],
  o: { readonly threads: number },
  ports: SmokePorts,
  id: { readonly runId: string; readonly startedAt: string },
  signal: AbortSignal,
  report: Reporter,
): Promise<SmokeSummary> {
  const t0 = ports.now();
  report({
    type: 'test-run-start',
    runId: id.runId,
    profile: family.profile.name,
    images: names,
    threads: o.threads,
    engine: ports.engineInfo,
    logsDir: ports.logs.dir,
  });
  const local = await ports.engine.inspect(names.map((n) => family.naming.ref(n)));
  const logs = imageLogs(ports.logs, report);
  const kind = ports.engineInfo.kind;
  const registry = family.naming.registry;
  const buildFirst = (name: ImageName) =>
    `run 'kbuild build --profile ${family.profile.name} ${name}' first`;

  const result = (
    name: ImageName,
    status: SmokeStatus,
    more: Partial<SmokeResult> = {},
  ): SmokeResult => ({
    name,
    status,
    image: family.naming.ref(name),
    exitCode: null,
    message: null,
    seconds: null,
    tail: [],
    log: null,
    ...more,
  });

  const testOne = async (name: ImageName): Promise<SmokeResult> => {
    const ref = family.naming.ref(name);
    const test = family.images.get(name)?.spec.meta.test;
    if (!test) return result(name, 'no-test', { message: `${name} has no test in its image.yaml` });
    const unbuildable = family.unbuildable.get(name);
    if (unbuildable)
      return result(name, 'not-built', {
        message: `cannot be built with profile ${family.profile.name}: ${unbuildable}`,
      });
    if (!local.has(ref) && !registry)
      return result(name, 'not-built', {
        message: `${ref} is not in the ${kind} engine: ${buildFirst(name)}`,
      });
    if (signal.aborted) return result(name, 'cancelled', { message: 'the run was interrupted' });

    report({ type: 'test-start', name });
    const start = ports.now();
    const log = logs.line(name);
    const finish = async (r: SmokeResult) => ({
      ...r,
      log: (await logs.close(name, r.status !== 'passed')) ?? null,
    });
    let image = ref;
    if (!local.has(ref)) {
      // Not here: the registry may have it (built on another host).
      image = `${registry}/${ref}`;
      log(`kbuild: ${ref} is not in the ${kind} engine; pulling ${image}`);
      const pulled = await ports.engine.pull(image, { signal, log });
      if (!pulled.ok) {
        const why = 'message' in pulled.error ? pulled.error.message : pulled.error.reason;
        const message = `${ref} is neither in the ${kind} engine nor in ${registry} (${why}): ${buildFirst(name)}`;
        log(`kbuild: ${message}`);
        return finish(result(name, signal.aborted ? 'cancelled' : 'not-built', { image, message }));
      }
    }
    const run = await runTest(ports.engine, image, test, { signal, log });
    return finish(
      result(name, run.status, {
        image,
        exitCode: run.exitCode,
        message: run.message,
        seconds: Math.round(ports.now() - start) / 1000,
        tail: run.status === 'passed' ? [] : [...logs.tail(name)],
      }),
    );
  };

  const results = new Map<ImageName, SmokeResult>();
  await mapLimited(names, o.threads, async (name) => {
    // A throw is a bug outside the engine call: it fails that image's test, the run goes on.
    const r = await testOne(name).catch((e: unknown) =>
      result(name, 'failed', {
        message: `internal error (a bug): ${(e as Error).stack ?? String(e)}`,
      }),
    );
    results.set(name, r);
    report({ type: 'test-end', result: r });
  });

  const images = names.map((n) => results.get(n)!);
  const counts: Record<SmokeStatus, number> = {
    passed: 0,
    failed: 0,
    timeout: 0,
    'not-built': 0,
    cancelled: 0,
    'no-test': 0,
  };
  for (const i of images) counts[i.status]++;
  const summary: SmokeSummary = {
    runId: id.runId,
    profile: family.profile.name,
    tag: family.naming.tag,
    threads: o.threads,
    start: id.startedAt,
    seconds: Math.round(ports.now() - t0) / 1000,
    engine: ports.engineInfo,
    interrupted: signal.aborted,
    ok: !signal.aborted && images.every((i) => i.status === 'passed' || i.status === 'no-test'),
    counts,
    images,
  };
  report({ type: 'test-run-end', summary });
  return summary;
}
