/**
 * The run as JUnit XML (`build --junit FILE`), for CI systems that show test results: one
 * testsuite per platform, one testcase per image. A failed image (its smoke test included, with
 * --test) is a <failure> carrying its log's last lines; one never built is <skipped>, a
 * parent-failed one too, naming the failed image it descends from (one root cause is one
 * failure, not one per descendant); one cancelled by an interrupt is an <error>. An image allowed to fail is <skipped>, as the run's
 * exit code treats it. `kbuild test --junit` too (smokeJunitReport). Pure: summaries and log
 * tails in, text out.
 */
import { stripVTControlCharacters } from 'node:util';
import { formatTemplateLocation } from '../core/model.js';
import type { SmokeResult, SmokeSummary } from '../run/smoke-result.js';
import type { ImageSummary, RunSummary } from '../run/summary.js';
import { escapeMarkup } from './markup.js';

export interface JunitRun {
  /** Null for a single-platform run. */
  readonly platform: string | null;
  readonly summary: RunSummary;
}

/** Characters XML 1.0 cannot hold at all (even escaped): most C0 controls, lone surrogates, U+FFFE/F. */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/gu;

/** Text for XML content or a quoted attribute: terminal colours stripped, escaped. */
export const xmlText = (text: string) =>
  escapeMarkup(stripVTControlCharacters(text).replace(/\r/g, '').replace(NOT_XML, ''));

type Verdict = 'passed' | 'failure' | 'error' | 'skipped';

function verdictOf(i: ImageSummary): Verdict {
  switch (i.status) {
    case 'built':
    case 'pushed':
    case 'fresh':
    case 'retagged':
      return 'passed';
    case 'failed':
      return i.allowedToFail ? 'skipped' : 'failure';
    case 'cancelled':
      return 'error';
    case 'parent-failed':
    case 'skipped':
    case 'unbuildable':
      return 'skipped';
  }
}

/**
 * The failed image a parent-failed one descends from. Summaries written before `failedParent`
 * existed name only the direct parent in their message: follow those to the one that failed.
 */
export function failedParentOf(i: ImageSummary, images: readonly ImageSummary[]): string {
  if (i.failedParent) return i.failedParent;
  const seen = new Set<string>();
  let at: ImageSummary | undefined = i;
  let name = '';
  while (at?.status === 'parent-failed' && !seen.has(at.name)) {
    seen.add(at.name);
    name = /^parent '(.+)' failed$/.exec(at.message ?? '')?.[1] ?? name;
    const parent = name;
    at = images.find((x) => x.name === parent);
  }
  return name || (i.message ?? 'a parent failed');
}

const seconds = (n: number | null) => (n ?? 0).toFixed(3);

