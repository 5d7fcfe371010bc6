/**
 * The live terminal view: finished images scroll above a compact block that is redrawn in place —
 * counts (done / running / queued / failed) with an ETA from the previous run's build times, and
 * each running image with its elapsed time and last log line.
 */
import { formatTemplateLocation, type ImageName } from '../core/model.js';
import type { Reporter, RunEvent } from '../run/events.js';
import { isNoise, stepOf } from './build-progress.js';
import { etaSeconds } from './eta.js';
import { shownStatus } from './shown-status.js';
import { cutToWidth } from './table.js';
import { builtWhy, dur, formatSummary, formatTestSummary, runCounts } from './summary-table.js';

/** quiet: only failures and the summary; verbose: every log line too. */
export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface TtyOptions {
  readonly write: (text: string) => void;
  readonly columns: () => number;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly color: boolean;
  readonly verbosity?: Verbosity;
}

export interface LiveReporter {
  readonly report: Reporter;
  /** Stops redrawing (call when the run is over). */
  readonly stop: () => void;
}

const ESC = '\u001b[';
/** Lines of a failed image's log shown under its ✗ line. */
const TAIL = 15;
/** Whole seconds: 12s, 3m12s. */
const whole = (s: number) => (s < 60 ? `${Math.ceil(s)}s` : dur(Math.ceil(s)));

interface Running {
  readonly since: number;
  /** The Dockerfile step running (`[3/7] RUN apt-get install …`), once the engine says. */
  step?: string;
  /** The last line that says something (not BuildKit's bookkeeping), until a step is known. */
  last: string;
  /** Building counts towards the ETA; a push or a test does not. */
  readonly phase: 'build' | 'push' | 'test';
}

