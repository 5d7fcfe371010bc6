/**
 * Fingerprints: sha256 over a canonical record of everything an image is made of. An image is
 * rebuilt when, and only when, its fingerprint changed; the stored record says why.
 *
 * Pure: the adapters hash the files and ask the engine for base digests; this only combines.
 */
import { createHash } from 'node:crypto';
import type { Fingerprint } from '../model.js';

/** Bump when the record's meaning changes: every image is then rebuilt once. */
export const FINGERPRINT_SCHEMA = 1;

/** What an image is made of. Key order never matters: the record is hashed canonically. */
export interface FingerprintRecord {
  readonly schema: number;
  /** sha256 of the rendered Dockerfile. */
  readonly dockerfile: string;
  /** Build-context files the engine would send (after .dockerignore): path -> sha256, with `+x` when executable. */
  readonly context: Readonly<Record<string, string>>;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly platform: string;
  readonly engine: string;
  /** Family parents -> their fingerprints. */
  readonly parents: Readonly<Record<string, string>>;
  /** External bases -> their digests ('' when the digest cannot be known). */
  readonly bases: Readonly<Record<string, string>>;
  /** What the image's source archive is (`sha256:…` or `git:<commit>`); absent without one. */
  readonly source?: string;
  /**
   * Ids of the build secrets given to the build that it mounts (sorted); absent without any. A
   * secret's content is never an input: a changed secret file rebuilds nothing, a new id does.
   */
  readonly secrets?: readonly string[];
}

export const sha256 = (text: string | Uint8Array) =>
  createHash('sha256').update(text).digest('hex');

/** JSON with object keys sorted at every level: equal records give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function fingerprintOf(record: FingerprintRecord): Fingerprint {
  return sha256(canonicalJson(record)) as Fingerprint;
}

/** Why an image must be built; `plan` prints these. */
export type RebuildReason =
  | { readonly kind: 'new' }
  | { readonly kind: 'forced' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'schema-changed' }
  | { readonly kind: 'dockerfile-changed' }
  | { readonly kind: 'context-changed'; readonly files: readonly string[] }
  | { readonly kind: 'source-changed'; readonly from: string; readonly to: string }
  | { readonly kind: 'build-args-changed'; readonly keys: readonly string[] }
  | { readonly kind: 'secrets-changed'; readonly ids: readonly string[] }
  | { readonly kind: 'labels-changed'; readonly keys: readonly string[] }
  | { readonly kind: 'platform-changed'; readonly from: string; readonly to: string }
  | { readonly kind: 'engine-changed'; readonly from: string; readonly to: string }
  | { readonly kind: 'parent-changed'; readonly names: readonly string[] }
  | { readonly kind: 'base-moved'; readonly refs: readonly string[] };

const changedKeys = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();

/** The ids in one list and not the other. */
const changedIds = (a: readonly string[] = [], b: readonly string[] = []) =>
  [...a.filter((x) => !b.includes(x)), ...b.filter((x) => !a.includes(x))].sort();

/**
 * Every difference between the stored record and the current one, most specific first.
 * Empty when they are equal (the image is then rebuilt only if it is `missing`).
 */
export function diffRecords(
  before: FingerprintRecord | undefined,
  now: FingerprintRecord,
): RebuildReason[] {
  if (!before) return [{ kind: 'new' }];
  if (before.schema !== now.schema) return [{ kind: 'schema-changed' }];
  const out: RebuildReason[] = [];
  if (before.dockerfile !== now.dockerfile) out.push({ kind: 'dockerfile-changed' });
  const files = changedKeys(before.context, now.context);
  if (files.length) out.push({ kind: 'context-changed', files });
  if (before.source !== now.source)
    out.push({ kind: 'source-changed', from: before.source ?? 'none', to: now.source ?? 'none' });
  const args = changedKeys(before.buildArgs, now.buildArgs);
  if (args.length) out.push({ kind: 'build-args-changed', keys: args });
  const secrets = changedIds(before.secrets, now.secrets);
  if (secrets.length) out.push({ kind: 'secrets-changed', ids: secrets });
  const labels = changedKeys(before.labels, now.labels);
  if (labels.length) out.push({ kind: 'labels-changed', keys: labels });
  if (before.platform !== now.platform)
    out.push({ kind: 'platform-changed', from: before.platform, to: now.platform });
  if (before.engine !== now.engine)
    out.push({ kind: 'engine-changed', from: before.engine, to: now.engine });
  const parents = changedKeys(before.parents, now.parents);
  if (parents.length) out.push({ kind: 'parent-changed', names: parents });
  const bases = changedKeys(before.bases, now.bases);
  if (bases.length) out.push({ kind: 'base-moved', refs: bases });
  return out;
}

const MAX_LISTED = 5;
/** `git:0123456789ab` for `git:<40 hex>`, `sha256:…` likewise. */
export const shortId = (id: string) => id.replace(/^(\w+:)?([0-9a-f]{12})[0-9a-f]+$/, '$1$2');
const list = (xs: readonly string[]) =>
  xs.length > MAX_LISTED
    ? `${xs.slice(0, MAX_LISTED).join(', ')}, +${xs.length - MAX_LISTED} more`
    : xs.join(', ');

/** `context-changed (files/a, files/b)` — the form `kbuild plan` prints. */
export function formatReason(r: RebuildReason): string {
  switch (r.kind) {
    case 'new':
    case 'forced':
    case 'missing':
    case 'schema-changed':
    case 'dockerfile-changed':
      return r.kind;
    case 'context-changed':
      return `context-changed (${list(r.files)})`;
    case 'build-args-changed':
      return `build-args-changed (${list(r.keys)})`;
    case 'secrets-changed':
      return `secrets-changed (${list(r.ids)})`;
    case 'labels-changed':
      return `labels-changed (${list(r.keys)})`;
    case 'platform-changed':
    case 'engine-changed':
      return `${r.kind} (${r.from} → ${r.to})`;
    case 'source-changed':
      return `${r.kind} (${shortId(r.from)} → ${shortId(r.to)})`;
    case 'parent-changed':
      return `parent-changed (${list(r.names)})`;
    case 'base-moved':
      return `base-moved (${list(r.refs)})`;
  }
}
