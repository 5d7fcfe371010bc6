/**
 * The end of a multi-platform build: each image was pushed once per platform, by digest (under
 * its fp tags); now one manifest list per image goes under the shared tag, checked to name every
 * platform — or, with `archTags`, one `<tag>-<arch>` tag per platform for registries that cannot
 * store lists. Ordering: every list is stored by digest and signed (`sign`) before any tag moves,
 * so no tag ever names an unsigned list, and an atomic publish whose list fails moves none.
 */
import { createHash } from 'node:crypto';
import type { Family } from '../core/family.js';
import { listedPlatforms, manifestList, platformMatches } from '../core/registry/manifest-list.js';
import type { Digest, ImageName } from '../core/model.js';
import type { RegistryView } from './build/registry-view.js';
import type { RunSummary } from './summary.js';

/** One platform's build of the family. */
export interface PlatformRun {
  readonly platform: string;
  readonly family: Family;
  readonly summary: RunSummary;
}

export type ManifestStatus = 'published' | 'incomplete' | 'refused' | 'not-published';

export interface ImageManifest {
  readonly name: ImageName;
  /** The reference(s) written: `repo:tag` (a list), or `repo:tag-<arch>` each. */
  readonly refs: readonly string[];
  readonly platforms: readonly string[];
  readonly status: ManifestStatus;
  /** The list's digest (absent with arch tags or when nothing was written). */
  readonly digest?: string;
  /** The list as an OCI descriptor (as buildx's metadata file has it), when one was written. */
  readonly descriptor?: ManifestDescriptor;
  /** Each platform's image manifest, as read from the registry, by platform. */
  readonly platformManifests?: Readonly<Record<string, ManifestDescriptor>>;
  readonly message: string;
}

/** A manifest's OCI descriptor: what a reference to it names. */
export interface ManifestDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export interface PlatformsPublished {
  readonly published: boolean;
  readonly images: readonly ImageManifest[];
  readonly message: string;
}

/** linux/arm64 -> arm64, linux/arm/v7 -> arm-v7: the suffix of per-platform tags. */
export const archOf = (platform: string) => platform.split('/').slice(1).join('-');

export async function publishPlatforms(
  runs: readonly PlatformRun[],
  opts: {
    readonly tag: string;
    readonly archTags: boolean;
    readonly atomic: boolean;
    /** Images whose failure does not block an atomic publish. */
    readonly allowedToFail: ReadonlySet<string>;
    /**
     * Signs a list once it is stored by digest, before any tag names it; a message when it could
     * not be (its tags are then not moved). Unset: lists are not signed.
     */
    readonly sign?: ListSigner;
  },
  registry: RegistryView,
  signal: AbortSignal,
): Promise<PlatformsPublished> {
  const family = runs[0]!.family;
  const names = [...new Set(runs.flatMap((r) => r.summary.images.map((i) => i.name)))];
  // Per image: the platforms it was pushed for, and whether any platform it belongs to failed.
  const pushed = new Map<ImageName, { platform: string; digest: string }[]>();
  const incomplete = new Map<ImageName, string[]>();
  for (const r of runs) {
    for (const i of r.summary.images) {
      if (i.status === 'unbuildable') continue; // not built for this platform (image.yaml)
      if (i.status === 'pushed' && i.digest) {
        pushed.set(i.name, [
          ...(pushed.get(i.name) ?? []),
          { platform: r.platform, digest: i.digest },
        ]);
      } else incomplete.set(i.name, [...(incomplete.get(i.name) ?? []), r.platform]);
    }
  }
  const blocking = [...incomplete.keys()].filter((n) => !opts.allowedToFail.has(n));
  const out: (ImageManifest | Staged)[] = [];
  const skipAll = opts.atomic && (blocking.length > 0 || signal.aborted);
  for (const name of names) {
    const repo = family.naming.repository(name);
    const children = pushed.get(name) ?? [];
    const platforms = children.map((c) => c.platform);
    const notAll = incomplete.get(name);
    if (skipAll || notAll || children.length === 0) {
      out.push({
        name,
        refs: [],
        platforms,
        status: 'not-published',
        message: notAll
          ? `not built for ${notAll.join(', ')}`
          : children.length === 0
            ? 'built for no platform'
            : 'not published: another image failed (atomic)',
      });
      continue;
    }
    // The per-platform families carry `<extra>-<arch>` like `<tag>-<arch>`: the list gets `<extra>`.
    const suffix = `-${archOf(runs[0]!.platform)}`;
    const extraTags = family.naming
      .extraTags(name)
      .map((t) => (t.endsWith(suffix) ? t.slice(0, -suffix.length) : t));
    out.push(await stageImage(registry, repo, name, children, { ...opts, extraTags }, signal));
  }
  // Every list is stored by digest (and signed) before any tag moves: under --publish atomic, one
  // that fails leaves every shared tag as it was, and no tag ever names an unsigned list.
  const unstaged = out.filter(
    (i): i is ImageManifest =>
      !isStaged(i) && (i.status === 'refused' || i.status === 'incomplete'),
  );
  const holdTags = opts.atomic && unstaged.length > 0;
  const final: ImageManifest[] = [];
  for (const i of out) {
    if (!isStaged(i)) final.push(i);
    else if (holdTags)
      final.push({
        name: i.name,
        refs: [],
        platforms: i.platforms,
        status: 'not-published',
        message: `not published: ${unstaged[0]!.name}'s list failed (atomic)`,
      });
    else final.push(await tagList(registry, i, signal));
  }
  const failed = final.filter((i) => i.status === 'refused' || i.status === 'incomplete');
  const done = final.filter((i) => i.status === 'published');
  const message = skipAll
    ? `nothing published: ${blocking.length ? `${blocking.join(', ')} did not succeed on every platform` : 'the run was interrupted'}; the shared tags are unchanged`
    : holdTags
      ? `nothing published: ${unstaged.map((i) => i.name).join(', ')}: ${unstaged[0]!.message}; the shared tags are unchanged`
      : `${done.length} image(s) published for ${runs.map((r) => r.platform).join(', ')}${opts.archTags ? ' as per-platform tags' : ' under one manifest list each'}` +
        (failed.length ? `; ${failed.length} failed: ${failed[0]!.message}` : '');
  return {
    published: !skipAll && failed.length === 0 && blocking.length === 0,
    images: final,
    message,
  };
}

