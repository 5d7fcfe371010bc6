import { describe, expect, it } from 'vitest';
import { sampleImages, sampleSummary } from '../../test/helpers/sample-run.js';
import type { Fingerprinted } from '../core/plan/freshness.js';
import type { FingerprintRecord } from '../core/plan/fingerprint.js';
import { imageName, type Fingerprint, type ImageName } from '../core/model.js';
import type { PlatformsPublished } from '../run/publish-platforms.js';
import { buildMetadata, type MetadataRun } from './build-metadata.js';

const fingerprints = (platform: string) =>
  new Map<ImageName, Fingerprinted>(
    sampleImages
      .filter((i) => i.status !== 'unbuildable')
      .map((i) => [
        i.name,
        {
          fingerprint: `${i.name}-${platform}-fp` as Fingerprint,
          record: {
            bases: i.name === 'base' ? { 'busybox:latest': `sha256:busybox-${platform}` } : {},
          } as unknown as FingerprintRecord,
        },
      ]),
  );
const run = (platform: string, images = sampleImages): MetadataRun => ({
  platform,
  summary: sampleSummary(images),
  fingerprints: fingerprints(platform),
});

describe('buildMetadata', () => {
  it("says per image buildx's keys (where known) and kbuild's own under kbuild.*", () => {
    const m = buildMetadata([run('linux/amd64')]);
    expect(Object.keys(m)).toEqual(sampleImages.map((i) => i.name));
    expect(m['base']).toEqual({
      'image.name': 'kb/base:t1,127.0.0.1:5000/kb/base:t1',
      'containerimage.digest': `sha256:${'a'.repeat(64)}`,
      'containerimage.config.digest': `sha256:${'1'.repeat(64)}`,
      'kbuild.status': 'pushed',
      'kbuild.fingerprint': 'base-linux/amd64-fp',
      'kbuild.baseDigests': { 'busybox:latest': 'sha256:busybox-linux/amd64' },
      'kbuild.platforms': ['linux/amd64'],
    });
    // Built, not pushed: the image id is its digest, as buildx's docker driver writes it.
    expect(m['extra']).toMatchObject({
      'containerimage.digest': `sha256:${'3'.repeat(64)}`,
      'containerimage.config.digest': `sha256:${'3'.repeat(64)}`,
    });
    // Never made: no names, no digests.
    expect(m['lib']).toEqual({
      'kbuild.status': 'failed',
      'kbuild.fingerprint': 'lib-linux/amd64-fp',
      'kbuild.baseDigests': {},
      'kbuild.platforms': ['linux/amd64'],
    });
    expect(m['app']).not.toHaveProperty('image.name');
    expect(m['old']).toEqual({
      'kbuild.status': 'unbuildable',
      'kbuild.fingerprint': null,
      'kbuild.baseDigests': {},
      'kbuild.platforms': [],
    });
  });

  it('with several platforms: the manifest list at the top, each platform in kbuild.byPlatform', () => {
    const armImages = sampleImages.map((i) =>
      i.name === 'extra' ? { ...i, status: 'failed' as const, tags: [], imageId: null } : i,
    );
    const descriptor = (digest: string, size: number) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size,
    });
    const manifests: PlatformsPublished = {
      published: true,
      message: '',
      images: [
        {
          name: imageName('base'),
          refs: ['127.0.0.1:5000/kb/base:t1'],
          platforms: ['linux/amd64', 'linux/arm64'],
          status: 'published',
          digest: 'sha256:list',
          descriptor: {
            mediaType: 'application/vnd.oci.image.index.v1+json',
            digest: 'sha256:list',
            size: 700,
          },
          platformManifests: {
            'linux/amd64': descriptor('sha256:amd', 500),
            'linux/arm64': descriptor('sha256:arm', 501),
          },
          message: '',
        },
      ],
    };
    const m = buildMetadata([run('linux/amd64'), run('linux/arm64', armImages)], manifests);
    expect(m['base']).toMatchObject({
      'image.name': '127.0.0.1:5000/kb/base:t1',
      'containerimage.digest': 'sha256:list',
      'containerimage.descriptor': {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest: 'sha256:list',
        size: 700,
      },
      'kbuild.status': 'pushed',
      'kbuild.fingerprint': null,
      'kbuild.platforms': ['linux/amd64', 'linux/arm64'],
    });
    expect(m['base']).not.toHaveProperty('containerimage.config.digest');
    expect(m['base']!['kbuild.byPlatform']!['linux/arm64']).toMatchObject({
      'containerimage.config.digest': `sha256:${'1'.repeat(64)}`,
      'containerimage.descriptor': descriptor('sha256:arm', 501),
      'kbuild.fingerprint': 'base-linux/arm64-fp',
      'kbuild.baseDigests': { 'busybox:latest': 'sha256:busybox-linux/arm64' },
    });
    // Failed on one platform: that status, no list, only the platform it was built for.
    expect(m['extra']).toMatchObject({
      'image.name': 'kb/extra:t1,127.0.0.1:5000/kb/extra:t1',
      'kbuild.status': 'failed',
      'kbuild.platforms': ['linux/amd64'],
    });
    expect(m['extra']).not.toHaveProperty('containerimage.digest');
    expect(m['extra']!['kbuild.byPlatform']!['linux/arm64']).not.toHaveProperty('image.name');
  });
});
