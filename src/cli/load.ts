/**
 * The composition root's loading half: reads the project from disk (adapters), then runs the
 * pure core over it (config, images, rendering, graph, selection). Every failure is collected.
 */
import {
  applyOverrides,
  parseKeyValues,
  parseProject,
  resolveProfile,
} from '../core/config/config.js';
import { loadFamily, type BuildFeatures, type Family } from '../core/family.js';
import { discoverImages } from '../core/config/images.js';
import type { ExtraTag, Failure, ImageSpec, Profile, ProjectConfig } from '../core/model.js';
import type { SetOverride } from './image-overrides.js';
import { resolveSets } from './set-images.js';
import { resolveSecrets, type SecretFlag } from './secrets.js';
import { createRenderer, type Renderer } from '../core/jinja/render.js';
import { selectImages, type Selection } from '../core/select.js';
import { suggest } from '../core/config/schema.js';
import {
  findProjectRoot,
  loadPlugins,
  PROJECT_FILE,
  readImagesTree,
  readOverrides,
  readProfiles,
  readProjectFile,
} from '../adapters/workspace.js';
import { jinjaLayerHash, openTemplateCache } from '../adapters/cache/template-cache.js';
import type { ProfileSource } from '../core/config/config.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, type Io } from './io.js';

/** Options shared by every command that loads a profile. */
export interface ProfileOptions {
  project?: string;
  profile?: string;
  tag?: string;
  registry?: string;
  namespace?: string;
  baseImage?: string;
  /** The extra tags of `-t a -t b …` (every image), after the shared one (`tag`). */
  extraTags?: readonly ExtraTag[];
  var: string[];
  buildArg: string[];
  /** `--set IMAGE.args.KEY=VALUE` / `IMAGE.tags=…`, their syntax checked. */
  set?: readonly SetOverride[];
  /** `--secret` (build, plan, explain): their ids are fingerprint inputs. */
  secret?: readonly SecretFlag[];
  templateOverride: string[];
  /**
   * Not a flag: what the engine a command builds or observes with supports (the template variable
   * `build_features`); commands that ask no engine render with NO_ENGINE.
   */
  buildFeatures?: BuildFeatures;
}

export interface SelectionOptions {
  exclude: string[];
  /** A git revision: select what changed since it (and descendants). */
  changedSince?: string;
  skipParents?: boolean;
  withDescendants?: boolean;
}

/** The project, read once per run and shared by every profile loaded from it. */
export interface Workspace {
  readonly root: string;
  readonly project: ProjectConfig;
  readonly profiles: ReadonlyMap<string, ProfileSource>;
  readonly images: readonly ImageSpec[];
  readonly renderer: Renderer;
}

export type Loaded<T> = { ok: true; value: T } | { ok: false; failures: Failure[] };

/** Maps Node's arch names to OCI platform arch names. */
const OCI_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  ia32: '386',
};
export const hostPlatform = () => `linux/${OCI_ARCH[process.arch] ?? process.arch}`;

export async function loadWorkspace(
  io: Io,
  opts: Pick<ProfileOptions, 'project' | 'templateOverride'>,
): Promise<Loaded<Workspace>> {
  const root = findProjectRoot(opts.project, io.cwd);
  const projectText = await readProjectFile(root);
  const project = parseProject(projectText, PROJECT_FILE);
  if (!project.ok)
    return { ok: false, failures: [{ reason: 'config-invalid', problems: project.error }] };
  if (projectText === undefined && !existsSync(join(root, project.value.imagesDir)))
    noProject(root, opts.project !== undefined);
  const tree = readImagesTree(root, project.value.imagesDir);
  const [profiles, overrides, plugins] = await Promise.all([
    readProfiles(root, project.value.profilesDir),
    readOverrides(root, opts.templateOverride, io.cwd),
    loadPlugins(root, project.value.plugins),
  ]);
  const failures: Failure[] = [];
  for (const r of [tree, overrides, plugins]) if (!r.ok) failures.push(r.error);
  if (!tree.ok || !overrides.ok || !plugins.ok) return { ok: false, failures };
  const discovered = discoverImages(tree.value.found, project.value.imagesDir);
  if (discovered.failures.length) return { ok: false, failures: discovered.failures };
  const imagesDir = project.value.imagesDir;
  if (discovered.images.length === 0) {
    // An empty family would validate and build nothing with exit 0: a wrong images_dir passes CI.
    return {
      ok: false,
      failures: [
        {
          reason: 'config-invalid',
          problems: [
            {
              ...project.value.locate(['images_dir']),
              message: `no images in '${imagesDir}' (${resolve(root, imagesDir)}): kbuild looked for ${imagesDir}/**/<name>/Dockerfile.j2 and found none`,
              hint: `an image is a directory holding a Dockerfile.j2 (kbuild init scaffolds a family); if the images are elsewhere, set 'images_dir' in ${PROJECT_FILE}`,
            },
          ],
        },
      ],
    };
  }
  const renderer = createRenderer({
    templates: tree.value.templates,
    overrides: overrides.value,
    plugins: plugins.value,
    displayPath: (key) => `${imagesDir}/${key}`,
    // Compiled templates from earlier runs: compiling them cold is most of a graph's time.
    compiledCache: openTemplateCache(join(root, '.kbuild', 'cache', 'templates'), jinjaLayerHash()),
  });
  return {
    ok: true,
    value: { root, project: project.value, profiles, images: discovered.images, renderer },
  };
}