/** Signs a list stored by digest; a message when it could not be. */
export type ListSigner = (
  list: {
    readonly name: ImageName;
    readonly repository: string;
    readonly digest: Digest;
    readonly platforms: readonly { readonly platform: string; readonly digest: Digest }[];
  },
  signal: AbortSignal,
) => Promise<string | undefined>;

/** An image's list, stored (and signed) by digest, its tags not moved yet. */
interface Staged {
  readonly staged: true;
  readonly name: ImageName;
  readonly repo: string;
  readonly tags: readonly string[];
  readonly platforms: readonly string[];
  readonly list: { readonly mediaType: string; readonly body: string };
  readonly digest: Digest;
  readonly platformManifests: Readonly<Record<string, ManifestDescriptor>>;
}

const isStaged = (i: ImageManifest | Staged): i is Staged => 'staged' in i;

/**
 * An image's platforms, read back from the registry: with `archTags`, tagged `<tag>-<arch>` now
 * (each platform's manifest was signed at its push); else its list stored by digest and signed.
 */
async function stageImage(
  registry: RegistryView,
  repo: string,
  name: ImageName,
  children: readonly { platform: string; digest: string }[],
  opts: {
    readonly tag: string;
    readonly archTags: boolean;
    /** Tags the image gets beside the shared one (`-t t1 -t t2`): the same list, or arch tags. */
    readonly extraTags?: readonly string[];
    readonly sign?: ListSigner;
  },
  signal: AbortSignal,
): Promise<ImageManifest | Staged> {
  const tags = [opts.tag, ...(opts.extraTags ?? [])];
  const platforms = children.map((c) => c.platform);
  const manifests = [];
  for (const c of children) {
    const m = await registry.manifest(repo, c.digest, signal);
    if (!m.ok) {
      return unpublished(
        name,
        platforms,
        'incomplete',
        m.error.reason === 'not-found'
          ? `${repo}@${c.digest} (${c.platform}) is not in the registry`
          : `${repo}@${c.digest} (${c.platform}) could not be read: ${m.error.message}`,
      );
    }
    manifests.push({
      digest: m.value.digest,
      mediaType: m.value.mediaType,
      size: m.value.body.length,
      body: new TextDecoder().decode(m.value.body),
      platform: c.platform,
    });
  }
  const platformManifests = Object.fromEntries(
    manifests.map((m) => [
      m.platform,
      { mediaType: m.mediaType, digest: m.digest, size: m.size } satisfies ManifestDescriptor,
    ]),
  );
  if (opts.archTags) {
    const refs: string[] = [];
    for (const m of manifests.flatMap((x) => tags.map((t) => ({ m: x, t })))) {
      const tag = `${m.t}-${archOf(m.m.platform)}`;
      const r = await registry.put(repo, tag, encoded(m.m), signal);
      if (!r.ok)
        return unpublished(name, platforms, 'refused', `${repo}:${tag}: ${r.error.message}`, refs);
      refs.push(`${repo}:${tag}`);
    }
    return {
      name,
      refs,
      platforms,
      status: 'published',
      platformManifests,
      message: refs.join(', '),
    };
  }
  const list = manifestList(manifests);
  const digest = `sha256:${createHash('sha256').update(list.body).digest('hex')}` as Digest;
  const put = await registry.put(repo, digest, encoded(list), signal);
  if (!put.ok) {
    return unpublished(
      name,
      platforms,
      'refused',
      `the registry refused the manifest list for ${repo}:${opts.tag} (${put.error.message}); registries that cannot store lists get per-platform tags with --arch-tags (${opts.tag}-<arch>)`,
    );
  }
  if (put.value.digest !== digest)
    return unpublished(
      name,
      platforms,
      'incomplete',
      `${repo}@${digest}: the registry stored the list as ${put.value.digest}`,
    );
  const unsigned = await opts.sign?.(
    {
      name,
      repository: repo,
      digest,
      platforms: manifests.map((m) => ({ platform: m.platform, digest: m.digest })),
    },
    signal,
  );
  if (unsigned !== undefined)
    return unpublished(
      name,
      platforms,
      'refused',
      `the manifest list ${repo}@${digest} could not be signed (${unsigned}); ${repo}:${opts.tag} was not moved`,
    );
  return { staged: true, name, repo, tags, platforms, list, digest, platformManifests };
}

