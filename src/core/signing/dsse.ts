/**
 * DSSE, the Dead Simple Signing Envelope (secure-systems-lab/dsse, protocol v1), as cosign
 * writes attestations: the in-toto statement is the payload, the signature covers its
 * pre-authentication encoding (PAE) with the payload type, and the envelope JSON is the layer
 * blob of the `.att` manifest. Pure.
 */
import { err, ok, type Result } from '../model.js';
import { goJson } from './simple-signing.js';

/** The payload type of an in-toto statement (cosign requires it on attestations). */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  /** An unauthenticated hint; cosign writes `""`. */
  readonly keyid: string;
  /** The raw signature (for ECDSA: DER). */
  readonly sig: Uint8Array;
}

export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  readonly signatures: readonly DsseSignature[];
}

/**
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII
 * decimal bytes: what is signed, never the envelope itself.
 */
export function pae(payloadType: string, body: Uint8Array): Uint8Array {
  const type = new TextEncoder().encode(payloadType);
  const head = new TextEncoder().encode(`DSSEv1 ${type.length} ${payloadType} ${body.length} `);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/**
 * The envelope's JSON as cosign (go-securesystemslib) writes it, fields in this order:
 * `{"payloadType":…,"payload":<base64>,"signatures":[{"keyid":…,"sig":<base64>}]}`.
 */
export function serializeEnvelope(envelope: DsseEnvelope): Uint8Array {
  return new TextEncoder().encode(
    goJson({
      payloadType: envelope.payloadType,
      payload: Buffer.from(envelope.payload).toString('base64'),
      signatures: envelope.signatures.map((s) => ({
        keyid: s.keyid,
        sig: Buffer.from(s.sig).toString('base64'),
      })),
    }),
  );
}

/**
 * Reads an envelope; base64 may be standard or URL-safe (both are allowed by the spec), and
 * unknown fields are ignored. Fails when a required field is missing or not base64.
 */
export function parseEnvelope(bytes: Uint8Array): Result<DsseEnvelope, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return err('the envelope is not UTF-8 JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return err('the envelope is not a JSON object');
  }
  const o = doc as Record<string, unknown>;
  if (typeof o.payloadType !== 'string') return err('the envelope has no payloadType');
  const payload = base64(o.payload);
  if (!payload) return err('the envelope has no base64 payload');
  if (!Array.isArray(o.signatures)) return err('the envelope has no signatures list');
  const signatures: DsseSignature[] = [];
  for (const s of o.signatures as unknown[]) {
    const rec = typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : {};
    const sig = base64(rec.sig);
    if (!sig) return err('an envelope signature has no base64 sig');
    signatures.push({ keyid: typeof rec.keyid === 'string' ? rec.keyid : '', sig });
  }
  return ok({ payloadType: o.payloadType, payload, signatures });
}

const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

/** Standard or URL-safe base64 to bytes; undefined when it is not base64. */
export function base64(v: unknown): Uint8Array | undefined {
  if (typeof v !== 'string' || !BASE64.test(v)) return undefined;
  return new Uint8Array(Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}
