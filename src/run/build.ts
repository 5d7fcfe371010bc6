/**
 * One build run: the plan's images built by the engine in DAG order (the scheduler), each one's
 * log kept, smoke-tested and pushed when asked, and a summary of everything at the end.
 */
import type { Family } from '../core/family.js';
import { fingerprintTag } from '../core/plan/fingerprint.js';
import type { Fingerprint, ImageName } from '../core/model.js';
import type { Plan } from '../core/plan/plan.js';
import type { Reporter } from './events.js';
import { imageLogs } from './image-logs.js';
import type {
  Engine,
  EngineFailure,
  EngineInfo,
  LogStore,
  PrepareContext,
  Publisher,
} from './ports.js';
import { schedule, type Job, type StepError, type StepResult } from './scheduler.js';
import { runTest } from './smoke.js';
import {
  countStatuses,
  imageSummary,
  succeeded,
  type ImageSummary,
  type ImageTestStatus,
  type PublishSummary,
  type RunSummary,
} from './summary.js';

export interface BuildOptions {
  readonly threads: number;
  readonly pushThreads: number;
  readonly retries: number;
  readonly pushRetries: number;
  /** Per image; 0: none. */
  readonly timeoutSeconds: number;
  readonly failFast: boolean;
  readonly push: boolean;
  readonly pull: boolean;
  readonly noCache: boolean;
  /** Smoke-test each image after its build, before its push (fresh ones too); a failure fails it. */
  readonly test: boolean;
  /**
   * With push: `eager` moves each image's shared tag as soon as it is pushed; `atomic` pushes
   * images under their fp tags only and moves every shared tag at the end, only when the whole
   * selection succeeded (so the shared tag always names one complete set); `deferred` pushes
   * under fp tags only and leaves the shared tags to the caller (one platform of several).
   */
  readonly publish: 'eager' | 'atomic' | 'deferred';
  /**
   * CI fan-out (--shard): images another job builds, with who builds them. They are waited for in
   * the registry (by fp tag, up to `shardWaitSeconds`), pulled where a child builds on them here,
   * and never pushed or tagged by this run.
   */
  readonly foreign?: ReadonlyMap<ImageName, string>;
  readonly shardWaitSeconds?: number;
}

export interface BuildPorts {
  readonly engine: Engine;
  readonly engineInfo: EngineInfo;
  readonly logs: LogStore;
  readonly prepare: PrepareContext;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Registry look-ups; without it every image is pushed through the engine. */
  readonly publisher?: Publisher;
  /** Why an image cannot be built here at all (its base or its source cannot be had), if so. */
  readonly unavailable?: (
    name: ImageName,
  ) => { reason: 'base-missing' | 'source-failed'; message: string } | undefined;
}

/** Per image: the fingerprint tag and label a build adds, and the local image a fresh one is. */
export interface ImageIdentity {
  readonly fpRef: (name: ImageName) => string;
  readonly fingerprint: (name: ImageName) => Fingerprint;
  /** Id of the local image carrying the fingerprint, for fresh and retagged images. */
  readonly localId: (name: ImageName) => string | undefined;
  /** The digest this image (this fingerprint) was last pushed as to this registry, if known. */
  readonly publishedDigest: (name: ImageName) => string | undefined;
  /** The digest of the registry's image with this fingerprint, for images fresh only there. */
  readonly remoteDigest: (name: ImageName) => string | undefined;
  /** This fingerprint passed its smoke test in an earlier run. */
  readonly testPassed: (name: ImageName) => boolean;
  /** Seconds the image's last build took (any fingerprint), for ETAs; undefined: never built. */
  readonly lastBuildSeconds?: (name: ImageName) => number | undefined;
}

export interface RunIdentity {
  readonly runId: string;
  /** ISO time the run started (for the summary only: never baked into an image). */
  readonly startedAt: string;
}

/** The references an image is tagged with: the local one, and the registry's when there is one. */
export function imageTags(family: Family, name: string): string[] {
  const local = family.naming.ref(name);
  return family.naming.registry ? [local, `${family.naming.registry}/${local}`] : [local];
}

