/**
 * Issue 16 item 4 for real: a signed `kbuild init` family (real bin, engine, the registry on
 * 127.0.0.1:5000 in a namespace of its own, cosign from scripts/setup-host.sh) released with
 * `kbuild promote` within that registry and to a second Docker Distribution started here, with
 * and without `--require-signed`, and pruned with `kbuild prune --registry --yes`: signatures and
 * attestations follow their digests, verify with cosign and `kbuild verify` wherever the digest
 * goes, and are deleted with (only with) the manifests they are about.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient } from '../src/adapters/registry/index.js';
import type { Digest } from '../src/core/model.js';
import {
  cosignVerify,
  cosignVerifyAttestation,
  requireCosign,
  writeP256KeyPair,
} from './helpers/cosign.js';
import { startExtraRegistry, type ExtraRegistry } from './helpers/extra-registry.js';
import {
  kbuild,
  randomTag,
  REGISTRY,
  registryDigest,
  removeImages,
  requireHost,
  sh,
} from './helpers/host.js';

const parent = mkdtempSync(join(tmpdir(), 'kbuild-sign-release-'));
const dir = join(parent, 'fam');
const ns = `kbuild-sign-release-${randomTag()}`;
const TAG = randomTag();
/** A dated tag the retention rules below delete (2020 is long past 30 days). */
const OLD = 'master-20200101';
const IMAGES = ['base', 'hello'] as const;
const P = ['-p', 'busybox-binary', '--registry', REGISTRY];
const file = (name: string) => join(parent, name);
const client = createRegistryClient();
let b: ExtraRegistry | undefined;
const B = () => b!.host;
/** Digests of each image under TAG (the release) and under OLD (an older, other build). */
const now: Record<string, string> = {};
const old: Record<string, string> = {};

const attTag = (digest: string, kind: 'sig' | 'att') => `${digest.replace(':', '-')}.${kind}`;

/** The tags of a repository, from GET /v2/<repo>/tags/list. */
async function tagsOf(registry: string, repo: string): Promise<string[]> {
  const r = await fetch(`http://${registry}/v2/${repo}/tags/list`);
  if (r.status === 404) return [];
  const body = (await r.json()) as { tags: string[] | null };
  return body.tags ?? [];
}

async function build(tag: string): Promise<void> {
  const r = await kbuild(
    [...'build'.split(' '), ...P, '--tag', tag, '--push', '--sign-key', file('key.pem')],
    dir,
  );
  if (r.code !== 0) throw new Error(`kbuild build --tag ${tag} failed:\n${r.stdout}\n${r.stderr}`);
}

