/**
 * What a registry says about a digest's signing, checked with one public key: is there a valid
 * signature by that key for that digest (as `cosign verify --key` would find), and which in-toto
 * statements did that key attest about it (as `cosign verify-attestation --key` would accept).
 */
import type { KeyObject } from 'node:crypto';
import { ok, type Digest, type Result } from '../../core/model.js';
import { parsePublicKey } from '../../core/signing/ecdsa.js';
import type { InTotoStatement } from '../../core/signing/in-toto.js';
import {
  checkAttestation,
  checkSignature,
  isAttestationLayer,
  isSignatureLayer,
} from '../../core/signing/verify.js';
import type { Registry, RegistryFailure } from '../ports.js';
import { readAttached, readBlob, type SignTarget } from './attached.js';

/**
 * `signed`: a signature by the key names this digest. `other-digest`: the key signed, but for
 * another digest (a signature copied to this tag: refuse it). `other-key`: signatures exist, none
 * by the key. `unsigned`: no signature at all.
 */
export type SignatureStatus = 'signed' | 'other-digest' | 'other-key' | 'unsigned';

/** A statement the key signed about this digest. */
export interface VerifiedAttestation {
  /** The statement's own (signed) predicate type, e.g. `https://slsa.dev/provenance/v1`. */
  readonly predicateType: string;
  readonly statement: InTotoStatement;
  /** The statement's bytes as signed. */
  readonly payload: Uint8Array;
}

/** An attestation layer that does not count, and why. */
export interface RejectedAttestation {
  readonly reason: 'other-key' | 'other-subject' | 'invalid';
  /** The statement's predicate type when it could be read, else the layer's annotation. */
  readonly predicateType?: string;
  readonly message: string;
}

export interface SignedState {
  readonly signature: SignatureStatus;
  /** Signature layers under the `.sig` tag (of every signer). */
  readonly signatures: number;
  /** For `other-digest`: the digest the key's signature names. */
  readonly signedDigest?: Digest;
  /** Statements the key signed about this digest, in the order of the `.att` manifest. */
  readonly attestations: readonly VerifiedAttestation[];
  readonly rejected: readonly RejectedAttestation[];
}

/**
 * Reads the target's `.sig` and `.att` manifests and checks them with `verifyKeyPem` (PEM SPKI,
 * ECDSA P-256; an unreadable key is the caller's bug: a TypeError). Registry failures are values;
 * a signature or attestation that does not verify is a status, not a failure.
 */
export async function readSignedState(
  registry: Registry,
  target: SignTarget,
  verifyKeyPem: string,
  signal?: AbortSignal,
): Promise<Result<SignedState, RegistryFailure>> {
  const key = verifyKey(verifyKeyPem);
  const [sig, att] = await Promise.all([
    signatureStatus(registry, target, key, signal),
    attestationsOf(registry, target, key, signal),
  ]);
  if (!sig.ok) return sig;
  if (!att.ok) return att;
  return ok({ ...sig.value, ...att.value });
}

/** The signature part of readSignedState alone (the `.sig` manifest; the statements not read). */
export function readSignature(
  registry: Registry,
  target: SignTarget,
  verifyKeyPem: string,
  signal?: AbortSignal,
): Promise<
  Result<Pick<SignedState, 'signature' | 'signatures' | 'signedDigest'>, RegistryFailure>
> {
  return signatureStatus(registry, target, verifyKey(verifyKeyPem), signal);
}

/** The attestation part of readSignedState alone (the `.att` manifest; the signature not read). */
export function readAttestations(
  registry: Registry,
  target: SignTarget,
  verifyKeyPem: string,
  signal?: AbortSignal,
): Promise<Result<Pick<SignedState, 'attestations' | 'rejected'>, RegistryFailure>> {
  return attestationsOf(registry, target, verifyKey(verifyKeyPem), signal);
}

function verifyKey(pem: string): KeyObject {
  const key = parsePublicKey(pem);
  if (!key.ok) throw new TypeError(`readSignedState: the verify key: ${key.error}`);
  return key.value;
}

async function signatureStatus(
  registry: Registry,
  target: SignTarget,
  key: KeyObject,
  signal: AbortSignal | undefined,
): Promise<
  Result<Pick<SignedState, 'signature' | 'signatures' | 'signedDigest'>, RegistryFailure>
> {
  const layers = await readAttached(registry, target, 'sig', signal);
  if (!layers.ok) return layers;
  const sigs = layers.value.filter(isSignatureLayer);
  let signedDigest: Digest | undefined;
  for (const layer of sigs) {
    const blob = await readBlob(registry, target, layer.descriptor.digest, signal);
    if (!blob.ok) return blob;
    const check = checkSignature(layer, blob.value, key, target.digest);
    if (check.kind === 'valid') return ok({ signature: 'signed', signatures: sigs.length });
    if (check.kind === 'other-digest') signedDigest ??= check.digest;
  }
  if (signedDigest) return ok({ signature: 'other-digest', signatures: sigs.length, signedDigest });
  return ok({ signature: sigs.length > 0 ? 'other-key' : 'unsigned', signatures: sigs.length });
}

async function attestationsOf(
  registry: Registry,
  target: SignTarget,
  key: KeyObject,
  signal: AbortSignal | undefined,
): Promise<Result<Pick<SignedState, 'attestations' | 'rejected'>, RegistryFailure>> {
  const layers = await readAttached(registry, target, 'att', signal);
  if (!layers.ok) return layers;
  const attestations: VerifiedAttestation[] = [];
  const rejected: RejectedAttestation[] = [];
  for (const layer of layers.value.filter(isAttestationLayer)) {
    const blob = await readBlob(registry, target, layer.descriptor.digest, signal);
    if (!blob.ok) return blob;
    const check = checkAttestation(blob.value, key, target.digest);
    const annotated = layer.descriptor.annotations?.predicateType;
    switch (check.kind) {
      case 'valid':
        attestations.push({
          predicateType: check.statement.predicateType,
          statement: check.statement,
          payload: check.payload,
        });
        break;
      case 'other-key':
        rejected.push({
          reason: 'other-key',
          predicateType: annotated,
          message: 'its signature does not verify with the key',
        });
        break;
      case 'other-subject': {
        const subjects = check.statement.subject
          .map((s) => (s.digest.sha256 ? `sha256:${s.digest.sha256}` : s.name))
          .join(', ');
        rejected.push({
          reason: 'other-subject',
          predicateType: check.statement.predicateType,
          message: `it is about ${subjects || 'no digest'}, not ${target.digest}`,
        });
        break;
      }
      case 'invalid':
        rejected.push({ reason: 'invalid', predicateType: annotated, message: check.why });
        break;
    }
  }
  return ok({ attestations, rejected });
}
