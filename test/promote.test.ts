/**
 * Promotion through the real registry client against two in-memory registries: blobs copied,
 * mounted or found, an index with its children, by digest; idempotent; all or nothing.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryClient } from '../src/adapters/registry/index.js';
import { attachmentTag } from '../src/core/registry/attachments.js';
import { readManifest } from '../src/core/registry/manifest-content.js';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
} from '../src/core/registry/manifest-list.js';
import { imageName } from '../src/core/model.js';
import { promote, type PromoteRequest } from '../src/run/promote.js';
import { startFakeRegistry, type FakeRegistry } from './helpers/fake-registry.js';

const client = createRegistryClient({ blobChunkBytes: 8 });
const servers: FakeRegistry[] = [];
let a: FakeRegistry;
let b: FakeRegistry;
beforeEach(async () => {
  a = await startFakeRegistry();
  b = await startFakeRegistry();
  servers.push(a, b);
});
afterAll(async () => {
  for (const s of servers) await s.close();
});

/** An image manifest in `r`'s repository over new blobs (and `shared` ones already there). */
function image(
  r: FakeRegistry,
  repo: string,
  layers: string[],
  tag?: string,
  type = DOCKER_MANIFEST,
) {
  const config = r.putBlob(repo, `{"config of":"${repo} ${layers.join(' ')}"}`);
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: type,
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: 1,
      digest: config,
    },
    layers: layers.map((l) => ({
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      size: l.length,
      digest: r.putBlob(repo, l),
    })),
  });
  return { digest: r.putManifest(repo, type, body, ...(tag ? [tag] : [])), body };
}

const req = (from: FakeRegistry, to: FakeRegistry, ...repos: string[]): PromoteRequest => ({
  images: repos.map((r) => ({ name: imageName(r.split('/')[1]!), repository: r })),
  from: { registry: from.host, tag: 'x' },
  to: { registry: to.host, tag: 'y' },
});
const writes = (r: FakeRegistry) => r.seen.filter((s) => !['GET', 'HEAD'].includes(s.method));

