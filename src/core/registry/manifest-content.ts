/**
 * What a manifest stored in a registry references: the child manifests of an index (or Docker
 * manifest list), or the config and layer blobs of an image manifest. Pure: bytes in, digests out.
 */
import { DOCKER_MANIFEST, isListMediaType, OCI_MANIFEST } from './manifest-list.js';
import type { Digest } from '../model.js';

export interface Descriptor {
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string;
}

export type ManifestContent =
  | { readonly kind: 'index'; readonly manifests: readonly Descriptor[] }
  /** The config blob first, then the layers (foreign layers, which live elsewhere, left out). */
  | { readonly kind: 'image'; readonly blobs: readonly Descriptor[] }
  | { readonly kind: 'unsupported'; readonly why: string };

/** Media types of image manifests (which name blobs, not other manifests). */
export const IMAGE_MANIFEST_TYPES: ReadonlySet<string> = new Set([DOCKER_MANIFEST, OCI_MANIFEST]);

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/** Reads a manifest; `mediaType` is what the registry answered (else the body's own). */
export function readManifest(mediaType: string, body: Uint8Array): ManifestContent {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
  } catch {
    return { kind: 'unsupported', why: 'the manifest is not JSON' };
  }
  const type = mediaType || (typeof doc['mediaType'] === 'string' ? doc['mediaType'] : '');
  const descriptors = (v: unknown): Descriptor[] | string => {
    if (!Array.isArray(v)) return 'a list of descriptors is missing';
    const out: Descriptor[] = [];
    for (const x of v as Record<string, unknown>[]) {
      if (typeof x?.['digest'] !== 'string' || !DIGEST.test(x['digest']))
        return `a descriptor has no valid digest (${JSON.stringify(x)})`;
      // Foreign layers (Windows base layers) are fetched from their URLs, not the registry.
      if (Array.isArray(x['urls']) && x['urls'].length > 0) continue;
      out.push({
        digest: x['digest'] as Digest,
        size: typeof x['size'] === 'number' ? x['size'] : 0,
        mediaType: typeof x['mediaType'] === 'string' ? x['mediaType'] : '',
      });
    }
    return out;
  };
  if (isListMediaType(type)) {
    const manifests = descriptors(doc['manifests']);
    return typeof manifests === 'string'
      ? { kind: 'unsupported', why: manifests }
      : { kind: 'index', manifests };
  }
  if (IMAGE_MANIFEST_TYPES.has(type)) {
    const blobs = descriptors([
      doc['config'],
      ...(Array.isArray(doc['layers']) ? (doc['layers'] as unknown[]) : []),
    ]);
    return typeof blobs === 'string'
      ? { kind: 'unsupported', why: blobs }
      : { kind: 'image', blobs };
  }
  return {
    kind: 'unsupported',
    why: `media type ${type || '(none)'} (kbuild copies Docker v2 and OCI manifests and indexes)`,
  };
}
