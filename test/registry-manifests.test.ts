/**
 * The registry client against the real registry on 127.0.0.1:5000: an image pushed with docker,
 * its digest checked against `docker push` and skopeo; manifests, lists and indexes put, read and
 * deleted, tags copied and listed, blobs found and mounted. And which registries are loopback,
 * spoken to over http. Retries and authentication, which a reference registry does not do on
 * demand, are in registry-auth.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../src/core/model.js';
import { isLoopbackHost } from '../src/core/dockerfile/reference.js';
import { createRegistryClient, MEDIA_TYPES, sha256Digest } from '../src/adapters/registry/index.js';
import { REGISTRY, requireHost } from './helpers/host.js';
import { closedPort } from './helpers/registry-server.js';
import {
  bytes,
  failure,
  fakeSleep,
  recordingFetch,
  text,
  urlOf,
  value,
} from './helpers/registry-calls.js';

// ---------------------------------------------------------------------------

describe('against the registry on 127.0.0.1:5000', () => {
  const run = Math.random().toString(36).slice(2, 10);
  const repo = `kbuild-regtest-${run}/img`;
  const other = `kbuild-regtest-${run}/other`;
  const image = `${REGISTRY}/${repo}:v1`;
  const log: string[] = [];
  const client = createRegistryClient({ fetch: recordingFetch(log), tagPageSize: 2 });
  const ref = (reference: string) => ({ registry: REGISTRY, repository: repo, reference });
  /** Every manifest digest pushed here, per repository, deleted in afterAll. */
  const created: { repository: string; digest: Digest }[] = [];
  let pushed: Digest;
  let manifest: { config: { digest: Digest }; layers: { digest: Digest }[] };

  beforeAll(() => {
    requireHost();
    execFileSync('docker', ['build', '--network', 'none', '-q', '-t', image, '-'], {
      input: `FROM busybox:latest\nRUN echo ${run} > /kbuild-regtest\n`,
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: 60_000,
    });
    const out = execFileSync('docker', ['push', image], { encoding: 'utf8', timeout: 60_000 });
    const m = /v1: digest: (sha256:[0-9a-f]{64}) size:/.exec(out);
    if (!m) throw new Error(`no digest in docker push output:\n${out}`);
    pushed = m[1] as Digest;
    created.push({ repository: repo, digest: pushed });
  });

  afterAll(async () => {
    for (const c of created) {
      await client.deleteManifest({
        registry: REGISTRY,
        repository: c.repository,
        reference: c.digest,
      });
    }
    try {
      execFileSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  });

  it('headManifest and getManifest answer the digest docker push printed and skopeo sees', async () => {
    const skopeo = JSON.parse(
      execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${image}`], {
        encoding: 'utf8',
      }),
    ) as { Digest: string };
    expect(skopeo.Digest).toBe(pushed);

    const head = value(await client.headManifest(ref('v1')));
    expect(head).toEqual({ digest: pushed, mediaType: MEDIA_TYPES.dockerManifest });

    const got = value(await client.getManifest(ref('v1')));
    expect(got.digest).toBe(pushed);
    expect(got.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(sha256Digest(got.body)).toBe(pushed);
    manifest = JSON.parse(text(got.body)) as typeof manifest;
    expect(manifest.layers.length).toBeGreaterThan(0);

    const byDigest = value(await client.getManifest(ref(pushed)));
    expect(byDigest.body).toEqual(got.body);
  });

  it('copyTag retags with one GET and one PUT of the manifest, no blob transfer', async () => {
    log.length = 0;
    const copied = value(await client.copyTag(ref('v1'), 'copied'));
    expect(copied.digest).toBe(pushed);
    expect(log).toEqual([
      `GET http://${REGISTRY}/v2/${repo}/manifests/v1`,
      `PUT http://${REGISTRY}/v2/${repo}/manifests/copied`,
    ]);
    expect(value(await client.headManifest(ref('copied'))).digest).toBe(pushed);
  });

  it('putManifest stores a docker manifest list and an OCI index referencing the image', async () => {
    const size = value(await client.getManifest(ref('v1'))).body.length;
    const entry = {
      mediaType: MEDIA_TYPES.dockerManifest,
      size,
      digest: pushed,
      platform: { architecture: 'amd64', os: 'linux' },
    };
    for (const [tag, mediaType] of [
      ['list', MEDIA_TYPES.dockerManifestList],
      ['index', MEDIA_TYPES.ociIndex],
    ] as const) {
      const body = bytes(JSON.stringify({ schemaVersion: 2, mediaType, manifests: [entry] }));
      const put = value(await client.putManifest(ref(tag), { mediaType, body }));
      expect(put.digest).toBe(sha256Digest(body));
      created.push({ repository: repo, digest: put.digest });
      expect(value(await client.headManifest(ref(tag)))).toEqual({ digest: put.digest, mediaType });
      const got = value(await client.getManifest(ref(tag)));
      expect(got).toEqual({ digest: put.digest, mediaType, body });
    }
  });

  it('putManifest: a list naming a manifest the repository lacks, an unknown media type', async () => {
    const missing = `sha256:${'1'.repeat(64)}`;
    const list = bytes(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerManifestList,
        manifests: [{ mediaType: MEDIA_TYPES.dockerManifest, size: 1, digest: missing }],
      }),
    );
    const f1 = failure(
      await client.putManifest(ref('bad'), {
        mediaType: MEDIA_TYPES.dockerManifestList,
        body: list,
      }),
    );
    expect(f1).toEqual({
      reason: 'http-error',
      status: 400,
      transient: false,
      message: `PUT http://${REGISTRY}/v2/${repo}/manifests/bad: 400 Bad Request: MANIFEST_BLOB_UNKNOWN blob unknown to registry (${missing})`,
    });

    const f2 = failure(
      await client.putManifest(ref('bad'), {
        mediaType: 'application/vnd.example.unknown+json',
        body: bytes('{"schemaVersion":2}'),
      }),
    );
    expect(f2).toEqual({
      reason: 'unsupported',
      message: `PUT http://${REGISTRY}/v2/${repo}/manifests/bad: 400 Bad Request: MANIFEST_INVALID manifest invalid (the registry may not accept application/vnd.example.unknown+json)`,
    });
  });

  it('blobExists and mountBlob from one repository to another', async () => {
    const layer = manifest.layers.at(-1)!.digest;
    const absent = `sha256:${'0'.repeat(64)}` as Digest;
    expect(value(await client.blobExists(REGISTRY, repo, manifest.config.digest))).toBe(true);
    expect(value(await client.blobExists(REGISTRY, repo, layer))).toBe(true);
    expect(value(await client.blobExists(REGISTRY, repo, absent))).toBe(false);
    expect(value(await client.blobExists(REGISTRY, other, layer))).toBe(false);

    expect(value(await client.mountBlob(REGISTRY, other, layer, repo))).toBe(true);
    expect(value(await client.blobExists(REGISTRY, other, layer))).toBe(true);

    // Not mountable: the registry opens an upload instead, which the client cancels.
    log.length = 0;
    expect(value(await client.mountBlob(REGISTRY, other, absent, repo))).toBe(false);
    expect(log).toHaveLength(2);
    expect(log[1]).toMatch(
      new RegExp(`^DELETE http://${REGISTRY}/v2/${other}/blobs/uploads/[0-9a-f-]{36}\\?_state=`),
    );
  });

  it('listTags lists every tag (Distribution 2.8 ignores n= on tags/list: one page, no Link)', async () => {
    for (const t of ['p1', 'p2', 'p3', 'p4', 'p5']) value(await client.copyTag(ref('v1'), t));
    log.length = 0;
    const tags = value(await client.listTags(REGISTRY, repo));
    expect(log).toEqual([`GET http://${REGISTRY}/v2/${repo}/tags/list?n=2`]);
    expect(tags).toEqual(expect.arrayContaining(['v1', 'copied', 'p1', 'p2', 'p3', 'p4', 'p5']));
    expect(new Set(tags).size).toBe(tags.length);
  });

  it('not-found is a value, with the registry error code in its message', async () => {
    expect(failure(await client.headManifest(ref('no-such-tag')))).toEqual({
      reason: 'not-found',
      message: `HEAD http://${REGISTRY}/v2/${repo}/manifests/no-such-tag: 404 Not Found`,
    });
    expect(failure(await client.getManifest(ref('no-such-tag')))).toEqual({
      reason: 'not-found',
      message: `GET http://${REGISTRY}/v2/${repo}/manifests/no-such-tag: 404 Not Found: MANIFEST_UNKNOWN manifest unknown ({"Tag":"no-such-tag"})`,
    });
    const noRepo = `kbuild-regtest-${run}/never-pushed`;
    expect(failure(await client.listTags(REGISTRY, noRepo))).toEqual({
      reason: 'not-found',
      message: `GET http://${REGISTRY}/v2/${noRepo}/tags/list?n=2: 404 Not Found: NAME_UNKNOWN repository name not known to registry ({"name":"${noRepo}"})`,
    });
    const unknown = `sha256:${'2'.repeat(64)}` as Digest;
    expect(
      failure(
        await client.deleteManifest({ registry: REGISTRY, repository: repo, reference: unknown }),
      ),
    ).toMatchObject({ reason: 'not-found' });
  });

  it('deleteManifest removes a manifest (and every tag pointing at it)', async () => {
    const mediaType = MEDIA_TYPES.ociIndex;
    const body = bytes(JSON.stringify({ schemaVersion: 2, mediaType, manifests: [] }));
    const { digest } = value(await client.putManifest(ref('doomed'), { mediaType, body }));
    expect(value(await client.deleteManifest({ ...ref('x'), reference: digest }))).toBeUndefined();
    expect(failure(await client.headManifest(ref('doomed'))).reason).toBe('not-found');
    await expect(
      client.deleteManifest({ ...ref('x'), reference: 'doomed' as Digest }),
    ).rejects.toThrow('invalid digest "doomed"');
  });

  it('a registry where nothing listens is unreachable at once: connection refused is not transient', async () => {
    const { sleeps, sleep } = fakeSleep();
    const down = `127.0.0.1:${await closedPort()}`;
    const c = createRegistryClient({ retries: 2, sleep });
    const f = failure(await c.headManifest({ registry: down, repository: 'a/b', reference: 'v1' }));
    expect(f).toEqual({
      reason: 'unreachable',
      transient: false,
      message: `HEAD http://${down}/v2/a/b/manifests/v1: connect ECONNREFUSED ${down}`,
    });
    expect(sleeps).toEqual([]);
  });
});

