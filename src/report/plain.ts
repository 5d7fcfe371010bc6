/**
 * The plain reporter for CI and pipes: one image's output is printed together when the image
 * finishes, never interleaved line by line with other images'; status lines as things happen;
 * at the end, the tail of each failed image's log (the part CI users read first).
 */
import type { ImageName, TemplateLocation } from '../core/model.js';
import type { Reporter } from '../run/events.js';
import { isNoise } from './build-progress.js';
import { shownStatus } from './shown-status.js';
import {
  builtWhy,
  CI_COLUMNS,
  dur,
  formatSummary,
  formatTestSummary,
  runCounts,
} from './summary-table.js';

export interface PlainOptions {
  readonly write: (text: string) => void;
  /** Print every image's build output and status (default), or only failures and the summary (quiet). */
  readonly showLogs: 'all' | 'failures';
  /** GitHub Actions: fold each image's log into a ::group::, and annotate failures with ::error::. */
  readonly githubGroups: boolean;
  /** The width the final table keeps to: the terminal's, or CI_COLUMNS (the default) in CI. */
  readonly columns?: number;
}

/** Lines of a failed image's log repeated at the end of the run. */
const TAIL = 15;
/** GitHub Actions workflow commands end at a newline: escape it (and %, their escape char). */
const ghEscape = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
/** A workflow command's property value also escapes `:` and `,`. */
const ghProperty = (s: string) => ghEscape(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
/** `file=…,line=…,` of an annotation: where the failing instruction was written in the templates. */
const ghWhere = (t: TemplateLocation | undefined) =>
  t ? `file=${ghProperty(t.file)},line=${t.line},` : '';

export function plainReporter(o: PlainOptions): Reporter {
  const buffers = new Map<ImageName, string[]>();
  /** Failed builds: where their failing instruction was written. */
  const templates = new Map<ImageName, TemplateLocation>();
  /** The last lines of each failed image's log, for the end of the run. */
  const tails = new Map<ImageName, string[]>();
  const quiet = o.showLogs === 'failures';
  let total = 0;
  let finished = 0;
  let actions = new Map<string, string>();
  /** Why the plan builds each image (`new`, `context-changed (hello.sh)`, ...). */
  let reasons = new Map<string, string>();
  /** Prints an image's buffered lines together (all, or a failed image's only). */
  const flush = (name: ImageName, status: string, ok: boolean) => {
    const lines = buffers.get(name) ?? [];
    buffers.delete(name);
    // The tail leaves out BuildKit's bookkeeping (`#5 sha256:…`, `#5 DONE 0.1s`): the log has it.
    if (!ok) tails.set(name, lines.filter((l) => !isNoise(l)).slice(-TAIL));
    if (!lines.length || (quiet && ok)) return;
    o.write(o.githubGroups ? `::group::${name} (${status})\n` : `----- ${name} -----\n`);
    o.write(`${lines.join('\n')}\n`);
    o.write(o.githubGroups ? '::endgroup::\n' : `----- end of ${name} -----\n`);
  };
  /** The final tables keep to the width; failed images' blocks under them end with their tails. */
  const layout = { width: o.columns ?? CI_COLUMNS, tail: (n: ImageName) => tails.get(n) ?? [] };
  /** GitHub Actions: an annotation per failed image, with its whole message. */
  const annotate = (name: ImageName, status: string, message: string | null) => {
    if (o.githubGroups)
      o.write(
        `::error ${ghWhere(templates.get(name))}title=kbuild: ${name} ${status}::${ghEscape(message ?? status)}\n`,
      );
  };
  return (e) => {
    switch (e.type) {
      case 'run-start':
        total = e.images.length;
        finished = 0;
        tails.clear();
        actions = new Map(e.expected?.map((x) => [x.name, x.action]));
        reasons = new Map(e.expected?.map((x) => [x.name, x.reason]));
        if (quiet) return;
        o.write(
          `kbuild: profile ${e.profile}: ${runCounts(e)}; ` +
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
        if (ev.type === 'build-start' && ev.attempt === 1 && !quiet)
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
          if (out.template) templates.set(out.name, out.template);
          const ok = out.status === 'built' || out.status === 'pushed';
          const status = shownStatus(out.status, actions.get(out.name));
          flush(out.name, status, ok);
          const why = ok
            ? builtWhy(status, reasons.get(out.name))
            : out.message
              ? `: ${out.message}`
              : '';
          if (quiet && ok) return;
          o.write(`kbuild: [${finished}/${total}] ${out.name}: ${status}${why}\n`);
        }
        return;
      }
      case 'log-closed': // the path is in the summary's block
        return;
      case 'interrupt':
        o.write(
          `kbuild: ${e.signal}: stopping — running builds and tests are cancelled, nothing new starts\n`,
        );
        return;
      case 'run-end': {
        o.write(`\n${formatSummary(e.summary, layout)}`);
        for (const f of e.summary.images)
          if (f.status === 'failed') annotate(f.name, f.status, f.message);
        return;
      }
      case 'test-run-start':
        total = e.images.length;
        finished = 0;
        tails.clear();
        if (quiet) return;
        o.write(
          `kbuild: profile ${e.profile}: ${total} image(s) to test; ${e.threads} thread(s); ` +
            `${e.engine.kind} ${e.engine.serverVersion}; logs in ${e.logsDir}\n`,
        );
        return;
      case 'test-start':
        if (!quiet) o.write(`kbuild: ${e.name}: testing\n`);
        return;
      case 'test-end': {
        finished++;
        const r = e.result;
        const ok = r.status === 'passed' || r.status === 'no-test';
        flush(r.name, r.status, ok);
        if (quiet && ok) return;
        const time = r.seconds === null ? '' : ` in ${dur(r.seconds)}`;
        o.write(
          `kbuild: [${finished}/${total}] ${r.name}: ${r.status}${time}${r.message && r.status !== 'passed' ? `: ${r.message}` : ''}\n`,
        );
        return;
      }
      case 'test-run-end':
        o.write(`\n${formatTestSummary(e.summary, layout)}`);
        for (const r of e.summary.images)
          if (r.log && r.status !== 'passed') annotate(r.name, r.status, r.message);
        return;
    }
  };
}
