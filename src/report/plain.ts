/**
 * The plain reporter for CI and pipes: one image's output is printed together when the image
 * finishes, never interleaved line by line with other images'; status lines as things happen.
 */
import type { ImageName } from '../core/model.js';
import type { Reporter } from '../run/events.js';
import { dur, formatSummary, formatTestSummary } from './summary-table.js';

export interface PlainOptions {
  readonly write: (text: string) => void;
  /** Print every image's build output (default), or only failures' (quiet). */
  readonly showLogs: 'all' | 'failures';
  /** GitHub Actions: fold each image's log into a ::group::. */
  readonly githubGroups: boolean;
}

export function plainReporter(o: PlainOptions): Reporter {
  const buffers = new Map<ImageName, string[]>();
  let total = 0;
  let finished = 0;
  /** Prints an image's buffered lines together (all, or a failed image's only). */
  const flush = (name: ImageName, status: string, ok: boolean) => {
    const lines = buffers.get(name) ?? [];
    buffers.delete(name);
    if (!lines.length || (o.showLogs === 'failures' && ok)) return;
    o.write(o.githubGroups ? `::group::${name} (${status})\n` : `----- ${name} -----\n`);
    o.write(`${lines.join('\n')}\n`);
    o.write(o.githubGroups ? '::endgroup::\n' : `----- end of ${name} -----\n`);
  };
  return (e) => {
    switch (e.type) {
      case 'run-start':
        total = e.images.length;
        o.write(
          `kbuild: profile ${e.profile}: ${total} image(s) to build${e.unbuildable.size ? `, ${e.unbuildable.size} unbuildable` : ''}; ` +
            `${e.threads} thread(s); ${e.engine.kind} ${e.engine.serverVersion} (${e.engine.buildPath}); logs in ${e.logsDir}\n`,
        );
        for (const [n, why] of e.unbuildable) o.write(`kbuild: ${n}: unbuildable: ${why}\n`);
        return;
      case 'log': {
        const b = buffers.get(e.name) ?? [];
        b.push(e.line);
        buffers.set(e.name, b);
        return;
      }
      case 'scheduler': {
        const ev = e.event;
        if (ev.type === 'build-start' && ev.attempt === 1)
          o.write(`kbuild: ${ev.name}: building\n`);
        if (ev.type === 'build-retry')
          o.write(
            `kbuild: ${ev.name}: attempt ${ev.attempt} failed (${ev.error.message}); retrying\n`,
          );
        if (ev.type === 'push-retry')
          o.write(
            `kbuild: ${ev.name}: push failed (${ev.error.message}); retrying in ${ev.delayMs / 1000}s\n`,
          );
        if (ev.type === 'done') {
          finished++;
          const out = ev.outcome;
          const ok = out.status === 'built' || out.status === 'pushed';
          flush(out.name, out.status, ok);
          const why = out.message ? `: ${out.message}` : '';
          o.write(`kbuild: [${finished}/${total}] ${out.name}: ${out.status}${ok ? '' : why}\n`);
        }
        return;
      }
      case 'interrupt':
        o.write(
          `kbuild: ${e.signal}: stopping — running builds and tests are cancelled, nothing new starts\n`,
        );
        return;
      case 'run-end': {
        const failed = e.summary.images.filter((i) => i.status === 'failed');
        o.write(`\n${formatSummary(e.summary)}`);
        for (const f of failed)
          if (f.log) o.write(`kbuild: ${f.name} failed; full log: ${f.log}\n`);
        return;
      }
      case 'test-run-start':
        total = e.images.length;
        o.write(
          `kbuild: profile ${e.profile}: ${total} image(s) to test; ${e.threads} thread(s); ` +
            `${e.engine.kind} ${e.engine.serverVersion}; logs in ${e.logsDir}\n`,
        );
        return;
      case 'test-start':
        o.write(`kbuild: ${e.name}: testing\n`);
        return;
      case 'test-end': {
        finished++;
        const r = e.result;
        const ok = r.status === 'passed' || r.status === 'no-test';
        flush(r.name, r.status, ok);
        const time = r.seconds === null ? '' : ` in ${dur(r.seconds)}`;
        o.write(
          `kbuild: [${finished}/${total}] ${r.name}: ${r.status}${time}${r.message && r.status !== 'passed' ? `: ${r.message}` : ''}\n`,
        );
        return;
      }
      case 'test-run-end':
        o.write(`\n${formatTestSummary(e.summary)}`);
        for (const r of e.summary.images)
          if (r.log && r.status !== 'passed')
            o.write(`kbuild: ${r.name} ${r.status}; full log: ${r.log}\n`);
        return;
    }
  };
}
