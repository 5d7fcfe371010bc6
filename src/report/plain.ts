/**
 * The plain reporter for CI and pipes: one image's output is printed together when the image
 * finishes, never interleaved line by line with other images'; status lines as things happen.
 */
import type { ImageName } from '../core/model.js';
import type { Reporter } from '../run/events.js';
import { formatSummary } from './summary-table.js';

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
          const lines = buffers.get(out.name) ?? [];
          buffers.delete(out.name);
          if (lines.length && (o.showLogs === 'all' || !ok)) {
            o.write(
              o.githubGroups
                ? `::group::${out.name} (${out.status})\n`
                : `----- ${out.name} -----\n`,
            );
            o.write(`${lines.join('\n')}\n`);
            o.write(o.githubGroups ? '::endgroup::\n' : `----- end of ${out.name} -----\n`);
          }
          const why = out.message ? `: ${out.message}` : '';
          o.write(`kbuild: [${finished}/${total}] ${out.name}: ${out.status}${ok ? '' : why}\n`);
        }
        return;
      }
      case 'interrupt':
        o.write(
          `kbuild: ${e.signal}: stopping — running builds are cancelled, nothing new starts\n`,
        );
        return;
      case 'run-end': {
        const failed = e.summary.images.filter((i) => i.status === 'failed');
        o.write(`\n${formatSummary(e.summary)}`);
        for (const f of failed)
          if (f.log) o.write(`kbuild: ${f.name} failed; full log: ${f.log}\n`);
        return;
      }
    }
  };
}
