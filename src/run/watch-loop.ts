/**
 * `kbuild watch`'s timing, without the file system or the build: changes are collected until the
 * files have been quiet for the debounce time, then one build runs with every path that changed;
 * changes while a build runs are collected and make exactly one more build after it ends. The
 * clock is injected, so the rules are tested with a fake one.
 */

/** Timers as the loop needs them (the real ones, or a test's fake clock). */
export interface WatchClock {
  /** Milliseconds, monotonic. */
  readonly now: () => number;
  readonly setTimer: (fn: () => void, ms: number) => unknown;
  readonly clearTimer: (timer: unknown) => void;
}

export interface WatchLoopOptions {
  /** How long the files must be quiet before a build starts. */
  readonly debounceMs: number;
  readonly clock: WatchClock;
  /**
   * Runs one build for the paths that changed (none: the first build, at start). Never called
   * while one is running. Must not reject: a failed build is reported by it, and watching goes on.
   */
  readonly build: (changed: readonly string[]) => Promise<void>;
}

export interface WatchLoop {
  /** The first build, at once. */
  readonly start: () => void;
  /** A path changed (any number of times, in any order). */
  readonly changed: (path: string) => void;
  /** Whether a build is running now. */
  readonly building: () => boolean;
  /** No more builds; resolves when the running one (if any) has ended. */
  readonly stop: () => Promise<void>;
}

export function watchLoop(o: WatchLoopOptions): WatchLoop {
  const pending = new Set<string>();
  let lastChange = 0;
  let timer: unknown;
  let running: Promise<void> | undefined;
  let stopped = false;

  const arm = (ms: number) => {
    if (timer !== undefined) o.clock.clearTimer(timer);
    timer = o.clock.setTimer(fire, Math.max(0, ms));
  };

  function fire(): void {
    timer = undefined;
    if (stopped || running || pending.size === 0) return;
    // A change came in after the timer was set (a timer can be late): wait the rest of the quiet.
    const quietLeft = lastChange + o.debounceMs - o.clock.now();
    if (quietLeft > 0) return arm(quietLeft);
    const batch = [...pending].sort();
    pending.clear();
    run(batch);
  }

  function run(batch: readonly string[]): void {
    running = o.build(batch).finally(() => {
      running = undefined;
      // What changed during the build: one more build, once the files are quiet.
      if (!stopped && pending.size) arm(lastChange + o.debounceMs - o.clock.now());
    });
  }

  return {
    start: () => {
      if (!stopped && !running) run([]);
    },
    changed: (path) => {
      if (stopped) return;
      pending.add(path);
      lastChange = o.clock.now();
      if (!running) arm(o.debounceMs);
    },
    building: () => running !== undefined,
    stop: async () => {
      stopped = true;
      if (timer !== undefined) o.clock.clearTimer(timer);
      timer = undefined;
      await running;
    },
  };
}
