/** Text for people of `kbuild promote` and `kbuild prune`: tables and one-line summaries. */
import type { LocalOutcome, PruneLocalResult } from '../run/prune-local.js';
import type { RepositoryPrune } from '../run/prune-registry.js';
import type { PromotedImage } from '../run/promote.js';
import { table } from './table.js';

/** 1234567 -> "1.2 MB" (decimal units, as engines print image sizes). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]!}`;
}

/** `sha256:0123456789ab` (what `docker images` shows of an id). */
export const shortDigest = (d: string) => d.slice(0, 'sha256:'.length + 12);

export function promoteTable(
  images: readonly PromotedImage[],
  from: { registry: string; tag: string },
  to: { registry: string; tag: string },
): string {
  const rows = images.map((i) => [
    i.name,
    shortDigest(i.digest),
    `${from.registry}/${i.repository}:${from.tag} → ${to.registry}/${i.repository}:${to.tag}`,
    `${i.blobs.copied}/${i.blobs.mounted}/${i.blobs.present}${i.blobs.bytes ? ` (${formatBytes(i.blobs.bytes)})` : ''}`,
    i.status === 'already-there'
      ? 'already there'
      : i.replaced
        ? `copied (was ${shortDigest(i.replaced)})`
        : 'copied',
  ]);
  return table(['IMAGE', 'DIGEST', 'FROM → TO', 'BLOBS COPIED/MOUNTED/THERE', 'RESULT'], rows);
}

export function promoteSummary(images: readonly PromotedImage[]): string {
  const copied = images.filter((i) => i.status === 'copied');
  if (copied.length === 0) return `everything is already there: ${images.length} image(s)`;
  const sum = (k: 'copied' | 'mounted' | 'present' | 'bytes') =>
    images.reduce((n, i) => n + i.blobs[k], 0);
  return (
    `${copied.length} image(s) promoted, ${images.length - copied.length} already there; ` +
    `blobs: ${sum('copied')} copied (${formatBytes(sum('bytes'))}), ${sum('mounted')} mounted, ${sum('present')} already there`
  );
}

export function pruneRegistryTable(repos: readonly RepositoryPrune[], registry: string): string {
  const rows = repos.flatMap((r) =>
    r.decisions.map((d) => [
      r.name,
      d.tag,
      shortDigest(d.digest),
      d.keep ? 'keep' : r.deleted.includes(d.digest) ? 'deleted' : 'delete',
      d.reason,
    ]),
  );
  return rows.length
    ? table(['IMAGE', 'TAG', 'DIGEST', 'DECISION', 'REASON'], rows)
    : `no tags in ${registry} for these images\n`;
}

export function pruneLocalTable(decisions: readonly LocalOutcome[]): string {
  return decisions.length
    ? table(
        ['IMAGE', 'ID', 'MADE', 'SIZE', 'DECISION', 'REASON', 'REFERENCES'],
        decisions.map((d) => [
          d.name,
          shortDigest(d.id),
          d.madeAt.slice(0, 19).replace('T', ' '),
          formatBytes(d.size),
          d.keep ? 'keep' : (d.outcome ?? 'remove'),
          d.problem ? `${d.reason}: ${d.problem}` : d.reason,
          d.refs.join(' '),
        ]),
      )
    : 'no local images of these images\n';
}

export function pruneLocalSummary(r: PruneLocalResult, apply: boolean): string {
  const doomed = r.decisions.filter((d) => !d.keep);
  const kept = r.decisions.length - doomed.length;
  if (!apply) {
    return `${doomed.length} local image(s) to remove, ${kept} kept; would free up to ${formatBytes(r.freedBytes)}; nothing removed: run with --yes to remove them`;
  }
  const removed = doomed.filter((d) => d.outcome === 'removed').length;
  const untagged = doomed.filter((d) => d.outcome === 'untagged').length;
  const failed = doomed.filter((d) => d.outcome === 'failed').length;
  return (
    `${removed} local image(s) removed, ${kept} kept${untagged ? `, ${untagged} only untagged (still referenced elsewhere)` : ''}${failed ? `, ${failed} failed` : ''}; ` +
    `freed ${formatBytes(r.freedBytes)} (the removed images' sizes; layers they shared with kept images stay)`
  );
}
