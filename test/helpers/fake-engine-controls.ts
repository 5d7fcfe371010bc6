/**
 * What the fake engine's controls pick and how its operations end: the matchers that `hold`,
 * `release`, `started`, `failBuild`, `failPush` and `scriptRun` take, the key of a reference in
 * the fake's image store, and the stopper that ends a build, push or run on abort or timeout
 * (with the global timers, so vitest's fake timers drive it too).
 */
import { canonicalName, parseReference } from '../../src/core/dockerfile/reference.js';
import type { BuildRequest, OpOptions } from '../../src/run/ports.js';

/** Picks builds: a tag (exact, or its repository, or the repository's last component), a pattern, or a predicate. */
export type BuildMatcher = string | RegExp | ((req: BuildRequest) => boolean);
/** Picks pushes by reference. */
export type RefMatcher = string | RegExp | ((ref: string) => boolean);

/** The store's key for a reference: its canonical name (`busybox` -> `docker.io/library/busybox:latest`). */
export function storeKey(ref: string): string {
  const r = parseReference(ref);
  return r.ok ? canonicalName(r.value) : ref;
}

/** A tag matches its exact text, its canonical name, its repository or the repository's last component. */
function matchesTag(tag: string, m: string): boolean {
  if (tag === m || storeKey(tag) === storeKey(m)) return true;
  const r = parseReference(tag);
  if (!r.ok) return false;
  return r.value.path === m || r.value.path.split('/').at(-1) === m;
}

/** Whether a build matcher picks a build request (by any of its tags). */
export function buildMatches(m: BuildMatcher, req: BuildRequest): boolean {
  if (typeof m === 'function') return m(req);
  if (typeof m === 'string') return req.tags.some((t) => matchesTag(t, m));
  return req.tags.some((t) => m.test(t));
}

/** Whether a reference matcher picks a reference. */
export function refMatches(m: RefMatcher, ref: string): boolean {
  if (typeof m === 'function') return m(ref);
  if (typeof m === 'string') return ref === m || matchesTag(ref, m);
  return m.test(ref);
}

/** Why an operation ended before its work did. */
export type Stop =
  { readonly reason: 'timeout'; readonly seconds: number } | { readonly reason: 'cancelled' };

/** Aborts with the op's signal or its timeout, whichever comes first. */
export function stopper(op: Pick<OpOptions, 'signal' | 'timeoutSeconds'>) {
  let stop: Stop | undefined;
  const listeners: ((s: Stop) => void)[] = [];
  const fire = (s: Stop) => {
    if (stop) return;
    stop = s;
    for (const l of listeners.splice(0)) l(s);
  };
  const onAbort = () => fire({ reason: 'cancelled' });
  if (op.signal.aborted) onAbort();
  else op.signal.addEventListener('abort', onAbort, { once: true });
  const timer =
    op.timeoutSeconds && op.timeoutSeconds > 0
      ? setTimeout(
          () => fire({ reason: 'timeout', seconds: op.timeoutSeconds! }),
          op.timeoutSeconds * 1000,
        )
      : undefined;
  const stopped = new Promise<Stop>((resolve) => (stop ? resolve(stop) : listeners.push(resolve)));
  return {
    get stop() {
      return stop;
    },
    /** Waits for `work` unless stopped first; after a stop, resolves with the stop. */
    race<T>(work: Promise<T>): Promise<{ value: T } | { stop: Stop }> {
      return Promise.race([work.then((value) => ({ value })), stopped.then((s) => ({ stop: s }))]);
    },
    /** A timer that ends early when stopped (so no timer outlives the operation). */
    sleep(ms: number): Promise<void> {
      return new Promise<void>((resolve) => {
        if (stop) return resolve();
        const t = setTimeout(resolve, ms);
        listeners.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    dispose() {
      if (timer) clearTimeout(timer);
      op.signal.removeEventListener('abort', onAbort);
    },
  };
}
