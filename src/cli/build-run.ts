/**
 * `kbuild build` once its flags are settled: load the family (the workspace read once, each
 * platform rendered once), observe it, run the build, record the state, write the reports.
 */
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { writeBuildDir } from '../adapters/build-context.js';
import { createLogStore } from '../adapters/logs.js';
import { readState, stateName, statePath, writeState } from '../adapters/state.js';
import { hostProblemOf } from '../adapters/io-errors.js';
import type { Family } from '../core/family.js';
import { err, ok, type ImageName } from '../core/model.js';
import { shardSelection } from '../core/plan/shard.js';
import type { BuildOptions, SigningSettings } from '../run/build/context.js';
import type { RegistryView } from '../run/build/registry-view.js';
import { runBuild } from '../run/build/run-build.js';
import { knownInventories, stateAfterRun } from '../run/build/state-update.js';
import { packageStateAfterRun } from '../run/build/package-state.js';
import { archOf, publishPlatforms, type PlatformRun } from '../run/publish-platforms.js';
import type { RunSummary } from '../run/summary.js';
import { table } from '../report/table.js';
import { UsageError, type Io } from './io.js';
import {
  loadProfile,
  loadWorkspace,
  profileName,
  type ProfileOptions,
  type SelectionOptions,
  type Workspace,
} from './load.js';
import {
  detectEngineEarly,
  driftMessage,
  imagePath,
  observeFamily,
  reportObservation,
  strictCheckFailure,
  type FamilyObservation,
  type ObserveSettings,
} from './observe-family.js';
import { Failed, type OutputFlags, type ReportFlags } from './options.js';
import { writeRunReports, type ReportedRun } from './run-reports.js';
import { interruptible, startRun, writeSummaryJson, type RunSession } from './run-session.js';
import { loadSelected, shardWeights, type Selected } from './commands/shared.js';
import { withBuildFeatures } from './build-features.js';
import { resolveSecrets } from './secrets.js';
import { listSigner, signingFor } from './signing.js';
import type { StateFile } from '../run/ports.js';
import type { Inventory } from '../core/packages/inventory.js';
import { writeSboms, type SbomTarget } from './sbom-files.js';
import { unreachableRegistry } from './registry-check.js';
import { holdRunLock, stopLeftovers } from './run-lock.js';
import { recordProcesses } from '../adapters/exec.js';

export interface BuildSettings {
  readonly load: ProfileOptions & SelectionOptions;
  readonly options: BuildOptions;
  readonly observe: ObserveSettings;
  readonly output: Omit<OutputFlags, 'engine' | 'summaryJson'>;
  readonly files: ReportFlags & { readonly summaryJson?: string };
  /** --platform; undefined: the profile's. */
  readonly platforms?: readonly string[];
  readonly archTags: boolean;
  readonly shard?: { readonly index: number; readonly count: number; readonly waitSeconds: number };
  /** --sbom-dir: one CycloneDX SBOM per image with known packages (relative to the cwd). */
  readonly sbomDir?: string;
  /** --lock-timeout: how long to wait for another run of the profile (default: an hour). */
  readonly lockTimeoutSeconds?: number;
  /** Not a flag: kbuild watch's Ctrl-C, which cancels the run as its own SIGINT would. */
  readonly stop?: AbortSignal;
  /** --sign-key: the private key file (relative to the cwd); see cli/signing.ts. */
  readonly signKey?: string;
  /** Not a flag: the key opened and the run's facts (buildFamily makes it). */
  readonly signing?: SigningSettings;
}

