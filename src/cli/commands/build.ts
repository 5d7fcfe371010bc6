import { Option, type Command } from 'commander';
import type { BuildOptions } from '../../run/build/context.js';
import { UsageError } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import {
  engineOption,
  outputOptions,
  profileOptions,
  reportOptions,
  selectionOptions,
  wholeNumber,
  type Action,
  type OutputFlags,
  type ReportFlags,
} from '../options.js';
import type { BuildSettings } from '../build-run.js';
import {
  checkUpdatesFlag,
  checkUpdatesOption,
  defaultLockTimeoutSeconds,
  numberOption,
  platformList,
  secretOption,
} from '../options.js';

/** Ten minutes per push attempt: ample for a loopback or LAN registry, a bound on a stalled one. */
const DEFAULT_PUSH_TIMEOUT_SECONDS = 600;

export interface BuildFlags extends ProfileOptions, SelectionOptions, OutputFlags, ReportFlags {
  push?: boolean;
  publish: 'eager' | 'atomic';
  platform?: string;
  archTags?: boolean;
  shard?: string;
  shardWait: string | number;
  test?: boolean;
  threads: string | number;
  pushThreads: string | number;
  retries: string | number;
  pushRetries: string | number;
  timeout: string | number;
  pushTimeout: string | number;
  failFast?: boolean;
  builder?: string;
  pull?: boolean;
  cache: boolean;
  force?: boolean;
  registryCache: boolean;
  checkUpdates?: boolean | string;
  sbomDir?: string;
  signKey?: string;
  lockTimeout: string | number;
}

export function registerBuild(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('build', { isDefault: true })
    .description(
      'build the selected images in dependency order (the default command), and push them with --push',
    );
  buildOptions(cmd).action((images: string[], flags: BuildFlags) => {
    run(async (io) => {
      const settings = await settingsOf(flags);
      // The engine's probes (processes) start before the build's modules load, and run meanwhile:
      // the family is rendered for the build path they find.
      const early = settings.observe.use
        ? settings
        : {
            ...settings,
            observe: {
              ...settings.observe,
              ...(await (await import('../engine-detection.js')).startDetection(settings.observe)),
            },
          };
      // The build's modules (engines, registry, scheduler, reporters) load only for a build.
      const { buildFamily } = await import('../build-run.js');
      return buildFamily(io, images, early);
    });
  });
}

/** Declares build's options on `cmd` (build's own, and watch's, which builds the same way). */
export function buildOptions(cmd: Command): Command {
  selectionOptions(profileOptions(cmd))
    .addOption(secretOption())
    .option('--push', 'push each image to the registry after it is built')
    .addOption(
      new Option(
        '--publish <mode>',
        'with --push: eager moves each shared tag as its image is pushed; atomic pushes under fp tags and moves every shared tag at the end, only if the whole selection succeeded',
      )
        .choices(['eager', 'atomic'])
        .default('eager'),
    )
    .option(
      '--test',
      "smoke-test each image after its build, before its push (image.yaml 'test'); a failing test fails the image",
    )
    .addOption(numberOption('-j, --threads <n>', 'concurrent builds', 4))
    .addOption(numberOption('--push-threads <n>', 'concurrent pushes', 2))
    .addOption(numberOption('--retries <n>', 'extra attempts for a failed build', 0))
    .addOption(
      numberOption(
        '--push-retries <n>',
        'extra attempts for a push that failed transiently (5xx, 429, reset)',
        3,
      ),
    )
    .addOption(
      numberOption(
        '--timeout <seconds>',
        'fail an image whose build takes longer (0: no limit)',
        0,
      ),
    )
    .addOption(
      numberOption(
        '--push-timeout <seconds>',
        'stop a push attempt that takes longer (a registry that stopped answering); it is retried like a transient failure (0: no limit)',
        DEFAULT_PUSH_TIMEOUT_SECONDS,
      ),
    )
    .option('--fail-fast', 'start nothing new after the first failure (default: keep going)');
  engineOption(cmd)
    .option('--builder <name>', 'docker buildx builder to use (remote or Kubernetes BuildKit)')
    .option('--force', 'rebuild the selection even where nothing changed')
    .addOption(checkUpdatesOption())
    .option(
      '--no-check-updates',
      'do not check packages for updates (overrides check_updates in kbuild.yaml or the profile)',
    )
    .option(
      '--no-registry-cache',
      'do not look for images with the same fingerprint in the registry',
    )
    .option('--pull', 'always try to pull newer external base images')
    .option('--no-cache', "build without the engine's layer cache")
    .option(
      '--platform <list>',
      "target platforms, comma-separated (e.g. linux/amd64,linux/arm64; default: the profile's); several give one manifest list per image",
    )
    .option(
      '--shard <i/N>',
      'build share i of N (CI fan-out, see kbuild plan --format matrix); parents from other shares come from the registry',
    )
    .addOption(
      numberOption(
        '--shard-wait <seconds>',
        "with --shard: how long to wait for another share's image to reach the registry",
        1800,
      ),
    )
    .option(
      '--arch-tags',
      'with several platforms: publish <tag>-<arch> tags instead of a manifest list (registries that cannot store lists)',
    )
    .addOption(
      numberOption(
        '--lock-timeout <seconds>',
        'how long to wait for another run of the same project and profile (0: fail at once)',
        defaultLockTimeoutSeconds,
      ),
    )
    .option(
      '--sbom-dir <dir>',
      "write a CycloneDX 1.5 SBOM of each image's installed packages as DIR/<image>.cdx.json (several platforms: <image>-<arch>.cdx.json)",
    )
    .option(
      '--sign-key <file>',
      'with --push: sign every image pushed (cosign format, by digest) and attest its SLSA provenance and CycloneDX SBOM, with this ECDSA P-256 PEM key (encrypted: passphrase in $KBUILD_SIGN_PASSPHRASE); default: $KBUILD_SIGN_KEY, else signing.key of the profile or kbuild.yaml',
    );
  return reportOptions(outputOptions(cmd));
}

