/**
 * kbuild.yaml, profiles/<name>.yaml and image.yaml: their schemas, validation (every problem at
 * once, each with file:line:column) and conversion to the typed model. Pure: text in, values out.
 */
import type {
  CheckUpdates,
  CliOverrides,
  ConfigProblem,
  ImageMeta,
  ImageSettings,
  InstallType,
  PackageManager,
  Profile,
  ProjectConfig,
  Result,
  SigningConfig,
} from '../model.js';
import { err, ok } from '../model.js';
import { parseAndValidate, suggest, type ParsedYaml, type Schema } from './schema.js';
import { parseRetention, retentionSchema } from '../registry/retention.js';
import { parseSources, sourcesSchema } from '../sources.js';
import { networkProblem, registryProblem } from './values.js';

const str = (
  doc: string,
  extra: Partial<{ enum: readonly string[]; check: typeof registryProblem }> = {},
): Schema => ({
  kind: 'string',
  doc,
  ...extra,
});
const list = (doc: string): Schema => ({ kind: 'string-list', doc });

const checkUpdatesSchema: Schema = {
  kind: 'flag-or-choice',
  doc: "Check the images' distro packages for updates on every plan and build (--check-updates): true, false, or strict (a failed check fails the run). A profile's value wins.",
  choices: ['strict'],
};

const signingSchema: Schema = {
  kind: 'object',
  doc: "Sign every image --push publishes, with its provenance and SBOM attested (cosign format). A profile's value wins; --sign-key wins over both.",
  fields: {
    key: str(
      'The private key file: PEM PKCS#8, ECDSA P-256 (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem), relative to the project root. Never commit it: keep it where CI puts secrets.',
    ),
    passphrase_env: str(
      "The environment variable holding an encrypted key's passphrase. Default: KBUILD_SIGN_PASSPHRASE.",
    ),
  },
};

const signingOf = (v: unknown): SigningConfig | undefined => {
  const raw = asRaw(v);
  const key = optString(raw['key']);
  if (!key) return undefined;
  const env = optString(raw['passphrase_env']);
  return { key, ...(env ? { passphraseEnv: env } : {}) };
};

const checkUpdatesOf = (v: unknown): CheckUpdates | undefined =>
  v === true ? 'on' : v === false ? 'off' : v === 'strict' ? 'strict' : undefined;

export const projectSchema: Schema = {
  kind: 'object',
  doc: 'kbuild.yaml: the project file at the root of an image family.',
  fields: {
    images_dir: str(
      'Directory holding the images (each an images/**/Dockerfile.j2). Default: images.',
    ),
    profiles_dir: str('Directory holding profiles/<name>.yaml. Default: profiles.'),
    registry: str(
      "Registry host[:port] images are pushed to, e.g. 127.0.0.1:5000 (an optional path may follow; no scheme, no credentials: docker login keeps those). Default: '' (none).",
      { check: registryProblem },
    ),
    namespace: str(
      'Namespace of every image reference: <registry>/<namespace>/<prefix><name>:<tag>.',
    ),
    image_prefix: str(
      'Prefix of every image name; a template string, e.g. "{{ distro }}-". Default: \'\'.',
    ),
    tag: str(
      'The shared tag of the family; a template string, e.g. "{{ profile }}". Default: latest.',
    ),
    maintainer: str('Maintainer, available to templates and set as a label.'),
    plugins: list(
      'Modules (paths relative to the project root) exporting filters, tests and globals for templates.',
    ),
    groups: {
      kind: 'map-of',
      doc: 'Named image selections: group -> names, globs, /regex/ or other groups.',
      value: list('Patterns.'),
    },
    sources: sourcesSchema,
    retention: retentionSchema,
    check_updates: checkUpdatesSchema,
    signing: signingSchema,
  },
};

