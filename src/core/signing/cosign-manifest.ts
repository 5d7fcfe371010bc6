/**
 * Where and how cosign stores signatures and attestations (cosign's specs/SIGNATURE_SPEC.md,
 * pkg/oci/static, pkg/types): an OCI image manifest in the signed image's own repository, under
 * the tag `sha256-<hex>.sig` (signatures) or `sha256-<hex>.att` (attestations) of the signed
 * digest. Each layer is one signature: its blob is the signed payload (simple signing JSON, or a
 * DSSE envelope), its annotations carry the base64 signature (`dev.cosignproject.cosign/signature`,
 * empty for attestations, whose signature is inside the envelope) and, for attestations, the
 * `predicateType`. Signing again appends a layer to the manifest already there, keeping every
 * other signer's layers as they are. Pure.
 */
import { attachmentTag, type AttachmentKind } from '../registry/attachments.js';
import { createHash } from 'node:crypto';
import { err, ok, type Digest, type Result } from '../model.js';
import { DOCKER_MANIFEST, OCI_MANIFEST } from '../registry/manifest-list.js';

/** Layer media type of a simple-signing payload (cosign's SimpleSigningMediaType). */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** Layer media type of an attestation (cosign's DssePayloadType). */
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
/** The layer annotation holding the base64 signature over the layer's blob. */
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** The layer annotation naming an attestation's predicate type. */
export const PREDICATE_TYPE_ANNOTATION = 'predicateType';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

export type AttachmentSuffix = Extract<AttachmentKind, 'sig' | 'att'>;

/** `sha256:<hex>` -> `sha256-<hex>.sig` (or `.att`): the tag cosign looks the digest's up by. */
export const cosignTag = (digest: Digest, suffix: AttachmentSuffix): string =>
  attachmentTag(digest, suffix);

/** A content descriptor (OCI), fields in the order go-containerregistry writes them. */
export interface Descriptor {
  readonly mediaType: string;
  readonly size: number;
  readonly digest: Digest;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** One layer of a `.sig`/`.att` manifest: its descriptor, and its JSON as read (kept verbatim). */
export interface CosignLayer {
  readonly descriptor: Descriptor;
  /** The descriptor's JSON as stored (unknown fields of other tools kept when appending). */
  readonly json: Readonly<Record<string, unknown>>;
}

/** A layer to add, with the blob it names. */
export interface NewLayer {
  readonly descriptor: Descriptor;
  readonly blob: Uint8Array;
}

/** `sha256:<hex>` of bytes. */
export function sha256Of(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}

/** The layer of a simple-signing signature: the payload as blob, the signature as annotation. */
export function signatureLayer(payload: Uint8Array, signature: Uint8Array): NewLayer {
  return {
    descriptor: {
      mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
      size: payload.length,
      digest: sha256Of(payload),
      annotations: { [SIGNATURE_ANNOTATION]: Buffer.from(signature).toString('base64') },
    },
    blob: payload,
  };
}

/**
 * The layer of an attestation: the serialized DSSE envelope as blob, its predicate type as
 * annotation, and an empty signature annotation (as cosign writes: the signature is in the
 * envelope).
 */
export function attestationLayer(envelope: Uint8Array, predicateType: string): NewLayer {
  return {
    descriptor: {
      mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
      size: envelope.length,
      digest: sha256Of(envelope),
      annotations: { [SIGNATURE_ANNOTATION]: '', [PREDICATE_TYPE_ANNOTATION]: predicateType },
    },
    blob: envelope,
  };
}

/**
 * Reads a `.sig`/`.att` manifest (OCI or Docker image manifest, as cosign may write either) into
 * its layers. Layers of other media types are kept (and skipped by readers).
 */
export function parseCosignManifest(body: Uint8Array): Result<readonly CosignLayer[], string> {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return err('the manifest is not UTF-8 JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return err('the manifest is not a JSON object');
  }
  const o = doc as Record<string, unknown>;
  if (o.schemaVersion !== 2) return err('the manifest is not schema version 2');
  if (
    o.mediaType !== undefined &&
    o.mediaType !== OCI_MANIFEST &&
    o.mediaType !== DOCKER_MANIFEST
  ) {
    return err(`the manifest is a ${JSON.stringify(o.mediaType)}, not an image manifest`);
  }
  if (!Array.isArray(o.layers)) return err('the manifest has no layers list');
  const layers: CosignLayer[] = [];
  for (const [i, l] of (o.layers as unknown[]).entries()) {
    const d = descriptorOf(l);
    if (!d) return err(`layer ${i + 1} of the manifest is not a descriptor`);
    layers.push({ descriptor: d, json: l as Record<string, unknown> });
  }
  return ok(layers);
}

function descriptorOf(l: unknown): Descriptor | undefined {
  if (typeof l !== 'object' || l === null || Array.isArray(l)) return undefined;
  const o = l as Record<string, unknown>;
  if (typeof o.mediaType !== 'string' || typeof o.digest !== 'string') return undefined;
  if (!/^sha256:[0-9a-f]{64}$/.test(o.digest)) return undefined;
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) return undefined;
  const annotations: Record<string, string> = {};
  if (typeof o.annotations === 'object' && o.annotations !== null) {
    for (const [k, v] of Object.entries(o.annotations))
      if (typeof v === 'string') annotations[k] = v;
  }
  return { mediaType: o.mediaType, size: o.size, digest: o.digest as Digest, annotations };
}

/** A `.sig`/`.att` manifest and the config blob it names, ready to upload. */
export interface CosignImage {
  readonly manifest: { readonly mediaType: string; readonly body: Uint8Array };
  readonly config: { readonly digest: Digest; readonly blob: Uint8Array };
}

/**
 * The manifest holding `existing` layers (verbatim, in their order) followed by `added` ones, and
 * its config: what go-containerregistry's empty image with these layers appended has (no
 * platform, zero times, one history entry and one diff id per layer: a cosign layer is stored
 * uncompressed, so its diff id is its digest).
 */
export function cosignImage(
  existing: readonly CosignLayer[],
  added: readonly Descriptor[],
): CosignImage {
  const layers: unknown[] = [...existing.map((l) => l.json), ...added.map(descriptorJson)];
  const digests = [...existing.map((l) => l.descriptor.digest), ...added.map((d) => d.digest)];
  const zero = '0001-01-01T00:00:00Z';
  const configBlob = new TextEncoder().encode(
    JSON.stringify({
      architecture: '',
      created: zero,
      history: digests.map(() => ({ created: zero })),
      os: '',
      rootfs: { type: 'layers', diff_ids: digests },
      config: {},
    }),
  );
  const config = { digest: sha256Of(configBlob), blob: configBlob };
  const body = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptorJson({
        mediaType: OCI_CONFIG,
        size: configBlob.length,
        digest: config.digest,
      }),
      layers,
    }),
  );
  return { manifest: { mediaType: OCI_MANIFEST, body }, config };
}

function descriptorJson(d: Descriptor): Record<string, unknown> {
  return {
    mediaType: d.mediaType,
    size: d.size,
    digest: d.digest,
    ...(d.annotations && Object.keys(d.annotations).length > 0
      ? { annotations: d.annotations }
      : {}),
  };
}
