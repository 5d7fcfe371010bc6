import { describe, expect, it } from 'vitest';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  listedPlatforms,
  manifestList,
  OCI_INDEX,
  OCI_MANIFEST,
  platformMatches,
} from './manifest-list.js';

const amd = { digest: 'sha256:a', size: 10, mediaType: DOCKER_MANIFEST, platform: 'linux/amd64' };
const arm = {
  digest: 'sha256:b',
  size: 20,
  mediaType: DOCKER_MANIFEST,
  platform: 'linux/arm64/v8',
};

describe('manifestList', () => {
  it('writes a Docker manifest list for Docker manifests, platforms sorted', () => {
    const l = manifestList([arm, amd]);
    expect(l.mediaType).toBe(DOCKER_MANIFEST_LIST);
    expect(JSON.parse(l.body)).toEqual({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST_LIST,
      manifests: [
        {
          mediaType: DOCKER_MANIFEST,
          digest: 'sha256:a',
          size: 10,
          platform: { os: 'linux', architecture: 'amd64' },
        },
        {
          mediaType: DOCKER_MANIFEST,
          digest: 'sha256:b',
          size: 20,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
      ],
    });
    expect(listedPlatforms(l.body)).toEqual(['linux/amd64', 'linux/arm64/v8']);
  });

  it('writes an OCI index as soon as one child is an OCI manifest', () => {
    const l = manifestList([amd, { ...arm, mediaType: OCI_MANIFEST }]);
    expect(l.mediaType).toBe(OCI_INDEX);
    expect(JSON.parse(l.body)).toMatchObject({ mediaType: OCI_INDEX });
  });

  it('reads no platforms from a plain manifest or garbage', () => {
    expect(listedPlatforms('{"schemaVersion":2,"layers":[]}')).toEqual([]);
    expect(listedPlatforms('not json')).toEqual([]);
  });

  it('matches a platform without variant against one with', () => {
    expect(platformMatches('linux/arm64', 'linux/arm64/v8')).toBe(true);
    expect(platformMatches('linux/arm64', 'linux/arm64')).toBe(true);
    expect(platformMatches('linux/arm', 'linux/arm64')).toBe(false);
  });
});
