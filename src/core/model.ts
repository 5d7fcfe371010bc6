/**
 * The shared types of kbuild's pure core. Everything here is data: no I/O, no clock.
 *
 * Naming: yaml keys are snake_case (as users of Jinja-era image families expect);
 * TypeScript fields are camelCase.
 */

// ---------------------------------------------------------------------------
// Brands: strings that must not be mixed up.

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** An image's name: the name of the directory holding its Dockerfile.j2. */
export type ImageName = Brand<string, 'ImageName'>;
/** A sha256 over an image's canonical build inputs (hex). */
export type Fingerprint = Brand<string, 'Fingerprint'>;
/** A content digest as registries and engines print it: `sha256:<hex>`. */
export type Digest = Brand<string, 'Digest'>;

export const imageName = (s: string): ImageName => s as ImageName;

// ---------------------------------------------------------------------------
// Results: expected failures are values.

export type Result<T, E> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };
export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
export const err = <E>(error: E): { readonly ok: false; readonly error: E } => ({
  ok: false,
  error,
});

/** Where something is in a user's file. Paths are relative to the project root, posix style. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line?: number;
  /** 1-based. */
  readonly column?: number;
}

/** One problem found while validating configuration: where it is and what to do about it. */
export interface ConfigProblem extends SourceLocation {
  readonly message: string;
  /** What to do, e.g. "did you mean 'install_type'?" */
  readonly hint?: string;
}

// ---------------------------------------------------------------------------
// Configuration.

/** One retention rule of kbuild.yaml (`retention:`): which registry tags prune keeps. */
export interface RetentionRule {
  /** The pattern as written: a glob, or `/regex/`. */
  readonly tags: string;
  readonly pattern: RegExp;
  /** Keep tags whose name dates them less than this many days ago. */
  readonly keepDays?: number;
  /** Keep the newest N tags the rule matches (by version, else by the date in the name). */
  readonly keepNewest?: number;
  /** Where the rule is written, e.g. `kbuild.yaml:12`. */
  readonly where: string;
}

/** Where an image's source archive comes from (`sources.<image>`). */
export type SourceSpec =
  | { readonly type: 'url'; readonly url: string; readonly sha256: string; readonly at: Locate }
  | { readonly type: 'git'; readonly url: string; readonly reference: string; readonly at: Locate }
  | {
      readonly type: 'local';
      /** Relative to the project root, or absolute. */
      readonly path: string;
      /** Required for an archive; a directory is packed by kbuild and has none. */
      readonly sha256?: string;
      readonly at: Locate;
    };

/** kbuild.yaml, validated. */
/** `signing:` of kbuild.yaml or a profile. */
export interface SigningConfig {
  /** The private key file (PEM PKCS#8, ECDSA P-256), relative to the project root. */
  readonly key: string;
  /** The environment variable holding an encrypted key's passphrase. */
  readonly passphraseEnv?: string;
}

export interface ProjectConfig {
  /** Path of kbuild.yaml ('' when the project has none and defaults apply). */
  readonly file: string;
  readonly imagesDir: string;
  readonly profilesDir: string;
  /** Registry host[:port], '' for none (local engine only). */
  readonly registry: string;
  readonly namespace: string;
  /** Prefix of every image's repository name; a template string (e.g. "{{ distro }}-"). */
  readonly imagePrefix: string;
  /** The default shared tag; a template string (e.g. "{{ profile }}"). */
  readonly tag: string;
  readonly maintainer: string;
  /** Module paths (relative to the project root) exporting filters, tests and globals. */
  readonly plugins: readonly string[];
  /** Named selections: group name -> patterns (names, globs, /regex/, other groups). */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  /** Per-image sources (a profile's replace these image by image). */
  readonly sources: Readonly<Record<string, SourceSpec>>;
  /** Which registry tags `kbuild prune --registry` keeps (first matching rule wins). */
  readonly retention: readonly RetentionRule[];
  /** Check distro packages for updates on plan and build (a profile's value wins). */
  readonly checkUpdates: CheckUpdates;
  /** Sign what `--push` publishes (a profile's value wins; --sign-key wins over both). */
  readonly signing?: SigningConfig;
  /** Where a value of the file is, by its key path (for problems found after parsing). */
  readonly locate: Locate;
}

