/** What a command that runs work (build, test) sets up around it: run id, logs dir, reporters, Ctrl-C. */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { writeFileAtomically } from '../adapters/state.js';
import { jsonLinesReporter } from '../report/json-lines.js';
import { plainReporter } from '../report/plain.js';
import { ttyReporter, type LiveReporter } from '../report/tty.js';
import type { Reporter } from '../run/events.js';
import type { Io } from './io.js';
import type { OutputFlags } from './options.js';

export interface RunSession {
  readonly runId: string;
  readonly started: Date;
  /** Where the run's per-image logs go. */
  readonly logsDir: string;
  readonly report: Reporter;
  /** Stops the live view's redraws (when the run is over). */
  readonly stop: () => void;
  /** True when a live view drew on stderr (stdout then gets an empty write, to flush it). */
  readonly live: boolean;
}

/**
 * --progress auto (no mode given) as docker's: the live view when stderr, where it draws, is a
 * terminal and CI is not set; else the plain log.
 */
export function progressMode(
  given: OutputFlags['progress'],
  env: Readonly<Record<string, string | undefined>>,
  stderrIsTty: boolean,
): 'tty' | 'plain' | 'json' {
  return given ?? (env['CI'] || !stderrIsTty ? 'plain' : 'tty');
}

/**
 * A run's id (time and a random suffix), logs dir, and reporter: live on a terminal, plain in CI
 * (or no terminal), JSON lines when asked.
 */
export function startRun(io: Io, root: string, flags: OutputFlags): RunSession {
  const started = new Date();
  const runId = `${started.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}-${randomBytes(2).toString('hex')}`;
  const logsDir = resolve(io.cwd, flags.logsDir ?? join(root, '.kbuild', 'logs', runId));
  const mode = progressMode(flags.progress, io.env, process.stderr.isTTY);
  const now = () => performance.now();
  let live: LiveReporter | undefined;
  let report: Reporter;
  if (mode === 'tty') {
    live = ttyReporter({
      write: io.err,
      columns: () => process.stderr.columns || 100,
      now,
      // https://no-color.org: set and not empty.
      color: !io.env['NO_COLOR'],
      verbosity: flags.quiet ? 'quiet' : flags.verbose ? 'verbose' : 'normal',
    });
    report = live.report;
  } else if (mode === 'json') {
    report = jsonLinesReporter({ write: io.out, now, logs: flags.verbose ?? false });
  } else {
    report = plainReporter({
      write: io.out,
      showLogs: flags.quiet ? 'failures' : 'all',
      githubGroups: Boolean(io.env['GITHUB_ACTIONS']),
      // The final table keeps to a terminal's width; a CI log's is CI_COLUMNS.
      ...(process.stdout.isTTY && process.stdout.columns
        ? { columns: process.stdout.columns }
        : {}),
    });
  }
  return {
    runId,
    started,
    logsDir,
    report,
    stop: () => live?.stop(),
    live: live !== undefined,
  };
}

type Work<T> = (signal: AbortSignal) => Promise<T>;

/**
 * Runs `work` with a signal that SIGINT and SIGTERM abort (reported first); a second one exits
 * at once with 130. `stop` (kbuild watch's: a signal that came before this run's handlers were
 * there) aborts it the same way.
 */
export function interruptible<T>(report: Reporter, work: Work<T>): Promise<T>;
export function interruptible<T>(
  report: Reporter,
  stop: AbortSignal | undefined,
  work: Work<T>,
): Promise<T>;
export async function interruptible<T>(
  report: Reporter,
  ...args: [Work<T>] | [AbortSignal | undefined, Work<T>]
): Promise<T> {
  const [stop, work] = args.length === 1 ? [undefined, args[0]] : args;
  const controller = new AbortController();
  let interrupts = 0;
  const abort = (sig: string) => {
    if (controller.signal.aborted) return;
    report({ type: 'interrupt', signal: sig });
    controller.abort();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    abort(sig);
  };
  // Not counted as a signal: the same Ctrl-C may reach onSignal too.
  const onStop = () => abort(typeof stop?.reason === 'string' ? stop.reason : 'SIGINT');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (stop?.aborted) onStop();
  else stop?.addEventListener('abort', onStop);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stop?.removeEventListener('abort', onStop);
  }
}

/** Writes a run's summary as JSON where --summary-json says, if it says. */
export async function writeSummaryJson(io: Io, file: string | undefined, summary: unknown) {
  if (file)
    await writeFileAtomically(resolve(io.cwd, file), `${JSON.stringify(summary, null, 2)}\n`);
}
