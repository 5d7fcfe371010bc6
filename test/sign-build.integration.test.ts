/**
 * Issue 16's check, end to end with the real bin, engine, registry (127.0.0.1:5000) and cosign
 * (/opt/kbuild-tools/bin/cosign, from scripts/setup-host.sh): a fresh `kbuild init` family built
 * with --push --sign-key --metadata-file; every digest of the metadata file verifies with cosign
 * (signature, CycloneDX and SLSA provenance attestations) and with `kbuild verify`; a re-run
 * signs nothing again; tampering fails `kbuild verify` naming the image and why.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosignVerify,
  cosignVerifyAttestation,
  requireCosign,
  verifiedStatements,
  writeEncryptedKeyCopy,
  writeP256KeyPair,
} from './helpers/cosign.js';
import {
  kbuild,
  randomTag,
  registryDigest,
  removeImages,
  requireHost,
  sh,
} from './helpers/host.js';

const REGISTRY = '127.0.0.1:5000';
const parent = mkdtempSync(join(tmpdir(), 'kbuild-sign-'));
const dir = join(parent, 'fam');
const namespace = `kbuild-sign-${randomTag()}`;
const tag = randomTag();
const P = ['-p', 'busybox-binary', '--tag', tag, '--registry', REGISTRY];
const file = (name: string) => join(parent, name);

beforeAll(async () => {
  requireHost();
  requireCosign();
  for (const k of ['key', 'other']) await writeP256KeyPair(file(`${k}.pem`), file(`${k}.pub`));
  await writeEncryptedKeyCopy(file('key.pem'), file('enc.pem'), 'right horse');
  const init = await kbuild(
    ['init', 'fam', '--base-image', 'busybox:latest', '--namespace', namespace],
    parent,
  );
  expect(init.code).toBe(0);
}, 120_000);
afterAll(async () => {
  await removeImages((r) => r.includes(`${namespace}/`));
  rmSync(parent, { recursive: true, force: true });
});

type Metadata = Record<string, Record<string, string>>;
const sigTag = (digest: string) => `${digest.replace(':', '-')}.sig`;

describe('kbuild build --sign-key, cosign and kbuild verify', () => {
  let metadata: Metadata;

  it('refuses a key it cannot use, and --sign-key without --push, before building anything', async () => {
    const noPush = await kbuild(['build', ...P, '--sign-key', file('key.pem')], dir);
    expect(noPush.code).toBe(2);
    expect(noPush.stderr).toMatch(/--sign-key signs the images --push publishes .*add --push/);
    const wrong = await kbuild(
      ['build', ...P, '--push', '--sign-key', file('enc.pem')],
      dir,
      undefined,
      { KBUILD_SIGN_PASSPHRASE: 'wrong horse' },
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(file('enc.pem'));
    expect(wrong.stderr).toMatch(/passphrase/i);
    expect(wrong.stderr).not.toContain('wrong horse');
    // Nothing was built or pushed.
    expect(await registryDigest(REGISTRY, `${namespace}/hello`, tag)).toBeNull();
  }, 120_000);

  it('signs every image it pushes; cosign verifies the signature and both attestations of each digest', async () => {
    const r = await kbuild(
      ['build', ...P, '--push', '--sign-key', file('enc.pem'), '--metadata-file', file('m.json')],
      dir,
      undefined,
      { KBUILD_SIGN_PASSPHRASE: 'right horse' },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    metadata = JSON.parse(readFileSync(file('m.json'), 'utf8')) as Metadata;
    expect(Object.keys(metadata).sort()).toEqual(['base', 'hello']);
    for (const [name, m] of Object.entries(metadata)) {
      const digest = m['containerimage.digest']!;
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      const ref = `${REGISTRY}/${namespace}/${name}@${digest}`;
      const verified = await cosignVerify(file('key.pub'), ref);
      expect(verified.out).toContain(
        'The signatures were verified against the specified public key',
      );
      expect(verified.code).toBe(0);
      const sbom = await cosignVerifyAttestation(file('key.pub'), ref, 'cyclonedx');
      expect(sbom.code).toBe(0);
      expect(verifiedStatements(sbom.out)[0]).toMatchObject({
        predicateType: 'https://cyclonedx.org/bom',
        subject: [expect.objectContaining({ digest: { sha256: digest.slice(7) } })],
        predicate: { bomFormat: 'CycloneDX' },
      });
      const slsa = await cosignVerifyAttestation(file('key.pub'), ref, 'slsaprovenance1');
      expect(slsa.code).toBe(0);
      const provenance = verifiedStatements(slsa.out)[0]!;
      expect(provenance).toMatchObject({
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {
          buildDefinition: {
            externalParameters: expect.objectContaining({ profile: 'busybox-binary' }),
          },
        },
      });
      expect(JSON.stringify(provenance)).toContain(m['kbuild.fingerprint'] ?? 'no fingerprint');
      // The other key verifies nothing.
      expect((await cosignVerify(file('other.pub'), ref)).code).not.toBe(0);
    }
  }, 300_000);

  it('kbuild verify: every image signed, its provenance the checkout, its SBOM there', async () => {
    const r = await kbuild(['verify', ...P, '--key', file('key.pub'), '--json'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; images: Record<string, unknown>[] };
    expect(out.ok).toBe(true);
    expect(out.images).toEqual([
      expect.objectContaining({ name: 'base', signed: 'yes', provenance: 'matches', sbom: 'yes' }),
      expect.objectContaining({ name: 'hello', signed: 'yes', provenance: 'matches', sbom: 'yes' }),
    ]);
    const other = await kbuild(['verify', ...P, '--key', file('other.pub')], dir);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/hello: .* is signed 1 time\(s\), never with this key/);
  }, 120_000);

  it('a re-run with nothing changed signs and attests nothing again', async () => {
    const before = await registryDigest(
      REGISTRY,
      `${namespace}/hello`,
      sigTag(metadata['hello']!['containerimage.digest']!),
    );
    expect(before).not.toBeNull();
    const r = await kbuild(['build', ...P, '--push', '--sign-key', file('key.pem')], dir);
    expect(r.code).toBe(0);
    expect(
      await registryDigest(
        REGISTRY,
        `${namespace}/hello`,
        sigTag(metadata['hello']!['containerimage.digest']!),
      ),
    ).toBe(before);
  }, 120_000);

  it('images found built and pushed get their packages read for the SBOM once: the state keeps them for the next run', async () => {
    // As an unsigned build leaves the state: no package inventories (nothing read them).
    const stateFile = join(dir, '.kbuild', 'state', 'busybox-binary.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      images: Record<string, { packages?: unknown }>;
    };
    for (const image of Object.values(state.images)) delete image.packages;
    writeFileSync(stateFile, JSON.stringify(state));
    const r = await kbuild(['build', ...P, '--push', '--sign-key', file('key.pem')], dir);
    expect(r.code).toBe(0);
    const after = JSON.parse(readFileSync(stateFile, 'utf8')) as typeof state;
    const names = Object.keys(after.images);
    expect(names.length).toBeGreaterThan(1);
    expect(names.filter((n) => after.images[n]!.packages === undefined)).toEqual([]);
  }, 120_000);

  it('tampering: a changed template is provenance for another fingerprint; a tag pushed over with an unsigned image is unsigned', async () => {
    // The checkout moves on: base's provenance no longer names what the checkout gives.
    const template = join(dir, 'images', 'base', 'Dockerfile.j2');
    writeFileSync(template, `${readFileSync(template, 'utf8')}LABEL tampered=yes\n`);
    const moved = await kbuild(['verify', ...P, '--key', file('key.pub')], dir);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toMatch(
      /base: .* was built from other inputs: its provenance names fingerprint/,
    );
    const noSource = await kbuild(
      ['verify', ...P, '--key', file('key.pub'), '--no-source-check'],
      dir,
    );
    expect(noSource.code).toBe(0);

    // Someone pushes another image over hello's shared tag.
    const over = `${REGISTRY}/${namespace}/hello:${tag}`;
    await sh('docker', ['tag', 'busybox:latest', over]);
    await sh('docker', ['push', over]);
    const r = await kbuild(['verify', ...P, '--key', file('key.pub'), '--no-source-check'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /hello\s+\w{12}\s+no\s+missing\s+no\s+FAIL \(unsigned, no-provenance, no-sbom\)/,
    );
    expect(r.stderr).toMatch(
      /hello: .* has no signature \(the tag was moved: kbuild last pushed \w{12} here, it now names \w{12}\)/,
    );
    expect(r.stderr).not.toMatch(/^kbuild: base:/m);
  }, 120_000);
});
