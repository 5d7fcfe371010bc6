/**
 * The family for one profile: every image rendered, its FROM lines parsed and resolved to family
 * parents or external bases, the graph built, and what cannot be built for the profile marked.
 * All problems are collected, so `kbuild validate` can print every one at once.
 */
import { parseDockerfile } from './dockerfile/dockerfile.js';
import { buildGraph } from './graph.js';
import type {
  BuildGraph,
  ConfigProblem,
  ExtraTag,
  Failure,
  ImageName,
  ImageSpec,
  Profile,
  ProjectConfig,
  RenderedImage,
  SourceLocation,
  TemplateLocation,
} from './model.js';
import {
  canonicalName,
  parseReference,
  repositoryProblem,
  tagProblem,
} from './dockerfile/reference.js';
import { clip } from './clip.js';
import type { Renderer } from './jinja/render.js';
import { suggest } from './config/schema.js';
import { registryProblem } from './config/values.js';
import { imageLabels, makeNaming, type Naming } from './naming.js';
import { sourceTemplateValue, type SourceSpec } from './sources.js';

export type { Naming };

export interface FamilyInput {
  readonly project: ProjectConfig;
  readonly profile: Profile;
  readonly images: readonly ImageSpec[];
  readonly renderer: Renderer;
  /** The platform templates are rendered for, e.g. linux/amd64. */
  readonly platform: string;
  /** Appended to the rendered shared tag (one platform of several builds as `<tag>-<arch>`). */
  readonly tagSuffix?: string;
  /** What the build path supports (the template variable `build_features`); default: NO_ENGINE. */
  readonly buildFeatures?: BuildFeatures;
  /** Ids of the build secrets the run is given (`--secret id=…`): inputs of the images mounting them. */
  readonly secretIds?: readonly string[];
}

/**
 * What the engine's build path supports, as templates see it (`build_features.cache_mounts`, ...).
 * It comes from the engine a run detects, so a template can use a feature where it exists and fall
 * back where it does not; whatever a template makes of it is rendered text, so it is in the
 * fingerprint.
 */
export interface BuildFeatures {
  /** `RUN --mount=type=cache` (BuildKit: buildx or built into the docker client). */
  readonly cacheMounts: boolean;
  /** The build path: buildx, buildkit, legacy, buildah; `none` when no engine was asked. */
  readonly buildPath: string;
}

/** The features of a render that asks no engine (render, graph, validate, ...): none assumed. */
export const NO_ENGINE: BuildFeatures = { cacheMounts: false, buildPath: 'none' };

export interface Family {
  readonly project: ProjectConfig;
  readonly profile: Profile;
  readonly naming: Naming;
  readonly platform: string;
  readonly images: ReadonlyMap<ImageName, RenderedImage>;
  readonly graph: BuildGraph;
  /** Images that cannot be built with this profile, with the reason. */
  readonly unbuildable: ReadonlyMap<ImageName, string>;
  /** Sources fetched into images' build contexts (kbuild.yaml's, then the profile's). */
  readonly sources: ReadonlyMap<ImageName, SourceSpec>;
  /**
   * Where line `line` (1-based) of an image's rendered Dockerfile was written in the templates,
   * when known. Renders the image once more, traced, on first use (a build failed).
   */
  readonly templateLine?: (name: ImageName, line: number) => TemplateLocation | undefined;
}

/** The variables every template sees, before the per-image ones. */
function baseContext(
  project: ProjectConfig,
  profile: Profile,
  platform: string,
  features: BuildFeatures,
): Record<string, unknown> {
  return {
    ...profile.vars,
    distro: profile.distro,
    distro_tag: profile.distroTag,
    base_image: profile.baseImage,
    install_type: profile.installType,
    package_manager: profile.packageManager,
    registry: profile.registry ?? project.registry,
    namespace: profile.namespace ?? project.namespace,
    maintainer: project.maintainer,
    profile: profile.name,
    platform,
    arch: platform.split('/')[1] ?? platform,
    build_features: { cache_mounts: features.cacheMounts, build_path: features.buildPath },
    sources: Object.fromEntries(
      Object.entries({ ...project.sources, ...profile.sources }).map(([n, spec]) => [
        n,
        sourceTemplateValue(n, spec),
      ]),
    ),
  };
}