describe('promote', () => {
  it('to another registry: blobs streamed, a shared layer mounted, digests identical', async () => {
    const base = image(a, 'ns/base', ['layer one (base)'], 'x');
    const app = image(
      a,
      'ns/app',
      ['layer one (base)', 'layer two (app), longer than a chunk'],
      'x',
    );
    const sizes = (repo: string, body: string, skip = 0) => {
      const content = readManifest(DOCKER_MANIFEST, Buffer.from(body));
      if (content.kind !== 'image') throw new Error('not an image');
      const blobs = content.blobs.filter((_, i) => i !== skip);
      return blobs.reduce((n, x) => n + a.blobs.get(repo)!.get(x.digest)!.length, 0);
    };

    const r = await promote(client, req(a, b, 'ns/base', 'ns/app'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((i) => [i.name, i.status, i.digest, i.manifests, i.blobs])).toEqual([
      [
        'base',
        'copied',
        base.digest,
        1,
        { copied: 2, mounted: 0, present: 0, bytes: sizes('ns/base', base.body, -1) },
      ],
      // The base layer is mounted from ns/base, where this run has just put it.
      [
        'app',
        'copied',
        app.digest,
        1,
        { copied: 2, mounted: 1, present: 0, bytes: sizes('ns/app', app.body, 1) },
      ],
    ]);
    expect(b.tags.get('ns/base')?.get('y')).toBe(base.digest);
    expect(b.tags.get('ns/app')?.get('y')).toBe(app.digest);
    // Every blob the manifests name is in the destination repository, byte for byte.
    for (const [repo, m] of [
      ['ns/base', base],
      ['ns/app', app],
    ] as const) {
      const content = readManifest(DOCKER_MANIFEST, Buffer.from(m.body));
      if (content.kind !== 'image') throw new Error('not an image');
      for (const blob of content.blobs)
        expect(b.blobs.get(repo)?.get(blob.digest)).toEqual(a.blobs.get(repo)?.get(blob.digest));
    }
    // The 36-byte layer went in chunks of 8: PATCHes, then the closing PUT.
    expect(writes(b).filter((s) => s.method === 'PATCH').length).toBeGreaterThan(4);
    expect(writes(b).filter((s) => s.url.includes('mount=')).length).toBe(1);
  });

  it('a second run finds everything there and writes nothing', async () => {
    const base = image(a, 'ns/base', ['l1'], 'x');
    expect((await promote(client, req(a, b, 'ns/base'))).ok).toBe(true);
    const before = writes(b).length;
    const again = await promote(client, req(a, b, 'ns/base'));
    expect(again).toEqual({
      ok: true,
      value: [
        {
          name: 'base',
          repository: 'ns/base',
          digest: base.digest,
          mediaType: DOCKER_MANIFEST,
          status: 'already-there',
          manifests: 0,
          attachments: 0,
          blobs: { copied: 0, mounted: 0, present: 0, bytes: 0 },
        },
      ],
    });
    expect(writes(b).length).toBe(before);
  });

  it("cosign's signature and attestation of the image go along to another registry, also when signed after an earlier promotion", async () => {
    const base = image(a, 'ns/base', ['l1'], 'x');
    expect((await promote(client, req(a, b, 'ns/base'))).ok).toBe(true);
    // Signed after that promotion: cosign's tags of the digest, in the same repository.
    const sig = image(a, 'ns/base', ['a signature layer'], attachmentTag(base.digest, 'sig'));
    const att = image(a, 'ns/base', ['an attestation layer'], attachmentTag(base.digest, 'att'));
    const again = await promote(client, req(a, b, 'ns/base'));
    expect(again.ok && again.value[0]).toMatchObject({ status: 'already-there', attachments: 2 });
    expect(b.tags.get('ns/base')?.get(attachmentTag(base.digest, 'sig'))).toBe(sig.digest);
    expect(b.tags.get('ns/base')?.get(attachmentTag(base.digest, 'att'))).toBe(att.digest);
    expect(b.blobs.get('ns/base')?.size).toBe(a.blobs.get('ns/base')?.size);
  });

  it('blobs the destination has are not copied; a moved tag says what it named before', async () => {
    const old = image(b, 'ns/base', ['l1'], 'y');
    const now = image(a, 'ns/base', ['l1', 'l2'], 'x');
    b.putBlob('ns/base', 'l1');
    const r = await promote(client, req(a, b, 'ns/base'));
    expect(r.ok && r.value[0]).toMatchObject({
      status: 'copied',
      digest: now.digest,
      replaced: old.digest,
      blobs: { copied: 2, mounted: 0, present: 1 },
    });
  });

  it('an index: each child with its blobs, by digest, then the index under the tag', async () => {
    for (const [type, child] of [
      [DOCKER_MANIFEST_LIST, DOCKER_MANIFEST],
      [OCI_INDEX, OCI_MANIFEST],
    ] as const) {
      const amd = image(a, 'ns/multi', [`amd64 ${type}`], undefined, child);
      const arm = image(a, 'ns/multi', [`arm64 ${type}`], undefined, child);
      const index = a.putManifest(
        'ns/multi',
        type,
        JSON.stringify({
          schemaVersion: 2,
          mediaType: type,
          manifests: [amd, arm].map((m, i) => ({
            mediaType: child,
            size: m.body.length,
            digest: m.digest,
            platform: { os: 'linux', architecture: ['amd64', 'arm64'][i] },
          })),
        }),
        'x',
      );
      const r = await promote(client, req(a, b, 'ns/multi'));
      expect(
        r.ok && r.value.map((i) => [i.digest, i.mediaType, i.manifests, i.blobs.copied]),
      ).toEqual([[index, type, 3, 4]]);
      expect(b.tags.get('ns/multi')?.get('y')).toBe(index);
      for (const m of [amd, arm]) expect(b.manifests.get('ns/multi')?.has(m.digest)).toBe(true);
    }
  });

  it('within one registry: one manifest PUT under the new tag, no blob moves', async () => {
    const base = image(a, 'ns/base', ['l1'], 'x');
    const n = a.seen.length;
    const r = await promote(client, req(a, a, 'ns/base'));
    expect(r.ok && r.value[0]).toMatchObject({
      status: 'copied',
      manifests: 1,
      digest: base.digest,
    });
    expect(a.seen.slice(n).map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /v2/ns/base/manifests/x',
      'HEAD /v2/ns/base/manifests/y',
      'PUT /v2/ns/base/manifests/y',
      'HEAD /v2/ns/base/manifests/y',
    ]);
    expect(a.tags.get('ns/base')?.get('y')).toBe(base.digest);
  });

  it('refuses, writing nothing, when any image is missing under the source tag (naming them all)', async () => {
    image(a, 'ns/base', ['l1'], 'x');
    image(a, 'ns/app', ['l2'], 'other');
    const r = await promote(client, req(a, b, 'ns/base', 'ns/app', 'ns/gone'));
    expect(r).toEqual({
      ok: false,
      error: {
        reason: 'source-missing',
        missing: [
          { name: 'app', ref: `${a.host}/ns/app:x` },
          { name: 'gone', ref: `${a.host}/ns/gone:x` },
        ],
        unreadable: [],
      },
    });
    expect(b.seen).toEqual([]);
  });

  it('a failure midway is reported per image; the others are promoted', async () => {
    image(a, 'ns/base', ['l1'], 'x');
    image(a, 'ns/app', ['l2'], 'x');
    b.fail((s) => s.method === 'PUT' && s.url.startsWith('/v2/ns/app/manifests/'), 403);
    const r = await promote(client, req(a, b, 'ns/base', 'ns/app'));
    expect(r.ok).toBe(false);
    if (r.ok || r.error.reason !== 'copy-failed') throw new Error('expected copy-failed');
    expect(r.error.promoted.map((i) => i.name)).toEqual(['base']);
    expect(r.error.failed).toEqual([
      {
        name: 'app',
        message: `PUT http://${b.host}/v2/ns/app/manifests/y: 403 Forbidden: access denied to ns/app on ${b.host}`,
      },
    ]);
  });

  it('unsupported media types are refused before anything is written', async () => {
    a.putManifest('ns/old', 'application/vnd.docker.distribution.manifest.v1+prettyjws', '{}', 'x');
    const r = await promote(client, req(a, b, 'ns/old'));
    expect(r.ok || r.error).toMatchObject({
      reason: 'source-missing',
      missing: [],
      unreadable: [
        {
          name: 'old',
          message:
            'cannot be copied: media type application/vnd.docker.distribution.manifest.v1+prettyjws (kbuild copies Docker v2 and OCI manifests and indexes)',
        },
      ],
    });
    expect(writes(b)).toEqual([]);
  });
});
