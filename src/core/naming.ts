/**
 * How the family's images are named for a profile: repositories, the shared tag, fingerprint
 * tags and references, the labels every image carries, and where an image's files are. Spelt
 * once here; everything that names an image (plan, build, push, explain, prune) asks this.
 */
import type { Fingerprint, ImageMeta, ImageSpec, Profile, ProjectConfig } from './model.js';

export interface Naming {
  /** Registry host[:port][/path], '' for none. */
  readonly registry: string;
  readonly namespace: string;
  readonly prefix: string;
  /** The shared tag. */
  readonly tag: string;
  /** `namespace/prefix+name` (no registry, no tag). */
  readonly repository: (name: string) => string;
  /** `namespace/prefix+name:tag`: the local reference an image is built as. */
  readonly ref: (name: string) => string;
  /**
   * The references an image is tagged with: the local one, and the registry's when there is one;
   * then the same for each of its extra tags (`extraTags`).
   */
  readonly tags: (name: string) => string[];
  /** The tags an image carries beside the shared one (`-t a -t b`, `--set IMAGE.tags=…`), each once. */
  readonly extraTags: (name: string) => string[];
  /** `repository:fp-…`: the local reference carrying a fingerprint. */
  readonly fpRef: (name: string, fp: Fingerprint) => string;
  /** `registry/repository:tag` (the registry's reference for any tag of the image). */
  readonly remoteRef: (name: string, tag: string) => string;
  /** The labels kbuild sets on the image (see imageLabels). */
  readonly labels: (name: string) => Record<string, string>;
}

/** The short form used in tags: `fp-<first 24 hex>`. */
export const fingerprintTag = (fp: Fingerprint) => `fp-${fp.slice(0, 24)}`;

export function makeNaming(parts: {
  registry: string;
  namespace: string;
  prefix: string;
  tag: string;
  labels: (name: string) => Record<string, string>;
  /** Tags beside the shared one, per image (the shared tag among them is dropped); default: none. */
  extraTags?: (name: string) => readonly string[];
}): Naming {
  const { registry, namespace, prefix, tag } = parts;
  const repository = (n: string) => `${namespace ? `${namespace}/` : ''}${prefix}${n}`;
  const ref = (n: string) => `${repository(n)}:${tag}`;
  const extraTags = (n: string) =>
    [...new Set(parts.extraTags?.(n) ?? [])].filter((t) => t !== tag);
  return {
    ...parts,
    repository,
    ref,
    extraTags,
    tags: (n) =>
      [tag, ...extraTags(n)].flatMap((t) => {
        const local = `${repository(n)}:${t}`;
        return registry ? [local, `${registry}/${local}`] : [local];
      }),
    fpRef: (n, fp) => `${repository(n)}:${fingerprintTag(fp)}`,
    remoteRef: (n, t) => `${registry}/${repository(n)}:${t}`,
  };
}

/** Labels kbuild sets on every image. No dates: a build time would change the id on every run. */
export function imageLabels(
  project: ProjectConfig,
  profile: Profile,
  name: string,
  meta: ImageMeta | undefined,
): Record<string, string> {
  return {
    'org.opencontainers.image.title': name,
    ...(project.maintainer ? { 'org.opencontainers.image.authors': project.maintainer } : {}),
    'io.kbuild.image': name,
    'io.kbuild.profile': profile.name,
    'io.kbuild.distro': `${profile.distro}:${profile.distroTag}`,
    'io.kbuild.install-type': profile.installType,
    ...meta?.labels,
  };
}

/** The label holding an image's fingerprint. */
export const FINGERPRINT_LABEL = 'io.kbuild.fingerprint';

/** An image's directory (template and build context), relative to the project root, posix. */
export const imageDir = (project: ProjectConfig, spec: ImageSpec) =>
  `${project.imagesDir}/${spec.dir}`;
