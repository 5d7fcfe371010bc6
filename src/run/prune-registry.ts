/**
 * `kbuild prune --registry`: per repository of the family, list the tags, resolve each to its
 * digest (and each index to its children), let the retention rules decide (core/retention.ts),
 * and, when asked to, delete the doomed manifests by digest; then check that every kept tag
 * still resolves to the digest it had.
 */
import { IMAGE_MANIFEST_TYPES, readManifest } from '../core/registry/manifest-content.js';
import type { Digest, ImageName } from '../core/model.js';
import {
  decideRetention,
  type RetentionRule,
  type TagDecision,
  type TaggedManifest,
} from '../core/registry/retention.js';
import { mapLimited } from './limited.js';
import type { Registry } from './ports.js';

export interface PruneRegistryRequest {
  readonly registry: string;
  readonly images: readonly { readonly name: ImageName; readonly repository: string }[];
  readonly rules: readonly RetentionRule[];
  /** ms since the epoch. */
  readonly now: number;
  /** Delete (else only decide: a dry run). */
  readonly apply: boolean;
}

export interface RepositoryPrune {
  readonly name: ImageName;
  readonly repository: string;
  readonly decisions: readonly TagDecision[];
  /** The digests the decisions delete (deleted when `apply`). */
  readonly deleteDigests: readonly Digest[];
  readonly deleted: readonly Digest[];
  /** Why the repository could not be pruned (listing, resolving or deleting failed). */
  readonly problems: readonly string[];
  /** Kept tags checked after the deletes (with `apply`), and those no longer resolving as before. */
  readonly verified: number;
  readonly unresolved: readonly string[];
}

/** Prunes each repository of the request in turn; failures stay with their repository. */
export async function pruneRegistry(
  registry: Registry,
  req: PruneRegistryRequest,
  signal?: AbortSignal,
): Promise<RepositoryPrune[]> {
  const out: RepositoryPrune[] = [];
  for (const img of req.images) out.push(await pruneRepository(registry, req, img, signal));
  return out;
}

async function pruneRepository(
  registry: Registry,
  req: PruneRegistryRequest,
  img: { readonly name: ImageName; readonly repository: string },
  signal: AbortSignal | undefined,
): Promise<RepositoryPrune> {
  const at = { registry: req.registry, repository: img.repository };
  const empty = {
    ...img,
    decisions: [],
    deleteDigests: [],
    deleted: [],
    verified: 0,
    unresolved: [],
  };
  const listed = await registry.listTags(req.registry, img.repository, signal);
  if (!listed.ok) {
    // A repository never pushed to has nothing to prune.
    return listed.error.reason === 'not-found'
      ? { ...empty, problems: [] }
      : { ...empty, problems: [listed.error.message] };
  }
  const problems: string[] = [];
  const resolved = await mapLimited(listed.value, 8, async (tag) => ({
    tag,
    head: await registry.headManifest({ ...at, reference: tag }, signal),
  }));
  const tags: (TaggedManifest & { mediaType: string })[] = [];
  for (const { tag, head } of resolved) {
    // A tag deleted since the listing is simply gone; anything else leaves the decision unsafe.
    if (head.ok) tags.push({ tag, digest: head.value.digest, mediaType: head.value.mediaType });
    else if (head.error.reason !== 'not-found') problems.push(head.error.message);
  }
  // Indexes name other manifests; a digest whose media type the HEAD did not say is read too.
  const children = new Map<Digest, Digest[]>();
  const lists = tags.filter((t) => !IMAGE_MANIFEST_TYPES.has(t.mediaType)).map((t) => t.digest);
  for (const digest of new Set(lists)) {
    const m = await registry.getManifest({ ...at, reference: digest }, signal);
    if (!m.ok) {
      problems.push(m.error.message);
      continue;
    }
    const content = readManifest(m.value.mediaType, m.value.body);
    if (content.kind === 'index')
      children.set(
        digest,
        content.manifests.map((c) => c.digest),
      );
    else if (content.kind === 'unsupported')
      problems.push(`${req.registry}/${img.repository}@${digest}: ${content.why}`);
  }
  const plan = decideRetention({ tags, children, rules: req.rules, now: req.now });
  const base = { ...img, decisions: plan.decisions, deleteDigests: plan.deleteDigests };
  if (problems.length || !req.apply) {
    return { ...base, deleted: [], problems, verified: 0, unresolved: [] };
  }

  // Tags pushed while this ran may point at a doomed manifest: then decide again, next run.
  const again = await registry.listTags(req.registry, img.repository, signal);
  const same =
    again.ok &&
    again.value.length === listed.value.length &&
    again.value.every((t) => listed.value.includes(t));
  if (!same) {
    const why = again.ok
      ? 'its tags changed while kbuild looked at them; run prune again'
      : again.error.message;
    return { ...base, deleted: [], problems: [why], verified: 0, unresolved: [] };
  }
  const deleted: Digest[] = [];
  // What an index that could not be deleted names must stay too (indexes come first).
  const held = new Set<Digest>();
  const hold = (d: Digest) => {
    held.add(d);
    for (const c of children.get(d) ?? []) hold(c);
  };
  for (const digest of plan.deleteDigests) {
    if (held.has(digest)) continue;
    // A signature or attestation goes only after the manifest it belongs to did.
    const subject = plan.attachedTo.get(digest);
    if (subject !== undefined && !deleted.includes(subject)) continue;
    const r = await registry.deleteManifest({ ...at, reference: digest }, signal);
    // Gone already (an untagged child another delete took along) is as good as deleted.
    if (r.ok || r.error.reason === 'not-found') deleted.push(digest);
    else {
      problems.push(r.error.message);
      hold(digest);
    }
  }
  const kept = plan.decisions.filter((d) => d.keep);
  const checks = await mapLimited(kept, 8, async (d) => ({
    d,
    head: await registry.headManifest({ ...at, reference: d.tag }, signal),
  }));
  const unresolved = checks
    .filter(({ d, head }) => !head.ok || head.value.digest !== d.digest)
    .map(({ d }) => d.tag);
  return { ...base, deleted, problems, verified: kept.length, unresolved };
}
