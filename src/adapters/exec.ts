/**
 * Runs one engine command (docker, podman, ...) and reports how it ended as a value.
 *
 * The command runs in its own process group, so that a timeout or an abort kills the whole
 * group (the client and anything it started: credential helpers, buildx, a shell's children),
 * first with SIGTERM and then, after a grace period, with SIGKILL. Descendants that left the
 * group (a new session, as podman's RUN containers) are found through /proc and killed too.
 * The result is returned only once none of them is left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { EngineFailure } from '../run/ports.js';

export interface ExecRequest {
  readonly file: string;
  readonly args: readonly string[];
  /** Added to this process's environment (e.g. DOCKER_BUILDKIT=1). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Aborting kills the whole process group; the result is then `cancelled`. */
  readonly signal?: AbortSignal;
  /** Kill the group and answer `timeout` after this many seconds (0 or undefined: none). */
  readonly timeoutSeconds?: number;
  /** Every line of stdout and stderr, as it comes (each stream split on its own). */
  readonly log?: (line: string) => void;
  /** Time between SIGTERM and SIGKILL (default 5000 ms). */
  readonly killGraceMs?: number;
  /**
   * How a kill starts. `group` (default): SIGTERM to the process group and every descendant.
   * `work-first`, for a command that runs its work in processes of their own session and does
   * not stop them itself when signalled (podman's RUN containers): SIGKILL that work first, so
   * that the command fails and cleans up as after any failed step; SIGINT to the command when
   * there was no such work or it has not exited after half the grace period. Either way, what
   * is left after the grace period gets SIGKILL.
   */
  readonly stopStyle?: 'group' | 'work-first';
  /**
   * What must run after the command is killed from outside, when killing the client is not
   * enough (a `docker run` container outlives its client): a command line, kept with the
   * process's record (see `recordProcesses`).
   */
  readonly afterKill?: readonly string[];
}

interface ExecOutput {
  /** Everything the command printed on stdout (the last 32 MiB at most). */
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** How a command ended. Never an exception for a failure that can be expected. */
export type ExecResult =
  | (ExecOutput & { readonly status: 'exited'; readonly exitCode: number })
  | (ExecOutput & { readonly status: 'timeout'; readonly seconds: number })
  | (ExecOutput & { readonly status: 'cancelled' })
  | (ExecOutput & { readonly status: 'spawn-failed'; readonly message: string });

const MAX_CAPTURE = 32 * 1024 * 1024;
const signals = constants.signals;

/** A command this process started, as written down while it runs. */
export interface StartedProcess {
  /** Its pid, which is also its process group (every command gets a group of its own). */
  readonly pid: number;
  /** Its start time (clock ticks since boot): tells it from a later process with its pid. */
  readonly start: string;
  readonly argv: readonly string[];
  readonly afterKill?: readonly string[];
}

/** Where started commands are written down while they run, so that a later run can stop them. */
export interface ProcessRecorder {
  started(p: StartedProcess): void;
  ended(pid: number): void;
}

let recorder: ProcessRecorder | undefined;
/**
 * Writes down every command started from now on while it runs (undefined: stop). A process
 * killed with SIGKILL cannot stop its commands: the next run reads what it left (process-ledger.ts).
 */
export function recordProcesses(r: ProcessRecorder | undefined): void {
  recorder = r;
}

/** Process groups started here and not yet gone; killed if this process exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pgid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const g of liveGroups) signalGroup(g, 'SIGKILL');
    });
  }
  liveGroups.add(pgid);
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  signalPid(-pgid, sig);
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone.
  }
}

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  /** Start time in clock ticks since boot: tells a process from a later one with its pid. */
  readonly start: string;
}

/** The fields of /proc/PID/stat after `(comm)`; undefined when there is no such process. */
function statFields(pid: number | string): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone, or no /proc
  }
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
  // stime cutime cstime priority nice threads itrealvalue starttime ...; comm may hold ' ' and ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** When a live process started (clock ticks since boot), or undefined when it is gone. */
