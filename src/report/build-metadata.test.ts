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
  it('says per image what it is, what it is made of, and how the run left it', () => {
    const m = buildMetadata([run('linux/amd64')]);
    expect(Object.keys(m)).toEqual(sampleImages.map((i) => i.name));
    expect(m['base']).toEqual({
      name: 'base',
      status: 'pushed',
      tags: ['kb/base:t1', '127.0.0.1:5000/kb/base:t1'],
      digest: `sha256:${'a'.repeat(64)}`,
      fingerprint: 'base-linux/amd64-fp',
      imageId: `sha256:${'1'.repeat(64)}`,
      baseDigests: { 'busybox:latest': 'sha256:busybox-linux/amd64' },
      platforms: ['linux/amd64'],
    });
    expect(m['lib']).toMatchObject({ status: 'failed', digest: null, imageId: null });
    expect(m['old']).toMatchObject({ status: 'unbuildable', fingerprint: null, platforms: [] });
  });

  it('with several platforms: the manifest list at the top, each platform in byPlatform', () => {
    const armImages = sampleImages.map((i) =>
      i.name === 'extra' ? { ...i, status: 'failed' as const } : i,
    );
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
          message: '',
        },
      ],
    };
    const m = buildMetadata([run('linux/amd64'), run('linux/arm64', armImages)], manifests);
    expect(m['base']).toMatchObject({
      status: 'pushed',
      tags: ['127.0.0.1:5000/kb/base:t1'],
      digest: 'sha256:list',
      fingerprint: null,
      platforms: ['linux/amd64', 'linux/arm64'],
    });
    expect(m['base']!.byPlatform!['linux/arm64']).toMatchObject({
      fingerprint: 'base-linux/arm64-fp',
      baseDigests: { 'busybox:latest': 'sha256:busybox-linux/arm64' },
    });
    // Failed on one platform: that status, no list, only the platform it was built for.
    expect(m['extra']).toMatchObject({
      status: 'failed',
      digest: null,
      platforms: ['linux/amd64'],
    });
  });
});
