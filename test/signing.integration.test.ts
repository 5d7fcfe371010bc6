/**
 * Signing for real, against the registry on 127.0.0.1:5000 and the real cosign CLI (2.x, put at
 * /opt/kbuild-tools/bin/cosign by scripts/setup-host.sh): what kbuild signs and attests in-process,
 * cosign verifies; what cosign signs, kbuild reads as signed; tampering (a signature or attestation
 * copied to another digest, another key, no signature) is reported as such. The images are
 * busybox's manifest, pushed once with docker, and copies of it written with other whitespace
 * (same layers, other digests). Needs `scripts/setup-host.sh` (it fails, never skips).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient } from '../src/adapters/registry/index.js';
import { loadSigningKey } from '../src/adapters/signing/keys.js';
import type { Digest } from '../src/core/model.js';
import { manifestList } from '../src/core/registry/manifest-list.js';
import { cosignTag, parseCosignManifest } from '../src/core/signing/cosign-manifest.js';
import type { InTotoStatement } from '../src/core/signing/in-toto.js';
import type { SignTarget } from '../src/run/sign/attached.js';
import { signImage } from '../src/run/sign/sign-image.js';
import { readSignedState } from '../src/run/sign/signed-state.js';
import type { Signer } from '../src/run/signing-ports.js';
import {
  cosignVerify,
  cosignVerifyAttestation,
  requireCosign,
  runCosign,
  writeP256KeyPair,
} from './helpers/cosign.js';
import { randomTag, REGISTRY, removeImages, requireHost, sh } from './helpers/host.js';

const PREDICATE = 'https://kbuild.dev/test/v1';
const client = createRegistryClient();
const repository = `kbuild-signing-${randomTag()}/bb`;
const image = `${REGISTRY}/${repository}`;
const dir = mkdtempSync(join(tmpdir(), 'kbuild-signing-'));
const file = (name: string) => join(dir, name);
const signal = new AbortController().signal;
/** busybox's manifest as docker pushed it, and copies of it under other digests. */
let base: { mediaType: string; body: Uint8Array; digest: Digest };
let copies = 0;
/** The size of each copy's manifest, by digest. */
const sizes = new Map<string, number>();

/** cosign in the test's folder, with the passphrase of the key pair it makes there. */
const cosign = (args: string[]) =>
  runCosign(args, { env: { COSIGN_PASSWORD: 'cosign-pw' }, cwd: dir });
/** cosign verify of this repository's `digest` against the public key file `pub`. */
const verifyDigest = (pub: string, digest: Digest) => cosignVerify(file(pub), `${image}@${digest}`);
/** cosign verify-attestation --type PREDICATE, likewise. */
const verifyDigestAttestation = (pub: string, digest: Digest) =>
  cosignVerifyAttestation(file(pub), `${image}@${digest}`, PREDICATE);

/** A new image: busybox's manifest with other whitespace, under a tag of its own. */
async function newImage(): Promise<SignTarget> {
  copies += 1;
  const body = new TextEncoder().encode(
    // Tabs: docker indents with spaces, so no copy is busybox's own manifest (at most 10 copies).
    JSON.stringify(JSON.parse(new TextDecoder().decode(base.body)), null, '\t'.repeat(copies)),
  );
  const tag = `copy${copies}`;
  const put = await client.putManifest(
    { registry: REGISTRY, repository, reference: tag },
    { mediaType: base.mediaType, body },
    signal,
  );
  if (!put.ok) throw new Error(put.error.message);
  sizes.set(put.value.digest, body.length);
  return { registry: REGISTRY, repository, digest: put.value.digest };
}

const statement = (t: SignTarget, predicateType = PREDICATE): InTotoStatement => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: `${t.registry}/${t.repository}`, digest: { sha256: t.digest.slice(7) } }],
  predicateType,
  predicate: { built: 'by kbuild', secret: false },
});

async function signer(key: string, env: Record<string, string> = {}): Promise<Signer> {
  const s = await loadSigningKey(file(key), { env });
  if (!s.ok) throw new Error(s.error.message);
  return s.value;
}

const pem = (name: string) => readFileSync(file(name), 'utf8');

async function layersUnder(t: SignTarget, suffix: 'sig' | 'att') {
  const m = await client.getManifest(
    { registry: REGISTRY, repository, reference: cosignTag(t.digest, suffix) },
    signal,
  );
  if (!m.ok) throw new Error(m.error.message);
  const layers = parseCosignManifest(m.value.body);
  if (!layers.ok) throw new Error(layers.error);
  return layers.value;
}

/** Copies `from`'s .sig or .att manifest, byte for byte, to `to`'s tag: tampering. */
async function copyAttached(from: SignTarget, to: SignTarget, suffix: 'sig' | 'att') {
  const r = await client.copyTag(
    { registry: REGISTRY, repository, reference: cosignTag(from.digest, suffix) },
    cosignTag(to.digest, suffix),
    signal,
  );
  if (!r.ok) throw new Error(r.error.message);
}

