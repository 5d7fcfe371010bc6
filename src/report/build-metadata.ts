/**
 * Per-image build metadata for CI systems (`build --metadata-file FILE`, like buildx's
 * --metadata-file): what each image is (tags, digest, image id), what it is made of (its
 * fingerprint, the digests of its external bases) and how the run left it. Keyed by image name.
 * Pure: summaries and the observed fingerprints in, an object out.
 */
import type { Fingerprinted } from '../core/plan/freshness.js';
import type { ImageName } from '../core/model.js';
import type { PlatformsPublished } from '../run/publish-platforms.js';
import {
  succeeded,
  type ImageSummary,
  type RunSummary,
  type SummaryStatus,
} from '../run/summary.js';

/** One platform's build of an image. */
export interface PlatformMetadata {
  readonly status: SummaryStatus;
  readonly tags: readonly string[];
  readonly digest: string | null;
  readonly fingerprint: string | null;
  readonly imageId: string | null;
  /** External base reference -> the digest (or image id) its fingerprint was made with. */
  readonly baseDigests: Readonly<Record<string, string>>;
}

export interface ImageMetadata extends PlatformMetadata {
  readonly name: ImageName;
  /** The platforms the image was built for (several: those its manifest list names). */
  readonly platforms: readonly string[];
  /** Several platforms only: each one's build (fingerprint, image id and bases differ per platform). */
  readonly byPlatform?: Readonly<Record<string, PlatformMetadata>>;
}

export interface MetadataRun {
  readonly platform: string;
  readonly summary: RunSummary;
  readonly fingerprints: ReadonlyMap<ImageName, Fingerprinted>;
}

function platformMetadata(i: ImageSummary, run: MetadataRun): PlatformMetadata {
  const fp = run.fingerprints.get(i.name);
  return {
    status: i.status,
    tags: i.tags,
    digest: i.digest,
    fingerprint: fp?.fingerprint ?? null,
    imageId: i.imageId,
    baseDigests: fp?.record.bases ?? {},
  };
}

/**
 * One run: each image's own build. Several platforms: per image, its manifest list (when one was
 * published) at the top, the worst platform's status, and each platform's build in `byPlatform`.
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
        name: i.name,
        ...platformMetadata(i, only),
        platforms: built ? [only.platform] : [],
      };
    }
    return out;
  }
  const names = [...new Set(runs.flatMap((r) => r.summary.images.map((i) => i.name)))];
  for (const name of names) {
    const builds = runs.flatMap((r) => {
      const i = r.summary.images.find((x) => x.name === name);
      return i ? [{ platform: r.platform, meta: platformMetadata(i, r) }] : [];
    });
    const list = manifests?.images.find((m) => m.name === name && m.status === 'published');
    const worst = builds.find((b) => !succeeded(b.meta.status)) ?? builds[0]!;
    out[name] = {
      name,
      status: worst.meta.status,
      tags: list ? list.refs : [...new Set(builds.flatMap((b) => b.meta.tags))],
      digest: list?.digest ?? null,
      fingerprint: null,
      imageId: null,
      baseDigests: {},
      platforms: list
        ? list.platforms
        : builds
            .filter((b) => succeeded(b.meta.status) && b.meta.status !== 'unbuildable')
            .map((b) => b.platform),
      byPlatform: Object.fromEntries(builds.map((b) => [b.platform, b.meta])),
    };
  }
  return out;
}
