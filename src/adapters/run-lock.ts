/**
 * One run at a time per project and profile: a lock file (`.kbuild/locks/<profile>.lock`) naming
 * its holder (pid, host, start time). Created atomically (the complete file is hard-linked into
 * place, which fails if one exists, as O_EXCL does, and a reader never sees it half-written);
 * released on any exit; a lock whose holder is not alive on this host is taken over.
 */
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** Who holds a lock. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** ISO time the holder took it. */
  readonly started: string;
}

export interface HeldLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Removes the lock file (only if it is still this holder's); safe to call twice. */
  readonly release: () => Promise<void>;
}

export type LockOutcome =
  | { readonly ok: true; readonly lock: HeldLock }
  | { readonly ok: false; readonly holder: LockHolder };

export interface LockOptions {
  /** How long to wait for another holder; 0: fail at once. */
  readonly timeoutSeconds: number;
  /** Said once, when the lock is held by a live run and this one starts waiting. */
  readonly onWait?: (holder: LockHolder) => void;
  /** Said when a dead holder's lock is taken over. */
  readonly onStale?: (holder: LockHolder) => void;
  readonly pollMs?: number;
  /** For tests: this process's identity and the liveness check. */
  readonly self?: { readonly pid: number; readonly host: string };
  readonly isAlive?: (pid: number) => boolean;
}

/** The lock file of a project's profile. */
export const runLockFile = (root: string, profile: string) =>
  join(root, '.kbuild', 'locks', `${profile.replace(/[^A-Za-z0-9._@-]/g, '_')}.lock`);

/** Whether a pid names a live process on this host (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** "PID 12 (started 2026-…, on HOST)": how messages name a holder. */
export const describeHolder = (h: LockHolder) =>
  `PID ${h.pid} (started ${h.started}, on ${h.host})`;

/**
 * Takes the lock in `file`: at once when it is free or its holder is dead on this host (taken over,
 * `onStale` says so); otherwise waits, polling, up to `timeoutSeconds`, and answers the holder
 * when it is still held then.
 */
export async function takeRunLock(file: string, opts: LockOptions): Promise<LockOutcome> {
  const self = opts.self ?? { pid: process.pid, host: hostname() };
  const alive = opts.isAlive ?? pidAlive;
  const pollMs = opts.pollMs ?? 1000;
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  let waiting = false;
  await mkdir(dirname(file), { recursive: true });
  for (;;) {
    const holder: LockHolder = { ...self, started: new Date().toISOString() };
    if (await create(file, holder)) return { ok: true, lock: held(file, holder) };
    const current = await readHolder(file);
    if (current === 'gone') continue;
    if (current.host === self.host && (current.pid <= 0 || !alive(current.pid))) {
      opts.onStale?.(current);
      // Only if it still names the dead holder (another waiter may have taken it over already).
      const again = await readHolder(file);
      if (again !== 'gone' && sameHolder(again, current)) await unlink(file).catch(() => {});
      continue;
    }
    if (Date.now() >= deadline) return { ok: false, holder: current };
    if (!waiting) opts.onWait?.(current);
    waiting = true;
    await delay(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
}

const sameHolder = (a: LockHolder, b: LockHolder) =>
  a.pid === b.pid && a.host === b.host && a.started === b.started;

/** Creates the lock file with its whole content, or false when one exists. */
async function create(file: string, holder: LockHolder): Promise<boolean> {
  const tmp = `${file}.${holder.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(holder)}\n`, { flag: 'wx' });
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** The holder a lock file names; 'gone' when it was released meanwhile. */
async function readHolder(file: string): Promise<LockHolder | 'gone'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
  return parseHolder(text);
}

/** A lock file that does not parse (written by hand, truncated) names no live process: pid 0. */
function parseHolder(text: string): LockHolder {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && v.pid > 0)
      return { pid: v.pid, host: String(v.host ?? hostname()), started: String(v.started ?? '?') };
  } catch {
    // fall through
  }
  return { pid: 0, host: hostname(), started: '?' };
}

/** A taken lock, released by `release()` or, failing that, when the process exits. */
function held(file: string, holder: LockHolder): HeldLock {
  let released = false;
  const mine = (text: string) => {
    const h = parseHolder(text);
    return sameHolder(h, holder);
  };
  // process.exit (a second Ctrl-C) skips `finally` blocks; the exit event still runs, synchronously.
  const onExit = () => {
    if (released) return;
    released = true;
    try {
      if (mine(readFileSync(file, 'utf8'))) unlinkSync(file);
    } catch {
      // already gone
    }
  };
  // A signal before the run's own handlers are in place (while loading and observing) would end the
  // process without an exit event: release, then let the signal do what it would have done.
  const onSignal = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return; // the run handles it (interruptible), then releases
    onExit();
    detach();
    process.kill(process.pid, sig);
  };
  const detach = () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    file,
    holder,
    release: async () => {
      if (released) return;
      released = true;
      detach();
      const text = await readFile(file, 'utf8').catch(() => '');
      if (mine(text)) await unlink(file).catch(() => {});
    },
  };
}
