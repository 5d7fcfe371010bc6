import { describe, expect, it } from 'vitest';
import { readManifest } from './manifest-content.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from './manifest-list.js';

const d = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
const bytes = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));

describe('readManifest', () => {
  it('an image manifest names its config, then its layers; foreign layers are left out', () => {
    const body = bytes({
      schemaVersion: 2,
      config: { mediaType: 'c', size: 3, digest: d(1) },
      layers: [
        { mediaType: 'l', size: 10, digest: d(2) },
        { mediaType: 'foreign', size: 5, digest: d(3), urls: ['https://example.com/x'] },
      ],
    });
    for (const type of [DOCKER_MANIFEST, OCI_MANIFEST]) {
      expect(readManifest(type, body)).toEqual({
        kind: 'image',
        blobs: [
          { digest: d(1), size: 3, mediaType: 'c' },
          { digest: d(2), size: 10, mediaType: 'l' },
        ],
      });
    }
  });

  it('an index or manifest list names its manifests; the media type may come from the body', () => {
    const doc = {
      schemaVersion: 2,
      manifests: [{ mediaType: OCI_MANIFEST, size: 7, digest: d(4) }],
    };
    const index = {
      kind: 'index',
      manifests: [{ digest: d(4), size: 7, mediaType: OCI_MANIFEST }],
    };
    expect(readManifest(OCI_INDEX, bytes(doc))).toEqual(index);
    expect(readManifest('', bytes({ ...doc, mediaType: DOCKER_MANIFEST_LIST }))).toEqual(index);
  });

  it('anything else cannot be copied, and says why', () => {
    expect(readManifest(DOCKER_MANIFEST, new TextEncoder().encode('not json'))).toEqual({
      kind: 'unsupported',
      why: 'the manifest is not JSON',
    });
    expect(
      readManifest('application/vnd.docker.distribution.manifest.v1+prettyjws', bytes({})),
    ).toMatchObject({
      kind: 'unsupported',
    });
    expect(readManifest(OCI_INDEX, bytes({ manifests: [{ digest: 'nope' }] }))).toEqual({
      kind: 'unsupported',
      why: 'a descriptor has no valid digest ({"digest":"nope"})',
    });
    expect(readManifest(OCI_MANIFEST, bytes({ layers: [] }))).toMatchObject({
      kind: 'unsupported',
    });
  });
});
