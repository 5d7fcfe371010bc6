/** Options and plumbing shared by the commands. */
import { Option, type Command } from 'commander';
import type { CheckUpdates, Failure } from '../core/model.js';
import { UsageError, type Io } from './io.js';
import { parseSet, splitTags, type SetOverride } from './image-overrides.js';
import { parseSecret, type SecretFlag } from './secrets.js';

/** Thrown by a command to end with failures already collected. */
export class Failed extends Error {
  constructor(readonly failures: readonly Failure[]) {
    super('failed');
  }
}

/** --lock-timeout's default: a generous wait (an hour). Here, not in run-lock.ts: declaring the
 *  flag must not load the lock's modules. */
export const defaultLockTimeoutSeconds = 3600;

/** A command's action: resolves to its exit code. */
export type Action = (io: Io) => Promise<number>;

const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * Adds the options every profile-loading command takes. `buildInputs: false` for a command that
 * finds built images by reference and never renders a build (test, promote): a build arg or a
 * template override would change nothing there, so it does not take --build-arg and
 * --template-override (--var stays: names and tags are templates that see variables).
 */
export function profileOptions(cmd: Command, { buildInputs = true } = {}): Command {
  profileFlags(cmd, buildInputs);
  if (!buildInputs) {
    // Loading reads them (ProfileOptions): none given.
    return cmd
      .setOptionValue('buildArg', [])
      .setOptionValue('templateOverride', [])
      .setOptionValue('set', []);
  }
  return cmd
    .option('--build-arg <key=value>', 'build arg for every image (repeatable)', collect, [])
    .option(
      '--set <IMAGE.args.KEY=VALUE|IMAGE.tags=TAG,…>',
      "per-image override (repeatable; IMAGE: a name, group, glob like 'nova-*', or '*'): a build arg of the matching images (wins over --build-arg and the profile's), or extra tags for them",
      (v: string, prev: SetOverride[]) => [...prev, parseSet(v)],
      [],
    )
    .option(
      '--template-override <file>',
      'template override file or directory (repeatable; later ones win)',
      collect,
      [],
    );
}

/**
 * --secret id=ID,src=PATH|env=VAR (repeatable), for the commands that build or fingerprint
 * (build, plan, explain): the ids are fingerprint inputs of the images that mount them.
 */
export function secretOption(): Option {
  return new Option(
    '--secret <id=ID,src=PATH|env=VAR>',
    'build secret for RUN --mount=type=secret,id=ID (repeatable; BuildKit or podman): its id is an input of the images mounting it, its content never (not in images, state, logs or reports)',
  )
    .argParser((v: string, prev: SecretFlag[] | undefined) => [...(prev ?? []), parseSecret(v)])
    .default([]);
}

function profileFlags(cmd: Command, extraTags: boolean): Command {
  return cmd
    .hook('preAction', (c) => {
      // What loading sees (ProfileOptions): the shared tag, and the others as extra tags.
      const split = splitTags((c.getOptionValue('tag') as string[] | undefined) ?? []);
      if (split.extraTags.length && !extraTags)
        throw new UsageError(
          `kbuild ${c.name()} takes one -t/--tag (got ${split.extraTags.length + 1}): extra tags (-t shared -t extra) are made by kbuild build`,
        );
      c.setOptionValue('tag', split.tag);
      c.setOptionValue('extraTags', split.extraTags);
    })
    .option(
      '-p, --profile <name>',
      'profile to use (profiles/<name>.yaml); default: $KBUILD_PROFILE, else the only profile',
    )
    .option(
      '-C, --project <dir>',
      'project root (default: the nearest folder upwards with kbuild.yaml)',
    )
    .option(
      '-t, --tag <tag>',
      "shared tag of the family (overrides the profile's); repeated (-t a -t b): the first is the shared tag, the others extra tags of every image, made and pushed with it",
      collect,
      [],
    )
    .option('--registry <host[:port]>', 'registry (overrides kbuild.yaml and the profile)')
    .option(
      '--namespace <ns>',
      'namespace of image references (overrides kbuild.yaml and the profile)',
    )
    .option(
      '--base-image <ref>',
      'external base image of the family (overrides the profile), e.g. a local tag',
    )
    .option('--var <key=value>', 'template variable (repeatable)', collect, []);
}

/** Adds the selection options; `ancestors: false` for commands that never add ancestors (test). */
export function selectionOptions(cmd: Command, { ancestors = true } = {}): Command {
  cmd
    .argument(
      '[images...]',
      "images to select: names, globs (nova-*), /regex/ or group names; default: the profile's selection",
    )
    .option('--exclude <pattern>', 'remove images from the selection (repeatable)', collect, []);
  if (ancestors) cmd.option('--skip-parents', 'do not add the ancestors of selected images');
  return cmd
    .option('--with-descendants', 'add every descendant of the selected images')
    .option(
      '--changed-since <git-ref>',
      'select the images whose template, included templates, context or profile settings changed since a git revision, with their descendants',
    );
}

