/**
 * Signing on several platforms, end to end with the real bin, engine (arm64 RUN steps under qemu),
 * registry (127.0.0.1:5000) and cosign (/opt/kbuild-tools/bin/cosign): a two-image busybox family
 * built for linux/amd64 and linux/arm64 with --push --sign-key. The list each shared tag names and
 * each platform's manifest verify with cosign; so do `cosign verify-attestation` on the tag as
 * users type it (the list carries its platforms' statements) and on each platform's digest;
 * `kbuild verify` checks the list and every platform against that platform's checkout. Tampering
 * (a list naming an unsigned arm64 manifest; an arch tag pushed over) fails naming image and
 * platform.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosignVerify,
  cosignVerifyAttestation,
  offlineKeyFlags,
  requireCosign,
  runCosign,
  verifiedStatements,
  writeP256KeyPair,
} from './helpers/cosign.js';
import {
  kbuild,
  projectCopy,
  randomTag,
  REGISTRY,
  registryDigest,
  removeImages,
  requireHost,
  sh,
} from './helpers/host.js';

const project = projectCopy('bb');
const tag = randomTag();
const IMAGES = ['bb-base', 'bb-lib'];
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const P = ['-p', 'bb-signed', '--registry', REGISTRY];
/** What kbuild verify checks: bb-lib and its parent, what the builds built. */
const V = ['verify', 'bb-lib', ...P];
const file = (name: string) => join(project.dir, name);
/** busybox's arm64 manifest in the registry (setup-host makes the multi-platform base). */
const BASE = `${REGISTRY}/kbuild-bases/busybox:latest`;

beforeAll(async () => {
  requireHost();
  requireCosign();
  for (const k of ['key', 'other']) await writeP256KeyPair(file(`${k}.pem`), file(`${k}.pub`));
  writeFileSync(
    join(project.dir, 'profiles', 'bb-signed.yaml'),
    `extends: bb\nbase_image: ${BASE}\nplatforms: [linux/amd64, linux/arm64]\n`,
  );
}, 60_000);
afterAll(async () => {
  await removeImages((r) => r.startsWith('kbuild-test/') && r.includes(`:${tag}`));
  project.remove();
});

interface Statement {
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: {
    buildDefinition?: { externalParameters?: { platform?: string } };
    metadata?: { component?: { name?: string } };
  };
}
const hex = (d: string) => d.replace(/^sha256:/, '');

interface Published {
  name: string;
  status: string;
  digest: string;
  platformManifests: Record<string, { digest: string }>;
}

/** busybox's arm64 manifest (no signature of ours) copied into bb-lib's repository under `tag`. */
const copyArm64BusyboxTo = (tag: string) =>
  sh('skopeo', [
    'copy',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    '--override-arch',
    'arm64',
    `docker://${BASE}`,
    `docker://${REGISTRY}/kbuild-test/bb-lib:${tag}`,
  ]);

