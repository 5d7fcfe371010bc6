/**
 * The live terminal view: finished images scroll above a compact block that is redrawn in place —
 * counts (done / running / queued / failed) and each running image with its elapsed time and
 * last log line.
 */
import type { ImageName } from '../core/model.js';
import type { Reporter } from '../run/events.js';
import { formatSummary, formatTestSummary } from './summary-table.js';

export interface TtyOptions {
  readonly write: (text: string) => void;
  readonly columns: () => number;
  readonly now: () => number;
  readonly color: boolean;
}

export interface LiveReporter {
  readonly report: Reporter;
  /** Stops redrawing (call when the run is over). */
  readonly stop: () => void;
}

const ESC = '\u001b[';

export function ttyReporter(o: TtyOptions): LiveReporter {
  const running = new Map<ImageName, { since: number; last: string }>();
  const tails = new Map<ImageName, string[]>();
  let queued = 0;
  let done = 0;
  let failed = 0;
  let total = 0;
  let drawn = 0;
  const paint = (code: string, s: string) => (o.color ? `${ESC}${code}m${s}${ESC}0m` : s);
  const clear = () => {
    if (drawn > 0) o.write(`${ESC}${drawn}F${ESC}0J`);
    drawn = 0;
  };
  const draw = () => {
    clear();
    const width = Math.max(40, o.columns());
    const lines = [
      paint(
        '1',
        `kbuild: ${done}/${total} done, ${running.size} running, ${queued} queued${failed ? `, ${paint('31', `${failed} failed`)}` : ''}`,
      ),
    ];
    for (const [name, r] of running) {
      const secs = Math.floor((o.now() - r.since) / 1000);
      const head = `  ${name} ${secs}s `;
      lines.push(`${head}${paint('2', r.last.slice(0, Math.max(0, width - head.length - 1)))}`);
    }
    o.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  const timer = setInterval(draw, 250);
  timer.unref();
  const above = (text: string) => {
    clear();
    o.write(text);
    draw();
  };
  const report: Reporter = (e) => {
    switch (e.type) {
      case 'run-start':
        total = e.images.length;
        queued = total;
        above(
          `kbuild: profile ${e.profile}: ${total} image(s), ${e.threads} thread(s), ${e.engine.kind} ${e.engine.serverVersion} (${e.engine.buildPath}); logs in ${e.logsDir}\n`,
        );
        return;
      case 'log': {
        const r = running.get(e.name);
        if (r && e.line.trim()) r.last = e.line.trim();
        const t = tails.get(e.name) ?? [];
        t.push(e.line);
        if (t.length > 15) t.shift();
        tails.set(e.name, t);
        return;
      }
      case 'scheduler': {
        const ev = e.event;
        if (ev.type === 'build-start' && ev.attempt === 1) {
          queued--;
          running.set(ev.name, { since: o.now(), last: '' });
        } else if (ev.type === 'build-end') running.delete(ev.name);
        else if (ev.type === 'push-start' && ev.attempt === 1)
          running.set(ev.name, { since: o.now(), last: 'pushing' });
        else if (ev.type === 'push-end') running.delete(ev.name);
        else if (ev.type === 'done') {
          running.delete(ev.outcome.name);
          if (ev.outcome.status === 'parent-failed' || ev.outcome.status === 'cancelled')
            queued = Math.max(0, queued - (ev.outcome.buildStart ? 0 : 1));
          done++;
          const ok = ev.outcome.status === 'built' || ev.outcome.status === 'pushed';
          if (!ok && ev.outcome.status !== 'parent-failed' && ev.outcome.status !== 'cancelled')
            failed++;
          const mark = ok ? paint('32', '✓') : paint('31', '✗');
          let text = `${mark} ${ev.outcome.name} ${ev.outcome.status}${ok ? '' : `: ${ev.outcome.message ?? ''}`}\n`;
          if (ev.outcome.status === 'failed')
            text += `${(tails.get(ev.outcome.name) ?? []).map((l) => `    ${l}`).join('\n')}\n`;
          above(text);
        }
        return;
      }
      case 'interrupt':
        above(
          `kbuild: ${e.signal}: stopping — running builds and tests are cancelled, nothing new starts\n`,
        );
        return;
      case 'run-end':
        clearInterval(timer);
        clear();
        o.write(`\n${formatSummary(e.summary)}`);
        return;
      case 'test-run-start':
        total = e.images.length;
        queued = total;
        above(
          `kbuild: profile ${e.profile}: ${total} image(s) to test, ${e.threads} thread(s), ${e.engine.kind} ${e.engine.serverVersion}; logs in ${e.logsDir}\n`,
        );
        return;
      case 'test-start':
        queued--;
        running.set(e.name, { since: o.now(), last: 'testing' });
        return;
      case 'test-end': {
        const r = e.result;
        // Images without a test, or not built, end without starting.
        if (!running.delete(r.name)) queued = Math.max(0, queued - 1);
        done++;
        const ok = r.status === 'passed' || r.status === 'no-test';
        if (!ok && r.status !== 'cancelled') failed++;
        const mark = ok ? paint('32', '✓') : paint('31', '✗');
        let text = `${mark} ${r.name} ${r.status}${r.status === 'passed' ? '' : `: ${r.message ?? ''}`}\n`;
        if (r.status === 'failed' || r.status === 'timeout')
          text += `${(tails.get(r.name) ?? []).map((l) => `    ${l}`).join('\n')}\n`;
        above(text);
        return;
      }
      case 'test-run-end':
        clearInterval(timer);
        clear();
        o.write(`\n${formatTestSummary(e.summary)}`);
        return;
    }
  };
  return { report, stop: () => clearInterval(timer) };
}
