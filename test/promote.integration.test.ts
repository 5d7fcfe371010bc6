/**
 * `kbuild promote` for real: a two-image busybox family built and pushed with kbuild to the
 * registry on 127.0.0.1:5000 (A), promoted to a second Docker Distribution started here (B) and
 * within A, through the compiled bin. Needs `scripts/setup-host.sh` (it fails, never skips).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient } from '../src/adapters/registry/index.js';
import { readManifest } from '../src/core/registry/manifest-content.js';
import type { Digest } from '../src/core/model.js';
import { startExtraRegistry, type ExtraRegistry } from './helpers/extra-registry.js';
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
// A namespace of this run's own: nothing another test (or run) pushes or builds can collide.
const ns = `kbuild-promote-${randomTag()}`;
const X = randomTag();
const IMAGES = ['bb-base', 'bb-lib'];
const client = createRegistryClient();
let b: ExtraRegistry | undefined;
const B = () => b!.host;
const opts = ['-p', 'bb', '--registry', REGISTRY, '--namespace', ns];

beforeAll(async () => {
  requireHost();
  b = await startExtraRegistry();
  const built = await kbuild(['build', ...opts, 'bb-lib', '--push', '--tag', X], project.dir);
  if (built.code !== 0) throw new Error(`kbuild build failed:\n${built.stdout}\n${built.stderr}`);
});

afterAll(async () => {
  await b?.stop();
  // Registry A: every manifest of this run's repositories (and with them their tags).
  for (const image of ['bb-base', 'bb-lib', 'bb-app3']) {
    const repository = `${ns}/${image}`;
    const tags = await client.listTags(REGISTRY, repository);
    const digests = new Set<Digest>();
    for (const tag of tags.ok ? tags.value : []) {
      const h = await client.headManifest({ registry: REGISTRY, repository, reference: tag });
      if (h.ok) digests.add(h.value.digest);
    }
    for (const reference of digests)
      await client.deleteManifest({ registry: REGISTRY, repository, reference });
  }
  await removeImages((r) => r.includes(`${ns}/`));
  project.remove();
});

describe('kbuild promote', () => {
  it('registry A tag X to registry B tag Y: identical digests; a second run finds everything there', async () => {
    const Y = randomTag();
    const r = await kbuild(
      ['promote', ...opts, 'bb-lib', '--from', X, '--to', Y, '--to-registry', B()],
      project.dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const image of IMAGES) {
      const source = await registryDigest(REGISTRY, `${ns}/${image}`, X);
      expect(source).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await registryDigest(B(), `${ns}/${image}`, Y)).toBe(source);
      expect(r.stdout).toContain(`${REGISTRY}/${ns}/${image}:${X} → ${B()}/${ns}/${image}:${Y}`);
    }
    // bb-lib's busybox and bb-base layers are mounted from bb-base, copied a moment before.
    expect(r.stdout).toMatch(
      /2 image\(s\) promoted, 0 already there; blobs: \d+ copied \(.+\), [1-9]\d* mounted, 0 already there/,
    );

    const again = await kbuild(
      ['promote', ...opts, 'bb-lib', '--from', X, '--to', Y, '--to-registry', B(), '--json'],
      project.dir,
    );
    expect(again.code).toBe(0);
    const json = JSON.parse(again.stdout) as {
      ok: boolean;
      images: { name: string; status: string; manifests: number }[];
    };
    expect(json.ok).toBe(true);
    expect(json.images.map((i) => [i.name, i.status, i.manifests])).toEqual([
      ['bb-base', 'already-there', 0],
      ['bb-lib', 'already-there', 0],
    ]);

    // What landed in B is a whole image: docker pulls it from B and runs it.
    const ref = `${B()}/${ns}/bb-lib:${Y}`;
    await sh('docker', ['pull', '-q', ref]);
    expect(
      await sh('docker', [
        'run',
        '--rm',
        '--network',
        'none',
        ref,
        'cat',
        '/etc/kbuild-bb-lib.txt',
      ]),
    ).toBe('bb-lib built for bb\n');
    await sh('docker', ['rmi', ref]);
  });

  it('refuses when one image of the selection is missing under --from, and writes nothing', async () => {
    const Z = randomTag();
    // bb-app3 (and its parents bb-lib, bb-base): bb-app3 was never built.
    const r = await kbuild(
      ['promote', ...opts, 'bb-app3', '--from', X, '--to', Z, '--to-registry', B()],
      project.dir,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `kbuild: nothing promoted: 1 of 3 image(s) cannot be had under tag '${X}' in ${REGISTRY}:\n` +
        `  bb-app3: ${REGISTRY}/${ns}/bb-app3:${X} does not exist\n` +
        `Push them first (kbuild build --push --tag ${X}), or leave them out of the selection.\n`,
    );
    for (const image of [...IMAGES, 'bb-app3']) {
      expect(await registryDigest(B(), `${ns}/${image}`, Z)).toBeNull();
    }
  });

  it('within registry A: the same digest under a new tag, no blob moved', async () => {
    const W = randomTag();
    const r = await kbuild(['promote', ...opts, 'bb-lib', '--from', X, '--to', W], project.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /2 image\(s\) promoted, 0 already there; blobs: 0 copied \(0 B\), 0 mounted, 0 already there/,
    );
    for (const image of IMAGES) {
      expect(await registryDigest(REGISTRY, `${ns}/${image}`, W)).toBe(
        await registryDigest(REGISTRY, `${ns}/${image}`, X),
      );
    }
  });

  it('Docker Distribution takes chunked uploads (PATCH with Content-Range, closing PUT)', async () => {
    const repository = `${ns}/bb-base`;
    const m = await client.getManifest({ registry: REGISTRY, repository, reference: X });
    if (!m.ok) throw new Error(m.error.message);
    const content = readManifest(m.value.mediaType, m.value.body);
    if (content.kind !== 'image') throw new Error(`not an image manifest: ${content.kind}`);
    // The largest blob (busybox's layer, ~1 MB) in chunks of 64 KiB, to a repository of its own.
    const blob = [...content.blobs].sort((p, q) => q.size - p.size)[0]!;
    const chunked = createRegistryClient({ blobChunkBytes: 64 * 1024 });
    const got = await chunked.getBlob(REGISTRY, repository, blob.digest);
    if (!got.ok) throw new Error(got.error.message);
    expect(got.value.size).toBe(blob.size);
    const up = await chunked.uploadBlob(B(), `${ns}/chunked`, blob.digest, got.value.stream);
    expect(up).toEqual({ ok: true, value: { bytes: blob.size } });
    expect(blob.size).toBeGreaterThan(4 * 64 * 1024);
    expect(await client.blobExists(B(), `${ns}/chunked`, blob.digest)).toEqual({
      ok: true,
      value: true,
    });
  });
});
