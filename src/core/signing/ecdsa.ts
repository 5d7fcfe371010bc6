/**
 * ECDSA P-256 with SHA-256, as cosign signs with a key file: signatures are ASN.1 DER, public
 * keys PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`). Verification is computation, not
 * I/O, so it lives in the core; loading keys from files is src/adapters/signing/keys.ts. Pure.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../model.js';

/** How to make a key pair kbuild accepts (said by every key error). */
export const KEY_HOWTO =
  'make one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem` ' +
  'and its public key with `openssl pkey -in key.pem -pubout -out pub.pem`';

/** A P-256 key's curve name as node (OpenSSL) reports it. */
const P256 = 'prime256v1';

/** Why a key object is not an ECDSA P-256 key; undefined when it is. */
export function p256Problem(key: KeyObject): string | undefined {
  if (key.asymmetricKeyType !== 'ec') {
    return `it is a${key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'ed25519' ? 'n' : ''} ${key.asymmetricKeyType ?? 'unknown'} key, not ECDSA P-256`;
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== P256) return `it is an EC key on curve ${curve ?? 'unknown'}, not P-256`;
  return undefined;
}

/**
 * Reads a PEM public key (SPKI) of ECDSA P-256. The failure says why (the caller adds where the
 * key came from).
 */
export function parsePublicKey(pem: string): Result<KeyObject, string> {
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
    return err(`it is not a PEM public key ('-----BEGIN PUBLIC KEY-----'): ${KEY_HOWTO}`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    return err(`it is not a readable PEM public key (${(e as Error).message}): ${KEY_HOWTO}`);
  }
  const problem = p256Problem(key);
  return problem ? err(`${problem}: ${KEY_HOWTO}`) : ok(key);
}

/** Whether `signature` (DER) is `key`'s ECDSA-SHA256 signature over `data`. Never throws. */
export function verifyP256(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/** A public key's PEM (SPKI), normalised. */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** A key's identity: the sha256 (hex) of its DER SubjectPublicKeyInfo. */
export function keyFingerprint(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}