const imageSettingsSchema: Schema = {
  kind: 'object',
  doc: "A profile's settings for one image.",
  fields: {
    disabled: {
      kind: 'flag-or-reason',
      doc: 'true or a reason: the image and its descendants are not built.',
    },
    extra_packages: list("Packages appended to the image's customizable('packages') list."),
    remove_packages: list("Packages removed from the image's customizable('packages') list."),
    vars: { kind: 'any-map', doc: 'Template variables for this image only.' },
    build_args: { kind: 'string-map', doc: 'Build args for this image only.' },
  },
};

export const profileSchema: Schema = {
  kind: 'object',
  doc: 'profiles/<name>.yaml: one distro x install-type build of the family.',
  fields: {
    extends: str('Another profile whose values this one starts from.'),
    distro: str('Distribution, e.g. debian, ubuntu, rocky.'),
    distro_tag: str('Distribution release, e.g. bookworm, noble.'),
    base_image: str('The external image the family starts from. Default: <distro>:<distro_tag>.'),
    install_type: str('How services are installed.', { enum: ['binary', 'source'] }),
    package_manager: str('Package manager of the distro. Default: from the distro.', {
      enum: ['apt', 'dnf'],
    }),
    registry: str("Registry for this profile (overrides kbuild.yaml's).", {
      check: registryProblem,
    }),
    namespace: str("Namespace for this profile (overrides kbuild.yaml's)."),
    image_prefix: str("Image name prefix for this profile (overrides kbuild.yaml's)."),
    tag: str("Shared tag for this profile (overrides kbuild.yaml's); a template string."),
    images: list('Selection: image names, globs, /regex/ and group names. Default: every image.'),
    exclude: list('Images removed from the selection (same pattern forms).'),
    vars: { kind: 'any-map', doc: 'Template variables.' },
    build_args: { kind: 'string-map', doc: 'Build args passed to every build.' },
    image_settings: {
      kind: 'map-of',
      doc: 'Per-image settings, by image name.',
      value: imageSettingsSchema,
    },
    allowed_to_fail: list('Images whose failure does not fail the run.'),
    network: str(
      'Network mode for RUN steps: host, none, default, or the name of a network. Default: host.',
      { check: networkProblem },
    ),
    platforms: list(
      "Target platforms, e.g. [linux/amd64, linux/arm64]. Default: the engine's own.",
    ),
    check_updates: checkUpdatesSchema,
    signing: signingSchema,
    sources: {
      ...sourcesSchema,
      doc: `${sourcesSchema.doc} Entries replace kbuild.yaml's, image by image.`,
    },
  },
};

export const imageMetaSchema: Schema = {
  kind: 'object',
  doc: 'image.yaml beside a Dockerfile.j2: metadata of one image.',
  fields: {
    unsupported_distros: list('Distros this image cannot be built for.'),
    unsupported_install_types: list('Install types this image cannot be built for.'),
    platforms: list('Platforms this image can be built for (default: any).'),
    labels: { kind: 'string-map', doc: 'Extra labels set on the image.' },
    test: {
      kind: 'object',
      doc: 'A smoke test run inside the built image.',
      fields: {
        command: { kind: 'string-or-list', doc: 'argv, or a string run with sh -c.' },
        timeout: { kind: 'number', doc: 'Seconds before the test is failed. Default: 60.', min: 1 },
      },
    },
  },
};

type Raw = Record<string, unknown>;
const asRaw = (v: unknown): Raw =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {};
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const stringMap = (v: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(asRaw(v)).map(([k, x]) => [
      k,
      x === null || x === undefined ? '' : String(x as string),
    ]),
  );
/** A validated scalar as a string (the schema already rejected anything else). */
const scalar = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
const optString = (v: unknown): string | undefined =>
  v === null || v === undefined ? undefined : scalar(v);

// ---------------------------------------------------------------------------
// kbuild.yaml

