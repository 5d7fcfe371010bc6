/**
 * Checking one layer of a `.sig` or `.att` manifest against a public key and the digest it should
 * be about, as `cosign verify --key` and `cosign verify-attestation --key` do: the signature over
 * the blob (simple signing) or over the envelope's PAE (DSSE, payload type in-toto), then the
 * claim (the payload's manifest digest, the statement's subject). Pure.
 */
import type { KeyObject } from 'node:crypto';
import type { Digest } from '../model.js';
import {
  DSSE_ENVELOPE_MEDIA_TYPE,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  type CosignLayer,
} from './cosign-manifest.js';
import { base64, IN_TOTO_PAYLOAD_TYPE, pae, parseEnvelope } from './dsse.js';
import { verifyP256 } from './ecdsa.js';
import { parseStatement, statementIsAbout, type InTotoStatement } from './in-toto.js';
import { parseSimpleSigningPayload } from './simple-signing.js';

/** What one signature layer is, for a key and a digest. */
export type SignatureLayerCheck =
  /** Made by the key, for this digest. */
  | { readonly kind: 'valid' }
  /** Does not verify with the key (another signer's, or corrupt). */
  | { readonly kind: 'other-key' }
  /** Made by the key, but its payload names another digest (a signature copied over). */
  | { readonly kind: 'other-digest'; readonly digest: Digest }
  /** Not a cosign signature (another media type, no signature, unreadable payload). */
  | { readonly kind: 'invalid'; readonly why: string };

/** The media types whose layers carry a signature (others are skipped, not counted). */
export const isSignatureLayer = (l: CosignLayer): boolean =>
  l.descriptor.mediaType === SIMPLE_SIGNING_MEDIA_TYPE;
export const isAttestationLayer = (l: CosignLayer): boolean =>
  l.descriptor.mediaType === DSSE_ENVELOPE_MEDIA_TYPE;

/** Checks a `.sig` layer whose blob is `payload`. */
export function checkSignature(
  layer: CosignLayer,
  payload: Uint8Array,
  key: KeyObject,
  digest: Digest,
): SignatureLayerCheck {
  const sig = base64(layer.descriptor.annotations?.[SIGNATURE_ANNOTATION]);
  if (!sig || sig.length === 0)
    return { kind: 'invalid', why: 'the layer has no signature annotation' };
  if (!verifyP256(key, payload, sig)) return { kind: 'other-key' };
  const claim = parseSimpleSigningPayload(payload);
  if (!claim.ok) return { kind: 'invalid', why: claim.error };
  return claim.value.digest === digest
    ? { kind: 'valid' }
    : { kind: 'other-digest', digest: claim.value.digest };
}

/** What one attestation layer is, for a key and a digest. */
export type AttestationLayerCheck =
  | {
      readonly kind: 'valid';
      readonly statement: InTotoStatement;
      /** The statement's bytes as signed. */
      readonly payload: Uint8Array;
    }
  | { readonly kind: 'other-key' }
  /** Made by the key, about other digests. */
  | { readonly kind: 'other-subject'; readonly statement: InTotoStatement }
  | { readonly kind: 'invalid'; readonly why: string };

/** Checks a `.att` layer whose blob is `envelope`: one of its signatures must verify. */
export function checkAttestation(
  envelopeBytes: Uint8Array,
  key: KeyObject,
  digest: Digest,
): AttestationLayerCheck {
  const env = parseEnvelope(envelopeBytes);
  if (!env.ok) return { kind: 'invalid', why: env.error };
  if (env.value.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return {
      kind: 'invalid',
      why: `the envelope's payloadType is ${env.value.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`,
    };
  }
  const signed = pae(env.value.payloadType, env.value.payload);
  if (!env.value.signatures.some((s) => verifyP256(key, signed, s.sig)))
    return { kind: 'other-key' };
  const statement = parseStatement(env.value.payload);
  if (!statement.ok) return { kind: 'invalid', why: statement.error };
  return statementIsAbout(statement.value, digest)
    ? { kind: 'valid', statement: statement.value, payload: env.value.payload }
    : { kind: 'other-subject', statement: statement.value };
}
