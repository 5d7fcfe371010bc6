/**
 * Reading what cosign attached to a digest: the layers of its `.sig` or `.att` manifest and their
 * blobs, through the Registry port. Shared by signing (to append, and not twice) and by reading
 * the signed state.
 */
import { err, ok, type Digest, type Result } from '../../core/model.js';
import {
  cosignTag,
  parseCosignManifest,
  sha256Of,
  type AttachmentSuffix,
  type CosignLayer,
} from '../../core/signing/cosign-manifest.js';
import type { Registry, RegistryFailure } from '../ports.js';

/** An image in a registry, named by its digest: what is signed. */
export interface SignTarget {
  /** Host and optional port, e.g. `127.0.0.1:5000`. */
  readonly registry: string;
  /** Repository path without the registry, e.g. `kbuild/base`. */
  readonly repository: string;
  readonly digest: Digest;
}

/** At most this many layers are read from one manifest (cosign's own limit). */
export const MAX_LAYERS = 1000;
/** A signature or attestation blob larger than this is refused (an SBOM fits well below). */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;

/** `127.0.0.1:5000/kbuild/base@sha256:…`, for messages. */
export const targetName = (t: SignTarget): string => `${t.registry}/${t.repository}@${t.digest}`;

/**
 * The layers of the target's `.sig` or `.att` manifest; an empty list when there is none.
 * A manifest there that is not one cosign could have written is `invalid-response` (kbuild will
 * not write over what it cannot read).
 */
export async function readAttached(
  registry: Registry,
  target: SignTarget,
  suffix: AttachmentSuffix,
  signal?: AbortSignal,
): Promise<Result<readonly CosignLayer[], RegistryFailure>> {
  const tag = cosignTag(target.digest, suffix);
  const m = await registry.getManifest(
    { registry: target.registry, repository: target.repository, reference: tag },
    signal,
  );
  if (!m.ok) return m.error.reason === 'not-found' ? ok([]) : m;
  const layers = parseCosignManifest(m.value.body);
  if (!layers.ok) {
    return err({
      reason: 'invalid-response',
      message: `${target.registry}/${target.repository}:${tag}: ${layers.error}; it is not a cosign ${suffix === 'sig' ? 'signature' : 'attestation'} manifest (delete that tag, or sign into another repository)`,
    });
  }
  if (layers.value.length > MAX_LAYERS) {
    return err({
      reason: 'invalid-response',
      message: `${target.registry}/${target.repository}:${tag} has ${layers.value.length} layers, more than the ${MAX_LAYERS} cosign reads`,
    });
  }
  return ok(layers.value);
}

/** A blob of the target's repository, whole, checked against its digest. */
export async function readBlob(
  registry: Registry,
  target: SignTarget,
  digest: Digest,
  signal?: AbortSignal,
): Promise<Result<Uint8Array, RegistryFailure>> {
  const where = `${target.registry}/${target.repository}@${digest}`;
  const r = await registry.getBlob(target.registry, target.repository, digest, signal);
  if (!r.ok) return r;
  const reader = r.value.stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_BLOB_BYTES) {
        await reader.cancel();
        return err({
          reason: 'invalid-response',
          message: `${where}: the blob is larger than ${MAX_BLOB_BYTES} bytes, too large for a signature or attestation`,
        });
      }
      chunks.push(value);
    }
  } catch (e) {
    if (signal?.aborted) return err({ reason: 'aborted', message: `${where}: aborted` });
    return err({
      reason: 'unreachable',
      message: `${where}: the blob's download broke off (${(e as Error).message})`,
      transient: true,
    });
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  if (sha256Of(bytes) !== digest) {
    return err({
      reason: 'invalid-response',
      message: `${where}: the blob's bytes do not match its digest`,
    });
  }
  return ok(bytes);
}

/** Uploads a blob unless the repository has it already. */
export async function ensureBlob(
  registry: Registry,
  target: SignTarget,
  digest: Digest,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<Result<void, RegistryFailure>> {
  const has = await registry.blobExists(target.registry, target.repository, digest, signal);
  if (!has.ok) return has;
  if (has.value) return ok(undefined);
  const content = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  const up = await registry.uploadBlob(target.registry, target.repository, digest, content, signal);
  return up.ok ? ok(undefined) : up;
}