/** An option taking a number, its default shown as one in --help (`(default: 4)`, not `"4"`). */
export function numberOption(flags: string, description: string, fallback: number): Option {
  return new Option(flags, description).default(fallback);
}

/** A whole-number option's value (the default, or what was given), or a usage error naming the flag. */
export function wholeNumber(flag: string, v: string | number, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${flag} expects a whole number >= ${min}, got '${v}'`);
  return n;
}

/** The flags of `engineOption` and `outputOptions`. */
export interface OutputFlags {
  engine?: 'docker' | 'podman';
  logsDir?: string;
  summaryJson?: string;
  progress?: 'tty' | 'plain' | 'json';
  quiet?: boolean;
  verbose?: boolean;
}

/** The flags of `reportOptions`: files a build writes about its run, for people and CI systems. */
export interface ReportFlags {
  report?: string;
  junit?: string;
  metadataFile?: string;
}

/** Adds --report, --junit and --metadata-file (build). */
export function reportOptions(cmd: Command): Command {
  return cmd
    .option(
      '--report <file.html>',
      'write a self-contained HTML report: graph, timeline, every image with why it was built',
    )
    .option(
      '--junit <file>',
      'write JUnit XML: one testcase per image, failures with their log tail',
    )
    .option(
      '--metadata-file <file>',
      "write JSON per image with buildx's keys (image.name, containerimage.digest, …) and kbuild.* (status, fingerprint, platforms, base digests)",
    );
}

/** Adds --engine. */
export function engineOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--engine <engine>', 'container engine (default: detected)').choices([
      'docker',
      'podman',
    ]),
  );
}

/** Adds the options of a run's output: logs dir, summary file, progress style, quiet / verbose. */
export function outputOptions(cmd: Command): Command {
  return cmd
    .option('--logs-dir <dir>', 'where per-image logs go (default: .kbuild/logs/<run-id>)')
    .option('--summary-json <file>', 'write the run summary as JSON')
    .addOption(
      new Option(
        '--progress <mode>',
        'output style: auto (tty on a terminal, plain in CI or without one), tty (live view), plain (CI log), json (one object per line per event), quiet (as -q)',
      )
        .choices(['auto', 'tty', 'plain', 'json', 'quiet'])
        .default('auto'),
    )
    .addOption(
      new Option('-q, --quiet', 'only failures (with their logs) and the summary').conflicts(
        'verbose',
      ),
    )
    .option('--verbose', 'every log line, also on a terminal (with json: log events)')
    .hook('preAction', (c) => {
      // What runs see (OutputFlags): auto is no choice (the run's default), quiet is -q.
      const mode = c.getOptionValue('progress') as string;
      if (mode === 'quiet') {
        if (c.getOptionValue('verbose'))
          throw new UsageError('--progress quiet and --verbose cannot be used together');
        c.setOptionValue('quiet', true);
      }
      if (mode === 'auto' || mode === 'quiet') c.setOptionValue('progress', undefined);
    });
}

/**
 * --format text|json and --json, its alias, for a command that prints data: every such command
 * takes --format json. The action sees `json: true` for either.
 */
export function jsonFormatOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'),
    )
    .option('--json', 'print JSON (same as --format json)')
    .hook('preAction', (c) => {
      if (c.getOptionValue('format') === 'json') c.setOptionValue('json', true);
    });
}

/** --platform a,b (each os/arch[/variant]); undefined: the profile's. */
export function platformList(flag: string | undefined): string[] | undefined {
  if (!flag) return undefined;
  const list = flag
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of list) {
    if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(p))
      throw new UsageError(`--platform: '${p}' is not os/arch[/variant], e.g. linux/arm64`);
  }
  return [...new Set(list)];
}

/** --platform for the commands that show one rendering of the family (plan, explain, graph). */
export function platformOption(): Option {
  return new Option(
    '--platform <os/arch>',
    "render for this platform, as a build for it would (default: the profile's first)",
  ).argParser((v: string) => {
    const list = platformList(v) ?? [];
    if (list.length !== 1)
      throw new UsageError(
        `--platform: one platform at a time here (got '${v}'); kbuild build takes several`,
      );
    return list[0]!;
  });
}

/** --check-updates[=strict] (plan, build). */
export function checkUpdatesOption(): Option {
  return new Option(
    '--check-updates [mode]',
    "check the images' distro packages for updates and rebuild those with newer candidates (and their descendants); =strict: a check that fails fails the run (default: check_updates in the profile or kbuild.yaml)",
  ).choices(['strict']);
}

/** The flag's value for ObserveSettings: true/'strict' from --check-updates, false from --no-check-updates. */
export function checkUpdatesFlag(v: boolean | string | undefined): {
  checkUpdates?: CheckUpdates;
} {
  if (v === undefined) return {};
  return { checkUpdates: v === false ? 'off' : v === 'strict' ? 'strict' : 'on' };
}