/** Labels kbuild sets on every image. No dates: a build time would change the id on every run. */
export function imageLabels(family: Family, name: ImageName): Record<string, string> {
  const p = family.profile;
  return {
    'org.opencontainers.image.title': name,
    ...(family.project.maintainer
      ? { 'org.opencontainers.image.authors': family.project.maintainer }
      : {}),
    'io.kbuild.image': name,
    'io.kbuild.profile': p.name,
    'io.kbuild.distro': `${p.distro}:${p.distroTag}`,
    'io.kbuild.install-type': p.installType,
    ...family.images.get(name)?.spec.meta.labels,
  };
}

function stepError(f: EngineFailure, tail: readonly string[]): StepError {
  switch (f.reason) {
    case 'engine-exit':
      return {
        reason: 'engine-exit',
        message: `engine exited with ${f.exitCode}${tail.length ? `: ${tail[tail.length - 1]}` : f.message ? `: ${f.message}` : ''}`,
      };
    case 'timeout':
      return { reason: 'timeout', message: `timed out after ${f.seconds} s` };
    case 'cancelled':
      return { reason: 'cancelled', message: 'cancelled' };
    case 'push-failed':
      return { reason: 'push-failed', message: f.message, transient: f.transient };
    case 'pull-failed':
      return { reason: 'pull-failed', message: f.message, transient: f.transient };
    case 'engine-unavailable':
      return { reason: 'engine-unavailable', message: f.message };
  }
}

