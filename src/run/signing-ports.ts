/**
 * The signing port: what run/ code signs with, without knowing where the key came from (a PEM
 * file today: src/adapters/signing/keys.ts; a KMS could implement the same).
 */

/** An ECDSA P-256 private key, able to sign as cosign does with a key file. */
export interface Signer {
  /** The ECDSA-SHA256 signature over `data`, ASN.1 DER (what cosign stores, base64). */
  sign(data: Uint8Array): Uint8Array;
  /** The matching public key, PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`). */
  readonly publicKeyPem: string;
  /** sha256 (hex) of the public key's DER SubjectPublicKeyInfo: names the key in messages. */
  readonly keyFingerprint: string;
  /** Where the key came from, for messages (e.g. the key file's path). */
  readonly source: string;
}

/**
 * What a key attested in earlier runs, by target (`registry/repository@digest`): the digests of
 * its attestation layers there and their predicate types (SignOutcome.layers), so that a re-run
 * recognises them without downloading the statements again. A cache: an entry lost or stale only means the registry is read as before.
 */
export interface SignedLayers {
  get(target: string): Readonly<Record<string, string>> | undefined;
  set(target: string, layers: Readonly<Record<string, string>>): void;
}