/** An image whose tag(s) were not (all) moved: why, and what was written before it stopped. */
const unpublished = (
  name: ImageName,
  platforms: readonly string[],
  status: 'refused' | 'incomplete',
  message: string,
  refs: readonly string[] = [],
): ImageManifest => ({ name, refs, platforms, status, message });

/** Moves the image's tags to its stored list, checked to serve every platform. */
async function tagList(
  registry: RegistryView,
  s: Staged,
  signal: AbortSignal,
): Promise<ImageManifest> {
  const { name, repo, tags, platforms, list, platformManifests } = s;
  const tag = tags[0]!;
  const put = await registry.put(repo, tag, encoded(list), signal);
  if (!put.ok) {
    return unpublished(
      name,
      platforms,
      'refused',
      `the registry refused the manifest list for ${repo}:${tag} (${put.error.message})`,
    );
  }
  // Read it back: the shared tag must now serve every platform.
  const stored = await registry.manifest(repo, tag, signal);
  const listed = stored.ok ? listedPlatforms(new TextDecoder().decode(stored.value.body)) : [];
  const missing = platforms.filter((p) => !listed.some((l) => platformMatches(p, l)));
  if (!stored.ok || stored.value.digest !== put.value.digest || missing.length) {
    return unpublished(
      name,
      platforms,
      'incomplete',
      `${repo}:${tag} does not list ${missing.join(', ') || 'what was written'}`,
      [`${repo}:${tag}`],
    );
  }
  // The extra tags name the same list (a put of the same bytes: the same digest).
  for (const t of tags.slice(1)) {
    const r = await registry.put(repo, t, encoded(list), signal);
    if (!r.ok)
      return unpublished(name, platforms, 'refused', `${repo}:${t}: ${r.error.message}`, [
        `${repo}:${tag}`,
      ]);
  }
  return {
    name,
    refs: tags.map((t) => `${repo}:${t}`),
    platforms,
    status: 'published',
    digest: put.value.digest,
    descriptor: {
      mediaType: stored.value.mediaType,
      digest: put.value.digest,
      size: stored.value.body.length,
    },
    platformManifests,
    message: `${repo}:${tag} lists ${listed.join(', ')}`,
  };
}

const encoded = (m: { mediaType: string; body: string }) => ({
  mediaType: m.mediaType,
  body: new TextEncoder().encode(m.body),
});