export async function buildFamily(
  io: Io,
  patterns: string[],
  settings: BuildSettings,
): Promise<number> {
  // --secret: the files (or variables) checked before anything else; the engine gets them as given.
  const secrets = resolveSecrets(io.cwd, io.env, settings.load.secret);
  const withSecrets = secrets.length
    ? { ...settings, options: { ...settings.options, secrets } }
    : settings;
  // The engine is detected while the workspace is read and rendered: its probes are processes
  // (kbuild build starts them before this module loads).
  const s = withSecrets.observe.use
    ? withSecrets
    : {
        ...withSecrets,
        observe: {
          ...withSecrets.observe,
          detecting: withSecrets.observe.detecting ?? detectEngineEarly(withSecrets.observe),
        },
      };
  // The workspace is read once; the profile says the platforms before anything is rendered, and
  // each platform's family is rendered once.
  const ws = await loadWorkspace(io, s.load);
  if (!ws.ok) throw new Failed(ws.failures);
  const profile = loadProfile(io, ws.value, s.load, profileName(io, ws.value, s.load.profile));
  if (!profile.ok) throw new Failed(profile.failures);
  const signing = await signingFor(io, {
    flag: s.signKey,
    push: s.options.push,
    root: ws.value.root,
    project: ws.value.project,
    profile: profile.value,
    patterns,
  });
  // One run at a time per project and profile: the state and .kbuild/build/<profile> are shared.
  // The shares of a sharded build wait for each other's images, so each share has its own lock.
  const key = s.shard
    ? `${profile.value.name}@shard-${s.shard.index}-of-${s.shard.count}`
    : profile.value.name;
  const lock = await holdRunLock(io, ws.value.root, key, s.lockTimeoutSeconds);
  try {
    await stopLeftovers(io, lock);
    // Templates are rendered for the build path of the engine found (build_features).
    const { features } = await withBuildFeatures(s.observe);
    if (s.options.secrets?.length && features.buildPath === 'legacy')
      throw new UsageError(
        `--secret needs BuildKit (RUN --mount=type=secret), and this docker builds with the legacy builder: unset DOCKER_BUILDKIT=0, or use a client with BuildKit (docker-buildx, or DOCKER_BUILDKIT=1 with a 18.09-22.x client), or --engine podman`,
      );
    const load = { ...s.load, buildFeatures: features };
    const code = await buildLocked(
      io,
      patterns,
      { ...s, load, ...(signing ? { signing } : {}) },
      ws.value,
      profile.value.platforms,
    );
    // What the key signed, for the next run (a cache: not written, that run reads the registry).
    signing?.signed.save();
    return code;
  } finally {
    recordProcesses(undefined);
    await lock.release();
  }
}

/** The build once the run lock is held. */
async function buildLocked(
  io: Io,
  patterns: string[],
  s: BuildSettings,
  workspace: Workspace,
  profilePlatforms: readonly string[],
): Promise<number> {
  const platforms = s.platforms ?? [...new Set(profilePlatforms)];
  if (platforms.length > 1) {
    if (s.shard) throw new UsageError('--shard builds one platform at a time: add --platform');
    return buildPlatforms(io, patterns, s, workspace, platforms);
  }
  if (s.archTags) throw new UsageError('--arch-tags needs two or more platforms (--platform)');
  const first = await loadSelected(io, s.load, patterns, {
    workspace,
    ...(platforms[0] ? { platform: platforms[0] } : {}),
  });
  if (!(await registryUsable(io, s, first.family))) return 1;
  const state = await readState(first.root, first.family.profile.name);
  let one = first;
  let options = s.options;
  if (s.shard) {
    const share = shardSelection(
      one.family.graph,
      one.selection,
      one.family.unbuildable,
      s.shard,
      shardWeights(state),
    );
    one = { ...one, selection: share.selection };
    options = { ...options, foreign: share.foreign, shardWaitSeconds: s.shard.waitSeconds };
  }
  const ready = await prepareRun(io, one, state, s.observe);
  if (typeof ready === 'number') return ready;
  const session = startRun(io, one.root, s.output);
  return interruptible(session.report, s.stop, async (signal) => {
    const sbom = sbomTarget(io, s, '');
    const ran = await runPrepared(
      ready,
      options,
      session,
      session.logsDir,
      signal,
      sbom,
      s.signing,
    );
    session.stop();
    if (session.live) io.out(''); // the live view printed the table on stderr
    const summary = withProblems(io, ran.summary, ran.problems);
    noSbomNote(io, ran.noSbom);
    await writeSummaryJson(io, s.files.summaryJson, summary);
    await writeRunReports(io, s.files, [reported(ready, summary)], summary, one.root);
    return summary.interrupted ? 130 : summary.ok ? 0 : 1;
  });
}

/**
 * Says what the host did not let the run keep (one line each); the run is then not ok, and its
 * summary names them (`problems`).
 */