function startTime(pid: number): string | undefined {
  const f = statFields(pid);
  return f && f[0] !== 'Z' && f[0] !== 'X' ? (f[19] ?? '') : undefined;
}

/**
 * The live processes (zombies left out: an orphan's zombie waits for whoever reaps orphans
 * here, and holds nothing open), from /proc; undefined where there is no /proc.
 */
function processTable(): Map<number, Proc> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const table = new Map<number, Proc>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const f = statFields(e);
    if (!f || f[0] === 'Z' || f[0] === 'X') continue; // gone meanwhile, or a zombie
    table.set(Number(e), {
      pid: Number(e),
      ppid: Number(f[1]),
      pgrp: Number(f[2]),
      start: f[19] ?? '',
    });
  }
  return table;
}

/**
 * The processes a kill must reach: the command's process group, and every descendant of the
 * command even in another group or session (podman's RUN containers run in their own session).
 */
function targets(table: ReadonlyMap<number, Proc>, pgid: number): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const p of table.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found = new Map<number, Proc>();
  const visit = (p: Proc) => {
    if (found.has(p.pid)) return;
    found.set(p.pid, p);
    for (const c of children.get(p.pid) ?? []) visit(c);
  };
  for (const p of table.values()) if (p.pgrp === pgid || p.pid === pgid) visit(p);
  return [...found.values()];
}

/** Tracks what a kill must reach; re-scanned each time, remembering escaped descendants. */
function killTargets(pgid: number) {
  const known = new Map<number, Proc>();
  const alive = (): Proc[] => {
    const table = processTable();
    if (!table) {
      try {
        process.kill(-pgid, 0);
        return [{ pid: -pgid, ppid: 0, pgrp: pgid, start: '' }];
      } catch {
        return [];
      }
    }
    for (const p of targets(table, pgid)) known.set(p.pid, p);
    const live: Proc[] = [];
    for (const p of known.values()) {
      const now = table.get(p.pid);
      if (now && now.start === p.start) live.push(p);
      else known.delete(p.pid);
    }
    return live;
  };
  return {
    alive,
    killAll(sig: NodeJS.Signals) {
      // Scan first: once the group is signalled, its escaped descendants become orphans.
      const live = alive();
      signalGroup(pgid, sig);
      for (const p of live) {
        try {
          process.kill(p.pid, sig);
        } catch {
          // gone meanwhile
        }
      }
    },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Stops a command another process started and left running (its group and every descendant:
 * SIGTERM, then SIGKILL after `graceMs`). False when that process is gone, or its pid now names
 * another process (`start` differs).
 */
export async function stopLeftover(pid: number, start: string, graceMs = 5000): Promise<boolean> {
  if (startTime(pid) !== start) return false;
  const tree = killTargets(pid);
  tree.killAll('SIGTERM');
  const until = performance.now() + graceMs;
  while (performance.now() < until && tree.alive().length > 0) await sleep(50);
  for (let i = 0; i < 100 && tree.alive().length > 0; i++) {
    tree.killAll('SIGKILL');
    await sleep(20);
  }
  return true;
}

/** Splits a stream's chunks into lines; the partial last line waits for the next chunk. */
function lineSplitter(emit: (line: string) => void) {
  let partial = '';
  return {
    push(chunk: string) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) emit(p.endsWith('\r') ? p.slice(0, -1) : p);
    },
    flush() {
      if (partial) emit(partial.endsWith('\r') ? partial.slice(0, -1) : partial);
      partial = '';
    },
  };
}

function capture() {
  let text = '';
  return {
    add(chunk: string) {
      text += chunk;
      if (text.length > MAX_CAPTURE) text = text.slice(text.length - MAX_CAPTURE);
    },
    get: () => text,
  };
}

/**
 * Runs a command in its own process group; streams its output lines to `log`; on abort or
 * timeout kills the group and every descendant (see `stopStyle`). Resolves when the command
 * has exited and, after a kill, when none of those processes is left.
 */
