/**
 * The DAG scheduler. An image starts the moment its own parents are built (not level by level);
 * when more images are ready than there are build slots, the one with the longest remaining path
 * below it goes first. Pushes follow builds on their own slots, so a child may build while its
 * parent pushes. A failure skips only the failed image's descendants (`parent-failed`).
 *
 * It knows nothing of engines: the work is injected as functions, the clock too.
 */
import type { ImageName, TemplateLocation } from '../core/model.js';

export type ImageStatus = 'built' | 'pushed' | 'parent-failed' | 'failed' | 'cancelled';

/** Why an image failed or was not run. */
export type OutcomeReason =
  | 'engine-exit'
  | 'timeout'
  | 'push-failed'
  | 'pull-failed'
  | 'base-missing'
  | 'source-failed'
  | 'test-failed'
  /** Pushed, but it could not be signed (with a signing key). */
  | 'sign-failed'
  | 'shard-wait'
  | 'cancelled'
  | 'fail-fast'
  | 'parent-failed'
  | 'engine-unavailable'
  | 'internal';

export interface StepError {
  readonly reason: OutcomeReason;
  readonly message: string;
  /** Worth another try (push: 5xx, 429, connection reset). */
  readonly transient?: boolean;
  /** A failed build: where the failing instruction was written in the templates. */
  readonly template?: TemplateLocation;
}

export type StepResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: StepError };

export interface Job {
  readonly name: ImageName;
  /** Parents inside this run; parents outside it are assumed to exist. */
  readonly parents: readonly ImageName[];
  /** Expected build seconds (from the previous run), for priorities; 1 when unknown. */
  readonly weight: number;
}

export interface Outcome {
  readonly name: ImageName;
  readonly status: ImageStatus;
  readonly reason?: OutcomeReason;
  readonly message?: string;
  readonly buildAttempts: number;
  readonly pushAttempts: number;
  /** When the image became ready, started building, finished building / pushing (clock ms). */
  readonly readyAt?: number;
  readonly buildStart?: number;
  readonly buildEnd?: number;
  readonly pushStart?: number;
  readonly pushEnd?: number;
  readonly imageId?: string;
  readonly digest?: string;
  /** A failed build: where the failing instruction was written in the templates. */
  readonly template?: TemplateLocation;
  /** Parent-failed: the failed image it descends from (the root cause, not a parent-failed parent). */
  readonly failedParent?: ImageName;
}

export type SchedulerEvent =
  | { readonly type: 'ready'; readonly name: ImageName }
  | { readonly type: 'build-start'; readonly name: ImageName; readonly attempt: number }
  | {
      readonly type: 'build-retry';
      readonly name: ImageName;
      readonly attempt: number;
      readonly error: StepError;
    }
  | {
      readonly type: 'build-end';
      readonly name: ImageName;
      readonly result: StepResult<{ imageId: string }>;
    }
  | { readonly type: 'push-start'; readonly name: ImageName; readonly attempt: number }
  | {
      readonly type: 'push-retry';
      readonly name: ImageName;
      readonly attempt: number;
      readonly error: StepError;
      readonly delayMs: number;
    }
  | {
      readonly type: 'push-end';
      readonly name: ImageName;
      readonly result: StepResult<{ digest: string }>;
    }
  | {
      readonly type: 'skipped';
      readonly name: ImageName;
      readonly status: ImageStatus;
      readonly reason: OutcomeReason;
      readonly message: string;
    }
  | { readonly type: 'done'; readonly outcome: Outcome };

export interface SchedulerOptions {
  readonly threads: number;
  readonly pushThreads: number;
  /** Extra build attempts after a failure (not after a timeout or cancel). */
  readonly retries: number;
  /** Extra push attempts after a transient failure. */
  readonly pushRetries: number;
  readonly failFast: boolean;
  /** Aborting stops new work and cancels running work (the functions get the signal). */
  readonly signal: AbortSignal;
  readonly build: (
    name: ImageName,
    attempt: number,
    signal: AbortSignal,
  ) => Promise<StepResult<{ imageId: string }>>;
  /** Absent: no pushes. */
  readonly push?: (
    name: ImageName,
    attempt: number,
    signal: AbortSignal,
  ) => Promise<StepResult<{ digest: string }>>;
  readonly emit: (e: SchedulerEvent) => void;
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Backoff before push attempt n (1-based retry count). Default: 1 s, 2 s, 4 s … capped at 30 s. */
  readonly backoffMs?: (retry: number) => number;
}