export function ttyReporter(o: TtyOptions): LiveReporter {
  const verbosity = o.verbosity ?? 'normal';
  const running = new Map<ImageName, Running>();
  const tails = new Map<ImageName, string[]>();
  /** Images whose build is over, for the ETA. */
  const built = new Set<ImageName>();
  let expected: NonNullable<Extract<RunEvent, { type: 'run-start' }>['expected']> = [];
  let threads = 1;
  let queued = 0;
  let done = 0;
  let failed = 0;
  let total = 0;
  let drawn = 0;
  /** Text to print above the block at the next redraw. */
  let pending = '';
  const paint = (code: string, s: string) => (o.color ? `${ESC}${code}m${s}${ESC}0m` : s);
  const clear = () => {
    if (drawn > 0) o.write(`${ESC}${drawn}F${ESC}0J`);
    drawn = 0;
    if (pending) o.write(pending);
    pending = '';
  };
  const eta = () => {
    if (!expected.length) return '';
    const ran = new Map<ImageName, number>();
    for (const [n, r] of running) if (r.phase === 'build') ran.set(n, (o.now() - r.since) / 1000);
    const s = etaSeconds(expected, { done: built, running: ran }, threads);
    return s === undefined ? '' : `, ETA ${whole(s)}`;
  };
  const draw = () => {
    clear();
    const width = Math.max(40, o.columns());
    const lines = [
      paint(
        '1',
        `kbuild: ${done}/${total} done, ${running.size} running, ${queued} queued${failed ? `, ${paint('31', `${failed} failed`)}` : ''}${eta()}`,
      ),
    ];
    const expectedOf = new Map(expected.map((e) => [e.name, e.seconds]));
    for (const [name, r] of running) {
      const secs = Math.floor((o.now() - r.since) / 1000);
      const was = r.phase === 'build' ? expectedOf.get(name) : null;
      const head = `  ${name} ${secs}s${was ? `/${whole(was)}` : ''} `;
      lines.push(`${head}${paint('2', cutToWidth(r.step ?? r.last, width - head.length - 1))}`);
    }
    o.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  const timer = setInterval(draw, 250);
  timer.unref();
  const above = (text: string) => {
    pending += text;
    draw();
  };
  const start = (name: ImageName, phase: Running['phase'], last = '') =>
    running.set(name, { since: o.now(), last, phase });
  /** An image's (or test's) end, above the block: ✓, or ✗ with the message and its log's tail. */
  const finished = (
    name: ImageName,
    status: string,
    ok: boolean,
    message?: string | null,
    log?: string | null,
  ) => {
    done++;
    if (ok && verbosity === 'quiet') {
      draw();
      return;
    }
    const mark = ok ? paint('32', '✓') : paint('31', '✗');
    // One line: a whole engine error comes under the final table.
    const head = `${mark} ${name} ${status}`;
    const room = Math.max(20, o.columns() - `✓ ${name} ${status}: `.length);
    let text = `${head}${ok || !message ? '' : `: ${cutToWidth(message, room)}`}\n`;
    if (status === 'failed' || status === 'timeout')
      text += [...(tails.get(name) ?? []), ...(log ? [`full log: ${log}`] : [])]
        .map((l) => `    ${l}\n`)
        .join('');
    above(text);
  };
  const end = (text: string) => {
    clearInterval(timer);
    clear();
    o.write(text);
  };
  const startLine = (text: string) => {
    if (verbosity !== 'quiet') above(text);
  };
  const onScheduler = (ev: Extract<RunEvent, { type: 'scheduler' }>['event']) => {
    if (ev.type === 'build-start' && ev.attempt === 1) {
      queued--;
      start(ev.name, 'build');
    } else if (ev.type === 'build-end') {
      built.add(ev.name);
      running.delete(ev.name);
    } else if (ev.type === 'push-start' && ev.attempt === 1) start(ev.name, 'push', 'pushing');
    else if (ev.type === 'push-end') running.delete(ev.name);
    else if (ev.type === 'done') {
      const out = ev.outcome;
      running.delete(out.name);
      built.add(out.name);
      if (out.status === 'parent-failed' || out.status === 'cancelled')
        queued = Math.max(0, queued - (out.buildStart ? 0 : 1));
      const ok = out.status === 'built' || out.status === 'pushed';
      if (!ok && out.status !== 'parent-failed' && out.status !== 'cancelled') failed++;
      const plan = expected.find((x) => x.name === out.name);
      const status = shownStatus(out.status, plan?.action);
      // A failed build: where its failing instruction was written in the templates.
      const at = out.template ? ` at ${formatTemplateLocation(out.template)}` : '';
      finished(out.name, `${status}${builtWhy(status, plan?.reason)}${at}`, ok, out.message ?? '');
    }
  };
  const report: Reporter = (e) => {
    switch (e.type) {
      case 'run-start':
        // Again for each platform of a multi-platform build.
        total = e.images.length;
        queued = total;
        done = 0;
        built.clear();
        threads = e.threads;
        expected = e.expected ?? [];
        startLine(
          `kbuild: profile ${e.profile}: ${runCounts(e)}; ${e.threads} thread(s), ${e.engine.kind} ${e.engine.serverVersion} (${e.engine.buildPath}); logs in ${e.logsDir}\n`,
        );
        return;
      case 'log': {
        const r = running.get(e.name);
        const step = stepOf(e.line);
        const noise = isNoise(e.line);
        if (r && step) r.step = step;
        else if (r && !noise) r.last = e.line.trim();
        // A failure's tail: what the steps printed and the errors, not the bookkeeping.
        const t = tails.get(e.name) ?? [];
        if (!noise) t.push(e.line);
        if (t.length > TAIL) t.shift();
        tails.set(e.name, t);
        // Printed at the next redraw: one repaint per tick, however chatty the build.
        if (verbosity === 'verbose') pending += `${paint('2', `${e.name} |`)} ${e.line}\n`;
        return;
      }
      case 'scheduler':
        onScheduler(e.event);
        return;
      case 'log-closed':
        // Comes right after the image's ✗ line and tail (closing the file is quick).
        if (e.failed) above(`    full log: ${e.path}\n`);
        return;
      case 'interrupt':
        above(
          `kbuild: ${e.signal}: stopping — running builds and tests are cancelled, nothing new starts\n`,
        );
        return;
      case 'run-end':
        end(`\n${formatSummary(e.summary, { width: o.columns() })}`);
        return;
      case 'test-run-start':
        total = e.images.length;
        queued = total;
        done = 0;
        startLine(
          `kbuild: profile ${e.profile}: ${total} image(s) to test, ${e.threads} thread(s), ${e.engine.kind} ${e.engine.serverVersion}; logs in ${e.logsDir}\n`,
        );
        return;
      case 'test-start':
        queued--;
        start(e.name, 'test', 'testing');
        return;
      case 'test-end': {
        const r = e.result;
        // Images without a test, or not built, end without starting.
        if (!running.delete(r.name)) queued = Math.max(0, queued - 1);
        const ok = r.status === 'passed' || r.status === 'no-test';
        if (!ok && r.status !== 'cancelled') failed++;
        finished(r.name, r.status, ok, r.message, r.log);
        return;
      }
      case 'test-run-end':
        end(`\n${formatTestSummary(e.summary, { width: o.columns() })}`);
        return;
    }
  };
  return { report, stop: () => clearInterval(timer) };
}
