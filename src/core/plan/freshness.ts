/**
 * Fingerprints for a family, and what each one means for a build: fresh (an image with that
 * fingerprint exists), retag (it exists, but the shared tag does not name it), or build (with
 * the reasons, from the stored record). Pure: the adapters observe the engine and the files.
 */
import type { Family } from '../family.js';
import {
  diffRecords,
  FINGERPRINT_SCHEMA,
  fingerprintOf,
  formatReason,
  sha256,
  type FingerprintRecord,
} from './fingerprint.js';
import type { Fingerprint, ImageName } from '../model.js';

export interface Fingerprinted {
  readonly fingerprint: Fingerprint;
  readonly record: FingerprintRecord;
}

export interface FingerprintInputs {
  /** Build-context hashes (see adapters/context-hash) of every image to fingerprint. */
  readonly contexts: ReadonlyMap<ImageName, Readonly<Record<string, string>>>;
  /** External base reference -> digest or image id ('' or absent: unknown). */
  readonly bases: ReadonlyMap<string, string>;
  readonly engine: string;
  readonly labels: (name: ImageName) => Readonly<Record<string, string>>;
  /** What each image's source is (see FingerprintRecord.source); absent for images without one. */
  readonly sources?: ReadonlyMap<ImageName, string>;
}

/**
 * Fingerprints of `names` (which must include their ancestors) in graph order, each folding in
 * its parents' fingerprints: a change anywhere above an image changes its fingerprint.
 */
export function fingerprintFamily(
  family: Family,
  names: ReadonlySet<ImageName>,
  inputs: FingerprintInputs,
): Map<ImageName, Fingerprinted> {
  const out = new Map<ImageName, Fingerprinted>();
  for (const name of family.graph.order) {
    if (!names.has(name)) continue;
    const img = family.images.get(name)!;
    const node = family.graph.nodes.get(name)!;
    const record: FingerprintRecord = {
      schema: FINGERPRINT_SCHEMA,
      dockerfile: sha256(withoutFamilyRefs(img.dockerfile, family, node.parents)),
      context: inputs.contexts.get(name) ?? {},
      buildArgs: img.buildArgs,
      labels: inputs.labels(name),
      platform: family.platform,
      engine: inputs.engine,
      parents: Object.fromEntries(node.parents.map((p) => [p, out.get(p)?.fingerprint ?? ''])),
      bases: Object.fromEntries(node.externals.map((b) => [b, inputs.bases.get(b) ?? ''])),
      source: inputs.sources?.get(name),
      secrets: img.secrets?.length ? img.secrets : undefined,
    };
    out.set(name, { fingerprint: fingerprintOf(record), record });
  }
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The Dockerfile with each family parent's reference replaced by a placeholder. The parent is in
 * the record by its fingerprint already; its reference carries the shared tag (and registry),
 * which must not make a new tag look like a new image: that is a retag, not a rebuild.
 */
export function withoutFamilyRefs(
  dockerfile: string,
  family: Family,
  parents: readonly ImageName[],
): string {
  let text = dockerfile;
  for (const p of parents) {
    const repo = family.naming.repository(p);
    const registry = family.naming.registry ? `(?:${escapeRe(family.naming.registry)}/)?` : '';
    const re = new RegExp(
      `(^|[\\s=])${registry}${escapeRe(repo)}(?::${escapeRe(family.naming.tag)})?(?=$|[\\s])`,
      'gm',
    );
    text = text.replace(re, `$1<family:${p}>`);
  }
  return text;
}

/** What the engine (and state) tell about an image with a given fingerprint. */
export interface Observation {
  /** An image with this fingerprint exists locally. */
  readonly present: boolean;
  /** The registry holds an image with this fingerprint (its fp tag), with this digest. */
  readonly remoteDigest?: string;
  /** Every reference the image should carry already names that image. */
  readonly tagged: boolean;
}

export type Freshness =
  | { readonly action: 'fresh'; readonly from?: 'registry' }
  | { readonly action: 'retag' }
  | { readonly action: 'build'; readonly reason: string };

/** Decides one image: build (and why), retag, or nothing to do. */
export function freshness(
  now: Fingerprinted,
  stored: FingerprintRecord | undefined,
  seen: Observation,
  force: boolean,
): Freshness {
  if (force) return { action: 'build', reason: 'forced' };
  if (seen.present) return seen.tagged ? { action: 'fresh' } : { action: 'retag' };
  if (seen.remoteDigest) return { action: 'fresh', from: 'registry' };
  const reasons = diffRecords(stored, now.record);
  return {
    action: 'build',
    reason: reasons.length ? reasons.map(formatReason).join('; ') : 'missing',
  };
}