function withProblems<T extends { readonly ok: boolean }>(
  io: Io,
  summary: T,
  problems: readonly string[],
): T | (T & { problems: readonly string[] }) {
  if (!problems.length) return summary;
  for (const p of problems) io.err(`kbuild: error: ${p}\n`);
  io.err(
    'kbuild: the run fails (exit 1); the images it built are kept, and the next run finds them\n',
  );
  return { ...summary, ok: false, problems };
}

/**
 * Before anything is built: --push needs somewhere to push to (a usage error), and the registry
 * the run pushes to or takes images from must answer (false, said on stderr: exit 1).
 */
async function registryUsable(io: Io, s: BuildSettings, family: Family): Promise<boolean> {
  if (s.options.push && !family.naming.registry)
    throw new UsageError(
      `--push needs a registry: pass --registry HOST[:PORT] or set 'registry' in kbuild.yaml or ${family.profile.file}`,
    );
  const down = await unreachableRegistry(family, {
    push: s.options.push,
    registryCache: s.observe.registryCache !== false,
  });
  if (down) io.err(down);
  return down === undefined;
}

/** A family observed and ready to build. */
interface Prepared extends Selected {
  readonly state: StateFile;
  readonly found: FamilyObservation;
}

/** Observes the family; an exit code when it cannot be built at all (no engine, drifted bases). */
async function prepareRun(
  io: Io,
  loaded: Selected,
  state: StateFile,
  settings: ObserveSettings,
): Promise<Prepared | number> {
  const { family, selection, root } = loaded;
  const found = await observeFamily(root, family, selection, state, settings);
  if (!found.ok) {
    io.err(`kbuild: no container engine: ${found.message}\n`);
    return 1;
  }
  const { info, observed } = found.value;
  if (observed.drift.length) {
    for (const d of observed.drift) io.err(driftMessage(d, info.kind));
    return 1;
  }
  reportObservation(io, found.value);
  const strict = strictCheckFailure(family, settings, found.value);
  if (strict) {
    io.err(strict);
    return 1;
  }
  return { ...loaded, state, found: found.value };
}

/** A finished run with what --report, --junit and --metadata-file need beside its summary. */
const reported = (ready: Prepared, summary: RunSummary): ReportedRun => ({
  platform: ready.family.platform,
  summary,
  plan: ready.found.observed.plan,
  graph: ready.family.graph,
  fingerprints: ready.found.observed.fingerprints,
});

/** --sbom-dir's target for one platform's run (suffix: `-<arch>` when there are several). */
const sbomTarget = (io: Io, s: BuildSettings, suffix: string): SbomTarget | undefined =>
  s.sbomDir ? { dir: resolve(io.cwd, s.sbomDir), suffix } : undefined;

/** Says which images got no SBOM (their packages are not known for the image built). */
function noSbomNote(io: Io, images: readonly string[]): void {
  if (images.length)
    io.err(
      `kbuild: --sbom-dir: no SBOM for ${images.join(', ')}: their packages are not known for this build (see their logs; \`kbuild build --force\` reads them)\n`,
    );
}

/**
 * Builds a prepared family and records its state (with the package inventories read after each
 * build); with --sbom-dir writes the SBOMs. `noSbom`: images of the run that got no SBOM;
 * `problems`: what the host did not let the run keep (logs or state on a full disk).
 */