export async function runCommand(req: ExecRequest): Promise<ExecResult> {
  const t0 = performance.now();
  const out = capture();
  const err = capture();
  const done = <T extends object>(r: T) => ({
    ...r,
    stdout: out.get(),
    stderr: err.get(),
    durationMs: performance.now() - t0,
  });
  if (req.signal?.aborted) return done({ status: 'cancelled' as const });

  // node's own spawn, not execa: this runs for every engine call (a build, each probe and
  // inspect), and execa cost about 110 modules to load before the first probe could start and a
  // few ms of CPU per call; nothing of it was used that spawn lacks.
  let child: ChildProcess;
  try {
    child = spawn(req.file, [...req.args], {
      detached: true, // its own process group: a kill reaches everything it starts
      stdio: ['ignore', 'pipe', 'pipe'],
      env: req.env ? { ...process.env, ...req.env } : process.env,
      ...(req.cwd ? { cwd: req.cwd } : {}),
    });
  } catch (e) {
    return done({
      status: 'spawn-failed' as const,
      message: `cannot run ${req.file}: ${String(e)}`,
    });
  }
  // Settles once the command has exited and its output pipes are closed, or it could not start.
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>(
    (resolve) => {
      child.once('error', (e: NodeJS.ErrnoException) => {
        // Only a spawn failure ends it here; after a start, 'close' follows whatever happened.
        if (child.pid === undefined)
          resolve({ code: null, signal: null, error: e.code ?? e.message });
      });
      child.once('close', (code, signal) => resolve({ code, signal }));
    },
  );
  const pgid = child.pid;
  const rec = recorder;
  if (pgid !== undefined) {
    trackGroup(pgid);
    rec?.started({
      pid: pgid,
      start: startTime(pgid) ?? '',
      argv: [req.file, ...req.args],
      ...(req.afterKill ? { afterKill: req.afterKill } : {}),
    });
  }

  const log = req.log;
  const outLines = log ? lineSplitter(log) : undefined;
  const errLines = log ? lineSplitter(log) : undefined;
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => {
    out.add(c);
    outLines?.push(c);
  });
  child.stderr?.on('data', (c: string) => {
    err.add(c);
    errLines?.push(c);
  });

  let stopReason: 'timeout' | 'cancelled' | undefined;
  let killing: Promise<void> | undefined;
  const grace = req.killGraceMs ?? 5000;
  const tree = pgid === undefined ? undefined : killTargets(pgid);
  const kill = (why: 'timeout' | 'cancelled') => {
    if (stopReason || pgid === undefined || !tree) return;
    stopReason = why;
    killing = (async () => {
      tree.alive(); // remember every descendant before any of them is orphaned
      const until = performance.now() + grace;
      const leaderAlive = () => tree.alive().some((p) => p.pid === pgid);
      if (req.stopStyle === 'work-first') {
        // Kill the work that runs outside the group (a RUN container in a session of its
        // own): the command sees it fail and cleans up as after any failure, then exits.
        const work = tree.alive().filter((p) => p.pid !== pgid && p.pgrp !== pgid);
        for (const p of work) signalPid(p.pid, 'SIGKILL');
        const interruptAt = work.length ? performance.now() + grace / 2 : 0;
        let interrupted = false;
        while (performance.now() < until && leaderAlive()) {
          if (!interrupted && performance.now() >= interruptAt) {
            interrupted = true;
            signalPid(pgid, 'SIGINT');
          }
          await sleep(50);
        }
      } else {
        tree.killAll('SIGTERM');
        while (performance.now() < until && tree.alive().length > 0) await sleep(50);
      }
      tree.killAll('SIGKILL');
      // A process that escaped every kill must not hold the result hostage through our pipes.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, 2000).unref();
    })();
  };
  const onAbort = () => kill('cancelled');
  req.signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    req.timeoutSeconds && req.timeoutSeconds > 0
      ? setTimeout(() => kill('timeout'), req.timeoutSeconds * 1000)
      : undefined;

  try {
    const result = await ended;
    if (killing) await killing;
    // After a kill, answer only once nothing of it is left (SIGKILL takes a moment).
    if (stopReason && tree) {
      for (let i = 0; i < 100 && tree.alive().length > 0; i++) {
        tree.killAll('SIGKILL');
        await sleep(20);
      }
    }
    outLines?.flush();
    errLines?.flush();
    if (stopReason === 'timeout')
      return done({ status: 'timeout' as const, seconds: req.timeoutSeconds ?? 0 });
    if (stopReason === 'cancelled') return done({ status: 'cancelled' as const });
    if (pgid === undefined || (result.code === null && result.signal === null)) {
      const why = result.error;
      const message = `cannot run ${req.file}: ${why === 'ENOENT' ? 'no such file' : (why ?? 'it did not start')}`;
      return done({ status: 'spawn-failed' as const, message });
    }
    const exitCode = result.code ?? 128 + (result.signal ? signals[result.signal] : 0);
    return done({ status: 'exited' as const, exitCode });
  } finally {
    if (timer) clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
    if (pgid !== undefined) {
      liveGroups.delete(pgid);
      rec?.ended(pgid);
    }
  }
}

