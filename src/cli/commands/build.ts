import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { writeBuildDir } from '../../adapters/build-context.js';
import { ok, type ImageName } from '../../core/model.js';
import { createLogStore } from '../../adapters/logs.js';
import { writeState } from '../../adapters/state.js';
import { observeFamily } from '../observe-family.js';
import { imageIdentity, stateAfterRun } from '../../run/state-update.js';
import { runBuild, type BuildOptions } from '../../run/build.js';
import { UsageError, type Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import {
  engineOption,
  outputOptions,
  profileOptions,
  selectionOptions,
  wholeNumber,
  type Action,
  type OutputFlags,
} from '../options.js';
import { interruptible, startRun, writeSummaryJson } from '../run-session.js';
import { loadSelected } from './shared.js';

interface BuildFlags extends ProfileOptions, SelectionOptions, OutputFlags {
  push?: boolean;
  publish: 'eager' | 'atomic';
  test?: boolean;
  threads: string;
  pushThreads: string;
  retries: string;
  pushRetries: string;
  timeout: string;
  failFast?: boolean;
  builder?: string;
  pull?: boolean;
  cache: boolean;
  force?: boolean;
  registryCache: boolean;
}

export function registerBuild(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('build', { isDefault: true })
    .description(
      'build the selected images in dependency order (the default command), and push them with --push',
    );
  selectionOptions(profileOptions(cmd))
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
    .option('-j, --threads <n>', 'concurrent builds', '4')
    .option('--push-threads <n>', 'concurrent pushes', '2')
    .option('--retries <n>', 'extra attempts for a failed build', '0')
    .option(
      '--push-retries <n>',
      'extra attempts for a push that failed transiently (5xx, 429, reset)',
      '3',
    )
    .option('--timeout <seconds>', 'fail an image whose build takes longer (0: no limit)', '0')
    .option('--fail-fast', 'start nothing new after the first failure (default: keep going)');
  engineOption(cmd)
    .option('--builder <name>', 'docker buildx builder to use (remote or Kubernetes BuildKit)')
    .option('--force', 'rebuild the selection even where nothing changed')
    .option(
      '--no-registry-cache',
      'do not look for images with the same fingerprint in the registry',
    )
    .option('--pull', 'always try to pull newer external base images')
    .option('--no-cache', "build without the engine's layer cache");
  outputOptions(cmd).action((images: string[], flags: BuildFlags) => {
    run((io) => buildCommand(io, images, flags));
  });
}

async function buildCommand(io: Io, patterns: string[], flags: BuildFlags): Promise<number> {
  const options: BuildOptions = {
    threads: wholeNumber('--threads', flags.threads, 1),
    pushThreads: wholeNumber('--push-threads', flags.pushThreads, 1),
    retries: wholeNumber('--retries', flags.retries, 0),
    pushRetries: wholeNumber('--push-retries', flags.pushRetries, 0),
    timeoutSeconds: wholeNumber('--timeout', flags.timeout, 0),
    failFast: flags.failFast ?? false,
    push: flags.push ?? false,
    pull: flags.pull ?? false,
    noCache: !flags.cache,
    test: flags.test ?? false,
    publish: flags.publish,
  };
  const { family, selection, root } = await loadSelected(io, flags, patterns);
  if (options.push && !family.naming.registry) {
    throw new UsageError(
      `--push needs a registry: pass --registry HOST[:PORT] or set 'registry' in kbuild.yaml or ${family.profile.file}`,
    );
  }
  const found = await observeFamily(root, family, selection, {
    ...(flags.engine ? { engine: flags.engine } : {}),
    ...(flags.builder ? { builder: flags.builder } : {}),
    force: flags.force ?? false,
    registryCache: flags.registryCache,
    pullBases: true,
  });
  if (!found.ok) {
    io.err(`kbuild: no container engine: ${found.message}\n`);
    return 1;
  }
  const { engine, info, state, observed, publisher, sources } = found.value;
  const buildRoot = join(root, '.kbuild', 'build', family.profile.name);
  const plan = observed.plan;
  if (observed.drift.length) {
    for (const d of observed.drift) io.err(driftMessage(d, info.kind));
    return 1;
  }
  // A base that is neither here nor pullable fails its images before any engine call, with the fix;
  // so does a source that cannot be had.
  const unavailable = new Map<
    string,
    { reason: 'base-missing' | 'source-failed'; message: string }
  >();
  for (const [base, users] of observed.missingBases) {
    const message =
      `base image '${base}' is not in the ${info.kind} engine and could not be pulled; provide it: ` +
      `--base-image REF (any local image, e.g. one made with debootstrap + '${info.kind} import'), ` +
      `or '${info.kind} tag SOME-LOCAL-IMAGE ${base}'`;
    io.err(`kbuild: ${message} (needed by ${users.join(', ')})\n`);
    for (const u of users) unavailable.set(u, { reason: 'base-missing', message });
  }
  for (const [name, message] of observed.sourceProblems) {
    if (!plan.steps.some((st) => st.name === name && st.action === 'build')) continue;
    io.err(`kbuild: ${message}\n`);
    unavailable.set(name, { reason: 'source-failed', message });
  }

  const session = startRun(io, root, flags);
  const { report } = session;
  return interruptible(report, async (signal) => {
    const summary = await runBuild(
      family,
      plan,
      options,
      {
        engine,
        engineInfo: info,
        logs: createLogStore(session.logsDir),
        prepare: async (name, dockerfile, op) => {
          const img = family.images.get(name as ImageName)!;
          const dir = join(buildRoot, name);
          await writeBuildDir(dir, dockerfile, join(root, family.project.imagesDir, img.spec.dir));
          const source = family.sources.get(name as ImageName);
          if (source && sources) {
            const identity = observed.sources.get(name as ImageName) ?? '';
            const placed = await sources.place(name, source, identity, dir, op);
            if (!placed.ok) return placed;
          }
          return ok({ contextDir: dir, dockerfile: join(dir, 'Dockerfile') });
        },
        now: () => performance.now(),
        sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined),
        ...(publisher ? { publisher } : {}),
        unavailable: (n) => unavailable.get(n),
      },
      { runId: session.runId, startedAt: session.started.toISOString() },
      imageIdentity(observed, state, family.naming.registry),
      signal,
      report,
    );
    session.stop();
    await writeState(root, stateAfterRun(state, summary, observed, family.naming.registry));
    if (session.live) io.out(''); // the live view printed the table on stderr
    await writeSummaryJson(io, flags.summaryJson, summary);
    return summary.interrupted ? 130 : summary.ok ? 0 : 1;
  });
}

/** A base that moved away from its pin: say both digests and both ways out. */
export function driftMessage(
  d: { ref: string; pinned: string; now: string },
  engine: string,
): string {
  return (
    `kbuild.lock: base image '${d.ref}' is ${d.now} in ${engine}, but the lock pins ${d.pinned}; nothing was built. ` +
    `Accept the new base with 'kbuild lock --profile …' (its images then rebuild as base-moved), or put the pinned image back (${engine} tag <image> ${d.ref}).\n`
  );
}
