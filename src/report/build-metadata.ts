/**
 * Per-image build metadata for CI systems (`build --metadata-file FILE`), keyed by image name as
 * `docker buildx bake --metadata-file` keys by target, with buildx's keys where kbuild knows their
 * value (`image.name`, `containerimage.digest`, `containerimage.config.digest`,
 * `containerimage.descriptor`) and kbuild's own under `kbuild.*` (how the run left the image, its
 * fingerprint, platforms and the digests of its external bases). An image that was never made has
 * no buildx keys: no names, no digests.
 * Pure: summaries and the observed fingerprints in, an object out.
 */
import type { Fingerprinted } from '../core/plan/freshness.js';
import type { ImageName } from '../core/model.js';
import type { ManifestDescriptor, PlatformsPublished } from '../run/publish-platforms.js';
import {
  succeeded,
  type ImageSummary,
  type RunSummary,
  type SummaryStatus,
} from '../run/summary.js';

/** buildx's keys, each present only when known. */
export interface BuildxMetadata {
  /** The names the image was tagged or pushed as, comma-joined (as buildx writes them). */
  readonly 'image.name'?: string;
  /** The manifest's digest in the registry; not pushed: the image id (as buildx's docker driver). */
  readonly 'containerimage.digest'?: string;
  /** The image's config digest: its image id. */
  readonly 'containerimage.config.digest'?: string;
  /** The manifest (list) as an OCI descriptor: media type, digest, size. */
  readonly 'containerimage.descriptor'?: ManifestDescriptor;
}

/** One platform's build of an image. */
export interface PlatformMetadata extends BuildxMetadata {
  readonly 'kbuild.status': SummaryStatus;
  readonly 'kbuild.fingerprint': string | null;
  /** External base reference -> the digest (or image id) its fingerprint was made with. */
  readonly 'kbuild.baseDigests': Readonly<Record<string, string>>;
}

export interface ImageMetadata extends PlatformMetadata {
  /** The platforms the image was built for (several: those its manifest list names). */
  readonly 'kbuild.platforms': readonly string[];
  /** Several platforms only: each one's build (fingerprint, image id and bases differ per platform). */
  readonly 'kbuild.byPlatform'?: Readonly<Record<string, PlatformMetadata>>;
}

export interface MetadataRun {
  readonly platform: string;
  readonly summary: RunSummary;
  readonly fingerprints: ReadonlyMap<ImageName, Fingerprinted>;
}

function buildxKeys(
  tags: readonly string[],
  digest: string | null | undefined,
  configDigest: string | null | undefined,
  descriptor: ManifestDescriptor | undefined,
): BuildxMetadata {
  const manifest = digest ?? configDigest;
  return {
    ...(tags.length ? { 'image.name': tags.join(',') } : {}),
    ...(manifest ? { 'containerimage.digest': manifest } : {}),
    ...(configDigest ? { 'containerimage.config.digest': configDigest } : {}),
    ...(descriptor ? { 'containerimage.descriptor': descriptor } : {}),
  };
}

function platformMetadata(
  i: ImageSummary,
  run: MetadataRun,
  descriptor?: ManifestDescriptor,
): PlatformMetadata {
  const fp = run.fingerprints.get(i.name);
  return {
    ...buildxKeys(i.tags, i.digest, i.imageId, descriptor),
    'kbuild.status': i.status,
    'kbuild.fingerprint': fp?.fingerprint ?? null,
    'kbuild.baseDigests': fp?.record.bases ?? {},
  };
}

/**
 * One run: each image's own build. Several platforms: per image, its manifest list (when one was
 * published) at the top, the worst platform's status, and each platform's build in
 * `kbuild.byPlatform`.
 */
export function buildMetadata(
  runs: readonly MetadataRun[],
  manifests?: PlatformsPublished,
): Record<string, ImageMetadata> {
  const out: Record<string, ImageMetadata> = {};
  const [only] = runs;
  if (only && runs.length === 1) {
    for (const i of only.summary.images) {
      const built = i.status !== 'unbuildable';
      out[i.name] = {
        ...platformMetadata(i, only),
        'kbuild.platforms': built ? [only.platform] : [],
      };
    }
    return out;
  }
  const names = [...new Set(runs.flatMap((r) => r.summary.images.map((i) => i.name)))];
  for (const name of names) {
    const list = manifests?.images.find((m) => m.name === name && m.status === 'published');
    const builds = runs.flatMap((r) => {
      const i = r.summary.images.find((x) => x.name === name);
      const descriptor = list?.platformManifests?.[r.platform];
      return i ? [{ platform: r.platform, meta: platformMetadata(i, r, descriptor) }] : [];
    });
    const worst = builds.find((b) => !succeeded(b.meta['kbuild.status'])) ?? builds[0]!;
    const tags = list
      ? list.refs
      : [...new Set(builds.flatMap((b) => b.meta['image.name']?.split(',') ?? []))];
    out[name] = {
      ...buildxKeys(tags, list?.digest, undefined, list?.descriptor),
      'kbuild.status': worst.meta['kbuild.status'],
      'kbuild.fingerprint': null,
      'kbuild.baseDigests': {},
      'kbuild.platforms': list
        ? list.platforms
        : builds
            .filter(
              (b) =>
                succeeded(b.meta['kbuild.status']) && b.meta['kbuild.status'] !== 'unbuildable',
            )
            .map((b) => b.platform),
      'kbuild.byPlatform': Object.fromEntries(builds.map((b) => [b.platform, b.meta])),
    };
  }
  return out;
}