/** `nova-api` -> `nova_api`: how an image's name appears in variable names and block names. */
export const varName = (image: string) => image.replace(/[-.]/g, '_');

/** Renders and parses the whole family for a profile. */
export function loadFamily(input: FamilyInput): { family?: Family; failures: Failure[] } {
  const { project, profile, images, renderer, platform } = input;
  const failures: Failure[] = [];
  const problems: ConfigProblem[] = [];
  const names = images.map((i) => i.name as string);
  const nameSet = new Set(names);

  const sources = new Map(
    Object.entries({ ...project.sources, ...profile.sources }).map(
      ([n, spec]) => [n as ImageName, spec] as const,
    ),
  );
  // Settings naming images that do not exist are typos until proven otherwise.
  for (const [key, path, locate] of [
    ...Object.keys(profile.imageSettings).map(
      (n) => [n, ['image_settings', n], profile.locate] as const,
    ),
    ...profile.allowedToFail.map((n, i) => [n, ['allowed_to_fail', i], profile.locate] as const),
    ...[...sources].map(([n, spec]) => [n, ['sources', n], spec.at] as const),
  ]) {
    if (!nameSet.has(key)) {
      problems.push({
        ...locate(path, 'key'),
        message: `no image named '${key}'`,
        hint: suggest(key, names) ?? 'check the image directory names',
      });
    }
  }

  const context = baseContext(project, profile, platform, input.buildFeatures ?? NO_ENGINE);
  const tagTemplate = profile.tag ?? project.tag;
  const prefixTemplate = profile.imagePrefix ?? project.imagePrefix;
  const tagFile =
    profile.tag !== undefined ? profile.locate(['tag']).file : project.file || 'kbuild.yaml';
  const prefixFile =
    profile.imagePrefix !== undefined
      ? profile.locate(['image_prefix']).file
      : project.file || 'kbuild.yaml';
  const renderSmall = (source: string, file: string, what: string): string | undefined => {
    const r = renderer.renderString(source, context, file);
    if (r.ok) return r.value.trim();
    failures.push({ reason: 'template-error', image: what, ...r.error });
    return undefined;
  };
  const renderedTag = renderSmall(tagTemplate, tagFile, 'the tag');
  const renderedPrefix = renderSmall(prefixTemplate, prefixFile, 'the image prefix');
  const tag = (renderedTag ?? '') + (input.tagSuffix ?? '');
  const prefix = renderedPrefix ?? '';
  const namespace = String(context['namespace']);
  const registry = String(context['registry']);
  const extraTags = renderExtraTags(profile, images, (t) =>
    renderSmall(t.tag, t.from, 'a tag')?.concat(input.tagSuffix ?? ''),
  );
  if (extraTags.problems.length)
    failures.push({ reason: 'config-invalid', problems: extraTags.problems });
  // Checked before any image is rendered with them: one problem where the value is written
  // (kbuild.yaml, the profile or the flag), not one invalid FROM per Dockerfile.
  const namingProblems = checkNaming(
    {
      registry,
      namespace,
      ...(renderedTag !== undefined ? { tag } : {}),
      ...(renderedPrefix !== undefined ? { prefix } : {}),
      names,
    },
    (key) => {
      const field = key === 'image_prefix' ? 'imagePrefix' : key;
      return profile[field] !== undefined ? profile.locate([key]) : project.locate([key]);
    },
  );
  if (namingProblems.length)
    return { failures: [...failures, { reason: 'config-invalid', problems: namingProblems }] };
  const metaOf = new Map(images.map((i) => [i.name as string, i.meta]));
  const naming = makeNaming({
    registry,
    namespace,
    prefix,
    tag,
    labels: (n) => imageLabels(project, profile, n, metaOf.get(n)),
    extraTags: (n) => extraTags.of.get(n) ?? [],
  });
  const repository = naming.repository;
  Object.assign(context, { tag, image_prefix: prefix });
  const familyByRepo = new Map(names.map((n) => [repository(n), n as ImageName]));

  const imageRef = (n: unknown): string => {
    const name = String(n);
    if (!nameSet.has(name)) {
      throw new Error(
        `image_ref('${name}'): no image named '${name}'${hintSuffix(suggest(name, names))}`,
      );
    }
    return naming.ref(name);
  };

  const secretIds = new Set(input.secretIds ?? []);
  const unbuildable = new Map<ImageName, string>();
  const rendered = new Map<ImageName, RenderedImage>();
  /** What each rendered image was rendered with, for its line map (templateLine). */
  const contexts = new Map<ImageName, Readonly<Record<string, unknown>>>();
  const lineMaps = new Map<ImageName, readonly (TemplateLocation | undefined)[]>();
  /** Where each image names each of its family parents: `child\0parent` -> its first FROM. */
  const fromLines = new Map<string, { ref: string; file: string; line: number }>();
  for (const spec of images) {
    const settings = profile.imageSettings[spec.name];
    const own = ownUnbuildableReason(spec, profile, platform, settings?.disabled);
    if (own) unbuildable.set(spec.name, own);
    const v = varName(spec.name);
    const listVar = (suffix: string, extra: readonly string[] | undefined) => {
      const given = context[`${v}_packages_${suffix}`] ?? settings?.vars[`${v}_packages_${suffix}`];
      const base = Array.isArray(given) ? (given as unknown[]) : [];
      return extra?.length || given !== undefined
        ? { [`${v}_packages_${suffix}`]: [...base, ...(extra ?? [])] }
        : {};
    };
    const imageContext = {
      ...context,
      ...settings?.vars,
      ...listVar('append', settings?.extraPackages),
      ...listVar('remove', settings?.removePackages),
      image_name: spec.name,
      image_ref: imageRef,
    };
    const buildArgs = { ...profile.buildArgs, ...settings?.buildArgs };
    const file = `${project.imagesDir}/${spec.template}`;
    const out = renderer.render(spec.template, imageContext);
    if (!out.ok) {
      // A disabled image need not render for this profile: that is often why it is disabled.
      if (!own) failures.push({ reason: 'template-error', image: spec.name, ...out.error });
      rendered.set(spec.name, {
        spec,
        ref: naming.ref(spec.name),
        dockerfile: '',
        parents: [],
        externals: [],
        buildArgs,
      });
      continue;
    }
    contexts.set(spec.name, imageContext);
    const parsed = parseDockerfile(out.value, buildArgs);
    if (!parsed.ok) {
      const invalid = {
        reason: 'dockerfile-invalid',
        image: spec.name,
        file: `${file} (rendered)`,
        ...parsed.error,
      } as const;
      failures.push(invalid);
      // Still a node of the graph (with no known parents): its children's edges name it, and
      // they cannot be built while it cannot.
      if (!own)
        unbuildable.set(spec.name, `its Dockerfile is invalid (${invalid.file}:${invalid.line})`);
      rendered.set(spec.name, {
        spec,
        ref: naming.ref(spec.name),
        dockerfile: out.value,
        parents: [],
        externals: [],
        buildArgs,
      });
      continue;
    }
    const parents: ImageName[] = [];
    const externals: string[] = [];
    for (const r of parsed.value.refs) {
      const resolved = classify(r.ref, familyByRepo, { registry, tag, namespace, prefix, names });
      switch (resolved.kind) {
        case 'family':
          if (!parents.includes(resolved.name)) {
            parents.push(resolved.name);
            fromLines.set(`${spec.name}\0${resolved.name}`, {
              ref: r.ref,
              file: `${file} (rendered)`,
              line: r.line,
            });
          }
          break;
        case 'external':
          if (!externals.includes(r.ref)) externals.push(r.ref);
          break;
        case 'unknown-family':
          failures.push({
            reason: 'unknown-parent',
            image: spec.name,
            ref: r.ref,
            file: `${file} (rendered)`,
            line: r.line,
            ...(resolved.suggestion ? { suggestion: resolved.suggestion } : {}),
          });
          break;
        case 'invalid':
          failures.push({
            reason: 'dockerfile-invalid',
            image: spec.name,
            file: `${file} (rendered)`,
            line: r.line,
            message: resolved.message,
          });
          break;
      }
    }
    const secrets = (parsed.value.secrets ?? []).filter((id) => secretIds.has(id));
    rendered.set(spec.name, {
      spec,
      ref: naming.ref(spec.name),
      dockerfile: out.value,
      parents,
      externals,
      buildArgs,
      ...(secrets.length ? { secrets } : {}),
    });
  }
  if (problems.length) failures.push({ reason: 'config-invalid', problems });

  const graph = buildGraph(
    [...rendered.values()].map((r) => ({
      name: r.spec.name,
      parents: r.parents,
      externals: r.externals,
    })),
  );
  if (!graph.ok) {
    const e = graph.error;
    if (e.reason !== 'cycle') return { failures: [...failures, e] };
    // The path runs parent → child: each child's FROM of the one before it closes the cycle.
    const froms = e.path.slice(1).flatMap((child, i) => {
      const at = fromLines.get(`${child}\0${e.path[i]!}`);
      return at ? [{ image: child, ...at }] : [];
    });
    return { failures: [...failures, { ...e, froms }] };
  }
  // Parents come before children in the order, so one pass carries reasons down the tree.
  for (const name of graph.value.order) {
    if (unbuildable.has(name)) continue;
    const bad = graph.value.nodes.get(name)!.parents.find((p) => unbuildable.has(p));
    if (bad) unbuildable.set(name, `parent '${bad}' cannot be built: ${unbuildable.get(bad)!}`);
  }
  return {
    family: failures.length
      ? undefined
      : {
          project,
          profile,
          naming,
          platform,
          images: rendered,
          graph: graph.value,
          unbuildable,
          sources,
          templateLine: (name, line) => {
            let map = lineMaps.get(name);
            const img = rendered.get(name);
            const context = contexts.get(name);
            if (!map && img && context) {
              map = renderer.lineMap(img.spec.template, context, img.dockerfile);
              lineMaps.set(name, map);
            }
            return map?.[line - 1];
          },
        },
    failures,
  };
}