/** The last non-empty line of a command's output, for an error message. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]) return lines[i]!;
  return '';
}

/** The last `n` non-empty lines of a text. */
function lastLines(text: string, n: number): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n);
}

/**
 * How an engine command that did not succeed failed, as the port's failure: a timeout, an
 * abort, a client that cannot be started or cannot reach its daemon (`unavailable` matches
 * the output), or a non-zero exit with the last line of its error output as the message.
 */
export function commandFailure(r: ExecResult, unavailable?: RegExp): EngineFailure {
  switch (r.status) {
    case 'timeout':
      return { reason: 'timeout', seconds: r.seconds };
    case 'cancelled':
      return { reason: 'cancelled' };
    case 'spawn-failed':
      return { reason: 'engine-unavailable', message: r.message };
    case 'exited': {
      const message = lastLine(r.stderr) || lastLine(r.stdout) || `exit code ${r.exitCode}`;
      if (unavailable?.test(r.stderr)) return { reason: 'engine-unavailable', message };
      return { reason: 'engine-exit', exitCode: r.exitCode, message };
    }
  }
}

/**
 * Failures a retry may cure: server errors, rate limits (a registry's 429 with an error body
 * reaches the output as its code, `toomanyrequests: <message>`, without the status), dropped
 * connections, timeouts.
 */
const TRANSIENT_PUSH =
  /\b5\d\d\b|\b429\b|too many requests|toomanyrequests|connection reset|broken pipe|\bEOF\b|timeout|timed out|service unavailable|bad gateway|internal server error/i;
/**
 * Failures a retry will not cure, even when the text also looks transient: refusals, and a
 * registry that cannot be reached at all (nothing listens, no route, no such host: `dial tcp`
 * fails before any transfer, so an `i/o timeout` there is not a reset during a transfer).
 */
const PERMANENT_PUSH =
  /denied|unauthorized|forbidden|authentication required|not found|manifest unknown|name unknown|does not exist locally|image not known|no such image|invalid reference|connection refused|dial tcp|no such host|no route to host|network is unreachable/i;

/**
 * A failed push as the port's failure. Only the last lines of the error output are
 * classified: progress lines (layer digests, sizes) must not look like an HTTP status.
 */
export function pushFailure(r: ExecResult, unavailable?: RegExp): EngineFailure {
  if (r.status !== 'exited') return commandFailure(r, unavailable);
  const tail = lastLines(r.stderr, 3);
  const lines = tail.length ? tail : lastLines(r.stdout, 3);
  const text = lines.join('\n');
  if (unavailable?.test(text)) {
    return { reason: 'engine-unavailable', message: lines.at(-1) ?? `exit code ${r.exitCode}` };
  }
  const transient = !PERMANENT_PUSH.test(text) && TRANSIENT_PUSH.test(text);
  return {
    reason: 'push-failed',
    message: lines.at(-1) ?? `push exited with ${r.exitCode}`,
    transient,
  };
}