beforeAll(async () => {
  requireHost();
  requireCosign();
  await sh('docker', ['tag', 'busybox:latest', `${image}:base`]);
  await sh('docker', ['push', `${image}:base`]);
  const m = await client.getManifest({ registry: REGISTRY, repository, reference: 'base' }, signal);
  if (!m.ok) throw new Error(m.error.message);
  base = m.value;
  await writeP256KeyPair(file('key.pem'), file('pub.pem'));
  await writeP256KeyPair(file('enc.pem'), file('enc-pub.pem'), 'enc-pw');
  // A key of cosign's own making (its encrypted format). (Debian's cosign 2.5.0 cannot import an
  // openssl P-256 key: import-key-pair says 'error validating ecdsa key: unsupported public key type'.)
  writeFileSync(file('predicate.json'), '{"by":"cosign"}\n');
  const gen = await cosign(['generate-key-pair']);
  if (gen.code !== 0) throw new Error(`cosign generate-key-pair failed: ${gen.out}`);
});

afterAll(async () => {
  const tags = await client.listTags(REGISTRY, repository);
  const digests = new Set<Digest>();
  for (const tag of tags.ok ? tags.value : []) {
    const h = await client.headManifest({ registry: REGISTRY, repository, reference: tag });
    if (h.ok) digests.add(h.value.digest);
  }
  for (const reference of digests)
    await client.deleteManifest({ registry: REGISTRY, repository, reference });
  await removeImages((r) => r.startsWith(image));
  rmSync(dir, { recursive: true, force: true });
});

describe('kbuild signs, cosign verifies', () => {
  it('a plain key: cosign verify and verify-attestation succeed; signing again adds nothing', async () => {
    const t = { registry: REGISTRY, repository, digest: base.digest };
    const s = await signer('key.pem');
    const first = await signImage(client, t, s, [statement(t)], signal);
    expect(first).toEqual({
      ok: true,
      value: {
        signature: 'signed',
        attestations: [{ predicateType: PREDICATE, outcome: 'added' }],
        layers: expect.any(Object),
      },
    });
    // The attestation it reports as its own is the one the registry now holds.
    const written = first.ok ? first.value.layers : {};
    expect(written).toEqual({ [(await layersUnder(t, 'att'))[0]!.descriptor.digest]: PREDICATE });
    const v = await verifyDigest('pub.pem', t.digest);
    expect(v.out).toContain('The signatures were verified against the specified public key');
    expect(v.code).toBe(0);
    const va = await verifyDigestAttestation('pub.pem', t.digest);
    expect(va.code, va.out).toBe(0);

    const again = await signImage(client, t, s, [statement(t)], signal);
    expect(again).toEqual({
      ok: true,
      value: {
        signature: 'already-signed',
        attestations: [{ predicateType: PREDICATE, outcome: 'present' }],
        layers: written,
      },
    });
    expect(await layersUnder(t, 'sig')).toHaveLength(1);
    expect(await layersUnder(t, 'att')).toHaveLength(1);

    const state = await readSignedState(client, t, pem('pub.pem'), signal);
    if (!state.ok) throw new Error(state.error.message);
    expect(state.value.signature).toBe('signed');
    expect(state.value.rejected).toEqual([]);
    expect(state.value.attestations.map((a) => a.predicateType)).toEqual([PREDICATE]);
    expect(state.value.attestations[0]!.statement.predicate).toEqual({
      built: 'by kbuild',
      secret: false,
    });
  });

  it('an encrypted key (passphrase from the environment): cosign verifies; the other key does not', async () => {
    const t = await newImage();
    const s = await signer('enc.pem', { KBUILD_SIGN_PASSPHRASE: 'enc-pw' });
    const r = await signImage(client, t, s, [statement(t)], signal);
    expect(r.ok && r.value.signature).toBe('signed');
    expect((await verifyDigest('enc-pub.pem', t.digest)).code).toBe(0);
    expect((await verifyDigestAttestation('enc-pub.pem', t.digest)).code).toBe(0);
    expect((await verifyDigest('pub.pem', t.digest)).code).not.toBe(0);
  });
  it('a manifest list and its platform manifests, each by digest: cosign verifies every one', async () => {
    const children = [await newImage(), await newImage()];
    const list = manifestList(
      children.map((c, i) => ({
        digest: c.digest,
        size: sizes.get(c.digest)!,
        mediaType: base.mediaType,
        platform: i === 0 ? 'linux/amd64' : 'linux/arm64',
      })),
    );
    const put = await client.putManifest(
      { registry: REGISTRY, repository, reference: 'list' },
      { mediaType: list.mediaType, body: new TextEncoder().encode(list.body) },
      signal,
    );
    if (!put.ok) throw new Error(put.error.message);
    const s = await signer('key.pem');
    for (const t of [{ registry: REGISTRY, repository, digest: put.value.digest }, ...children]) {
      const r = await signImage(client, t, s, [statement(t)], signal);
      expect(r.ok && r.value.signature).toBe('signed');
      expect((await verifyDigest('pub.pem', t.digest)).code).toBe(0);
      expect((await verifyDigestAttestation('pub.pem', t.digest)).code).toBe(0);
    }
  });
});