const hintSuffix = (s: string | undefined) => (s ? ` — ${s}` : '');

/**
 * Each image's extra tags (`-t` after the first, then `--set IMAGE.tags=…`), rendered by `render`
 * (undefined: a template error, already reported); a tag that cannot be one is a problem naming
 * the flag that gave it.
 */
function renderExtraTags(
  profile: Profile,
  images: readonly ImageSpec[],
  render: (t: ExtraTag) => string | undefined,
): { of: Map<string, string[]>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const done = new Map<ExtraTag, string | undefined>();
  const one = (t: ExtraTag) => {
    if (done.has(t)) return done.get(t);
    const tag = render(t);
    const bad = tag === undefined ? undefined : tagProblem(tag);
    if (bad)
      problems.push({
        file: t.from,
        message: tag === '' ? 'the tag is empty' : bad,
        hint: 'a tag is letters, digits, _ . - (at most 128, not starting with . or -); kbuild names the repository, so give the tag alone (not repo:tag)',
      });
    done.set(t, bad ? undefined : tag);
    return done.get(t);
  };
  const of = new Map<string, string[]>();
  for (const spec of images) {
    const given = [
      ...(profile.extraTags ?? []),
      ...(profile.imageSettings[spec.name]?.extraTags ?? []),
    ];
    const tags = given.map(one).filter((t): t is string => t !== undefined);
    if (tags.length) of.set(spec.name, tags);
  }
  return { of, problems };
}