describe('kbuild build --sign-key on several platforms', () => {
  const published = new Map<string, Published>();

  it('signs each list and each platform; cosign verifies both, and the attestations on the tag and on every platform digest', async () => {
    const r = await kbuild(
      [
        'build',
        ...P,
        '--tag',
        tag,
        '--push',
        '--sign-key',
        file('key.pem'),
        '-q',
        '--summary-json',
        file('s.json'),
        '--metadata-file',
        file('m.json'),
        'bb-lib',
      ],
      project.dir,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(file('s.json'), 'utf8')) as {
      manifests: { published: boolean; images: Published[] };
    };
    expect(summary.manifests.published).toBe(true);
    for (const i of summary.manifests.images) published.set(i.name, i);
    expect([...published.keys()].sort()).toEqual(IMAGES);

    for (const name of IMAGES) {
      const image = published.get(name)!;
      expect(Object.keys(image.platformManifests).sort()).toEqual(PLATFORMS);
      const repo = `${REGISTRY}/kbuild-test/${name}`;
      const atTag = `${repo}:${tag}`;
      expect(await registryDigest(REGISTRY, `kbuild-test/${name}`, tag)).toBe(image.digest);
      // The tag as users type it: the list's signature, and its platforms' statements.
      for (const ref of [atTag, `${repo}@${image.digest}`]) {
        const v = await cosignVerify(file('key.pub'), ref);
        expect(v.code, v.out).toBe(0);
      }
      expect((await cosignVerify(file('other.pub'), atTag)).code).not.toBe(0);
      for (const type of ['slsaprovenance1', 'cyclonedx']) {
        const v = await cosignVerifyAttestation(file('key.pub'), atTag, type);
        expect(v.code, v.out).toBe(0);
        const found = verifiedStatements<Statement>(v.out);
        expect(found).toHaveLength(2);
        for (const s of found) {
          expect(s.subject[0]!.digest.sha256).toBe(hex(image.digest));
          // The platform's own manifest is the other subject.
          expect(PLATFORMS.map((p) => hex(image.platformManifests[p]!.digest))).toContain(
            s.subject[1]!.digest.sha256,
          );
        }
        if (type === 'slsaprovenance1')
          expect(
            found.map((s) => s.predicate.buildDefinition?.externalParameters?.platform).sort(),
          ).toEqual(PLATFORMS);
      }
      // Each platform's manifest by digest.
      for (const platform of PLATFORMS) {
        const digest = image.platformManifests[platform]!.digest;
        const ref = `${repo}@${digest}`;
        const v = await cosignVerify(file('key.pub'), ref);
        expect(v.code, `${platform}: ${v.out}`).toBe(0);
        const slsa = await cosignVerifyAttestation(file('key.pub'), ref, 'slsaprovenance1');
        expect(slsa.code, slsa.out).toBe(0);
        const [provenance] = verifiedStatements<Statement>(slsa.out);
        expect(provenance!.subject.map((s) => s.digest.sha256)).toEqual([hex(digest)]);
        expect(provenance!.predicate.buildDefinition?.externalParameters?.platform).toBe(platform);
        const cdx = await cosignVerifyAttestation(file('key.pub'), ref, 'cyclonedx');
        expect(cdx.code, cdx.out).toBe(0);
      }
    }
    // The metadata file's digests (issue 16's check) verify too.
    const metadata = JSON.parse(readFileSync(file('m.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    for (const name of IMAGES) {
      const digest = metadata[name]!['containerimage.digest']!;
      const ref = `${REGISTRY}/kbuild-test/${name}@${digest}`;
      for (const args of [['verify'], ['verify-attestation', '--type', 'slsaprovenance1']]) {
        const v = await runCosign([...args, ...offlineKeyFlags(file('key.pub'), ref)]);
        expect(v.code, `${name} ${args.join(' ')}: ${v.out}`).toBe(0);
      }
    }
  }, 600_000);

  it('kbuild verify: the list and every platform signed, each provenance the checkout of its platform, SBOMs there', async () => {
    const r = await kbuild([...V, '--tag', tag, '--key', file('key.pub'), '--json'], project.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      images: { name: string; digest: string; platforms: Record<string, unknown>[] }[];
    };
    expect(out.ok).toBe(true);
    for (const row of out.images) {
      const image = published.get(row.name)!;
      expect(row).toMatchObject({
        digest: image.digest,
        signed: 'yes',
        provenance: 'matches',
        sbom: 'yes',
      });
      expect(row.platforms).toEqual(
        PLATFORMS.map((platform): unknown =>
          expect.objectContaining({
            platform,
            digest: image.platformManifests[platform]!.digest,
            signed: 'yes',
            provenance: 'matches',
            sbom: 'yes',
            ok: true,
          }),
        ),
      );
    }
    const table = await kbuild([...V, '--tag', tag, '--key', file('key.pub')], project.dir);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/bb-lib\s+list\s+\w{12}\s+yes\s+matches\s+yes\s+ok/);
    expect(table.stdout).toMatch(/bb-lib\s+linux\/arm64\s+\w{12}\s+yes\s+matches\s+yes\s+ok/);
    const other = await kbuild([...V, '--tag', tag, '--key', file('other.pub')], project.dir);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^kbuild: bb-lib linux\/arm64: .* never with this key/m);
  }, 300_000);

  it('a re-run with nothing changed writes the same list and signs and attests nothing again', async () => {
    const lib = published.get('bb-lib')!;
    const attached = () =>
      Promise.all(
        [lib.digest, ...PLATFORMS.map((p) => lib.platformManifests[p]!.digest)].flatMap((d) =>
          ['sig', 'att'].map((x) =>
            registryDigest(REGISTRY, 'kbuild-test/bb-lib', `${d.replace(':', '-')}.${x}`),
          ),
        ),
      );
    const before = await attached();
    expect(before.every((d) => d !== null)).toBe(true);
    const r = await kbuild(
      ['build', ...P, '--tag', tag, '--push', '--sign-key', file('key.pem'), '-q', 'bb-lib'],
      project.dir,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await registryDigest(REGISTRY, 'kbuild-test/bb-lib', tag)).toBe(lib.digest);
    expect(await attached()).toEqual(before);
  }, 300_000);

  it('tampering: the tag moved to a list naming an unsigned arm64 manifest fails that image and platform alone', async () => {
    const lib = published.get('bb-lib')!;
    // busybox's arm64 manifest, copied into bb-lib's repository, and a list naming it.
    await copyArm64BusyboxTo(`${tag}-intruder`);
    const intruder = await fetch(
      `http://${REGISTRY}/v2/kbuild-test/bb-lib/manifests/${tag}-intruder`,
      {
        headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      },
    );
    const body = await intruder.arrayBuffer();
    const list = (await (
      await fetch(`http://${REGISTRY}/v2/kbuild-test/bb-lib/manifests/${lib.digest}`, {
        headers: { Accept: 'application/vnd.docker.distribution.manifest.list.v2+json' },
      })
    ).json()) as {
      manifests: { digest: string; size: number; platform: { architecture: string } }[];
    };
    for (const m of list.manifests)
      if (m.platform.architecture === 'arm64') {
        m.digest = intruder.headers.get('docker-content-digest')!;
        m.size = body.byteLength;
      }
    const put = await fetch(`http://${REGISTRY}/v2/kbuild-test/bb-lib/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.list.v2+json' },
      body: JSON.stringify(list),
    });
    expect(put.status).toBe(201);
    expect(
      (await cosignVerify(file('key.pub'), `${REGISTRY}/kbuild-test/bb-lib:${tag}`)).code,
    ).not.toBe(0);

    const r = await kbuild(
      [...V, '--tag', tag, '--key', file('key.pub'), '--no-source-check'],
      project.dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^kbuild: bb-lib linux\/arm64: \S+bb-lib:\S+ \(linux\/arm64\)@\w{12} has no signature \(the tag was moved: kbuild last pushed \w{12} here, it now names \w{12}\)/m,
    );
    expect(r.stderr).toMatch(/^kbuild: bb-lib: \S+bb-lib:\S+@\w{12} has no signature/m);
    expect(r.stderr).not.toMatch(/^kbuild: bb-lib linux\/amd64:/m);
    expect(r.stderr).not.toMatch(/^kbuild: bb-base/m);
    expect(r.stdout).toMatch(/bb-lib\s+linux\/amd64\s+\w{12}\s+yes\s+present\s+yes\s+ok/);
    expect(r.stdout).toMatch(
      /bb-lib\s+linux\/arm64\s+\w{12}\s+no\s+missing\s+no\s+FAIL \(unsigned, no-provenance, no-sbom\)/,
    );
    expect(r.stdout).toContain('1 of 2 image(s) verified');
  }, 300_000);

  it('--arch-tags: kbuild verify --arch-tags checks each <tag>-<arch> tag; one pushed over fails naming its platform', async () => {
    const t2 = `${tag}-x`;
    const b = await kbuild(
      [
        'build',
        ...P,
        '--tag',
        t2,
        '--push',
        '--sign-key',
        file('key.pem'),
        '-q',
        '--arch-tags',
        'bb-lib',
      ],
      project.dir,
    );
    expect(b.code, b.stdout + b.stderr).toBe(0);
    const ok = await kbuild(
      [...V, '--tag', t2, '--key', file('key.pub'), '--arch-tags'],
      project.dir,
    );
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/bb-base\s+linux\/amd64\s+\w{12}\s+yes\s+matches\s+yes\s+ok/);
    // Without --arch-tags: no list under the shared tag, and verify says why.
    const noList = await kbuild([...V, '--tag', t2, '--key', file('key.pub')], project.dir);
    expect(noList.code).toBe(1);
    expect(noList.stderr).toMatch(
      /bb-lib: \S+ does not exist in the registry \(\S+-amd64 is there: published with --arch-tags\? verify with --arch-tags\)/,
    );
    await copyArm64BusyboxTo(`${t2}-arm64`);
    const r = await kbuild(
      [...V, '--tag', t2, '--key', file('key.pub'), '--arch-tags'],
      project.dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^kbuild: bb-lib linux\/arm64: \S+:\S+-arm64 \(linux\/arm64\)@\w{12} has no signature/m,
    );
    expect(r.stderr).not.toMatch(/^kbuild: bb-lib linux\/amd64:/m);
  }, 300_000);
});