/**
 * Longest remaining path below each job (its own weight plus its heaviest chain of descendants):
 * the priority that keeps the critical path moving.
 */
export function remainingPath(jobs: readonly Job[]): Map<ImageName, number> {
  const children = new Map<ImageName, ImageName[]>(jobs.map((j) => [j.name, []]));
  for (const j of jobs) for (const p of j.parents) children.get(p)?.push(j.name);
  const weight = new Map(jobs.map((j) => [j.name, j.weight]));
  const memo = new Map<ImageName, number>();
  const visit = (n: ImageName): number => {
    const known = memo.get(n);
    if (known !== undefined) return known;
    const below = Math.max(0, ...(children.get(n) ?? []).map(visit));
    const v = (weight.get(n) ?? 1) + below;
    memo.set(n, v);
    return v;
  };
  for (const j of jobs) visit(j.name);
  return memo;
}

const defaultBackoff = (retry: number) => Math.min(30_000, 1000 * 2 ** (retry - 1));

/** Runs every job; resolves when nothing is running and nothing more can start. */
export async function schedule(
  jobs: readonly Job[],
  o: SchedulerOptions,
): Promise<Map<ImageName, Outcome>> {
  const inRun = new Set(jobs.map((j) => j.name));
  const waitingOn = new Map(
    jobs.map((j) => [j.name, new Set(j.parents.filter((p) => inRun.has(p)))]),
  );
  const children = new Map<ImageName, ImageName[]>(jobs.map((j) => [j.name, []]));
  for (const j of jobs) for (const p of waitingOn.get(j.name)!) children.get(p)!.push(j.name);
  const priority = remainingPath(jobs);
  const outcomes = new Map<ImageName, Outcome>();
  const partial = new Map<ImageName, Omit<Outcome, 'status' | 'name'>>();
  const ready: ImageName[] = [];
  const pushQueue: ImageName[] = [];
  let buildsRunning = 0;
  let pushesRunning = 0;
  let stopping = false;
  let wake: () => void = () => undefined;
  const inFlight = new Set<Promise<void>>();

  const update = (n: ImageName, patch: Partial<Omit<Outcome, 'status' | 'name'>>) =>
    partial.set(n, { buildAttempts: 0, pushAttempts: 0, ...partial.get(n), ...patch });
  const finish = (n: ImageName, status: ImageStatus, error?: StepError) => {
    const outcome: Outcome = {
      name: n,
      status,
      buildAttempts: 0,
      pushAttempts: 0,
      ...partial.get(n),
      ...(error ? { reason: error.reason, message: error.message } : {}),
      ...(error?.template ? { template: error.template } : {}),
    };
    outcomes.set(n, outcome);
    o.emit({ type: 'done', outcome });
  };
  const skip = (
    n: ImageName,
    status: ImageStatus,
    reason: OutcomeReason,
    message: string,
    failedParent?: ImageName,
  ) => {
    if (outcomes.has(n)) return;
    o.emit({ type: 'skipped', name: n, status, reason, message });
    if (failedParent) update(n, { failedParent });
    finish(n, status, { reason, message });
  };
  const markReady = (n: ImageName) => {
    update(n, { readyAt: o.now() });
    ready.push(n);
    o.emit({ type: 'ready', name: n });
  };
  const failDescendants = (n: ImageName, root: ImageName = n) => {
    for (const c of children.get(n) ?? []) {
      if (outcomes.has(c)) continue;
      skip(c, 'parent-failed', 'parent-failed', `parent '${n}' failed`, root);
      failDescendants(c, root);
    }
  };
  const stop = (reason: 'cancelled' | 'fail-fast') => {
    if (stopping) return;
    stopping = true;
    // Nothing new starts; what is queued or waiting is reported as not run.
    for (const j of jobs) {
      if (!outcomes.has(j.name) && !partial.get(j.name)?.buildStart) {
        skip(
          j.name,
          'cancelled',
          reason,
          reason === 'cancelled'
            ? 'the run was interrupted'
            : 'not started: --fail-fast after a failure',
        );
      }
    }
    ready.length = 0;
    for (const n of pushQueue.splice(0))
      finish(n, 'cancelled', { reason, message: 'built, but not pushed: the run stopped' });
  };
  const track = (n: ImageName, work: Promise<void>) => {
    // A throw here is a bug outside the engine call (guard covers that): fail the image, go on.
    const p = work.catch((e: unknown) => {
      if (!outcomes.has(n))
        finish(n, 'failed', {
          reason: 'internal',
          message: `internal error (a bug): ${String(e)}`,
        });
      failDescendants(n);
    });
    inFlight.add(p);
    void p.finally(() => {
      inFlight.delete(p);
      wake();
    });
  };

  const runBuild = async (n: ImageName) => {
    const start = o.now();
    update(n, { buildStart: start });
    let result: StepResult<{ imageId: string }> | undefined;
    for (let attempt = 1; ; attempt++) {
      update(n, { buildAttempts: attempt });
      o.emit({ type: 'build-start', name: n, attempt });
      result = await guard(() => o.build(n, attempt, o.signal));
      const retryable =
        !result.ok &&
        !['timeout', 'cancelled', 'base-missing', 'source-failed', 'test-failed'].includes(
          result.error.reason,
        ) &&
        !o.signal.aborted;
      if (result.ok || !retryable || attempt > o.retries) break;
      o.emit({ type: 'build-retry', name: n, attempt, error: result.error });
    }
    buildsRunning--;
    update(n, { buildEnd: o.now(), ...(result.ok ? { imageId: result.value.imageId } : {}) });
    o.emit({ type: 'build-end', name: n, result });
    if (!result.ok) {
      finish(
        n,
        o.signal.aborted ? 'cancelled' : 'failed',
        o.signal.aborted
          ? { reason: 'cancelled', message: 'interrupted while building' }
          : result.error,
      );
      failDescendants(n);
      if (o.failFast && !o.signal.aborted) stop('fail-fast');
      return;
    }
    if (o.push && !stopping) pushQueue.push(n);
    else if (o.push)
      finish(n, 'cancelled', {
        reason: 'cancelled',
        message: 'built, but not pushed: the run stopped',
      });
    else finish(n, 'built');
    for (const c of children.get(n) ?? []) {
      const w = waitingOn.get(c)!;
      w.delete(n);
      if (w.size === 0 && !outcomes.has(c) && !stopping) markReady(c);
    }
  };

  const runPush = async (n: ImageName) => {
    update(n, { pushStart: o.now() });
    let result: StepResult<{ digest: string }> | undefined;
    for (let attempt = 1; ; attempt++) {
      update(n, { pushAttempts: attempt });
      o.emit({ type: 'push-start', name: n, attempt });
      result = await guard(() => o.push!(n, attempt, o.signal));
      if (result.ok || !result.error.transient || attempt > o.pushRetries || o.signal.aborted)
        break;
      const delayMs = (o.backoffMs ?? defaultBackoff)(attempt);
      o.emit({ type: 'push-retry', name: n, attempt, error: result.error, delayMs });
      await o.sleep(delayMs, o.signal);
      if (o.signal.aborted) break;
    }
    pushesRunning--;
    update(n, { pushEnd: o.now(), ...(result.ok ? { digest: result.value.digest } : {}) });
    o.emit({ type: 'push-end', name: n, result });
    if (result.ok) finish(n, 'pushed');
    else if (o.signal.aborted)
      finish(n, 'cancelled', {
        reason: 'cancelled',
        message: 'built, but interrupted while pushing',
      });
    else finish(n, 'failed', result.error);
  };

  const onAbort = () => {
    stop('cancelled');
    wake();
  };
  o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (o.signal.aborted) stop('cancelled');
    for (const j of jobs) if (waitingOn.get(j.name)!.size === 0 && !stopping) markReady(j.name);
    for (;;) {
      // Longest remaining path first; ties by name so runs are reproducible.
      ready.sort((a, b) => priority.get(b)! - priority.get(a)! || a.localeCompare(b));
      while (!stopping && buildsRunning < o.threads && ready.length) {
        const n = ready.shift()!;
        buildsRunning++;
        track(n, runBuild(n));
      }
      while (!o.signal.aborted && pushesRunning < o.pushThreads && pushQueue.length) {
        const n = pushQueue.shift()!;
        pushesRunning++;
        track(n, runPush(n));
      }
      if (inFlight.size === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
  // Anything never reached (a parent outside this run failed to appear, or stopped) is reported.
  for (const j of jobs)
    if (!outcomes.has(j.name)) skip(j.name, 'cancelled', 'cancelled', 'never became ready');
  return outcomes;
}

/** A bug inside one image's work becomes that image's `internal` failure; the run goes on. */
async function guard<T>(fn: () => Promise<StepResult<T>>): Promise<StepResult<T>> {
  try {
    return await fn();
  } catch (e) {
    return {
      ok: false,
      error: {
        reason: 'internal',
        message: `internal error (a bug): ${(e as Error).stack ?? String(e)}`,
      },
    };
  }
}
