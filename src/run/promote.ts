/**
 * Promotion: the images of a family found under one tag are tagged with another, in the same
 * registry or in another one, by digest. Nothing is rebuilt and nothing passes through an engine:
 * within one registry the manifest is PUT under the new tag (its blobs are there already); to
 * another registry each blob is found there, mounted from a repository of the family that has it,
 * or streamed registry to registry, then the child manifests go by digest, then the manifest or
 * index under the new tag. The new tag must then resolve to the source's digest.
 *
 * All or nothing at the start: when any image is missing under the source tag, nothing is written;
 * nor, with `requireSignedBy`, when any source digest lacks a valid signature by that key.
 */
import { ATTACHMENT_KINDS, attachmentTag } from '../core/registry/attachments.js';
import { readManifest } from '../core/registry/manifest-content.js';
import type { Digest, ImageName, Result } from '../core/model.js';
import { err, ok } from '../core/model.js';
import { mapLimited } from './limited.js';
import type { Registry } from './ports.js';
import { notSignedBy, type NotSignedImage } from './sign/require-signed.js';

export interface PromoteRequest {
  readonly images: readonly { readonly name: ImageName; readonly repository: string }[];
  readonly from: { readonly registry: string; readonly tag: string };
  readonly to: { readonly registry: string; readonly tag: string };
  /**
   * A public key (PEM SPKI, ECDSA P-256, loaded and checked by the caller): every source digest
   * must carry a valid signature by it (a manifest list: the list's own), or nothing is written.
   */
  readonly requireSignedBy?: string;
}

export interface BlobCounts {
  /** Streamed from the source registry. */
  readonly copied: number;
  /** Mounted from another repository of the destination registry. */
  readonly mounted: number;
  /** Already in the destination repository. */
  readonly present: number;
  /** Bytes streamed. */
  readonly bytes: number;
}

export interface PromotedImage {
  readonly name: ImageName;
  readonly repository: string;
  readonly digest: Digest;
  readonly mediaType: string;
  /** `already-there`: the destination tag named this digest before; nothing was written. */
  readonly status: 'copied' | 'already-there';
  /** Manifests written (an index's children and the tagged one). */
  readonly manifests: number;
  /** Cosign signatures and attestations copied with it (to another registry). */
  readonly attachments: number;
  readonly blobs: BlobCounts;
  /** What the destination tag named before, when it named another digest. */
  readonly replaced?: Digest;
}

export type PromoteFailure =
  /** Refused before anything was written: images absent (or unreadable) under the source tag. */
  | {
      readonly reason: 'source-missing';
      readonly missing: readonly { readonly name: ImageName; readonly ref: string }[];
      readonly unreadable: readonly {
        readonly name: ImageName;
        readonly ref: string;
        readonly message: string;
      }[];
    }
  /** Refused before anything was written (`requireSignedBy`): digests the key did not sign. */
  | { readonly reason: 'not-signed'; readonly refused: readonly NotSignedImage[] }
  /** Some images were promoted, others failed midway (run again: what is there is skipped). */
  | {
      readonly reason: 'copy-failed';
      readonly promoted: readonly PromotedImage[];
      readonly failed: readonly { readonly name: ImageName; readonly message: string }[];
    };

interface Stored {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly body: Uint8Array;
}

/** Promotes every image of the request; see the module comment. */
export async function promote(
  registry: Registry,
  req: PromoteRequest,
  signal?: AbortSignal,
): Promise<Result<readonly PromotedImage[], PromoteFailure>> {
  const { from } = req;
  const sources = await mapLimited(req.images, 8, async (img) => ({
    img,
    ref: `${from.registry}/${img.repository}:${from.tag}`,
    got: await registry.getManifest(
      { registry: from.registry, repository: img.repository, reference: from.tag },
      signal,
    ),
  }));
  const missing = sources.filter((s) => !s.got.ok && s.got.error.reason === 'not-found');
  const unreadable = sources.flatMap((s) => {
    if (!s.got.ok) {
      return s.got.error.reason === 'not-found'
        ? []
        : [{ name: s.img.name, ref: s.ref, message: s.got.error.message }];
    }
    const content = readManifest(s.got.value.mediaType, s.got.value.body);
    return content.kind === 'unsupported'
      ? [{ name: s.img.name, ref: s.ref, message: `cannot be copied: ${content.why}` }]
      : [];
  });
  if (missing.length || unreadable.length) {
    return err({
      reason: 'source-missing',
      missing: missing.map((s) => ({ name: s.img.name, ref: s.ref })),
      unreadable,
    });
  }
  if (req.requireSignedBy !== undefined) {
    const refused = await notSignedBy(
      registry,
      sources.flatMap((s) =>
        s.got.ok
          ? [
              {
                name: s.img.name,
                ref: s.ref,
                registry: from.registry,
                repository: s.img.repository,
                digest: s.got.value.digest,
              },
            ]
          : [],
      ),
      req.requireSignedBy,
      signal,
    );
    if (refused.length) return err({ reason: 'not-signed', refused });
  }

  /** Blob digest -> a repository of the destination registry known to hold it (for mounts). */
  const holders = new Map<Digest, string>();
  const promoted: PromotedImage[] = [];
  const failed: { name: ImageName; message: string }[] = [];
  for (const s of sources) {
    if (!s.got.ok) continue;
    const r = await promoteOne(registry, req, s.img, s.got.value, holders, signal);
    if (r.ok) promoted.push(r.value);
    else failed.push({ name: s.img.name, message: r.error });
  }
  return failed.length ? err({ reason: 'copy-failed', promoted, failed }) : ok(promoted);
}