beforeAll(async () => {
  requireHost();
  requireCosign();
  for (const k of ['key', 'other']) await writeP256KeyPair(file(`${k}.pem`), file(`${k}.pub`));
  const init = await kbuild(
    ['init', 'fam', '--base-image', 'busybox:latest', '--namespace', ns],
    parent,
  );
  if (init.code !== 0) throw new Error(`kbuild init failed: ${init.stderr}`);
  // Content of this run's own (another run's identical images would be found fresh, not built).
  const template = join(dir, 'images', 'base', 'Dockerfile.j2');
  const mine = `${readFileSync(template, 'utf8')}LABEL test.seed="${ns}"\n`;
  // An older build of the family, pushed and signed under a dated tag.
  writeFileSync(template, `${mine}LABEL variant=old\n`);
  await build(OLD);
  writeFileSync(template, mine);
  await build(TAG);
  for (const image of IMAGES) {
    now[image] = (await registryDigest(REGISTRY, `${ns}/${image}`, TAG)) ?? 'missing';
    old[image] = (await registryDigest(REGISTRY, `${ns}/${image}`, OLD)) ?? 'missing';
    expect(now[image]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(old[image]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(old[image]).not.toBe(now[image]);
  }
  b = await startExtraRegistry();
}, 300_000);

afterAll(async () => {
  await b?.stop();
  for (const image of IMAGES) {
    const repository = `${ns}/${image}`;
    const digests = new Set<Digest>();
    for (const tag of await tagsOf(REGISTRY, repository)) {
      const h = await client.headManifest({ registry: REGISTRY, repository, reference: tag });
      if (h.ok) digests.add(h.value.digest);
    }
    for (const reference of digests)
      await client.deleteManifest({ registry: REGISTRY, repository, reference });
  }
  await removeImages((r) => r.includes(`${ns}/`));
  rmSync(parent, { recursive: true, force: true });
}, 120_000);

/** `kbuild promote --from FROM --to TO --require-signed PUB` (to another registry when given). */
const promoteSigned = (from: string, to: string, pub: string, toRegistry?: string) =>
  kbuild(
    [
      ...['promote', ...P, '--from', from, '--to', to],
      ...(toRegistry ? ['--to-registry', toRegistry] : []),
      ...['--require-signed', file(pub)],
    ],
    dir,
  );

describe('signed releases: promote and prune with signatures', () => {
  it('promote within the registry: the new tag names the signed digest; its signature is the one already there', async () => {
    const sigsBefore = await Promise.all(
      IMAGES.map((i) => registryDigest(REGISTRY, `${ns}/${i}`, attTag(now[i]!, 'sig'))),
    );
    expect(sigsBefore.every((d) => d !== null)).toBe(true);
    const r = await kbuild(['promote', ...P, '--from', TAG, '--to', 'v1'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const [n, image] of IMAGES.entries()) {
      const repo = `${ns}/${image}`;
      expect(await registryDigest(REGISTRY, repo, 'v1')).toBe(now[image]);
      // Nothing was signed or copied: the .sig manifest is the same object, keyed by the digest.
      expect(await registryDigest(REGISTRY, repo, attTag(now[image]!, 'sig'))).toBe(sigsBefore[n]);
      const byDigest = await cosignVerify(file('key.pub'), `${REGISTRY}/${repo}@${now[image]}`);
      expect(byDigest.out).toContain(
        'The signatures were verified against the specified public key',
      );
      expect(byDigest.code).toBe(0);
      // cosign resolves the promoted tag to that digest and finds the same signature.
      expect((await cosignVerify(file('key.pub'), `${REGISTRY}/${repo}:v1`)).code).toBe(0);
    }
    const verified = await kbuild(
      [...['verify', ...P], '--tag', 'v1', '--key', file('key.pub')],
      dir,
    );
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('2 of 2 image(s) verified');
  }, 300_000);

  it('promote to another registry: signature and attestations go along and verify there', async () => {
    const r = await kbuild(
      ['promote', ...P, '--from', TAG, '--to', 'v1', '--to-registry', B(), '--json'],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { images: { name: string; attachments: number }[] };
    // Each image: its .sig and its .att (provenance and SBOM in one manifest).
    expect(out.images.map((i) => [i.name, i.attachments])).toEqual([
      ['base', 2],
      ['hello', 2],
    ]);
    for (const image of IMAGES) {
      const repo = `${ns}/${image}`;
      expect(await registryDigest(B(), repo, 'v1')).toBe(now[image]);
      const ref = `${B()}/${repo}@${now[image]}`;
      const sig = await cosignVerify(file('key.pub'), ref);
      expect(sig.out).toContain('The signatures were verified against the specified public key');
      expect(sig.code).toBe(0);
      for (const type of ['slsaprovenance1', 'cyclonedx']) {
        const att = await cosignVerifyAttestation(file('key.pub'), ref, type);
        expect(att.code, `${image} ${type}: ${att.out}`).toBe(0);
      }
      expect((await cosignVerify(file('other.pub'), ref)).code).not.toBe(0);
    }
    const verified = await kbuild(
      [
        'verify',
        '-p',
        'busybox-binary',
        '--registry',
        B(),
        '--tag',
        'v1',
        '--key',
        file('key.pub'),
      ],
      dir,
    );
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
  }, 300_000);

  it('--require-signed: another key refuses all, writing nothing; the right key passes', async () => {
    const refused = await promoteSigned(TAG, 'v2', 'other.pub', B());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `nothing promoted: 2 of 2 image(s) under tag '${TAG}' in ${REGISTRY} are not signed by the key in ${file('other.pub')}`,
    );
    for (const image of IMAGES) {
      expect(refused.stderr).toContain(
        `  ${image}: ${REGISTRY}/${ns}/${image}:${TAG} (${now[image]}) is signed, but not by the key (1 signature(s) by other keys)`,
      );
      expect(await registryDigest(B(), `${ns}/${image}`, 'v2')).toBeNull();
    }
    expect(await tagsOf(B(), `${ns}/base`)).not.toContain('v2');

    const passed = await promoteSigned(TAG, 'v2', 'key.pub', B());
    expect(passed.stderr).toBe('');
    expect(passed.code).toBe(0);
    for (const image of IMAGES)
      expect(await registryDigest(B(), `${ns}/${image}`, 'v2')).toBe(now[image]);
  }, 300_000);

  it('--require-signed refuses a tag pushed over with an unsigned image, naming it alone', async () => {
    const cand = await kbuild(['promote', ...P, '--from', TAG, '--to', 'cand'], dir);
    expect(cand.code).toBe(0);
    const over = `${REGISTRY}/${ns}/hello:cand`;
    await sh('docker', ['tag', 'busybox:latest', over]);
    await sh('docker', ['push', over]);
    const pushed = await registryDigest(REGISTRY, `${ns}/hello`, 'cand');
    expect(pushed).not.toBe(now.hello);
    const r = await promoteSigned('cand', 'rel', 'key.pub');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`  hello: ${over} (${pushed}) is not signed\n`);
    expect(r.stderr).not.toMatch(/^ {2}base:/m);
    for (const image of IMAGES)
      expect(await registryDigest(REGISTRY, `${ns}/${image}`, 'rel')).toBeNull();
  }, 300_000);

  it("--require-signed refuses the key's signature of another digest put under an image's .sig tag; so does cosign", async () => {
    const repo = `${ns}/hello`;
    const pushed = (await registryDigest(REGISTRY, repo, 'cand'))!;
    // hello's real signature (same repository, blobs there) copied under the unsigned image's tag.
    const sig = await client.getManifest({
      registry: REGISTRY,
      repository: repo,
      reference: attTag(now.hello!, 'sig'),
    });
    if (!sig.ok) throw new Error(sig.error.message);
    const put = await client.putManifest(
      { registry: REGISTRY, repository: repo, reference: attTag(pushed, 'sig') },
      { mediaType: sig.value.mediaType, body: sig.value.body },
    );
    expect(put.ok).toBe(true);
    const r = await promoteSigned('cand', 'rel', 'key.pub');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `  hello: ${REGISTRY}/${repo}:cand (${pushed}) carries the key's signature of another digest (${now.hello})`,
    );
    expect(await registryDigest(REGISTRY, repo, 'rel')).toBeNull();
    const cosigned = await cosignVerify(file('key.pub'), `${REGISTRY}/${repo}@${pushed}`);
    expect(cosigned.code).not.toBe(0);
  }, 300_000);

  it('prune --registry --yes: the deleted digests lose their .sig/.att tags, the kept ones keep them and still verify', async () => {
    appendFileSync(
      join(dir, 'kbuild.yaml'),
      ['', 'retention:', '  - tags: "master-*"', '    keep_days: 30', ''].join('\n'),
    );
    for (const image of IMAGES) {
      const tags = await tagsOf(REGISTRY, `${ns}/${image}`);
      for (const t of [OLD, attTag(old[image]!, 'sig'), attTag(old[image]!, 'att')])
        expect(tags).toContain(t);
    }
    const r = await kbuild(['prune', '-p', 'busybox-binary', '--registry', REGISTRY, '--yes'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const image of IMAGES) {
      const repo = `${ns}/${image}`;
      const tags = await tagsOf(REGISTRY, repo);
      for (const t of [OLD, attTag(old[image]!, 'sig'), attTag(old[image]!, 'att')])
        expect(tags).not.toContain(t);
      for (const t of [TAG, 'v1', attTag(now[image]!, 'sig'), attTag(now[image]!, 'att')])
        expect(tags).toContain(t);
      const ref = `${REGISTRY}/${repo}@${now[image]}`;
      expect((await cosignVerify(file('key.pub'), ref)).code).toBe(0);
      const att = await cosignVerifyAttestation(file('key.pub'), ref, 'slsaprovenance1');
      expect(att.code).toBe(0);
    }
  }, 300_000);
});