/** The flags, checked and sorted by who uses them: nothing downstream sees the raw flags. */
export async function settingsOf(flags: BuildFlags): Promise<BuildSettings> {
  const options: BuildOptions = {
    threads: wholeNumber('--threads', flags.threads, 1),
    pushThreads: wholeNumber('--push-threads', flags.pushThreads, 1),
    retries: wholeNumber('--retries', flags.retries, 0),
    pushRetries: wholeNumber('--push-retries', flags.pushRetries, 0),
    timeoutSeconds: wholeNumber('--timeout', flags.timeout, 0),
    pushTimeoutSeconds: wholeNumber('--push-timeout', flags.pushTimeout, 0),
    failFast: flags.failFast ?? false,
    push: flags.push ?? false,
    pull: flags.pull ?? false,
    noCache: !flags.cache,
    registryLayers: flags.registryCache,
    test: flags.test ?? false,
    publish: flags.publish,
  };
  let shard: BuildSettings['shard'];
  if (flags.shard) {
    const { parseShard } = await import('../../core/plan/shard.js');
    const spec = parseShard(flags.shard);
    if (typeof spec === 'string') throw new UsageError(spec);
    if (!options.push)
      throw new UsageError(
        '--shard needs --push: shares hand images to each other through the registry',
      );
    shard = { ...spec, waitSeconds: wholeNumber('--shard-wait', flags.shardWait, 0) };
  }
  return {
    load: flags,
    options,
    observe: {
      ...(flags.engine ? { engine: flags.engine } : {}),
      ...(flags.builder ? { builder: flags.builder } : {}),
      force: flags.force ?? false,
      registryCache: flags.registryCache,
      ...checkUpdatesFlag(flags.checkUpdates),
      pullBases: true,
    },
    output: {
      ...(flags.logsDir !== undefined ? { logsDir: flags.logsDir } : {}),
      ...(flags.progress !== undefined ? { progress: flags.progress } : {}),
      ...(flags.quiet !== undefined ? { quiet: flags.quiet } : {}),
      ...(flags.verbose !== undefined ? { verbose: flags.verbose } : {}),
    },
    files: {
      ...(flags.summaryJson !== undefined ? { summaryJson: flags.summaryJson } : {}),
      ...(flags.report !== undefined ? { report: flags.report } : {}),
      ...(flags.junit !== undefined ? { junit: flags.junit } : {}),
      ...(flags.metadataFile !== undefined ? { metadataFile: flags.metadataFile } : {}),
    },
    platforms: platformList(flags.platform),
    archTags: flags.archTags ?? false,
    ...(shard ? { shard } : {}),
    ...(flags.sbomDir ? { sbomDir: flags.sbomDir } : {}),
    ...(flags.signKey ? { signKey: flags.signKey } : {}),
    lockTimeoutSeconds: wholeNumber('--lock-timeout', flags.lockTimeout, 0),
  };
}