export async function runBuild(
  family: Family,
  plan: Plan,
  o: BuildOptions,
  ports: BuildPorts,
  id: RunIdentity,
  images: ImageIdentity,
  signal: AbortSignal,
  report: Reporter,
): Promise<RunSummary> {
  const t0 = ports.now();
  // Fresh and retagged images are jobs too (instant ones): their children wait on nothing, and
  // with --push they are pushed like the rest.
  const toBuild = plan.steps.filter((s) => s.action !== 'unbuildable');
  const actionOf = new Map(plan.steps.map((s) => [s.name, s.action]));
  const fromRegistry = new Set(plan.steps.filter((s) => s.fromRegistry).map((s) => s.name));
  // Images only the registry has are pulled only when something builds on them here.
  const neededHere = new Set(
    plan.steps.filter((s) => s.action === 'build').flatMap((s) => s.parents),
  );
  /** Registry-only images whose shared tag this run moved (a manifest copy in the registry). */
  const moved = new Set<ImageName>();
  const building = new Set(toBuild.map((s) => s.name));
  const jobs: Job[] = toBuild.map((s) => ({
    name: s.name,
    parents: s.parents.filter((p) => building.has(p)),
    weight: 1,
  }));
  const unbuildable = new Map(
    plan.steps.filter((s) => s.action === 'unbuildable').map((s) => [s.name, s.reason]),
  );
  report({
    type: 'run-start',
    runId: id.runId,
    profile: family.profile.name,
    images: jobs.map((j) => j.name),
    unbuildable,
    threads: o.threads,
    push: o.push,
    engine: ports.engineInfo,
    logsDir: ports.logs.dir,
    expected: toBuild.map((s) => ({
      name: s.name,
      action: s.action,
      parents: s.parents.filter((p) => building.has(p)),
      seconds: s.action === 'build' ? (images.lastBuildSeconds?.(s.name) ?? null) : 0,
    })),
  });

  const logs = imageLogs(ports.logs, report);
  const line = logs.line;
  const closed = new Map<ImageName, Promise<string>>();

  const testOf = (name: ImageName) => family.images.get(name)?.spec.meta.test;
  /** With --test, whether the image's test runs in this run (this fingerprint did not pass it before). */
  const testsHere = (name: ImageName) =>
    o.test && testOf(name) !== undefined && !images.testPassed(name);
  const tested = new Map<ImageName, { status: ImageTestStatus; seconds: number | null }>();

  /**
   * The image's smoke test (with --test), on its fingerprint reference: the image this run has.
   * A failure fails the image, so it is not pushed and its children do not build.
   */
  const smokeTest = async (
    name: ImageName,
    log: (line: string) => void,
    s: AbortSignal,
  ): Promise<StepError | undefined> => {
    if (!o.test) return undefined;
    const test = testOf(name);
    if (!test) {
      tested.set(name, { status: 'no-test', seconds: null });
      return undefined;
    }
    if (images.testPassed(name)) {
      log('kbuild: smoke test not run: this fingerprint passed it before');
      tested.set(name, { status: 'passed-before', seconds: null });
      return undefined;
    }
    const t = ports.now();
    const run = await runTest(ports.engine, images.fpRef(name), test, { signal: s, log });
    tested.set(name, { status: run.status, seconds: Math.round(ports.now() - t) / 1000 });
    if (run.status === 'passed') return undefined;
    if (run.status === 'cancelled') return { reason: 'cancelled', message: 'cancelled' };
    return { reason: 'test-failed', message: run.message ?? 'smoke test failed' };
  };

  const build = async (
    name: ImageName,
    attempt: number,
    s: AbortSignal,
  ): Promise<StepResult<{ imageId: string }>> => {
    const r = await buildImage(name, attempt, s);
    // An image only the registry has is tested inside useRegistryImage, before its tag moves.
    if (!r.ok || fromRegistry.has(name)) return r;
    const failed = await smokeTest(name, line(name), s);
    return failed ? { ok: false, error: failed } : r;
  };

  const buildImage = async (
    name: ImageName,
    attempt: number,
    s: AbortSignal,
  ): Promise<StepResult<{ imageId: string }>> => {
    const log = line(name);
    const action = actionOf.get(name);
    const owner = o.foreign?.get(name);
    if (owner !== undefined && action === 'build') {
      const waited = await waitForShard(name, owner, log, s);
      if (!waited.ok) return waited;
      return useRegistryImage(name, log, s);
    }
    if (fromRegistry.has(name)) return useRegistryImage(name, log, s);
    if (action === 'fresh' || action === 'retag') {
      const id = images.localId(name)!;
      if (action === 'retag') {
        for (const t of imageTags(family, name)) {
          const r = await ports.engine.tag(images.fpRef(name), t);
          if (!r.ok) return { ok: false, error: stepError(r.error, []) };
          log(`kbuild: tagged ${t} (up to date as ${images.fpRef(name)})`);
        }
      }
      return { ok: true, value: { imageId: id } };
    }
    const unavailable = ports.unavailable?.(name);
    if (unavailable) return { ok: false, error: unavailable };
    if (attempt > 1) log(`kbuild: attempt ${attempt}`);
    const img = family.images.get(name)!;
    const prepared = await ports.prepare(name, img.dockerfile, { signal: s, log });
    if (!prepared.ok)
      return { ok: false, error: { reason: 'source-failed', message: prepared.error } };
    const ctx = prepared.value;
    const r = await ports.engine.build(
      {
        contextDir: ctx.contextDir,
        dockerfile: ctx.dockerfile,
        tags: [...imageTags(family, name), images.fpRef(name)],
        buildArgs: img.buildArgs,
        labels: { ...imageLabels(family, name), 'io.kbuild.fingerprint': images.fingerprint(name) },
        // The platform the family was rendered for, when it was chosen (profile, --platform).
        ...(family.profile.platforms.length || family.platform !== ports.engineInfo.platform
          ? { platform: family.platform }
          : {}),
        network: family.profile.network,
        pull: o.pull,
        noCache: o.noCache,
      },
      { signal: s, log, ...(o.timeoutSeconds > 0 ? { timeoutSeconds: o.timeoutSeconds } : {}) },
    );
    return r.ok ? r : { ok: false, error: stepError(r.error, logs.tail(name)) };
  };

  const fpTagOf = (name: ImageName) => fingerprintTag(images.fingerprint(name));
  /** Pushes go under fp tags only; shared tags move later (atomic) or elsewhere (deferred). */
  const atomic = o.push && o.publish !== 'eager';

  /**
   * Points the registry's shared tag at the manifest under the image's fp tag (a copy inside the
   * registry, no layer moves). `known`: the fp manifest's digest when already looked up.
   * Undefined when the registry has no such manifest; the error text when the copy failed.
   */
  const tagFromFingerprint = async (
    publisher: Publisher,
    name: ImageName,
    log: (line: string) => void,
    s: AbortSignal,
    known?: string,
  ): Promise<{ digest: string } | { error: string } | undefined> => {
    const repo = family.naming.repository(name);
    const digest = known ?? (await publisher.current(repo, fpTagOf(name), s));
    if (!digest) return undefined;
    // Atomic: the shared tag moves at the end, with every other image's.
    if (atomic) return { digest };
    if ((await publisher.current(repo, family.naming.tag, s)) !== digest) {
      const error = await publisher.alias(repo, fpTagOf(name), family.naming.tag, s);
      if (error) return { error };
      log(
        `kbuild: ${repo}:${family.naming.tag} now names ${digest} (a copy inside the registry: no build, no layer moved)`,
      );
      moved.add(name);
    }
    published.set(name, digest);
    return { digest };
  };

  const useRegistryImage = async (
    name: ImageName,
    log: (line: string) => void,
    s: AbortSignal,
  ): Promise<StepResult<{ imageId: string }>> => {
    const fpRef = images.fpRef(name);
    const foreign = o.foreign?.has(name) ?? false;
    let imageId = '';
    if (neededHere.has(name) || (testsHere(name) && !foreign)) {
      const remoteRef = `${family.naming.registry}/${fpRef}`;
      const why = neededHere.has(name) ? 'for the images built on it' : 'for its smoke test';
      log(`kbuild: ${name} is up to date in the registry; pulling it ${why}`);
      const r = await ports.engine.pull(remoteRef, { signal: s, log });
      if (!r.ok) return { ok: false, error: stepError(r.error, []) };
      for (const t of [...imageTags(family, name), fpRef]) {
        const t2 = await ports.engine.tag(remoteRef, t);
        if (!t2.ok) return { ok: false, error: stepError(t2.error, []) };
      }
      imageId = r.value.imageId;
    }
    if (foreign) return { ok: true, value: { imageId } };
    const failed = await smokeTest(name, log, s);
    if (failed) return { ok: false, error: failed };
    if (o.push && ports.publisher) {
      const r = await tagFromFingerprint(ports.publisher, name, log, s, images.remoteDigest(name));
      if (r && 'error' in r)
        return { ok: false, error: { reason: 'push-failed', message: r.error, transient: false } };
    }
    return { ok: true, value: { imageId } };
  };

  /** Polls the registry for an image another shard builds, by its fp tag. */
  const waitForShard = async (
    name: ImageName,
    owner: string,
    log: (line: string) => void,
    s: AbortSignal,
  ): Promise<StepResult<undefined>> => {
    const publisher = ports.publisher;
    const repo = family.naming.repository(name);
    const limit = o.shardWaitSeconds ?? 0;
    const deadline = ports.now() + limit * 1000;
    let digest = await publisher?.current(repo, fpTagOf(name), s);
    if (!digest)
      log(
        `kbuild: ${name} is built by ${owner}; waiting up to ${limit} s for ${repo}:${fpTagOf(name)}`,
      );
    while (!digest) {
      if (s.aborted) return { ok: false, error: { reason: 'cancelled', message: 'cancelled' } };
      if (!publisher || ports.now() >= deadline) {
        return {
          ok: false,
          error: {
            reason: 'shard-wait',
            message: `${repo}:${fpTagOf(name)} did not reach the registry within ${limit} s (${owner} builds it: did it fail?)`,
          },
        };
      }
      await ports.sleep(2000, s);
      digest = await publisher.current(repo, fpTagOf(name), s);
    }
    waitedFor.set(name, digest);
    log(`kbuild: ${name} is in the registry as ${digest} (built by ${owner})`);
    return { ok: true, value: undefined };
  };
  const waitedFor = new Map<ImageName, string>();

  const push = async (
    name: ImageName,
    attempt: number,
    s: AbortSignal,
  ): Promise<StepResult<{ digest: string }>> => {
    const log = line(name);
    // Another shard's image: its own job pushes it and moves its tags.
    if (o.foreign?.has(name))
      return {
        ok: true,
        value: { digest: waitedFor.get(name) ?? images.remoteDigest(name) ?? '' },
      };
    const known = published.get(name);
    if (known) {
      log(
        `kbuild: ${family.naming.registry} already has ${family.naming.ref(name)} as ${known}: nothing to push`,
      );
      return { ok: true, value: { digest: known } };
    }
    if (actionOf.get(name) !== 'build' && ports.publisher) {
      // Unchanged and already in the registry under its fingerprint: move the tag there, push nothing.
      const r = await tagFromFingerprint(ports.publisher, name, log, s);
      if (r && 'digest' in r) return { ok: true, value: r };
    }
    // Atomic: only under the fp tag for now; the shared tag moves when the whole set is done.
    const ref = atomic
      ? `${family.naming.registry}/${family.naming.repository(name)}:${fpTagOf(name)}`
      : imageTags(family, name).at(-1)!;
    if (atomic) {
      const t = await ports.engine.tag(images.fpRef(name), ref);
      if (!t.ok) return { ok: false, error: stepError(t.error, []) };
    }
    log(`kbuild: pushing ${ref}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
    const r = await ports.engine.push(ref, { signal: s, log });
    if (!r.ok) return { ok: false, error: stepError(r.error, []) };
    log(`kbuild: pushed ${ref}@${r.value.digest}`);
    if (atomic) return r;
    // The fingerprint tag beside the shared one lets another host find this image by what it is made of.
    const repo = family.naming.repository(name);
    const aliased = await ports.publisher?.alias(repo, family.naming.tag, fpTagOf(name), s);
    if (aliased) log(`kbuild: warning: could not add tag ${fpTagOf(name)}: ${aliased}`);
    return r;
  };

  // Unchanged images the registry already holds under the shared tag are not pushed again.
  const published = new Map<ImageName, string>();
  if (o.push && ports.publisher) {
    const publisher = ports.publisher;
    await Promise.all(
      toBuild
        .filter((st) => st.action !== 'build' && images.publishedDigest(st.name))
        .map(async (st) => {
          const there = await publisher.current(
            family.naming.repository(st.name),
            family.naming.tag,
            signal,
          );
          if (there && there === images.publishedDigest(st.name)) published.set(st.name, there);
        }),
    );
  }
  /**
   * The end of an atomic run: every shared tag moves to its image's fp manifest, or none does. The
   * registry has no transactions, so "at once" is this short phase of manifest copies (no layer
   * moves); a copy that fails is reported by name, and a re-run moves the rest.
   */
  async function publishAll(): Promise<PublishSummary> {
    const publisher = ports.publisher;
    const done = [...outcomes.values()];
    const failed = done.filter((x) => x.status !== 'pushed' && !allowed.has(x.name));
    if (signal.aborted || failed.length || !publisher) {
      const why = signal.aborted
        ? 'the run was interrupted'
        : !publisher
          ? 'no registry to publish to'
          : `${failed.length} image(s) did not succeed (${failed.map((x) => x.name).join(', ')})`;
      return {
        mode: 'atomic',
        published: false,
        moved: [],
        failed: [],
        message: `nothing published: ${why}; the shared tag ${family.naming.tag} still names the previous complete set`,
      };
    }
    const moving = done.filter((x) => x.status === 'pushed').map((x) => x.name);
    const results = await Promise.all(
      moving.map(async (name) => {
        const repo = family.naming.repository(name);
        const digest = await publisher.current(repo, fpTagOf(name), signal);
        if (digest && (await publisher.current(repo, family.naming.tag, signal)) === digest)
          return { name, error: undefined, changed: false };
        const error = await publisher.alias(repo, fpTagOf(name), family.naming.tag, signal);
        return { name, error, changed: true };
      }),
    );
    const bad = results.filter((x) => x.error);
    const moved = results.filter((x) => !x.error && x.changed).map((x) => x.name);
    return {
      mode: 'atomic',
      published: bad.length === 0,
      moved,
      failed: bad.map((x) => ({ name: x.name, message: x.error! })),
      message: bad.length
        ? `published in part: the shared tag of ${bad.map((x) => x.name).join(', ')} could not be moved (${bad[0]!.error}); run again to finish`
        : `published: ${moved.length} shared tag(s) moved to this run's images, ${moving.length - moved.length} already there`,
    };
  }

  const outcomes = await schedule(jobs, {
    threads: o.threads,
    pushThreads: o.pushThreads,
    retries: o.retries,
    pushRetries: o.pushRetries,
    failFast: o.failFast,
    signal,
    build,
    ...(o.push ? { push } : {}),
    emit: (event) => {
      if (event.type === 'done') {
        const ok = event.outcome.status === 'built' || event.outcome.status === 'pushed';
        const log = logs.close(event.outcome.name, !ok);
        if (log) closed.set(event.outcome.name, log);
      }
      report({ type: 'scheduler', event });
    },
    now: ports.now,
    sleep: ports.sleep,
  });

  const allowed = new Set(family.profile.allowedToFail);
  const publish = o.push && o.publish === 'atomic' ? await publishAll() : undefined;
  const out: ImageSummary[] = [];
  for (const step of plan.steps) {
    const extra = {
      planReason: step.reason,
      tags: imageTags(family, step.name),
      allowedToFail: allowed.has(step.name),
      test: tested.get(step.name)?.status ?? null,
      testSeconds: tested.get(step.name)?.seconds ?? null,
    };
    const outcome = outcomes.get(step.name);
    if (outcome) {
      const summary = imageSummary(outcome, {
        ...extra,
        t0,
        log: closed.has(step.name) ? await closed.get(step.name)! : null,
      });
      const unchanged =
        (outcome.status === 'built' || (outcome.status === 'pushed' && published.has(step.name))) &&
        (step.action === 'fresh' || step.action === 'retag');
      const status = step.action === 'retag' || moved.has(step.name) ? 'retagged' : 'fresh';
      const digest = summary.digest ?? images.remoteDigest(step.name) ?? null;
      const owner = o.foreign?.get(step.name);
      if (owner !== undefined && succeeded(outcome.status))
        out.push({ ...summary, status: 'fresh', message: `built by ${owner}`, digest });
      else out.push(unchanged ? { ...summary, status, digest } : summary);
    } else {
      out.push({
        name: step.name,
        status: 'unbuildable',
        reason: 'unbuildable',
        message: step.reason,
        seconds: null,
        buildSeconds: null,
        pushSeconds: null,
        queueSeconds: null,
        queuedAt: null,
        startedAt: null,
        builtAt: null,
        pushedAt: null,
        imageId: null,
        digest: null,
        log: null,
        ...extra,
      });
    }
  }
  const summary: RunSummary = {
    runId: id.runId,
    profile: family.profile.name,
    tag: family.naming.tag,
    registry: family.naming.registry,
    threads: o.threads,
    start: id.startedAt,
    seconds: Math.round(ports.now() - t0) / 1000,
    engine: ports.engineInfo,
    interrupted: signal.aborted,
    ok:
      !signal.aborted &&
      out.every((i) => succeeded(i.status) || i.allowedToFail) &&
      (publish?.published ?? true),
    counts: countStatuses(out),
    images: out,
    ...(publish ? { publish } : {}),
  };
  report({ type: 'run-end', summary });
  return summary;
}
