/** Key files as openssl makes them: the ones kbuild signs with, and the ones it refuses (and how). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPublicKey, loadSigningKey, verifySignature, type KeyFailure } from './keys.js';

let dir: string;
const path = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
const HOWTO = 'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbuild-keys-'));
  const p256 = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl(...p256, '-out', path('key.pem'));
  openssl('pkey', '-in', path('key.pem'), '-pubout', '-out', path('pub.pem'));
  openssl(...p256, '-aes-256-cbc', '-pass', 'pass:s3cret', '-out', path('enc.pem'));
  openssl(
    'pkey',
    '-in',
    path('enc.pem'),
    '-passin',
    'pass:s3cret',
    '-pubout',
    '-out',
    path('enc-pub.pem'),
  );
  openssl('ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', path('sec1.pem'));
  openssl(
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-384',
    '-out',
    path('p384.pem'),
  );
  openssl('pkey', '-in', path('p384.pem'), '-pubout', '-out', path('p384-pub.pem'));
  openssl(
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    path('rsa.pem'),
  );
  openssl('genpkey', '-algorithm', 'ED25519', '-out', path('ed.pem'));
  writeFileSync(path('junk.pem'), 'hello\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failure = async (file: string, env: Record<string, string> = {}, name?: string) => {
  const r = await loadSigningKey(path(file), { env, passphraseEnv: name });
  if (r.ok) throw new Error(`${file} was accepted`);
  return r.error;
};
const expectHowto = (f: KeyFailure, reason: KeyFailure['reason']) => {
  expect(f.reason).toBe(reason);
  expect(f.file).toBe(f.message.slice(0, f.file.length));
};

describe('signing keys', () => {
  it('signs with a PKCS#8 P-256 key; openssl and verifySignature accept the signature', async () => {
    const r = await loadSigningKey(path('key.pem'), { env: {} });
    if (!r.ok) throw new Error(r.error.message);
    const data = new TextEncoder().encode('payload');
    const sig = r.value.sign(data);
    expect(sig[0]).toBe(0x30); // DER SEQUENCE
    const pub = readFileSync(path('pub.pem'), 'utf8');
    expect(r.value.publicKeyPem).toBe(pub);
    expect(r.value.keyFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(r.value.source).toBe(path('key.pem'));
    expect(verifySignature(pub, data, sig)).toBe(true);
    expect(verifySignature(pub, new TextEncoder().encode('other'), sig)).toBe(false);
    writeFileSync(path('data'), data);
    writeFileSync(path('data.sig'), sig);
    const out = openssl(
      'dgst',
      '-sha256',
      '-verify',
      path('pub.pem'),
      '-signature',
      path('data.sig'),
      path('data'),
    );
    expect(out.toString()).toContain('Verified OK');
  });

  it('opens an encrypted key with the passphrase from KBUILD_SIGN_PASSPHRASE, or a variable named', async () => {
    const r = await loadSigningKey(path('enc.pem'), { env: { KBUILD_SIGN_PASSPHRASE: 's3cret' } });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.publicKeyPem).toBe(readFileSync(path('enc-pub.pem'), 'utf8'));
    const named = await loadSigningKey(path('enc.pem'), {
      env: { MY_PASS: 's3cret' },
      passphraseEnv: 'MY_PASS',
    });
    expect(named.ok).toBe(true);
  });

  it('says which variable to set when the passphrase is missing or wrong', async () => {
    const missing = await failure('enc.pem');
    expectHowto(missing, 'passphrase-missing');
    expect(missing.message).toContain('KBUILD_SIGN_PASSPHRASE is not set');
    const wrong = await failure('enc.pem', { MY_PASS: 'nope' }, 'MY_PASS');
    expectHowto(wrong, 'passphrase-wrong');
    expect(wrong.message).toContain('the passphrase in MY_PASS does not open');
  });

  it('refuses other curves and key types, saying how to make a right key', async () => {
    for (const [file, words] of [
      ['p384.pem', 'curve secp384r1, not P-256'],
      ['rsa.pem', 'an rsa key, not ECDSA P-256'],
      ['ed.pem', 'an ed25519 key, not ECDSA P-256'],
    ] as const) {
      const f = await failure(file);
      expectHowto(f, 'key-type');
      expect(f.message).toContain(words);
      expect(f.message).toContain(HOWTO);
    }
  });

  it('refuses other formats: SEC1 (with the conversion), a public key, junk, a missing file', async () => {
    const sec1 = await failure('sec1.pem');
    expectHowto(sec1, 'key-format');
    expect(sec1.message).toContain(
      `openssl pkcs8 -topk8 -nocrypt -in ${path('sec1.pem')} -out key.pem`,
    );
    const pub = await failure('pub.pem');
    expectHowto(pub, 'key-format');
    expect(pub.message).toContain('it is a public key');
    const junk = await failure('junk.pem');
    expectHowto(junk, 'key-format');
    expect(junk.message).toContain(HOWTO);
    const none = await failure('absent.pem');
    expectHowto(none, 'key-unreadable');
    expect(none.message).toContain('no such file');
  });
});

describe('public keys', () => {
  it('loads a P-256 SPKI key and refuses a P-384 one or a private key', async () => {
    const ok = await loadPublicKey(path('pub.pem'));
    expect(ok).toEqual({ ok: true, value: readFileSync(path('pub.pem'), 'utf8') });
    const p384 = await loadPublicKey(path('p384-pub.pem'));
    expect(p384.ok || p384.error.reason).toBe('key-type');
    const priv = await loadPublicKey(path('key.pem'));
    expect(priv.ok || priv.error.reason).toBe('key-format');
    if (!priv.ok) expect(priv.error.message).toContain(path('key.pem'));
  });
});