async function promoteOne(
  registry: Registry,
  req: PromoteRequest,
  img: { readonly name: ImageName; readonly repository: string },
  source: Stored,
  holders: Map<Digest, string>,
  signal: AbortSignal | undefined,
): Promise<Result<PromotedImage, string>> {
  const { from, to } = req;
  const repository = img.repository;
  const dst = { registry: to.registry, repository };
  const src = { registry: from.registry, repository };
  const target = `${to.registry}/${repository}:${to.tag}`;
  const counts = { copied: 0, mounted: 0, present: 0, bytes: 0 };
  let manifests = 0;
  let attachments = 0;
  const result = (status: PromotedImage['status'], replaced?: Digest): PromotedImage => ({
    name: img.name,
    repository,
    digest: source.digest,
    mediaType: source.mediaType,
    status,
    manifests,
    attachments,
    blobs: counts,
    ...(replaced ? { replaced } : {}),
  });

  const before = await registry.headManifest({ ...dst, reference: to.tag }, signal);
  if (before.ok && before.value.digest === source.digest) {
    // Signatures made since the last promotion still go along.
    const why = await placeAttachments();
    return why ? err(why) : ok(result('already-there'));
  }
  if (!before.ok && before.error.reason !== 'not-found') return err(before.error.message);

  async function moveBlob(digest: Digest): Promise<string | undefined> {
    const here = await registry.blobExists(to.registry, repository, digest, signal);
    if (!here.ok) return here.error.message;
    if (here.value) {
      counts.present++;
      holders.set(digest, repository);
      return undefined;
    }
    const holder = holders.get(digest);
    if (holder !== undefined) {
      const m = await registry.mountBlob(to.registry, repository, digest, holder, signal);
      if (!m.ok) return m.error.message;
      if (m.value) {
        counts.mounted++;
        return undefined;
      }
    }
    const got = await registry.getBlob(from.registry, repository, digest, signal);
    if (!got.ok) return got.error.message;
    const up = await registry.uploadBlob(to.registry, repository, digest, got.value.stream, signal);
    if (!up.ok) return up.error.message;
    counts.copied++;
    counts.bytes += up.value.bytes;
    holders.set(digest, repository);
    return undefined;
  }

  /** Makes `m` exist in the destination (its blobs and children first), under `reference`. */
  async function place(m: Stored, reference: string): Promise<string | undefined> {
    // In one registry the repository is the same: everything but the new tag is there already.
    if (from.registry !== to.registry) {
      const there = await registry.headManifest({ ...dst, reference: m.digest }, signal);
      if (!there.ok && there.error.reason !== 'not-found') return there.error.message;
      if (!there.ok) {
        const content = readManifest(m.mediaType, m.body);
        if (content.kind === 'unsupported') return `${m.digest}: ${content.why}`;
        if (content.kind === 'index') {
          for (const child of content.manifests) {
            const c = await registry.getManifest({ ...src, reference: child.digest }, signal);
            if (!c.ok) return c.error.message;
            const why = await place(c.value, child.digest);
            if (why) return why;
          }
        } else {
          for (const blob of content.blobs) {
            const why = await moveBlob(blob.digest);
            if (why) return why;
          }
        }
      } else if (reference === m.digest) return undefined;
    }
    const put = await registry.putManifest(
      { ...dst, reference },
      { mediaType: m.mediaType, body: m.body },
      signal,
    );
    if (!put.ok) return put.error.message;
    if (put.value.digest !== m.digest)
      return `${to.registry}/${repository} stored ${m.digest} as ${put.value.digest}`;
    manifests++;
    return undefined;
  }

  /**
   * Cosign's signatures and attestations of the image (and of each platform's manifest) are
   * tagged by digest in the same repository: within one registry they are there already; to
   * another registry they go along, blobs and all.
   */
  async function placeAttachments(): Promise<string | undefined> {
    if (from.registry === to.registry) return undefined;
    const content = readManifest(source.mediaType, source.body);
    const subjects = [
      source.digest,
      ...(content.kind === 'index' ? content.manifests.map((m) => m.digest) : []),
    ];
    for (const subject of subjects) {
      for (const kind of ATTACHMENT_KINDS) {
        const tag = attachmentTag(subject, kind);
        const m = await registry.getManifest({ ...src, reference: tag }, signal);
        if (!m.ok && m.error.reason === 'not-found') continue;
        if (!m.ok) return m.error.message;
        const why = await place(m.value, tag);
        if (why) return why;
        attachments++;
      }
    }
    return undefined;
  }

  const why = (await place(source, to.tag)) ?? (await placeAttachments());
  if (why) return err(why);
  const after = await registry.headManifest({ ...dst, reference: to.tag }, signal);
  if (!after.ok) return err(`${target} does not resolve after the copy: ${after.error.message}`);
  if (after.value.digest !== source.digest)
    return err(`${target} resolves to ${after.value.digest} after the copy, not ${source.digest}`);
  return ok(result('copied', before.ok ? before.value.digest : undefined));
}