async function runPrepared(
  ready: Prepared,
  options: BuildOptions,
  session: RunSession,
  logsDir: string,
  signal: AbortSignal,
  sbom?: SbomTarget,
  signing?: SigningSettings,
): Promise<{ summary: RunSummary; noSbom: readonly string[]; problems: readonly string[] }> {
  const { family, root, state } = ready;
  const { engine, info, observed, registry, sources } = ready.found;
  const buildRoot = join(root, '.kbuild', 'build', state.profile);
  const inventories = new Map<ImageName, Inventory>();
  const logs = createLogStore(logsDir);
  const summary = await runBuild({
    family,
    plan: observed.plan,
    options,
    inventories,
    // Read after each build only for what reads them in this run: the update check, SBOMs.
    readPackages: sbom !== undefined || observed.packages !== undefined || signing !== undefined,
    ...(signing ? { signing } : {}),
    knownInventories: new Map([
      ...knownInventories(state, observed.plan),
      ...(observed.packages?.read ?? []),
    ]),
    ports: {
      engine,
      engineInfo: info,
      logs,
      prepare: async (name, dockerfile, op) => {
        const dir = join(buildRoot, name);
        const written = await hostProblemOf(
          writeBuildDir(dir, dockerfile, imagePath(root, family, name as ImageName)),
        );
        if (written) return err(written);
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
      ...(registry ? { registry } : {}),
    },
    id: { runId: session.runId, startedAt: session.started.toISOString() },
    signal,
    report: session.report,
  });
  const after = stateAfterRun(state, summary, observed.plan, family.naming.registry, inventories);
  const final = packageStateAfterRun(after, summary, observed.plan, observed.packages?.read);
  const problems = [logs.problem()]
    .filter((p) => p !== undefined)
    .map((p) => `logs incomplete: ${p}`);
  // The images built are kept whatever happens here: the next run finds them by their labels.
  const saved = await hostProblemOf(writeState(root, final), statePath(root, final.profile));
  if (saved) problems.push(`the state was not saved: ${saved}`);
  const sboms = sbom ? await writeSboms(sbom, family, observed.plan, summary, final) : undefined;
  return { summary, noSbom: sboms?.unknown ?? [], problems };
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
  s: BuildSettings,
  workspace: Workspace,
  platforms: readonly string[],
): Promise<number> {
  const options = s.options;
  const loadPlatform = (platform: string) =>
    loadSelected(io, s.load, patterns, { workspace, platform, tagSuffix: `-${archOf(platform)}` });
  const first = await loadPlatform(platforms[0]!);
  if (!(await registryUsable(io, s, first.family))) return 1;
  // The shared tag, without the first platform's suffix.
  const tag = first.family.naming.tag.slice(0, -`-${archOf(platforms[0]!)}`.length);
  const session = startRun(io, first.root, s.output);
  return interruptible(session.report, s.stop, async (signal) => {
    const runs: PlatformRun[] = [];
    const reports: ReportedRun[] = [];
    const noSbom: string[] = [];
    let registry: RegistryView | undefined;
    for (const platform of platforms) {
      if (signal.aborted) break;
      const arch = archOf(platform);
      const loaded = platform === platforms[0] ? first : await loadPlatform(platform);
      const state = await readState(loaded.root, stateName(loaded.family.profile.name, arch));
      const ready = await prepareRun(io, loaded, state, s.observe);
      if (typeof ready === 'number') return ready;
      registry ??= ready.found.registry;
      const ran = await runPrepared(
        ready,
        { ...options, publish: options.push ? 'deferred' : options.publish },
        session,
        join(session.logsDir, arch),
        signal,
        sbomTarget(io, s, `-${arch}`),
        s.signing,
      );
      const summary = withProblems(io, ran.summary, ran.problems);
      noSbom.push(...ran.noSbom.map((n) => `${n} (${arch})`));
      runs.push({ platform, family: loaded.family, summary });
      reports.push({ ...reported(ready, summary), platform });
    }
    session.stop();
    noSbomNote(io, noSbom);
    const published =
      options.push && registry && runs.length
        ? await publishPlatforms(
            runs,
            {
              tag,
              archTags: s.archTags,
              atomic: options.publish === 'atomic',
              allowedToFail: new Set(first.family.profile.allowedToFail),
              ...(s.signing ? { sign: listSigner(registry, s.signing) } : {}),
            },
            registry,
            signal,
          )
        : undefined;
    if (published && s.output.progress === 'json') {
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
    await writeSummaryJson(io, s.files.summaryJson, {
      runId: session.runId,
      profile: first.family.profile.name,
      tag,
      platforms: runs.map((r) => ({ platform: r.platform, ...r.summary })),
      ...(published ? { manifests: published } : {}),
      interrupted,
      ok,
    });
    await writeRunReports(
      io,
      s.files,
      reports,
      { ok, interrupted, ...(published ? { manifests: published } : {}) },
      first.root,
    );
    return interrupted ? 130 : ok ? 0 : 1;
  });
}
