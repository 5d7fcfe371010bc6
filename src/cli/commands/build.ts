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
  reportOptions,
  selectionOptions,
  wholeNumber,
  type Action,
  type OutputFlags,
  type ReportFlags,
} from '../options.js';
import { interruptible, startRun, writeSummaryJson, type RunSession } from '../run-session.js';
import { writeRunReports, type ReportedRun } from '../run-reports.js';
import { table } from '../../report/table.js';
import { archOf, publishPlatforms, type PlatformRun } from '../../run/publish-platforms.js';
import type { Publisher } from '../../run/ports.js';
import type { RunSummary } from '../../run/summary.js';
import type { FamilyObservation } from '../observe-family.js';
import { loadSelected, shardWeights } from './shared.js';
import { parseShard, shardSelection } from '../../core/plan/shard.js';

interface BuildFlags extends ProfileOptions, SelectionOptions, OutputFlags, ReportFlags {
  push?: boolean;
  publish: 'eager' | 'atomic';
  platform?: string;
  archTags?: boolean;
  shard?: string;
  shardWait: string;
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
    .option('--no-cache', "build without the engine's layer cache")
    .option(
      '--platform <list>',
      "target platforms, comma-separated (e.g. linux/amd64,linux/arm64; default: the profile's); several give one manifest list per image",
    )
    .option(
      '--shard <i/N>',
      'build share i of N (CI fan-out, see kbuild plan --format matrix); parents from other shares come from the registry',
    )
    .option(
      '--shard-wait <seconds>',
      "with --shard: how long to wait for another share's image to reach the registry",
      '1800',
    )
    .option(
      '--arch-tags',
      'with several platforms: publish <tag>-<arch> tags instead of a manifest list (registries that cannot store lists)',
    );
  reportOptions(outputOptions(cmd)).action((images: string[], flags: BuildFlags) => {
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
  const first = await loadSelected(io, flags, patterns);
  if (options.push && !first.family.naming.registry) {
    throw new UsageError(
      `--push needs a registry: pass --registry HOST[:PORT] or set 'registry' in kbuild.yaml or ${first.family.profile.file}`,
    );
  }
  const platforms = requestedPlatforms(flags.platform, first.family.profile.platforms);
  if (platforms.length > 1) {
    if (flags.shard) throw new UsageError('--shard builds one platform at a time: add --platform');
    return buildPlatforms(io, patterns, flags, options, first, platforms);
  }
  if (flags.archTags) throw new UsageError('--arch-tags needs two or more platforms (--platform)');
  let one =
    platforms[0] && platforms[0] !== first.family.platform
      ? await loadSelected(io, flags, patterns, platforms[0])
      : first;
  let run = options;
  if (flags.shard) {
    const spec = parseShard(flags.shard);
    if (typeof spec === 'string') throw new UsageError(spec);
    if (!options.push)
      throw new UsageError(
        '--shard needs --push: shares hand images to each other through the registry',
      );
    const share = shardSelection(
      one.family.graph,
      one.selection,
      one.family.unbuildable,
      spec,
      await shardWeights(one.root, one.family.profile.name),
    );
    one = { ...one, selection: share.selection };
    run = {
      ...options,
      foreign: share.foreign,
      shardWaitSeconds: wholeNumber('--shard-wait', flags.shardWait, 0),
    };
  }
  const ready = await prepareRun(io, one, flags);
  if (typeof ready === 'number') return ready;
  const session = startRun(io, one.root, flags);
  return interruptible(session.report, async (signal) => {
    const summary = await runPrepared(ready, run, session, session.logsDir, signal);
    session.stop();
    if (session.live) io.out(''); // the live view printed the table on stderr
    await writeSummaryJson(io, flags.summaryJson, summary);
    await writeRunReports(io, flags, [reported(ready, summary)], summary);
    return summary.interrupted ? 130 : summary.ok ? 0 : 1;
  });
}

/** --platform a,b or the profile's platforms; each must be os/arch[/variant]. */
function requestedPlatforms(flag: string | undefined, fromProfile: readonly string[]): string[] {
  const list = flag
    ? flag
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
    : [...fromProfile];
  for (const p of list) {
    if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(p))
      throw new UsageError(`--platform: '${p}' is not os/arch[/variant], e.g. linux/arm64`);
  }
  return [...new Set(list)];
}

type Loaded = Awaited<ReturnType<typeof loadSelected>>;

/** A family observed and ready to build: the plan, and the images that cannot be built here. */
interface Prepared extends Loaded {
  readonly found: FamilyObservation;
  readonly unavailable: ReadonlyMap<
    string,
    { reason: 'base-missing' | 'source-failed'; message: string }
  >;
}

/** Observes the family; an exit code when it cannot be built at all (no engine, drifted bases). */
async function prepareRun(
  io: Io,
  loaded: Loaded,
  flags: BuildFlags,
  stateKey?: string,
): Promise<Prepared | number> {
  const { family, selection, root } = loaded;
  const found = await observeFamily(root, family, selection, {
    ...(flags.engine ? { engine: flags.engine } : {}),
    ...(flags.builder ? { builder: flags.builder } : {}),
    force: flags.force ?? false,
    registryCache: flags.registryCache,
    pullBases: true,
    ...(stateKey ? { stateKey } : {}),
  });
  if (!found.ok) {
    io.err(`kbuild: no container engine: ${found.message}\n`);
    return 1;
  }
  const { info, observed } = found.value;
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
    if (!observed.plan.steps.some((st) => st.name === name && st.action === 'build')) continue;
    io.err(`kbuild: ${message}\n`);
    unavailable.set(name, { reason: 'source-failed', message });
  }
  return { ...loaded, found: found.value, unavailable };
}