/**
 * No kbuild.yaml and no images directory: not a project at all, so say that (and how to make
 * one) rather than which part of a project is missing. A folder with the default images
 * directory but no kbuild.yaml is still a project with kbuild.yaml's defaults.
 */
function noProject(root: string, given: boolean): never {
  throw new UsageError(
    given
      ? `no ${PROJECT_FILE} in ${root} (-C): it is not a kbuild project; run 'kbuild init ${root}' to make one there`
      : `no ${PROJECT_FILE} in ${root} or any folder above it: run 'kbuild init' to make an image family here, or run kbuild inside a project (or with -C DIR)`,
  );
}

/**
 * The profile named by --profile, else KBUILD_PROFILE, else the project's only profile: a
 * project with one needs no -p.
 */
export function profileName(io: Io, ws: Workspace, given: string | undefined): string {
  const available = [...ws.profiles.keys()].sort();
  const name =
    given ?? io.env['KBUILD_PROFILE'] ?? (available.length === 1 ? available[0] : undefined);
  if (!name) {
    throw new UsageError(
      `choose a profile with --profile NAME (or KBUILD_PROFILE); available: ${available.join(', ') || `none — add one to ${ws.project.profilesDir}/`}`,
    );
  }
  return name;
}

export function loadProfileFamily(
  io: Io,
  ws: Workspace,
  opts: ProfileOptions,
  name: string,
  /** The platform to render for; default: the profile's first, else this host's. */
  platform?: string,
  /** Appended to the shared tag (one platform of several: `-<arch>`). */
  tagSuffix?: string,
): Loaded<Family> {
  const p = loadProfile(io, ws, opts, name);
  if (!p.ok) return p;
  const { family, failures } = loadFamily({
    project: ws.project,
    profile: p.value,
    images: ws.images,
    renderer: ws.renderer,
    platform: platform ?? p.value.platforms[0] ?? hostPlatform(),
    ...(tagSuffix ? { tagSuffix } : {}),
    ...(opts.buildFeatures ? { buildFeatures: opts.buildFeatures } : {}),
    ...(opts.secret?.length ? { secretIds: opts.secret.map((s) => s.id) } : {}),
  });
  return family ? { ok: true, value: family } : { ok: false, failures };
}

/** The profile named `name` with the command line's overrides (nothing rendered yet). */
export function loadProfile(
  io: Io,
  ws: Workspace,
  opts: ProfileOptions,
  name: string,
): Loaded<Profile> {
  if (!ws.profiles.has(name)) {
    const available = [...ws.profiles.keys()].sort();
    const s = suggest(name, available);
    return {
      ok: false,
      failures: [{ reason: 'profile-not-found', name, available, ...(s ? { suggestion: s } : {}) }],
    };
  }
  const profile = resolveProfile(name, ws.profiles);
  if (!profile.ok)
    return { ok: false, failures: [{ reason: 'config-invalid', problems: profile.error }] };
  const vars = parseKeyValues(opts.var, '--var');
  const buildArgs = parseKeyValues(opts.buildArg, '--build-arg');
  if (!vars.ok) throw new UsageError(vars.error);
  if (!buildArgs.ok) throw new UsageError(buildArgs.error);
  // Checked before anything is rendered: a missing secret file is a usage error naming it.
  resolveSecrets(io.cwd, io.env, opts.secret);
  const sets = resolveSets(
    opts.set ?? [],
    ws.images.map((i) => i.name),
    ws.project.groups,
  );
  const p = applyOverrides(profile.value, {
    ...(opts.tag !== undefined ? { tag: opts.tag } : {}),
    ...(opts.registry !== undefined ? { registry: opts.registry } : {}),
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    ...(opts.baseImage !== undefined ? { baseImage: opts.baseImage } : {}),
    vars: vars.value,
    buildArgs: buildArgs.value,
    ...(opts.extraTags?.length ? { extraTags: opts.extraTags } : {}),
    ...sets,
  });
  return { ok: true, value: p };
}

/** Selection from positional patterns (or the profile's), excludes and closure flags. */
export function select(
  family: Family,
  patterns: readonly string[],
  opts: SelectionOptions,
): Loaded<Selection> {
  const profile = family.profile;
  const fromCli = patterns.length > 0;
  const { selection, failures } = selectImages(family.graph, family.project.groups, {
    patterns: fromCli ? patterns : profile.images,
    source: fromCli ? 'the command line' : profile.locate(['images']).file,
    exclude: [
      { patterns: profile.exclude, source: profile.locate(['exclude']).file },
      { patterns: opts.exclude, source: 'the command line (--exclude)' },
    ],
    skipParents: opts.skipParents ?? false,
    withDescendants: opts.withDescendants ?? false,
  });
  return failures.length ? { ok: false, failures } : { ok: true, value: selection };
}
