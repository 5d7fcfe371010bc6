/**
 * The real cosign CLI (2.x, put at /opt/kbuild-tools/bin/cosign by scripts/setup-host.sh) and
 * openssl P-256 keys, for the signing integration tests: run cosign without throwing, verify an
 * image offline against the loopback registry, decode the statements it verified.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

export const COSIGN = '/opt/kbuild-tools/bin/cosign';
const run = promisify(execFile);

/** Fails (never skips) when cosign is not there, saying how to put it there. */
export function requireCosign(): void {
  if (!existsSync(COSIGN))
    throw new Error(
      `${COSIGN} is missing: run 'bash scripts/setup-host.sh' (it fetches cosign 2.x)`,
    );
}

export interface CosignResult {
  code: number;
  /** stdout then stderr. */
  out: string;
}

export interface CosignOptions {
  /** Added to the environment (e.g. COSIGN_PASSWORD). */
  env?: Readonly<Record<string, string>>;
  /** Where cosign runs (generate-key-pair writes cosign.key and cosign.pub there). */
  cwd?: string;
}

/** Runs cosign; answers its exit code and output (never throws on a non-zero exit). */
export async function runCosign(
  args: readonly string[],
  options: CosignOptions = {},
): Promise<CosignResult> {
  try {
    const r = await run(COSIGN, args, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code?: unknown; stdout?: string; stderr?: string };
    return {
      code: typeof x.code === 'number' ? x.code : -1,
      out: `${x.stdout ?? ''}${x.stderr ?? ''}`,
    };
  }
}

/** cosign's flags to check `ref` against a public key file, offline, on a registry without TLS. */
export const offlineKeyFlags = (publicKeyFile: string, ref: string): string[] => [
  '--key',
  publicKeyFile,
  '--insecure-ignore-tlog',
  '--allow-insecure-registry',
  ref,
];

/** `cosign verify`: is `ref` signed with the key of `publicKeyFile`? */
export const cosignVerify = (publicKeyFile: string, ref: string): Promise<CosignResult> =>
  runCosign(['verify', ...offlineKeyFlags(publicKeyFile, ref)]);

/** `cosign verify-attestation --type`: does `ref` carry a statement of that type by the key? */
export const cosignVerifyAttestation = (
  publicKeyFile: string,
  ref: string,
  type: string,
): Promise<CosignResult> =>
  runCosign(['verify-attestation', '--type', type, ...offlineKeyFlags(publicKeyFile, ref)]);

/** The in-toto statements cosign verified, decoded from its output (one DSSE envelope a line). */
export function verifiedStatements<T = Record<string, unknown>>(out: string): T[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{"payloadType"'))
    .map((l) => {
      const envelope = JSON.parse(l) as { payload: string };
      return JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as T;
    });
}

const P256 = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

/**
 * Writes a new openssl P-256 key pair: the private key (PEM PKCS#8, encrypted with aes-256-cbc
 * when a passphrase is given) and its public key (PEM SPKI).
 */
export async function writeP256KeyPair(
  keyFile: string,
  publicKeyFile: string,
  passphrase?: string,
): Promise<void> {
  if (passphrase === undefined) {
    await run('openssl', [...P256, '-out', keyFile]);
    await run('openssl', ['pkey', '-in', keyFile, '-pubout', '-out', publicKeyFile]);
    return;
  }
  const pass = `pass:${passphrase}`;
  await run('openssl', [...P256, '-aes-256-cbc', '-pass', pass, '-out', keyFile]);
  await run('openssl', ['pkey', '-in', keyFile, '-passin', pass, '-pubout', '-out', publicKeyFile]);
}

/** Writes `keyFile`'s private key again, encrypted (PKCS#8) with `passphrase`: the same key. */
export async function writeEncryptedKeyCopy(
  keyFile: string,
  encryptedFile: string,
  passphrase: string,
): Promise<void> {
  await run('openssl', [
    'pkcs8',
    '-topk8',
    '-in',
    keyFile,
    '-out',
    encryptedFile,
    '-passout',
    `pass:${passphrase}`,
  ]);
}