describe('loopback registries', () => {
  it('are 127.0.0.0/8, localhost and ::1, with or without a port', () => {
    const loopback = ['127.0.0.1', '127.0.0.1:5000', '127.1.2.3:80', 'localhost', 'localhost:5000'];
    for (const host of [...loopback, '[::1]', '[::1]:5000', '::1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    const elsewhere = ['128.0.0.1', '127.0.0.256', '127.0.0', 'localhost.example', 'a.localhost'];
    for (const host of [...elsewhere, 'ghcr.io:443', '[::2]:5000', 'localhost:', '[::1]x']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('are spoken to over http, every other registry over https', async () => {
    const urls: string[] = [];
    const c = createRegistryClient({
      retries: 0,
      fetch: (input) => {
        urls.push(urlOf(input));
        return Promise.resolve(new Response(null, { status: 404 }));
      },
    });
    const digest = `sha256:${'0'.repeat(64)}` as Digest;
    for (const registry of ['127.0.0.1:5000', 'localhost:5000', '[::1]:5000', 'ghcr.io']) {
      expect(value(await c.blobExists(registry, 'a/b', digest))).toBe(false);
    }
    expect(urls.map((u) => u.slice(0, u.indexOf('/v2/')))).toEqual([
      'http://127.0.0.1:5000',
      'http://localhost:5000',
      'http://[::1]:5000',
      'https://ghcr.io',
    ]);
  });
});