describe('cosign signs, kbuild reads', () => {
  it("cosign's own key: signed for its key, other-key for kbuild's; kbuild appends and both verify", async () => {
    const t = await newImage();
    const signed = await cosign([
      'sign',
      '--key',
      file('cosign.key'),
      '--tlog-upload=false',
      '--allow-insecure-registry',
      '-y',
      `${image}@${t.digest}`,
    ]);
    expect(signed.code, signed.out).toBe(0);
    const attested = await cosign([
      'attest',
      '--key',
      file('cosign.key'),
      '--tlog-upload=false',
      '--allow-insecure-registry',
      '-y',
      '--type',
      PREDICATE,
      '--predicate',
      file('predicate.json'),
      `${image}@${t.digest}`,
    ]);
    expect(attested.code, attested.out).toBe(0);
    const byCosign = await readSignedState(client, t, pem('cosign.pub'), signal);
    if (!byCosign.ok) throw new Error(byCosign.error.message);
    expect(byCosign.value.signature).toBe('signed');
    expect(byCosign.value.attestations.map((a) => a.statement.predicate)).toEqual([
      { by: 'cosign' },
    ]);
    const byKbuild = await readSignedState(client, t, pem('pub.pem'), signal);
    expect(byKbuild.ok && byKbuild.value).toMatchObject({ signature: 'other-key', signatures: 1 });

    const r = await signImage(client, t, await signer('key.pem'), [statement(t)], signal);
    expect(r.ok && r.value.signature).toBe('signed');
    expect(r.ok && r.value.attestations).toEqual([{ predicateType: PREDICATE, outcome: 'added' }]);
    expect(await layersUnder(t, 'sig')).toHaveLength(2);
    expect(await layersUnder(t, 'att')).toHaveLength(2);
    for (const pub of ['cosign.pub', 'pub.pem']) {
      expect((await verifyDigest(pub, t.digest)).code).toBe(0);
      expect((await verifyDigestAttestation(pub, t.digest)).code).toBe(0);
    }
    const after = await readSignedState(client, t, pem('cosign.pub'), signal);
    if (!after.ok) throw new Error(after.error.message);
    expect(after.value.signature).toBe('signed');
    expect(after.value.attestations.map((a) => a.statement.predicate)).toEqual([{ by: 'cosign' }]);
    expect(after.value.rejected.map((x) => x.reason)).toEqual(['other-key']);
  });
});

describe('tampering', () => {
  it('a tag on an unsigned digest is unsigned; a .sig copied from another digest is other-digest', async () => {
    const unsigned = await newImage();
    const state = await readSignedState(client, unsigned, pem('pub.pem'), signal);
    expect(state).toEqual({
      ok: true,
      value: { signature: 'unsigned', signatures: 0, attestations: [], rejected: [] },
    });
    expect((await verifyDigest('pub.pem', unsigned.digest)).code).not.toBe(0);

    const signedOne = { registry: REGISTRY, repository, digest: base.digest };
    const victim = await newImage();
    await copyAttached(signedOne, victim, 'sig');
    const copied = await readSignedState(client, victim, pem('pub.pem'), signal);
    expect(copied.ok && copied.value).toMatchObject({
      signature: 'other-digest',
      signedDigest: base.digest,
    });
    expect((await verifyDigest('pub.pem', victim.digest)).code).not.toBe(0);
  });

  it('an attestation whose subject is another digest is rejected, by kbuild and by cosign', async () => {
    const signedOne = { registry: REGISTRY, repository, digest: base.digest };
    const victim = await newImage();
    const s = await signer('key.pem');
    expect((await signImage(client, victim, s, [], signal)).ok).toBe(true);
    await copyAttached(signedOne, victim, 'att');
    const state = await readSignedState(client, victim, pem('pub.pem'), signal);
    if (!state.ok) throw new Error(state.error.message);
    expect(state.value.signature).toBe('signed');
    expect(state.value.attestations).toEqual([]);
    expect(state.value.rejected).toEqual([
      {
        reason: 'other-subject',
        predicateType: PREDICATE,
        message: `it is about ${base.digest}, not ${victim.digest}`,
      },
    ]);
    expect((await verifyDigestAttestation('pub.pem', victim.digest)).code).not.toBe(0);
  });
});
