/**
 * `promote --require-signed`: through the real registry client against in-memory registries,
 * images signed in cosign's format by run/sign's signImage. Every source digest must carry a
 * valid signature by the key (a manifest list: the list's own) or nothing is written; each refused
 * image is named with why. The key file itself is checked by the CLI before anything is read.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryClient } from '../src/adapters/registry/index.js';
import { signerOf } from '../src/adapters/signing/keys.js';
import { attachmentTag } from '../src/core/registry/attachments.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST } from '../src/core/registry/manifest-list.js';
import { imageName, type Digest } from '../src/core/model.js';
import { promote, type PromoteRequest } from '../src/run/promote.js';
import { notSignedMessage } from '../src/run/sign/require-signed.js';
import { signImage } from '../src/run/sign/sign-image.js';
import { startFakeRegistry, type FakeRegistry } from './helpers/fake-registry.js';
import { runCli } from './helpers/run-cli.js';

const client = createRegistryClient();
const servers: FakeRegistry[] = [];
let a: FakeRegistry;
let b: FakeRegistry;
beforeEach(async () => {
  a = await startFakeRegistry();
  b = await startFakeRegistry();
  servers.push(a, b);
});
const tmp = mkdtempSync(join(tmpdir(), 'kbuild-promote-signed-'));
afterAll(async () => {
  for (const s of servers) await s.close();
  rmSync(tmp, { recursive: true, force: true });
});

const newSigner = (source = 'test key') =>
  signerOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, source);
const key = newSigner();
const other = newSigner('other key');

/** An image manifest in `r`'s repository over one new layer. */
function image(r: FakeRegistry, repo: string, layer: string, tag?: string): Digest {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: 1,
      digest: r.putBlob(repo, `{"config of":"${repo} ${layer}"}`),
    },
    layers: [
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        size: layer.length,
        digest: r.putBlob(repo, layer),
      },
    ],
  });
  return r.putManifest(repo, DOCKER_MANIFEST, body, ...(tag ? [tag] : [])) as Digest;
}

async function sign(r: FakeRegistry, repo: string, digest: Digest, signer = key) {
  const s = await signImage(client, { registry: r.host, repository: repo, digest }, signer, []);
  if (!s.ok) throw new Error(s.error.message);
}

const req = (from: FakeRegistry, to: FakeRegistry, ...repos: string[]): PromoteRequest => ({
  images: repos.map((r) => ({ name: imageName(r.split('/')[1]!), repository: r })),
  from: { registry: from.host, tag: 'x' },
  to: { registry: to.host, tag: 'y' },
  requireSignedBy: key.publicKeyPem,
});
const writes = (r: FakeRegistry) => r.seen.filter((s) => !['GET', 'HEAD'].includes(s.method));

