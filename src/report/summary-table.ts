/** The final table of a run, and its one-line verdict. */
import type { SmokeSummary } from '../run/smoke-result.js';
import type { RunSummary } from '../run/summary.js';
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

/** OK, FAILED or INTERRUPTED. */
export const verdict = (s: { interrupted: boolean; ok: boolean }) =>
  s.interrupted ? 'INTERRUPTED' : s.ok ? 'OK' : 'FAILED';

export function formatSummary(s: RunSummary): string {
  // The TEST column only when the run tested (build --test).
  const tested = s.images.some((i) => i.test !== null);
  const rows = s.images.map((i) => [
    i.name,
    i.status + (i.allowedToFail && !['built', 'pushed'].includes(i.status) ? ' (allowed)' : ''),
    i.reason && i.reason !== i.status
      ? `${i.reason}${i.message ? `: ${i.message}` : ''}`
      : (i.message ?? ''),
    dur(i.seconds),
    ...(tested ? [[i.test ?? '', dur(i.testSeconds)].filter(Boolean).join(' ')] : []),
    i.digest ?? '',
  ]);
  const header = ['IMAGE', 'STATUS', 'REASON', 'TIME', ...(tested ? ['TEST'] : []), 'DIGEST'];
  const publish = s.publish ? `${s.publish.message}\n` : '';
  return `${table(header, rows)}\n${verdict(s)}: ${countsText(s.counts) || 'nothing to do'} in ${dur(s.seconds)} (profile ${s.profile}, tag ${s.tag})\n${publish}`;
}

/** The final table of `kbuild test`. */
export function formatTestSummary(s: SmokeSummary): string {
  const rows = s.images.map((i) => [
    i.name,
    i.status,
    dur(i.seconds),
    i.status === 'passed' ? '' : (i.message ?? ''),
  ]);
  return `${table(['IMAGE', 'RESULT', 'TIME', 'MESSAGE'], rows)}\n${verdict(s)}: ${countsText(s.counts) || 'nothing to test'} in ${dur(s.seconds)} (profile ${s.profile}, tag ${s.tag})\n`;
}