/** Problems with the values every image reference is made of, each where it is written. */
function checkNaming(
  values: {
    readonly registry: string;
    readonly namespace: string;
    /** Rendered; absent when its template did not render (that error is reported already). */
    readonly tag?: string;
    readonly prefix?: string;
    readonly names: readonly string[];
  },
  where: (key: 'registry' | 'namespace' | 'tag' | 'image_prefix') => SourceLocation,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const shape = '<registry>/<namespace>/<image_prefix><image>:<tag>';
  const bad = registryProblem(values.registry);
  if (bad) problems.push({ ...where('registry'), ...bad });
  const ns = values.namespace === '' ? undefined : repositoryProblem(values.namespace);
  if (ns) {
    problems.push({
      ...where('namespace'),
      message: `namespace ${JSON.stringify(clip(values.namespace))} cannot start an image reference: ${ns}`,
      hint: `every image is named ${shape}; a namespace is lowercase letters and digits, separated by . _ - or /`,
    });
  }
  const tag = values.tag === undefined ? undefined : tagProblem(values.tag);
  if (tag) {
    problems.push({
      ...where('tag'),
      message: values.tag === '' ? 'the tag is empty' : tag,
      hint: `every image is named ${shape}; a tag is letters, digits, _ . - (at most 128, not starting with . or -)`,
    });
  }
  const prefix = values.prefix;
  const prefixed =
    prefix === undefined || prefix === ''
      ? undefined
      : values.names.map((n) => repositoryProblem(`${prefix}${n}`)).find((p) => p !== undefined);
  if (prefixed) {
    problems.push({
      ...where('image_prefix'),
      message: `image_prefix ${JSON.stringify(clip(prefix ?? ''))} makes invalid image names: ${prefixed}`,
      hint: `every image is named ${shape}; a prefix is lowercase letters, digits and . _ - /`,
    });
  }
  return problems;
}

