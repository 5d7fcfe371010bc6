/** The final table of a run, and its one-line verdict. */
import { formatTemplateLocation, type ImageName, type TemplateLocation } from '../core/model.js';
import type { RunEvent } from '../run/events.js';
import type { SmokeSummary } from '../run/smoke-result.js';
import type { ImageSummary, RunSummary } from '../run/summary.js';
import { table } from './table.js';

/** Seconds as people read them: 4.2s, 3m12s; '' for none. */
export const dur = (s: number | null) =>
  s === null ? '' : s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;

/** `2 built, 1 failed`: the statuses that occur, with their numbers. */
export const countsText = (counts: Readonly<Record<string, number>>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');

/** The plan's actions in `kbuild plan`'s words, in its order. */
const PLAN_WORDS: Readonly<Record<string, string>> = {
  build: 'to build',
  retag: 'to retag',
  fresh: 'up to date',
  unbuildable: 'unbuildable',
};

/**
 * `2 to build, 21 up to date`: what a run's plan says, in the words of `kbuild plan`'s last line
 * (actions with no image left out).
 */
export const planCountsText = (actions: readonly string[]) =>
  Object.entries(PLAN_WORDS)
    .map(([action, words]) => [actions.filter((a) => a === action).length, words] as const)
    .filter(([n]) => n > 0)
    .map(([n, words]) => `${n} ${words}`)
    .join(', ') || 'nothing to do';

/**
 * A run's header counts: the plan's (`2 to build, 21 up to date, 1 unbuildable`), or the number of
 * images when the run start does not say what the plan decided.
 */
export function runCounts(e: Extract<RunEvent, { type: 'run-start' }>): string {
  if (!e.expected) {
    const unbuildable = e.unbuildable.size ? `, ${e.unbuildable.size} unbuildable` : '';
    return `${e.images.length} image(s) to build${unbuildable}`;
  }
  return planCountsText([
    ...e.expected.map((x) => x.action),
    ...[...e.unbuildable.keys()].map(() => 'unbuildable'),
  ]);
}

/** ` (new)`: why a built image was built, for its line as it ends ('' when it was not built). */
export const builtWhy = (status: string, reason: string | undefined) =>
  (status === 'built' || status === 'pushed') && reason ? ` (${reason})` : '';

/**
 * Why an image ended as it did: a failure's reason and message; else the plan's reason (`new`,
 * `context-changed (hello.sh)`, `up to date`, ...), unless the run says more (`built by shard 2`).
 */
export const rowReason = (i: ImageSummary) =>
  i.reason && i.reason !== i.status
    ? `${i.reason}${i.message ? `: ${i.message}` : ''}`
    : (i.message ?? i.planReason);

/** OK, FAILED or INTERRUPTED. */
export const verdict = (s: { interrupted: boolean; ok: boolean }) =>
  s.interrupted ? 'INTERRUPTED' : s.ok ? 'OK' : 'FAILED';

/** How a final table is laid out: the width its rows keep to, and failed images' log tails. */
export interface SummaryLayout {
  /** The terminal's columns, or 120 in CI (the default). */
  readonly width?: number;
  /** The last lines of a failed image's log, repeated under its message (none by default). */
  readonly tail?: (name: ImageName) => readonly string[];
}

/** Lines of a CI log: wide enough for a table, as wide as a log viewer shows without scrolling. */
export const CI_COLUMNS = 120;

/** `sha256:0123456789ab`: a digest as `docker images` shortens ids (the JSON keeps it whole). */
const shortDigest = (d: string) => d.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]{52}$/, '$1');

/**
 * A failed image under the table: where its full log is, its whole message (cut in the table),
 * and its log's last lines.
 */
export function failureBlock(
  f: {
    name: ImageName;
    status: string;
    message: string | null;
    log: string | null;
    template?: TemplateLocation;
  },
  tail: readonly string[] = [],
): string {
  const message = (f.message ?? '').split('\n').filter((l) => l.trim());
  return [
    `kbuild: ${f.name} ${f.status}${f.template ? ` at ${formatTemplateLocation(f.template)}` : ''}${f.log ? `; full log: ${f.log}` : ''}`,
    ...message.map((l) => `    ${l}`),
    ...tail.map((l) => `  | ${l}`),
  ]
    .map((l) => `${l}\n`)
    .join('');
}

/** The blocks of the failed images, after a blank line (nothing when none failed). */
const blocks = (
  failed: readonly {
    name: ImageName;
    status: string;
    message: string | null;
    log: string | null;
    template?: TemplateLocation;
  }[],
  layout: SummaryLayout,
) =>
  failed.length
    ? `\n${failed.map((f) => failureBlock(f, layout.tail?.(f.name) ?? [])).join('')}`
    : '';

/**
 * The final table of a build, its rows kept to the layout's width (REASON gives way, cut with an
 * ellipsis); each failed image's whole message and log path below it; the verdict last.
 */
export function formatSummary(s: RunSummary, layout: SummaryLayout = {}): string {
  // The TEST column only when the run tested (build --test).
  const tested = s.images.some((i) => i.test !== null);
  const rows = s.images.map((i) => [
    i.name,
    i.status + (i.allowedToFail && !['built', 'pushed'].includes(i.status) ? ' (allowed)' : ''),
    rowReason(i),
    dur(i.seconds),
    ...(tested ? [[i.test ?? '', dur(i.testSeconds)].filter(Boolean).join(' ')] : []),
    shortDigest(i.digest ?? ''),
  ]);
  const header = ['IMAGE', 'STATUS', 'REASON', 'TIME', ...(tested ? ['TEST'] : []), 'DIGEST'];
  // On a narrow terminal the digest goes first (the JSON and the metadata file have it).
  const fit = { width: layout.width ?? CI_COLUMNS, column: 2, optional: [header.length - 1] };
  const failed = blocks(
    s.images.filter((i) => i.status === 'failed'),
    layout,
  );
  const publish = s.publish ? `${s.publish.message}\n` : '';
  return `${table(header, rows, fit)}${failed}\n${verdict(s)}: ${countsText(s.counts) || 'nothing to do'} in ${dur(s.seconds)} (profile ${s.profile}, tag ${s.tag}${s.extraTags?.length ? `, extra tags ${s.extraTags.join(' ')}` : ''})\n${publish}`;
}

/** The final table of `kbuild test`, laid out as a build's (MESSAGE gives way). */
export function formatTestSummary(s: SmokeSummary, layout: SummaryLayout = {}): string {
  const rows = s.images.map((i) => [
    i.name,
    i.status,
    dur(i.seconds),
    i.status === 'passed' ? '' : (i.message ?? ''),
  ]);
  const fit = { width: layout.width ?? CI_COLUMNS, column: 3 };
  const failed = blocks(
    s.images.filter((r) => r.log && r.status !== 'passed'),
    layout,
  );
  return `${table(['IMAGE', 'RESULT', 'TIME', 'MESSAGE'], rows, fit)}${failed}\n${verdict(s)}: ${countsText(s.counts) || 'nothing to test'} in ${dur(s.seconds)} (profile ${s.profile}, tag ${s.tag})\n`;
}