describe('promote --require-signed', () => {
  it('every digest signed by the key: promoted, its signature along with it', async () => {
    const base = image(a, 'ns/base', 'l1', 'x');
    const app = image(a, 'ns/app', 'l2', 'x');
    await sign(a, 'ns/base', base);
    await sign(a, 'ns/app', app, other);
    await sign(a, 'ns/app', app); // two signers: one of them is the key
    const r = await promote(client, req(a, b, 'ns/base', 'ns/app'));
    expect(r.ok && r.value.map((i) => [i.name, i.status, i.attachments])).toEqual([
      ['base', 'copied', 1],
      ['app', 'copied', 1],
    ]);
    expect(b.tags.get('ns/base')?.get('y')).toBe(base);
    expect(b.tags.get('ns/app')?.get(attachmentTag(app, 'sig'))).toBe(
      a.tags.get('ns/app')?.get(attachmentTag(app, 'sig')),
    );
  });

  it('refuses the whole promotion, writing nothing, naming each image and why', async () => {
    const good = image(a, 'ns/good', 'l0', 'x');
    await sign(a, 'ns/good', good);
    image(a, 'ns/bare', 'l1', 'x');
    const foreign = image(a, 'ns/foreign', 'l2', 'x');
    await sign(a, 'ns/foreign', foreign, other);
    // A signature by the key of an older image of the repository, put under the new one's tag.
    const old = image(a, 'ns/copied', 'l3 old');
    await sign(a, 'ns/copied', old);
    const now = image(a, 'ns/copied', 'l3 new', 'x');
    a.tags
      .get('ns/copied')!
      .set(attachmentTag(now, 'sig'), a.tags.get('ns/copied')!.get(attachmentTag(old, 'sig'))!);

    for (const to of [b, a]) {
      const before = writes(to).length;
      const r = await promote(client, req(a, to, 'ns/good', 'ns/bare', 'ns/foreign', 'ns/copied'));
      expect(r.ok || r.error.reason).toBe('not-signed');
      if (r.ok || r.error.reason !== 'not-signed') return;
      expect(r.error.refused.map((n) => [n.name, n.why])).toEqual([
        ['bare', 'unsigned'],
        ['foreign', 'other-key'],
        ['copied', 'other-digest'],
      ]);
      expect(r.error.refused[2]).toMatchObject({ digest: now, signedDigest: old });
      expect(r.error.refused.map(notSignedMessage)).toEqual([
        expect.stringMatching(/ns\/bare:x \(sha256:\w+\) is not signed$/),
        expect.stringMatching(/is signed, but not by the key \(1 signature\(s\) by other keys\)/),
        expect.stringContaining(`carries the key's signature of another digest (${old})`),
      ]);
      // Nothing written: not the good image, not the tag.
      expect(writes(to).length).toBe(before);
      expect(to.tags.get('ns/good')?.get('y')).toBeUndefined();
    }
    expect(b.seen).toEqual([]);
  });

  it("a manifest list needs the list's own signature; its platforms' alone do not do", async () => {
    const amd = image(a, 'ns/multi', 'amd64 layer');
    const arm = image(a, 'ns/multi', 'arm64 layer');
    const list = a.putManifest(
      'ns/multi',
      DOCKER_MANIFEST_LIST,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST_LIST,
        manifests: [amd, arm].map((digest, i) => ({
          mediaType: DOCKER_MANIFEST,
          size: 1,
          digest,
          platform: { os: 'linux', architecture: ['amd64', 'arm64'][i] },
        })),
      }),
      'x',
    ) as Digest;
    await sign(a, 'ns/multi', amd);
    await sign(a, 'ns/multi', arm);
    const refused = await promote(client, req(a, b, 'ns/multi'));
    expect(refused.ok || refused.error).toMatchObject({
      reason: 'not-signed',
      refused: [{ name: 'multi', digest: list, why: 'unsigned' }],
    });
    expect(writes(b)).toEqual([]);
    await sign(a, 'ns/multi', list);
    const r = await promote(client, req(a, b, 'ns/multi'));
    // The list, its two platforms, and the three signatures.
    expect(r.ok && r.value[0]).toMatchObject({ status: 'copied', digest: list, attachments: 3 });
    expect(b.tags.get('ns/multi')?.get('y')).toBe(list);
  });

  it('a registry failure reading the signatures refuses too', async () => {
    const base = image(a, 'ns/base', 'l1', 'x');
    a.fail((s) => s.url.includes(`/manifests/${attachmentTag(base, 'sig')}`), 403);
    const r = await promote(client, req(a, b, 'ns/base'));
    expect(r.ok || r.error).toMatchObject({
      reason: 'not-signed',
      refused: [{ name: 'base', why: 'unreadable', message: expect.stringContaining('403') }],
    });
    expect(b.seen).toEqual([]);
  });

  it('the CLI: a key file it cannot use is exit 2 naming the file, before any registry is asked', async () => {
    const missing = join(tmp, 'absent.pub');
    const rsa = join(tmp, 'rsa.pub');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 2048 })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    );
    const priv = join(tmp, 'private.pem');
    writeFileSync(
      priv,
      generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    );
    for (const [file, why] of [
      [missing, /no such file/],
      [rsa, /rsa key, not ECDSA P-256/],
      [priv, /not a PEM public key/],
    ] as const) {
      const r = await runCli(
        ['promote', '--registry', a.host, '--from', 'x', '--to', 'y', '--require-signed', file],
        tmp,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--require-signed: ${file}: `);
      expect(r.stderr).toMatch(why);
    }
    expect(a.seen).toEqual([]);
  });
});
