/**
 * Cosign's signed payload for a container image: the "simple signing" JSON (containers/image's
 * format, cosign's `payload.Cosign` from sigstore/sigstore pkg/signature/payload). The signature
 * covers these exact bytes, stored as a layer blob of the `.sig` manifest; cosign verifies the
 * signature over the blob and then that `critical.image.docker-manifest-digest` is the digest
 * being verified. Pure.
 */
import { err, ok, type Digest, type Result } from '../model.js';

/** The `critical.type` cosign writes and requires. */
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

/** What a simple-signing payload claims. */
export interface SimpleSigningClaim {
  /** `critical.identity.docker-reference`: the repository, e.g. `127.0.0.1:5000/kbuild/base`. */
  readonly dockerReference: string;
  /** `critical.image.docker-manifest-digest`. */
  readonly digest: Digest;
}

/**
 * The payload cosign signs for `digest` in `dockerReference` (registry/repository, no tag), byte
 * for byte as Go's json.Marshal writes it (fields in struct order, `"optional":null`):
 * `{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},"type":"cosign container image signature"},"optional":null}`.
 */
export function simpleSigningPayload(dockerReference: string, digest: Digest): Uint8Array {
  const json = goJson({
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': digest },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional: null,
  });
  return new TextEncoder().encode(json);
}

/**
 * Reads a simple-signing payload (any producer's: extra fields and `optional` annotations are
 * allowed); fails when it is not JSON, not of cosign's type, or has no digest.
 */
export function parseSimpleSigningPayload(bytes: Uint8Array): Result<SimpleSigningClaim, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return err('the payload is not UTF-8 JSON');
  }
  const critical = field(doc, 'critical');
  const type = field(critical, 'type');
  if (type !== COSIGN_SIGNATURE_TYPE) {
    return err(
      `the payload's critical.type is ${JSON.stringify(type)}, not "${COSIGN_SIGNATURE_TYPE}"`,
    );
  }
  const digest = field(field(critical, 'image'), 'docker-manifest-digest');
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    return err('the payload has no sha256 critical.image.docker-manifest-digest');
  }
  const reference = field(field(critical, 'identity'), 'docker-reference');
  return ok({
    dockerReference: typeof reference === 'string' ? reference : '',
    digest: digest as Digest,
  });
}

function field(o: unknown, name: string): unknown {
  return typeof o === 'object' && o !== null && !Array.isArray(o)
    ? (o as Record<string, unknown>)[name]
    : undefined;
}

/**
 * JSON as Go's encoding/json writes it: JSON.stringify, plus Go's escapes of `<`, `>`, `&` and
 * U+2028/U+2029 (so a signer in Go and this one make the same bytes for any string).
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