/** Validates kbuild.yaml. `text` undefined means the project has none: defaults apply. */
export function parseProject(
  text: string | undefined,
  file: string,
): Result<ProjectConfig, ConfigProblem[]> {
  const parsed = text === undefined ? undefined : parseAndValidate(text, file, projectSchema);
  if (parsed && parsed.problems.length) return err([...parsed.problems]);
  const raw = asRaw(parsed?.value);
  const locate: ProjectConfig['locate'] = (path, at) => ({
    file,
    ...(parsed?.locate(path, at) ?? {}),
  });
  const sources = parseSources(raw['sources'], locate);
  const retention = parseRetention(raw['retention'], locate);
  if (sources.problems.length || retention.problems.length)
    return err([...sources.problems, ...retention.problems]);
  const groups: Record<string, string[]> = {};
  for (const [g, patterns] of Object.entries(asRaw(raw['groups']))) groups[g] = strings(patterns);
  return ok({
    file: text === undefined ? '' : file,
    imagesDir: optString(raw['images_dir']) ?? 'images',
    profilesDir: optString(raw['profiles_dir']) ?? 'profiles',
    registry: optString(raw['registry']) ?? '',
    namespace: optString(raw['namespace']) ?? 'kbuild',
    imagePrefix: optString(raw['image_prefix']) ?? '',
    tag: optString(raw['tag']) ?? 'latest',
    maintainer: optString(raw['maintainer']) ?? '',
    plugins: strings(raw['plugins']),
    groups,
    sources: sources.sources,
    retention: retention.rules,
    checkUpdates: checkUpdatesOf(raw['check_updates']) ?? 'off',
    ...(signingOf(raw['signing']) ? { signing: signingOf(raw['signing'])! } : {}),
    locate,
  });
}

// ---------------------------------------------------------------------------
// Profiles

export interface ProfileSource {
  readonly name: string;
  readonly file: string;
  readonly text: string;
}

export const DEFAULT_PACKAGE_MANAGER: Readonly<Record<string, PackageManager>> = {
  debian: 'apt',
  ubuntu: 'apt',
  centos: 'dnf',
  rocky: 'dnf',
  almalinux: 'dnf',
  fedora: 'dnf',
  rhel: 'dnf',
};

/** Merge order for `extends`: maps merge key by key (child wins), everything else is replaced. */
const MERGED_MAPS = new Set(['vars', 'build_args', 'sources']);

/**
 * Loads profile `name` from `sources`, following `extends`, and validates the result.
 * Every file in the chain is checked and every problem is returned at once.
 */
