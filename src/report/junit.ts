/**
 * The run as JUnit XML (`build --junit FILE`), for CI systems that show test results: one
 * testsuite per platform, one testcase per image. A failed image (its smoke test included, with
 * --test) is a <failure> carrying its log's last lines; one never built is <skipped>; one
 * cancelled by an interrupt is an <error>. An image allowed to fail is <skipped>, as the run's
 * exit code treats it. Pure: summaries and log tails in, text out.
 */
import { stripVTControlCharacters } from 'node:util';
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
    case 'parent-failed':
      return i.allowedToFail ? 'skipped' : 'failure';
    case 'cancelled':
      return 'error';
    case 'skipped':
    case 'unbuildable':
      return 'skipped';
  }
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
  const body = tail.length ? `${tail.join('\n')}\n` : '';
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
      const why = [i.allowedToFail ? 'allowed to fail' : '', i.status, message]
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
  const open = `    <testcase classname="${xmlText(r.summary.profile)}" name="${xmlText(name)}" time="${seconds(i.seconds)}"`;
  return out.length
    ? `${open}>\n${out.map((o) => `      ${o}`).join('\n')}\n    </testcase>`
    : `${open}/>`;
}