/** Finds the file and position of a value by its key path, e.g. ['image_settings', 'nginx']. */
export type Locate = (path: readonly (string | number)[], at?: 'key' | 'value') => SourceLocation;

export type InstallType = 'binary' | 'source';
/** check_updates / --check-updates: off, on, or strict (a failed check fails the run). */
export type CheckUpdates = 'off' | 'on' | 'strict';
export type PackageManager = 'apt' | 'dnf';

/** A profile's settings for one image (`image_settings.<name>` in the yaml). */
export interface ImageSettings {
  /** true or a reason: the image (and so its descendants) is not built with this profile. */
  readonly disabled?: string;
  /** Packages added to the image's `customizable('packages')` list. */
  readonly extraPackages: readonly string[];
  /** Packages removed from it. */
  readonly removePackages: readonly string[];
  readonly vars: Readonly<Record<string, unknown>>;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Tags the image gets beside the shared one (`--set IMAGE.tags=…`: the command line only). */
  readonly extraTags?: readonly ExtraTag[];
}

/**
 * A tag an image gets beside the shared tag (`-t shared -t extra`, `--set IMAGE.tags=extra`):
 * made locally and, with --push, moved in the registry together with the shared tag. A template,
 * rendered like the shared tag; `from` is the flag that gave it, for problems with it.
 */
export interface ExtraTag {
  readonly tag: string;
  readonly from: string;
}

/** A profile after `extends` is resolved and validated. */
export interface Profile {
  readonly name: string;
  /** The profile's own file (the last one in its `extends` chain). */
  readonly file: string;
  readonly distro: string;
  readonly distroTag: string;
  readonly baseImage: string;
  readonly installType: InstallType;
  readonly packageManager: PackageManager;
  /** Overrides of the project's values, when set. */
  readonly registry?: string;
  readonly namespace?: string;
  readonly imagePrefix?: string;
  readonly tag?: string;
  /** Selection patterns (names, globs, /regex/, group names); empty means every image. */
  readonly images: readonly string[];
  readonly exclude: readonly string[];
  readonly vars: Readonly<Record<string, unknown>>;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly imageSettings: Readonly<Record<string, ImageSettings>>;
  /** Images whose failure does not fail the run. */
  readonly allowedToFail: readonly string[];
  /** Build network mode (HOST.md: the engine here has no bridge). */
  readonly network: string;
  /** Target platforms, e.g. ["linux/amd64"]. Empty: the engine's own. */
  readonly platforms: readonly string[];
  /** Per-image sources; they replace kbuild.yaml's image by image. */
  readonly sources: Readonly<Record<string, SourceSpec>>;
  /** Check distro packages for updates (overrides kbuild.yaml's), when set. */
  readonly checkUpdates?: CheckUpdates;
  /** Signing (overrides kbuild.yaml's), when set. */
  readonly signing?: SigningConfig;
  /** Tags every image gets beside the shared one (`-t shared -t extra …`: the command line only). */
  readonly extraTags?: readonly ExtraTag[];
  /** Where a value is, searching the profile and then the profiles it extends. */
  readonly locate: Locate;
}

/** Values given on the command line; they win over the profile's. */
export interface CliOverrides {
  readonly tag?: string;
  readonly registry?: string;
  readonly namespace?: string;
  readonly baseImage?: string;
  readonly vars: Readonly<Record<string, string>>;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** `-t` after the first: tags of every image beside the shared one. */
  readonly extraTags?: readonly ExtraTag[];
  /** `--set IMAGE.args.KEY=VALUE`, resolved to image names: they win over every other build arg. */
  readonly imageArgs?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** `--set IMAGE.tags=…`, resolved to image names. */
  readonly imageTags?: Readonly<Record<string, readonly ExtraTag[]>>;
}

// ---------------------------------------------------------------------------
// Images.

/** `image.yaml` beside a template, validated. */
export interface ImageMeta {
  /** Distros this image cannot be built for. */
  readonly unsupportedDistros: readonly string[];
  /** Install types this image cannot be built for. */
  readonly unsupportedInstallTypes: readonly string[];
  /** Platforms the image can be built for (empty: any). */
  readonly platforms: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** A smoke test: argv run inside the built image. */
  readonly test?: { readonly command: readonly string[]; readonly timeoutSeconds: number };
}

