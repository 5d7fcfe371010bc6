/**
 * The update check's pure half: the script that asks apt (in a container of an image, with the
 * image's own sources, pins and keys) for the candidate of every installed package version given,
 * comparing versions with dpkg itself, never here; its parser; and what the answers mean for each
 * image (updated, not applied by the last rebuild, failed).
 */
import type { Result } from '../model.js';
import type { InstalledPackage } from './inventory.js';

export interface PackageUpdate {
  readonly name: string;
  readonly arch: string;
  /** The version installed in the image. */
  readonly from: string;
  /** The candidate a rebuild would install. */
  readonly to: string;
}

/** What the check found for one image. */
export type PackageCheck =
  | { readonly status: 'current' }
  | { readonly status: 'updated'; readonly updates: readonly PackageUpdate[] }
  /** Every update found was already not applied by a rebuild (the template never upgrades it). */
  | { readonly status: 'not-applied'; readonly stays: readonly PackageUpdate[] }
  | { readonly status: 'check-failed'; readonly reason: string };

/** A package version to ask about: apt's name for it (`name` or `name:arch`), and the version. */
export interface Asked {
  readonly name: string;
  readonly arch: string;
  readonly version: string;
}

const MARK = 'KBU';

/**
 * The script for one apt configuration (`sh -c`, as root, with the network): `apt-get update`
 * (a source that fails is a failure, though apt exits 0), then one `apt-cache policy` for every
 * package, then `dpkg --compare-versions` for each version asked whose candidate differs.
 */
export function aptCheckScript(asked: readonly Asked[]): string {
  const list = asked.map((a) => `${a.name} ${a.arch} ${a.version}`).join('\n');
  return [
    `export LC_ALL=C DEBIAN_FRONTEND=noninteractive`,
    `native=$(dpkg --print-architecture)`,
    // A source that cannot be reached fails at once (apt retries a refused connection 3 times).
    `out=$(apt-get -o Acquire::Retries=0 update 2>&1); code=$?`,
    `bad=$(printf '%s\\n' "$out" | grep -E '^(Err:|E:|W: Failed to fetch|W: Some index files failed)' | head -4 | tr '\\n' ' ')`,
    `if [ $code -ne 0 ] || [ -n "$bad" ]; then printf '${MARK}\\tfailed\\t%s\\n' "\${bad:-apt-get update exited with $code}"; exit 0; fi`,
    `cat > /tmp/kbu.list <<'KBU_LIST'`,
    list,
    `KBU_LIST`,
    `q() { if [ "$2" = all ] || [ "$2" = "$native" ]; then echo "$1"; else echo "$1:$2"; fi; }`,
    `while read -r n a v; do q "$n" "$a"; done < /tmp/kbu.list | sort -u > /tmp/kbu.names`,
    `xargs apt-cache policy < /tmp/kbu.names 2>/dev/null | awk '/^[^ ].*:$/ { sub(/:$/, ""); p = $0; next } /^  Candidate:/ { print p "\\t" $2 }' > /tmp/kbu.cand`,
    `while read -r n a v; do`,
    `  c=$(awk -F'\\t' -v q="$(q "$n" "$a")" '$1 == q { print $2; exit }' /tmp/kbu.cand)`,
    `  if [ -z "$c" ] || [ "$c" = "(none)" ]; then printf '${MARK}\\tnone\\t%s\\t%s\\t%s\\n' "$n" "$a" "$v"`,
    `  elif [ "$c" != "$v" ] && dpkg --compare-versions "$c" gt "$v"; then printf '${MARK}\\tnewer\\t%s\\t%s\\t%s\\t%s\\n' "$n" "$a" "$v" "$c"`,
    `  fi`,
    `done < /tmp/kbu.list`,
    `printf '${MARK}\\tdone\\n'`,
  ].join('\n');
}

/** What apt answered for one configuration: the newer candidates, by `name arch version`. */
export interface AptAnswer {
  readonly newer: ReadonlyMap<string, string>;
}

export const askedKey = (p: { name: string; arch: string }, version: string) =>
  `${p.name} ${p.arch} ${version}`;

/** Parses the script's output; the error says why apt could not answer. */
export function parseAptCheck(lines: readonly string[]): Result<AptAnswer, string> {
  const newer = new Map<string, string>();
  let done = false;
  for (const line of lines) {
    const f = line.replace(/\r$/, '').split('\t');
    if (f[0] !== MARK) continue;
    if (f[1] === 'failed')
      return { ok: false, error: `apt-get update failed: ${f[2] ?? ''}`.trim() };
    if (f[1] === 'newer') newer.set(`${f[2]} ${f[3]} ${f[4]}`, f[5] ?? '');
    if (f[1] === 'done') done = true;
  }
  if (!done) return { ok: false, error: 'the check did not finish (does the image have apt?)' };
  return { ok: true, value: { newer } };
}

/**
 * One image's result from its configuration's answer: the packages it answers for (those it
 * added; a root image: all) that have a newer candidate, less those a rebuild already failed to
 * apply at that very candidate.
 */
export function imageCheck(
  answersFor: readonly InstalledPackage[],
  answer: AptAnswer,
  notApplied: Readonly<Record<string, string>> | undefined,
): PackageCheck {
  const found = answersFor.flatMap((p) => {
    const to = answer.newer.get(askedKey(p, p.version));
    return to ? [{ name: p.name, arch: p.arch, from: p.version, to }] : [];
  });
  const updates = found.filter((u) => notApplied?.[u.name] !== u.to);
  if (updates.length) return { status: 'updated', updates };
  return found.length ? { status: 'not-applied', stays: found } : { status: 'current' };
}

/** `packages-updated (kbt-beta 1.0 → 1.1, +2 more)` */
export function updatedReason(updates: readonly PackageUpdate[]): string {
  const [first] = updates;
  if (!first) return 'packages-updated';
  const more = updates.length > 1 ? `, +${updates.length - 1} more` : '';
  return `packages-updated (${first.name} ${first.from} → ${first.to}${more})`;
}

/** `update-not-applied: openssl 3.0.15-1 stays; upgrade it in the template or move the base image` */
export function notAppliedReason(stays: readonly PackageUpdate[]): string {
  const names = stays.map((u) => `${u.name} ${u.from}`).join(', ');
  return `update-not-applied: ${names} ${stays.length > 1 ? 'stay' : 'stays'}; upgrade ${stays.length > 1 ? 'them' : 'it'} in the template or move the base image`;
}

/**
 * The updates a rebuild did not apply: those whose package is still at its old version in the
 * new inventory. Kept so the same candidate does not rebuild the image again on every run.
 */
export function unapplied(
  updates: readonly PackageUpdate[],
  after: readonly InstalledPackage[],
): PackageUpdate[] {
  const now = new Map(after.map((p) => [`${p.name}:${p.arch}`, p.version]));
  return updates.filter((u) => now.get(`${u.name}:${u.arch}`) === u.from);
}
