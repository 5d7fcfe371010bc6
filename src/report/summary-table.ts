/** The final table of a run, and its one-line verdict. */
import type { RunSummary } from '../run/summary.js';
import { table } from './table.js';

const dur = (s: number | null) =>
  s === null ? '' : s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;

export function formatSummary(s: RunSummary): string {
  const rows = s.images.map((i) => [
    i.name,
    i.status + (i.allowedToFail && !['built', 'pushed'].includes(i.status) ? ' (allowed)' : ''),
    i.reason && i.reason !== i.status
      ? `${i.reason}${i.message ? `: ${i.message}` : ''}`
      : (i.message ?? ''),
    dur(i.seconds),
    i.digest ?? '',
  ]);
  const counts = Object.entries(s.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const verdict = s.interrupted ? 'INTERRUPTED' : s.ok ? 'OK' : 'FAILED';
  return `${table(['IMAGE', 'STATUS', 'REASON', 'TIME', 'DIGEST'], rows)}\n${verdict}: ${counts || 'nothing to do'} in ${dur(s.seconds)} (profile ${s.profile}, tag ${s.tag})\n`;
}