export function resolveProfile(
  name: string,
  sources: ReadonlyMap<string, ProfileSource>,
): Result<Profile, ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  const chain: { src: ProfileSource; parsed: ParsedYaml }[] = [];
  const seen: string[] = [];
  let current: string | undefined = name;
  let referrer: { file: string; line?: number; column?: number } | undefined;
  while (current !== undefined) {
    if (seen.includes(current)) {
      problems.push({
        file: chain[chain.length - 1]?.src.file ?? name,
        ...(referrer ?? {}),
        message: `profiles extend each other in a cycle: ${[...seen, current].join(' → ')}`,
        hint: 'remove one of the extends',
      });
      break;
    }
    seen.push(current);
    const src = sources.get(current);
    if (!src) {
      const hint = suggest(current, [...sources.keys()]);
      problems.push({
        file: referrer?.file ?? `${current}.yaml`,
        ...(referrer ?? {}),
        message: `profile '${current}' does not exist`,
        hint: hint ?? `available profiles: ${[...sources.keys()].sort().join(', ')}`,
      });
      break;
    }
    const parsed = parseAndValidate(src.text, src.file, profileSchema);
    problems.push(...parsed.problems);
    chain.push({ src, parsed });
    const ext = asRaw(parsed.value)['extends'];
    current = optString(ext);
    referrer = { file: src.file, ...(parsed.locate(['extends']) ?? {}) };
  }
  if (problems.length) return err(problems);

  // Merge from the root of the chain down to the profile itself.
  const merged: Raw = {};
  for (const { parsed } of [...chain].reverse()) {
    for (const [k, v] of Object.entries(asRaw(parsed.value))) {
      if (k === 'extends' || v === null || v === undefined) continue;
      if (MERGED_MAPS.has(k)) merged[k] = { ...asRaw(merged[k]), ...asRaw(v) };
      else if (k === 'image_settings') {
        const into = { ...asRaw(merged[k]) };
        for (const [img, s] of Object.entries(asRaw(v)))
          into[img] = { ...asRaw(into[img]), ...asRaw(s) };
        merged[k] = into;
      } else merged[k] = v;
    }
  }
  const own = chain[0]!;
  const missing = (key: string) =>
    problems.push({
      file: own.src.file,
      line: 1,
      column: 1,
      message: `profile '${name}' has no '${key}'${chain.length > 1 ? ' (nor does any profile it extends)' : ''}`,
      hint: `add '${key}: …' to ${own.src.file}`,
    });
  const distro = optString(merged['distro']);
  const distroTag = optString(merged['distro_tag']);
  if (!distro) missing('distro');
  if (!distroTag) missing('distro_tag');
  let packageManager = optString(merged['package_manager']) as PackageManager | undefined;
  if (!packageManager && distro) {
    packageManager = DEFAULT_PACKAGE_MANAGER[distro];
    if (!packageManager) {
      problems.push({
        file: own.src.file,
        line: 1,
        column: 1,
        message: `profile '${name}': no default package manager is known for distro '${distro}'`,
        hint: "set 'package_manager: apt' or 'package_manager: dnf'",
      });
    }
  }
  if (problems.length) return err(problems);

  const imageSettings: Record<string, ImageSettings> = {};
  for (const [img, s] of Object.entries(asRaw(merged['image_settings']))) {
    const raw = asRaw(s);
    const disabled = raw['disabled'];
    imageSettings[img] = {
      ...(disabled === true
        ? { disabled: 'disabled by the profile' }
        : typeof disabled === 'string'
          ? { disabled }
          : {}),
      extraPackages: strings(raw['extra_packages']),
      removePackages: strings(raw['remove_packages']),
      vars: asRaw(raw['vars']),
      buildArgs: stringMap(raw['build_args']),
    };
  }
  const locate: Profile['locate'] = (path, at) => {
    for (const { src, parsed } of chain) {
      const where = parsed.locate(path, at);
      if (where) return { file: src.file, ...where };
    }
    return { file: own.src.file };
  };
  const ownSources = parseSources(merged['sources'], locate);
  if (ownSources.problems.length) return err(ownSources.problems);
  const opt = (k: string) => optString(merged[k]);
  return ok({
    name,
    file: own.src.file,
    distro: distro!,
    distroTag: distroTag!,
    baseImage: opt('base_image') ?? `${distro!}:${distroTag!}`,
    installType: (opt('install_type') ?? 'binary') as InstallType,
    packageManager: packageManager!,
    ...(opt('registry') !== undefined ? { registry: opt('registry') } : {}),
    ...(opt('namespace') !== undefined ? { namespace: opt('namespace') } : {}),
    ...(opt('image_prefix') !== undefined ? { imagePrefix: opt('image_prefix') } : {}),
    ...(opt('tag') !== undefined ? { tag: opt('tag') } : {}),
    images: strings(merged['images']),
    exclude: strings(merged['exclude']),
    vars: asRaw(merged['vars']),
    buildArgs: stringMap(merged['build_args']),
    imageSettings,
    allowedToFail: strings(merged['allowed_to_fail']),
    network: opt('network') ?? 'host',
    platforms: strings(merged['platforms']),
    sources: ownSources.sources,
    ...(checkUpdatesOf(merged['check_updates'])
      ? { checkUpdates: checkUpdatesOf(merged['check_updates'])! }
      : {}),
    ...(signingOf(merged['signing']) ? { signing: signingOf(merged['signing'])! } : {}),
    locate,
  });
}

/** The flag each command-line override comes from, by the yaml key it overrides. */
const OVERRIDE_FLAGS: Readonly<Record<string, keyof CliOverrides>> = {
  tag: 'tag',
  registry: 'registry',
  namespace: 'namespace',
  base_image: 'baseImage',
};