/** The runs (one per platform) as JUnit XML; `logTail(path)`: the last lines of a log file. */
export function junitReport(
  runs: readonly JunitRun[],
  logTail: (path: string) => readonly string[],
): string {
  const suites = runs.map((r) => suite(r, logTail));
  const all = runs.flatMap((r) => r.summary.images.map(verdictOf));
  const count = (v: Verdict) => all.filter((x) => x === v).length;
  const first = runs[0]?.summary;
  const total = runs.reduce((t, r) => t + r.summary.seconds, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="${xmlText(`kbuild ${first?.profile ?? ''}`.trim())}" tests="${all.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}" time="${seconds(total)}">
${suites.join('\n')}
</testsuites>
`;
}

function suite(r: JunitRun, logTail: (path: string) => readonly string[]): string {
  const s = r.summary;
  const verdicts = s.images.map(verdictOf);
  const count = (v: Verdict) => verdicts.filter((x) => x === v).length;
  const name = r.platform ? `${s.profile} ${r.platform}` : s.profile;
  const props = [
    ['tag', s.tag],
    ['registry', s.registry],
    ['run', s.runId],
    ['engine', `${s.engine.kind} ${s.engine.serverVersion}`],
    ...(r.platform ? [['platform', r.platform]] : []),
    ...(s.interrupted ? [['interrupted', 'true']] : []),
  ];
  const cases = s.images.map((i, k) => testcase(r, i, verdicts[k]!, logTail));
  return `  <testsuite name="${xmlText(name)}" tests="${s.images.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}" time="${seconds(s.seconds)}" timestamp="${xmlText(s.start.replace(/\.\d+Z$/, ''))}">
    <properties>
${props.map(([k, v]) => `      <property name="${xmlText(k!)}" value="${xmlText(v!)}"/>`).join('\n')}
    </properties>
${cases.join('\n')}
  </testsuite>`;
}

function testcase(
  r: JunitRun,
  i: ImageSummary,
  verdict: Verdict,
  logTail: (path: string) => readonly string[],
): string {
  const name = r.platform ? `${i.name} (${r.platform})` : i.name;
  const message = [i.reason && i.reason !== i.status ? i.reason : '', i.message ?? '']
    .filter(Boolean)
    .join(': ');
  const tail = i.log ? logTail(i.log) : [];
  // A failed build's failing instruction, where it was written in the templates, leads the body.
  const at = i.template ? `at ${formatTemplateLocation(i.template)}\n` : '';
  const body = at + (tail.length ? `${tail.join('\n')}\n` : '');
  const out: string[] = [];
  switch (verdict) {
    case 'passed':
      break;
    case 'failure':
      out.push(
        `<failure type="${xmlText(i.reason ?? i.status)}" message="${xmlText(message || i.status)}">${xmlText(body)}</failure>`,
      );
      break;
    case 'error':
      out.push(`<error type="${xmlText(i.status)}" message="${xmlText(message || i.status)}"/>`);
      break;
    case 'skipped': {
      const why =
        i.status === 'parent-failed'
          ? `parent-failed: ${failedParentOf(i, r.summary.images)}`
          : [i.allowedToFail ? 'allowed to fail' : '', i.status, message]
              .filter(Boolean)
              .join(': ');
      out.push(`<skipped message="${xmlText(why)}"/>`);
      break;
    }
  }
  // Where the log tail is not in a <failure> already (allowed to fail), and the smoke test's result.
  const notes = [
    verdict === 'skipped' ? body : '',
    i.test !== null
      ? `smoke test: ${i.test}${i.testSeconds !== null ? ` in ${i.testSeconds}s` : ''}\n`
      : '',
  ].join('');
  if (notes) out.push(`<system-out>${xmlText(notes)}</system-out>`);
  // file/line: the template line of a failed build's failing instruction (read by GitLab, Jenkins).
  const where = i.template ? ` file="${xmlText(i.template.file)}" line="${i.template.line}"` : '';
  const open = `    <testcase classname="${xmlText(r.summary.profile)}" name="${xmlText(name)}"${where} time="${seconds(i.seconds)}"`;
  return out.length
    ? `${open}>\n${out.map((o) => `      ${o}`).join('\n')}\n    </testcase>`
    : `${open}/>`;
}

function smokeVerdictOf(r: SmokeResult): Verdict {
  switch (r.status) {
    case 'passed':
      return 'passed';
    case 'failed':
    case 'timeout':
    case 'not-built':
      return 'failure';
    case 'cancelled':
      return 'error';
    case 'no-test':
      return 'skipped';
  }
}

/**
 * A `kbuild test` run as JUnit XML (`test --junit FILE`): one testsuite, one testcase per image
 * tested. A test that failed, timed out or could not run (its image is not here) is a <failure>
 * with its output's last lines; an image with no test is <skipped>; a test cancelled by an
 * interrupt is an <error>.
 */
export function smokeJunitReport(s: SmokeSummary): string {
  const verdicts = s.images.map(smokeVerdictOf);
  const count = (v: Verdict) => verdicts.filter((x) => x === v).length;
  const counts = `tests="${s.images.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}" time="${seconds(s.seconds)}"`;
  const name = xmlText(`kbuild test ${s.profile}`);
  const props = [
    ['tag', s.tag],
    ['run', s.runId],
    ['engine', `${s.engine.kind} ${s.engine.serverVersion}`],
    ...(s.interrupted ? [['interrupted', 'true']] : []),
  ];
  const cases = s.images.map((r, k) => smokeTestcase(s, r, verdicts[k]!));
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="${name}" ${counts}>
  <testsuite name="${name}" ${counts} timestamp="${xmlText(s.start.replace(/\.\d+Z$/, ''))}">
    <properties>
${props.map(([k, v]) => `      <property name="${xmlText(k!)}" value="${xmlText(v!)}"/>`).join('\n')}
    </properties>
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

function smokeTestcase(s: SmokeSummary, r: SmokeResult, verdict: Verdict): string {
  const message = xmlText(r.message ?? r.status);
  const body = r.tail.length ? `${r.tail.join('\n')}\n` : '';
  const inner =
    verdict === 'failure'
      ? `<failure type="${xmlText(r.status)}" message="${message}">${xmlText(body)}</failure>`
      : verdict === 'error'
        ? `<error type="${xmlText(r.status)}" message="${message}"/>`
        : verdict === 'skipped'
          ? `<skipped message="${xmlText(`${r.status}: ${r.message ?? ''}`)}"/>`
          : '';
  // Which reference was tested: the local image, or the registry's when it had to be pulled.
  const tested =
    r.seconds !== null ? `<system-out>${xmlText(`tested ${r.image}\n`)}</system-out>` : '';
  const out = [inner, tested].filter(Boolean).map((o) => `      ${o}`);
  const open = `    <testcase classname="${xmlText(s.profile)}" name="${xmlText(r.name)}" time="${seconds(r.seconds)}"`;
  return out.length ? `${open}>\n${out.join('\n')}\n    </testcase>` : `${open}/>`;
}
