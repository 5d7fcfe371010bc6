/**
 * `--progress json`: one JSON object per line per event, for machines (a CI dashboard, a bot).
 * Every object has `event` and `elapsed` (seconds since the run started, from the injected clock).
 * The summary file (--summary-json) stays the place for the whole result; this is the stream.
 */
import type { Reporter } from '../run/events.js';
import { etaSeconds } from './eta.js';
import { shownStatus } from './shown-status.js';

export interface JsonLinesOptions {
  readonly write: (text: string) => void;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  /** Also one `log` object per line of an image's output. */
  readonly logs: boolean;
}

const seconds = (from?: number, to?: number) =>
  from !== undefined && to !== undefined ? Math.round(to - from) / 1000 : null;

export function jsonLinesReporter(o: JsonLinesOptions): Reporter {
  let t0: number | undefined;
  let actions = new Map<string, string>();
  const emit = (event: string, fields: Record<string, unknown>) => {
    t0 ??= o.now();
    const elapsed = Math.round(o.now() - t0) / 1000;
    o.write(`${JSON.stringify({ event, elapsed, ...fields })}\n`);
  };
  return (e) => {
    switch (e.type) {
      case 'run-start': {
        actions = new Map(e.expected?.map((x) => [x.name, x.action]));
        const eta = e.expected
          ? etaSeconds(e.expected, { done: new Set(), running: new Map() }, e.threads)
          : undefined;
        emit('run-start', {
          runId: e.runId,
          profile: e.profile,
          images: e.images,
          unbuildable: Object.fromEntries(e.unbuildable),
          counts: { images: e.images.length, unbuildable: e.unbuildable.size },
          threads: e.threads,
          push: e.push,
          engine: e.engine.kind,
          logsDir: e.logsDir,
          etaSeconds: eta === undefined ? null : Math.round(eta),
        });
        return;
      }
      case 'log':
        if (o.logs) emit('log', { name: e.name, line: e.line });
        return;
      case 'scheduler': {
        const ev = e.event;
        if (ev.type === 'build-start') emit('image-start', { name: ev.name, attempt: ev.attempt });
        else if (ev.type === 'build-retry' || ev.type === 'push-retry')
          emit('image-retry', {
            name: ev.name,
            phase: ev.type === 'build-retry' ? 'build' : 'push',
            attempt: ev.attempt,
            message: ev.error.message,
          });
        else if (ev.type === 'push-start' && ev.attempt === 1)
          emit('image-push', { name: ev.name });
        else if (ev.type === 'done') {
          const out = ev.outcome;
          emit('image-end', {
            name: out.name,
            status: shownStatus(out.status, actions.get(out.name)),
            ok: out.status === 'built' || out.status === 'pushed',
            reason: out.reason ?? null,
            message: out.message ?? null,
            ...(out.template ? { template: out.template } : {}),
            seconds: seconds(out.buildStart, out.pushEnd ?? out.buildEnd),
          });
        }
        return;
      }
      case 'log-closed':
        emit('image-log', { name: e.name, path: e.path, failed: e.failed });
        return;
      case 'interrupt':
        emit('interrupt', { signal: e.signal });
        return;
      case 'run-end':
      case 'test-run-end': {
        const s = e.summary;
        emit(e.type, {
          runId: s.runId,
          ok: s.ok,
          interrupted: s.interrupted,
          seconds: s.seconds,
          counts: s.counts,
        });
        return;
      }
      case 'test-run-start':
        emit('test-run-start', {
          runId: e.runId,
          profile: e.profile,
          images: e.images,
          counts: { images: e.images.length },
          threads: e.threads,
          engine: e.engine.kind,
          logsDir: e.logsDir,
        });
        return;
      case 'test-start':
        emit('test-start', { name: e.name });
        return;
      case 'test-end': {
        const r = e.result;
        emit('test-end', {
          name: r.name,
          status: r.status,
          ok: r.status === 'passed' || r.status === 'no-test',
          message: r.message,
          seconds: r.seconds,
          log: r.log,
        });
        return;
      }
    }
  };
}
