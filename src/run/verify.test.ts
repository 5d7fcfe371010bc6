/**
 * verifyImages on several platforms, over the in-memory registry: a list signed with
 * signList and platforms signed as the build signs them verify; a list missing a platform, a
 * single manifest where a list is expected, and one platform's other fingerprint fail, naming
 * the platform. The real registry and cosign are test/sign-multiarch.integration.test.ts's.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signerOf } from '../adapters/signing/keys.js';
import { memoryRegistry } from '../../test/helpers/memory-registry.js';
import { imageName, type Digest } from '../core/model.js';
import { DOCKER_MANIFEST, manifestList } from '../core/registry/manifest-list.js';
import type { InTotoStatement } from '../core/signing/in-toto.js';
import {
  KBUILD_BUILD_TYPE,
  PREDICATE_CYCLONEDX,
  PREDICATE_SLSA_PROVENANCE_V1,
} from '../core/signing/statements.js';
import { signImage } from './sign/sign-image.js';
import { signList } from './sign/sign-list.js';
import { verifyImages } from './verify.js';

const REG = 'reg.test';
const REPO = 'kbuild/app';
const PLATFORMS = ['linux/amd64', 'linux/arm64'];

const statement = (digest: Digest, type: string, predicate: unknown): InTotoStatement => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: `${REG}/${REPO}`, digest: { sha256: digest.slice(7) } }],
  predicateType: type,
  predicate,
});
const provenance = (digest: Digest, platform: string, fp: string) =>
  statement(digest, PREDICATE_SLSA_PROVENANCE_V1, {
    buildDefinition: { buildType: KBUILD_BUILD_TYPE, externalParameters: { platform } },
    runDetails: { byproducts: [{ name: 'fingerprint', digest: { sha256: fp } }] },
  });

/** Each platform pushed and signed as the build does, a list of them signed and tagged v1. */
async function published(only = PLATFORMS) {
  const reg = memoryRegistry();
  const signer = signerOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'k');
  const children = [];
  for (const platform of only) {
    const body = `{"platform":"${platform}"}`;
    const digest = reg.put(REPO, `fp-${platform.replace('/', '-')}`, DOCKER_MANIFEST, body);
    const r = await signImage(reg, { registry: REG, repository: REPO, digest }, signer, [
      provenance(digest, platform, `fp-${platform}`),
      statement(digest, PREDICATE_CYCLONEDX, { bomFormat: 'CycloneDX' }),
    ]);
    expect(r.ok).toBe(true);
    children.push({ platform, digest, size: body.length, mediaType: DOCKER_MANIFEST });
  }
  const list = manifestList(children);
  const digest = reg.put(REPO, 'v1', list.mediaType, list.body);
  const signed = await signList(reg, { registry: REG, repository: REPO, digest }, children, signer);
  expect(signed.ok && signed.value.attestations.length).toBe(2 * only.length);
  return { reg, signer, digest, children };
}

const request = (publicKeyPem: string, fingerprints: Record<string, string> = {}) => ({
  registry: REG,
  tag: 'v1',
  publicKeyPem,
  images: [
    {
      name: imageName('app'),
      repository: REPO,
      platforms: PLATFORMS.map((platform) => ({
        platform,
        fingerprint: fingerprints[platform] ?? `fp-${platform}`,
      })),
    },
  ],
});

describe('verifyImages on several platforms', () => {
  it("a signed list carrying its platforms' statements, each platform signed and of its own checkout: ok", async () => {
    const { reg, signer, digest, children } = await published();
    const [row] = await verifyImages(reg, request(signer.publicKeyPem));
    expect(row).toMatchObject({
      digest,
      signed: 'yes',
      provenance: 'matches',
      sbom: 'yes',
      ok: true,
    });
    expect(row!.platforms!.map((p) => [p.platform, p.digest, p.provenance, p.ok])).toEqual(
      children.map((c) => [c.platform, c.digest, 'matches', true]),
    );
    // Signing the same list again writes nothing.
    const before = reg.calls.filter((c) => c.startsWith('put ')).length;
    await signList(reg, { registry: REG, repository: REPO, digest }, children, signer);
    expect(reg.calls.filter((c) => c.startsWith('put ')).length).toBe(before);
  });

  it("one platform built from other inputs fails that platform (and the list's provenance)", async () => {
    const { reg, signer } = await published();
    const [row] = await verifyImages(
      reg,
      request(signer.publicKeyPem, { 'linux/arm64': 'fp-changed' }),
    );
    expect(row!.ok).toBe(false);
    const arm = row!.platforms!.find((p) => p.platform === 'linux/arm64')!;
    expect(arm.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(
        /^reg.test\/kbuild\/app:v1 \(linux\/arm64\)@\w{12} was built from other inputs/,
      ),
    ]);
    expect(row!.platforms!.find((p) => p.platform === 'linux/amd64')!.ok).toBe(true);
    expect(row!.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/not fp-changed \(linux\/arm64\)/),
    ]);
  });

  it('a list without a platform, or one manifest where a list is expected: said so', async () => {
    const { reg, signer } = await published(['linux/amd64']);
    const [missing] = await verifyImages(reg, request(signer.publicKeyPem));
    expect(missing!.problems.map((p) => [p.reason, p.message])).toEqual([
      [
        'platform-missing',
        expect.stringMatching(/app:v1@\w{12} lists linux\/amd64, not linux\/arm64/),
      ],
    ]);
    reg.put(REPO, 'v1', DOCKER_MANIFEST, '{"platform":"linux/amd64"}');
    const [single] = await verifyImages(reg, request(signer.publicKeyPem));
    expect(single!.ok).toBe(false);
    expect(single!.problems[0]).toMatchObject({ reason: 'not-a-list' });
  });
});