/** Command-line values win over the profile's; problems with them name the flag. */
export function applyOverrides(p: Profile, o: CliOverrides): Profile {
  const flagOf = (key: unknown): string | undefined => {
    const field = typeof key === 'string' ? OVERRIDE_FLAGS[key] : undefined;
    return field !== undefined && o[field] !== undefined
      ? `--${String(key).replace('_', '-')}`
      : undefined;
  };
  return {
    ...p,
    locate: (path, at) => {
      const flag = path.length === 1 ? flagOf(path[0]) : undefined;
      return flag !== undefined ? { file: flag } : p.locate(path, at);
    },
    ...(o.tag !== undefined ? { tag: o.tag } : {}),
    ...(o.registry !== undefined ? { registry: o.registry } : {}),
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.baseImage !== undefined ? { baseImage: o.baseImage } : {}),
    vars: { ...p.vars, ...o.vars },
    buildArgs: { ...p.buildArgs, ...o.buildArgs },
    ...(o.extraTags?.length ? { extraTags: [...(p.extraTags ?? []), ...o.extraTags] } : {}),
    imageSettings: withImageOverrides(p.imageSettings, o),
  };
}

/** The profile's image settings with `--set IMAGE.args…` and `IMAGE.tags=…` folded in (they win). */
function withImageOverrides(
  settings: Profile['imageSettings'],
  o: CliOverrides,
): Profile['imageSettings'] {
  const names = new Set([...Object.keys(o.imageArgs ?? {}), ...Object.keys(o.imageTags ?? {})]);
  if (names.size === 0) return settings;
  const out: Record<string, ImageSettings> = { ...settings };
  for (const name of names) {
    const s = out[name] ?? { extraPackages: [], removePackages: [], vars: {}, buildArgs: {} };
    const args = o.imageArgs?.[name];
    const tags = o.imageTags?.[name];
    out[name] = {
      ...s,
      ...(args ? { buildArgs: { ...s.buildArgs, ...args } } : {}),
      ...(tags?.length ? { extraTags: [...(s.extraTags ?? []), ...tags] } : {}),
    };
  }
  return out;
}

/** Parses `k=v` pairs given on the command line; problems name the flag. */
export function parseKeyValues(
  pairs: readonly string[],
  flag: string,
): Result<Record<string, string>, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) return err(`${flag} expects key=value, got '${pair}'`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return ok(out);
}

// ---------------------------------------------------------------------------
// image.yaml

export const EMPTY_META: ImageMeta = {
  unsupportedDistros: [],
  unsupportedInstallTypes: [],
  platforms: [],
  labels: {},
};

/** Validates an image.yaml. */
export function parseImageMeta(text: string, file: string): Result<ImageMeta, ConfigProblem[]> {
  const parsed = parseAndValidate(text, file, imageMetaSchema);
  if (parsed.problems.length) return err([...parsed.problems]);
  const raw = asRaw(parsed.value);
  const test = raw['test'] === undefined || raw['test'] === null ? undefined : asRaw(raw['test']);
  const problems: ConfigProblem[] = [];
  let command: string[] | undefined;
  if (test) {
    const c = test['command'];
    command = typeof c === 'string' ? ['sh', '-c', c] : strings(c);
    if (command.length === 0) {
      problems.push({
        file,
        ...(parsed.locate(['test']) ?? {}),
        message: "'test' needs a 'command'",
        hint: 'e.g. command: [nginx, -t]',
      });
    }
  }
  if (problems.length) return err(problems);
  return ok({
    unsupportedDistros: strings(raw['unsupported_distros']),
    unsupportedInstallTypes: strings(raw['unsupported_install_types']),
    platforms: strings(raw['platforms']),
    labels: stringMap(raw['labels']),
    ...(test && command
      ? {
          test: {
            command,
            timeoutSeconds: typeof test['timeout'] === 'number' ? test['timeout'] : 60,
          },
        }
      : {}),
  });
}