function ownUnbuildableReason(
  spec: ImageSpec,
  profile: Profile,
  platform: string,
  disabled: string | undefined,
): string | undefined {
  if (disabled) return disabled;
  if (spec.meta.platforms.length && !spec.meta.platforms.includes(platform)) {
    return `not built for ${platform} (image.yaml platforms: ${spec.meta.platforms.join(', ')})`;
  }
  if (spec.meta.unsupportedDistros.includes(profile.distro))
    return `not supported on ${profile.distro} (image.yaml)`;
  if (spec.meta.unsupportedInstallTypes.includes(profile.installType)) {
    return `not supported for install type ${profile.installType} (image.yaml)`;
  }
  return undefined;
}

type Classified =
  | { kind: 'family'; name: ImageName }
  | { kind: 'external' }
  | { kind: 'unknown-family'; suggestion?: string }
  | { kind: 'invalid'; message: string };

/**
 * A reference is a family image when it names what that image is built as:
 * `[registry/]namespace/prefix+name[:tag]`. One in the family's namespace that names no image is
 * an error (a typo would otherwise silently become an external base that cannot be pulled).
 */
function classify(
  ref: string,
  familyByRepo: ReadonlyMap<string, ImageName>,
  f: { registry: string; tag: string; namespace: string; prefix: string; names: readonly string[] },
): Classified {
  const parsed = parseReference(ref);
  if (!parsed.ok)
    return { kind: 'invalid', message: `'${ref}' is not a valid image reference: ${parsed.error}` };
  const r = parsed.value;
  const ourDomain =
    r.domain === undefined ||
    (f.registry !== '' && canonicalDomain(r.domain) === canonicalDomain(f.registry));
  if (!ourDomain) return { kind: 'external' };
  const name = familyByRepo.get(r.path);
  if (name !== undefined) {
    // Another tag of a family image is a published build, not this run's: treat it as external.
    return r.tag === undefined || r.tag === f.tag ? { kind: 'family', name } : { kind: 'external' };
  }
  const familyPrefix = `${f.namespace ? `${f.namespace}/` : ''}${f.prefix}`;
  if (
    familyPrefix &&
    r.path.startsWith(familyPrefix) &&
    !r.path.slice(familyPrefix.length).includes('/')
  ) {
    const s = suggest(r.path.slice(familyPrefix.length), f.names);
    return { kind: 'unknown-family', ...(s ? { suggestion: s } : {}) };
  }
  return { kind: 'external' };
}

function canonicalDomain(d: string): string {
  return canonicalName({ domain: d, path: 'x' })
    .split('/')[0]!
    .replace(/^localhost(?=:|$)/, '127.0.0.1');
}