/** An image discovered in the images tree. */
export interface ImageSpec {
  readonly name: ImageName;
  /** The image's directory, relative to the images root, posix ('' never: an image has a dir). */
  readonly dir: string;
  /** The template's path relative to the images root, e.g. "nova/nova-api/Dockerfile.j2". */
  readonly template: string;
  readonly meta: ImageMeta;
}

/** A reference found in a rendered Dockerfile, after ARG substitution and alias resolution. */
export interface BaseReference {
  /** The reference as written after substitution, e.g. "kbuild/base:debian-binary". */
  readonly ref: string;
  /** 1-based line in the rendered Dockerfile. */
  readonly line: number;
  /** How the reference is used. */
  readonly kind: 'from' | 'copy-from' | 'mount-from';
  /** `--platform=` of the FROM, if any. */
  readonly platform?: string;
}

/**
 * Where a line of a rendered Dockerfile was written: the template, an included or imported
 * file or a template override (display paths, 1-based lines). A line a macro wrote is placed at
 * its call site (the innermost position outside any macro), with the macro's own position.
 */
export interface TemplateLocation {
  readonly file: string;
  readonly line: number;
  readonly macro?: { readonly name: string; readonly file: string; readonly line: number };
}

/** `images/hello/Dockerfile.j2:12 (macro install_packages at images/macros.j2:5)`. */
export function formatTemplateLocation(t: TemplateLocation): string {
  const m = t.macro;
  return `${t.file}:${t.line}${m ? ` (macro ${m.name} at ${m.file}:${m.line})` : ''}`;
}

/** An image after rendering and parsing. */
export interface RenderedImage {
  readonly spec: ImageSpec;
  /** The full reference this image is built as, e.g. "127.0.0.1:5000/kbuild/base:debian-binary". */
  readonly ref: string;
  readonly dockerfile: string;
  /** Family parents, in order of first use, without duplicates. */
  readonly parents: readonly ImageName[];
  /** External base references (not family images), without duplicates. */
  readonly externals: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  /**
   * Ids of the build secrets (`--secret id=…`) given to the run that this image's Dockerfile
   * mounts (`RUN --mount=type=secret,id=…`), sorted: a fingerprint input. Never their content.
   */
  readonly secrets?: readonly string[];
}

// ---------------------------------------------------------------------------
// The graph.

export interface GraphNode {
  readonly name: ImageName;
  readonly parents: readonly ImageName[];
  readonly children: readonly ImageName[];
  readonly externals: readonly string[];
  /** 0 for an image with no family parent; else 1 + the deepest parent's depth. */
  readonly depth: number;
}

export interface BuildGraph {
  readonly nodes: ReadonlyMap<ImageName, GraphNode>;
  /** Every parent before its children: by depth, then by name. */
  readonly order: readonly ImageName[];
}

// ---------------------------------------------------------------------------
// Failures: one union, tagged by `reason`. Switch on it exhaustively.

export type Failure =
  | { readonly reason: 'config-invalid'; readonly problems: readonly ConfigProblem[] }
  | {
      readonly reason: 'profile-not-found';
      readonly name: string;
      readonly available: readonly string[];
      readonly suggestion?: string;
    }
  | { readonly reason: 'duplicate-image'; readonly name: string; readonly paths: readonly string[] }
  | {
      readonly reason: 'template-error';
      readonly image: string;
      readonly file: string;
      readonly line?: number;
      readonly column?: number;
      readonly message: string;
    }
  | {
      readonly reason: 'dockerfile-invalid';
      readonly image: string;
      readonly file: string;
      readonly line: number;
      readonly message: string;
    }
  | {
      readonly reason: 'unknown-parent';
      readonly image: string;
      readonly ref: string;
      readonly file: string;
      readonly line: number;
      readonly suggestion?: string;
    }
  | {
      readonly reason: 'cycle';
      readonly path: readonly ImageName[];
      /** The FROM lines that close the cycle, one per edge of the path (when known). */
      readonly froms?: readonly {
        readonly image: ImageName;
        readonly ref: string;
        readonly file: string;
        readonly line: number;
      }[];
    }
  | {
      readonly reason: 'selection-unknown';
      readonly pattern: string;
      readonly suggestion?: string;
      readonly source: string;
    }
  | { readonly reason: 'plugin-invalid'; readonly file: string; readonly message: string };