/** A finished run with what --report, --junit and --metadata-file need beside its summary. */
const reported = (ready: Prepared, summary: RunSummary): ReportedRun => ({
  platform: ready.family.platform,
  summary,
  plan: ready.found.observed.plan,
  graph: ready.family.graph,
  fingerprints: ready.found.observed.fingerprints,
});

/** Builds a prepared family and records its state. */
async function runPrepared(
  ready: Prepared,
  options: BuildOptions,
  session: RunSession,
  logsDir: string,
  signal: AbortSignal,
): Promise<RunSummary> {
  const { family, root, unavailable } = ready;
  const { engine, info, state, observed, publisher, sources } = ready.found;
  const buildRoot = join(root, '.kbuild', 'build', state.profile);
  const summary = await runBuild(
    family,
    observed.plan,
    options,
    {
      engine,
      engineInfo: info,
      logs: createLogStore(logsDir),
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
      sleep: (ms, s) => delay(ms, undefined, { signal: s }).catch(() => undefined),
      ...(publisher ? { publisher } : {}),
      unavailable: (n) => unavailable.get(n),
    },
    { runId: session.runId, startedAt: session.started.toISOString() },
    imageIdentity(observed, state, family.naming.registry),
    signal,
    session.report,
  );
  await writeState(root, stateAfterRun(state, summary, observed, family.naming.registry));
  return summary;
}

/**
 * Several platforms: the family is rendered and built once per platform, one platform after
 * another (each in DAG order, in parallel inside it), every image tagged `<tag>-<arch>` locally so
 * a child builds on its own platform's parent. Images are pushed by digest under their fp tags;
 * at the end each image gets one manifest list under the shared tag (or `<tag>-<arch>` tags with
 * --arch-tags), only for images built on every platform (with --publish atomic: only when all were).
 */
async function buildPlatforms(
  io: Io,
  patterns: string[],
  flags: BuildFlags,
  options: BuildOptions,
  first: Loaded,
  platforms: readonly string[],
): Promise<number> {
  const tag = first.family.naming.tag;
  const session = startRun(io, first.root, flags);
  return interruptible(session.report, async (signal) => {
    const runs: PlatformRun[] = [];
    const reports: ReportedRun[] = [];
    let publisher: Publisher | undefined;
    for (const platform of platforms) {
      if (signal.aborted) break;
      const arch = archOf(platform);
      const loaded = await loadSelected(
        io,
        { ...flags, tag: `${tag}-${arch}` },
        patterns,
        platform,
      );
      const ready = await prepareRun(io, loaded, flags, `${loaded.family.profile.name}@${arch}`);
      if (typeof ready === 'number') return ready;
      publisher ??= ready.found.publisher;
      const summary = await runPrepared(
        ready,
        { ...options, publish: options.push ? 'deferred' : options.publish },
        session,
        join(session.logsDir, arch),
        signal,
      );
      runs.push({ platform, family: loaded.family, summary });
      reports.push({ ...reported(ready, summary), platform });
    }
    session.stop();
    const published =
      options.push && publisher && runs.length
        ? await publishPlatforms(
            runs,
            {
              tag,
              archTags: flags.archTags ?? false,
              atomic: options.publish === 'atomic',
              allowedToFail: new Set(first.family.profile.allowedToFail),
            },
            publisher,
            signal,
          )
        : undefined;
    if (published && flags.progress === 'json') {
      // One more line of the JSON stream, not a table in the middle of it.
      io.out(`${JSON.stringify({ event: 'published', ...published })}\n`);
    } else if (published) {
      io.out(
        `\n${table(
          ['IMAGE', 'PUBLISHED', 'PLATFORMS', 'AS'],
          published.images.map((i) => [
            i.name,
            i.status,
            i.platforms.join(' '),
            i.status === 'published' ? i.refs.join(' ') : i.message,
          ]),
        )}\n${published.message}\n`,
      );
    }
    const interrupted = signal.aborted || runs.some((r) => r.summary.interrupted);
    const ok =
      !interrupted &&
      runs.length === platforms.length &&
      runs.every((r) => r.summary.ok) &&
      (published?.published ?? true);
    await writeSummaryJson(io, flags.summaryJson, {
      runId: session.runId,
      profile: first.family.profile.name,
      tag,
      platforms: runs.map((r) => ({ platform: r.platform, ...r.summary })),
      ...(published ? { manifests: published } : {}),
      interrupted,
      ok,
    });
    await writeRunReports(io, flags, reports, {
      ok,
      interrupted,
      ...(published ? { manifests: published } : {}),
    });
    return interrupted ? 130 : ok ? 0 : 1;
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
