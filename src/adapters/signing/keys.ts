/**
 * Signing keys from files: an ECDSA P-256 private key in PEM PKCS#8 (`-----BEGIN PRIVATE KEY-----`,
 * or `-----BEGIN ENCRYPTED PRIVATE KEY-----` with its passphrase in an environment variable, never
 * a flag), and public keys in PEM SubjectPublicKeyInfo. Every failure names the file and says how
 * to make a key that works. Signing and verifying are node:crypto, in-process (no cosign).
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  KEY_HOWTO,
  keyFingerprint,
  p256Problem,
  parsePublicKey,
  publicKeyPem,
  verifyP256,
} from '../../core/signing/ecdsa.js';
import { err, ok, type Result } from '../../core/model.js';
import type { Signer } from '../../run/signing-ports.js';

/** The environment variable holding an encrypted key's passphrase, unless the caller names another. */
export const DEFAULT_PASSPHRASE_ENV = 'KBUILD_SIGN_PASSPHRASE';

/** Why a key could not be used; `message` names the file and says what to do. */
export type KeyFailure =
  /** The file cannot be read (missing, permissions). */
  | { readonly reason: 'key-unreadable'; readonly file: string; readonly message: string }
  /** Not a PEM key of a format kbuild reads (SEC1 `EC PRIVATE KEY`, cosign's own, DER, ...). */
  | { readonly reason: 'key-format'; readonly file: string; readonly message: string }
  /** A key, but not ECDSA P-256 (RSA, Ed25519, P-384, ...). */
  | { readonly reason: 'key-type'; readonly file: string; readonly message: string }
  /** An encrypted key and its passphrase variable is unset or empty. */
  | { readonly reason: 'passphrase-missing'; readonly file: string; readonly message: string }
  /** An encrypted key that its passphrase does not open. */
  | { readonly reason: 'passphrase-wrong'; readonly file: string; readonly message: string };

export interface LoadSigningKeyOptions {
  /** The variable holding an encrypted key's passphrase. Default `KBUILD_SIGN_PASSPHRASE`. */
  readonly passphraseEnv?: string;
  /** Where to read that variable. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const PKCS8 = '-----BEGIN PRIVATE KEY-----';
const PKCS8_ENCRYPTED = '-----BEGIN ENCRYPTED PRIVATE KEY-----';

/** Loads a private key file as a `Signer`. */
export async function loadSigningKey(
  file: string,
  opts: LoadSigningKeyOptions = {},
): Promise<Result<Signer, KeyFailure>> {
  const text = await readText(file);
  if (!text.ok) return text;
  const key = privateKeyFromPem(text.value, file, opts);
  if (!key.ok) return key;
  return ok(signerOf(key.value, file));
}

/**
 * Reads a PEM private key's text (the file's contents) as a P-256 key object; `file` is for the
 * messages.
 */
export function privateKeyFromPem(
  pem: string,
  file: string,
  opts: LoadSigningKeyOptions = {},
): Result<KeyObject, KeyFailure> {
  const fail = (reason: KeyFailure['reason'], why: string): Result<never, KeyFailure> =>
    err({ reason, file, message: `${file}: ${why}` });
  const encrypted = pem.includes(PKCS8_ENCRYPTED);
  if (!encrypted && !pem.includes(PKCS8)) return fail('key-format', formatProblem(pem, file));
  let passphrase: string | undefined;
  if (encrypted) {
    const name = opts.passphraseEnv ?? DEFAULT_PASSPHRASE_ENV;
    passphrase = (opts.env ?? process.env)[name];
    if (!passphrase) {
      return fail(
        'passphrase-missing',
        `the key is encrypted and ${name} is not set: put its passphrase in the environment variable ${name} (never on the command line)`,
      );
    }
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch (e) {
    if (encrypted) {
      const name = opts.passphraseEnv ?? DEFAULT_PASSPHRASE_ENV;
      return fail(
        'passphrase-wrong',
        `the passphrase in ${name} does not open this encrypted key (${(e as Error).message}); set ${name} to the passphrase the key was encrypted with`,
      );
    }
    return fail(
      'key-format',
      `it is not a readable PKCS#8 PEM key (${(e as Error).message}): ${KEY_HOWTO}`,
    );
  }
  const problem = p256Problem(key);
  return problem ? fail('key-type', `${problem}: ${KEY_HOWTO}`) : ok(key);
}

function formatProblem(pem: string, file: string): string {
  if (pem.includes('-----BEGIN EC PRIVATE KEY-----')) {
    return (
      'it is a SEC1 EC key (`BEGIN EC PRIVATE KEY`), not PKCS#8: convert it with ' +
      `\`openssl pkcs8 -topk8 -nocrypt -in ${file} -out key.pem\` (or -v2 aes-256-cbc to encrypt it), ` +
      `or ${KEY_HOWTO}`
    );
  }
  if (
    /-----BEGIN (ENCRYPTED )?(COSIGN|SIGSTORE|ENCRYPTED SIGSTORE|ENCRYPTED COSIGN) PRIVATE KEY-----/.test(
      pem,
    )
  ) {
    return `it is a key in cosign's own encrypted format, which kbuild does not read: ${KEY_HOWTO} (cosign reads that pair too: \`cosign import-key-pair --key key.pem\`)`;
  }
  if (pem.includes('-----BEGIN RSA PRIVATE KEY-----'))
    return `it is an RSA key, not ECDSA P-256: ${KEY_HOWTO}`;
  if (pem.includes('-----BEGIN PUBLIC KEY-----')) {
    return `it is a public key; signing needs the private key: ${KEY_HOWTO}`;
  }
  return `it is not a PEM PKCS#8 private key ('${PKCS8}'): ${KEY_HOWTO}`;
}

/** A `Signer` over a P-256 private key. */
export function signerOf(key: KeyObject, source: string): Signer {
  const pub = createPublicKey(key);
  return {
    sign: (data) => new Uint8Array(sign('sha256', data, { key, dsaEncoding: 'der' })),
    publicKeyPem: publicKeyPem(pub),
    keyFingerprint: keyFingerprint(pub),
    source,
  };
}

/** Loads a public key file (PEM SPKI, ECDSA P-256); answers its PEM, normalised. */
export async function loadPublicKey(file: string): Promise<Result<string, KeyFailure>> {
  const text = await readText(file);
  if (!text.ok) return text;
  const key = parsePublicKey(text.value);
  if (!key.ok) {
    const reason = text.value.includes('-----BEGIN PUBLIC KEY-----') ? 'key-type' : 'key-format';
    return err({ reason, file, message: `${file}: ${key.error}` });
  }
  return ok(publicKeyPem(key.value));
}

/**
 * Whether `signature` (DER ECDSA-SHA256) over `data` verifies with `publicKey` (PEM SPKI).
 * False, never a throw, for a bad signature; an unreadable key is a bug of the caller (a
 * TypeError): load it with `loadPublicKey` first.
 */
export function verifySignature(
  publicKey: string,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = parsePublicKey(publicKey);
  if (!key.ok) throw new TypeError(`not a P-256 public key: ${key.error}`);
  return verifyP256(key.value, data, signature);
}

async function readText(file: string): Promise<Result<string, KeyFailure>> {
  try {
    return ok(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : (e as Error).message;
    return err({
      reason: 'key-unreadable',
      file,
      message: `${file}: cannot read the key (${why}); give the path of a key file: ${KEY_HOWTO}`,
    });
  }
}
