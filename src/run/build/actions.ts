/**
 * The work of one image, one function per kind of plan step: reuse a local image (fresh, retag),
 * build it with the engine, take it from the registry, or wait for another shard to build it.
 * Then its push. The scheduler calls `buildStep` and `pushStep`; each returns a value, never throws
 * for an expected failure.
 */
import { failedStepReader } from '../../core/dockerfile/failed-step.js';
import { formatTemplateLocation, type ImageName } from '../../core/model.js';
import { addedPackages, type Inventory } from '../../core/packages/inventory.js';
import type { PlanStep } from '../../core/plan/plan.js';
import { inventoryLine, readInventory } from '../packages/inventory.js';
import type { EngineFailure } from '../ports.js';
import type { StepError, StepResult } from '../scheduler.js';
import { runTest } from '../smoke.js';
import type { BuildContext } from './context.js';
import { holdLocalTags } from './publish.js';
import { signStep } from './sign-step.js';

type Log = (line: string) => void;
type Built = StepResult<{ imageId: string }>;

/** What an image's build slot does, from its plan step (and the shard it belongs to). */
export type Work = 'reuse' | 'build' | 'from-registry' | 'other-shard';

export function workOf(step: PlanStep, foreign: ReadonlyMap<ImageName, string> | undefined): Work {
  if (foreign?.has(step.name) && step.action === 'build') return 'other-shard';
  if (step.fromRegistry) return 'from-registry';
  return step.action === 'build' ? 'build' : 'reuse';
}

export function stepError(f: EngineFailure, tail: readonly string[]): StepError {
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

const failed = (error: StepError): { ok: false; error: StepError } => ({ ok: false, error });

/**
 * The scheduler's build function: the image's work, then its smoke test (with --test); an image
 * built here then has its package inventory read (when the run reads packages: `readPackages`).
 */
export async function buildStep(
  ctx: BuildContext,
  name: ImageName,
  attempt: number,
  signal: AbortSignal,
): Promise<Built> {
  const log = ctx.state.logs.line(name);
  const step = ctx.step(name);
  let r: Built;
  const work = workOf(step, ctx.options.foreign);
  switch (work) {
    case 'other-shard': {
      const waited = await waitForShard(ctx, name, log, signal);
      // Its own shard tests and publishes it; here it is only what children stand on.
      return waited.ok ? takeFromRegistry(ctx, name, log, signal) : waited;
    }
    case 'from-registry':
      // Tested inside, before its shared tag moves.
      return takeFromRegistry(ctx, name, log, signal);
    case 'reuse':
      r = await reuseLocal(ctx, step, log);
      break;
    case 'build':
      ctx.state.buildStarted.set(name, ctx.ports.now());
      r = await buildWithEngine(ctx, step, attempt, log, signal);
      break;
  }
  if (!r.ok) return r;
  const test = await smokeTest(ctx, name, log, signal);
  if (test) return failed(test);
  if (work === 'build' && ctx.readPackages !== false) await readPackages(ctx, name, log, signal);
  return r;
}

/**
 * Reads a built image's package inventory into the run's state and says in one log line what it
 * holds (`packages: 123 (dpkg, debian 12), 7 added by this image`). A failure to read it never
 * fails the image: it is logged, and the image has no inventory.
 */
async function readPackages(
  ctx: BuildContext,
  name: ImageName,
  log: Log,
  signal: AbortSignal,
): Promise<void> {
  const read = await readInventory(ctx.ports.engine, ctx.facts(name).fpRef, { signal });
  if (!read.ok) {
    if (!signal.aborted) log(`kbuild: packages not read: ${read.error}`);
    return;
  }
  ctx.state.inventories.set(name, read.value);
  const parents = ctx.family.graph.nodes.get(name)?.parents ?? [];
  const known = parents.flatMap((p) => {
    const i: Inventory | undefined = ctx.state.inventories.get(p) ?? ctx.knownInventories?.get(p);
    return i ? [i] : [];
  });
  const added =
    known.length === parents.length ? addedPackages(read.value, known).length : undefined;
  log(`kbuild: ${inventoryLine(read.value, added)}`);
}

/** Fresh: nothing to do. Retag: the image with this fingerprint is here; its tags move to it. */
async function reuseLocal(ctx: BuildContext, step: PlanStep, log: Log): Promise<Built> {
  const facts = ctx.facts(step.name);
  if (step.action === 'retag') {
    await holdLocalTags(ctx, step.name);
    if (facts.sameAs && facts.localId) {
      // Built under other names (another namespace or prefix): the same fingerprint, the same image.
      const r = await ctx.ports.engine.tag(facts.localId, facts.fpRef);
      if (!r.ok) return failed(stepError(r.error, []));
      log(`kbuild: tagged ${facts.fpRef} (same fingerprint as ${facts.sameAs})`);
    }
    for (const t of ctx.family.naming.tags(step.name)) {
      const r = await ctx.ports.engine.tag(facts.fpRef, t);
      if (!r.ok) return failed(stepError(r.error, []));
      log(`kbuild: tagged ${t} (up to date as ${facts.fpRef})`);
    }
  }
  return { ok: true, value: { imageId: facts.localId ?? '' } };
}

/** Prepares the build context (with its source) and runs the engine. */
async function buildWithEngine(
  ctx: BuildContext,
  step: PlanStep,
  attempt: number,
  log: Log,
  signal: AbortSignal,
): Promise<Built> {
  if (step.blocked) return failed(step.blocked);
  const { family, ports, options: o } = ctx;
  const name = step.name;
  if (attempt > 1) log(`kbuild: attempt ${attempt}`);
  const img = family.images.get(name)!;
  const prepared = await ports.prepare(name, img.dockerfile, { signal, log });
  if (!prepared.ok) return failed({ reason: 'source-failed', message: prepared.error });
  const facts = ctx.facts(name);
  await holdLocalTags(ctx, name);
  // The failing instruction is read from the output as it streams: its error block can be
  // longer than the tail kept.
  const steps = failedStepReader();
  const r = await ports.engine.build(
    {
      contextDir: prepared.value.contextDir,
      dockerfile: prepared.value.dockerfile,
      tags: [...family.naming.tags(name), facts.fpRef],
      buildArgs: img.buildArgs,
      labels: { ...family.naming.labels(name), 'io.kbuild.fingerprint': facts.fingerprint },
      // The platform the family was rendered for, when it was chosen (profile, --platform).
      ...(family.profile.platforms.length || family.platform !== ports.engineInfo.platform
        ? { platform: family.platform }
        : {}),
      network: family.profile.network,
      ...(o.secrets?.length ? { secrets: o.secrets } : {}),
      pull: o.pull,
      noCache: o.noCache || step.refresh === true,
      // Layers of earlier builds in the registry (a fresh CI host has no layer cache of its own).
      ...(ports.registry && o.registryLayers !== false && !o.noCache && step.refresh !== true
        ? {
            cacheFrom: [family.naming.tag, facts.previousFpTag ?? []]
              .flat()
              .map((t) => family.naming.remoteRef(name, t)),
          }
        : {}),
    },
    {
      signal,
      log: (line) => {
        steps.read(line);
        log(line);
      },
      ...(o.timeoutSeconds > 0 ? { timeoutSeconds: o.timeoutSeconds } : {}),
    },
  );
  if (r.ok) return r;
  const error = stepError(r.error, ctx.state.logs.tail(name));
  const line = r.error.reason === 'engine-exit' ? steps.line(img.dockerfile) : undefined;
  const template = line === undefined ? undefined : family.templateLine?.(name, line);
  if (template) log(`kbuild: the failing instruction is at ${formatTemplateLocation(template)}`);
  return failed(template ? { ...error, template } : error);
}

/**
 * An image only the registry has (or another shard built): pulled when something builds on it
 * here (or for its smoke test), tested, and with --push its shared tag pointed at it.
 */
async function takeFromRegistry(
  ctx: BuildContext,
  name: ImageName,
  log: Log,
  signal: AbortSignal,
): Promise<Built> {
  const { family, ports, state } = ctx;
  const facts = ctx.facts(name);
  const foreign = ctx.options.foreign?.has(name) ?? false;
  const forTest = !foreign && testsHere(ctx, name);
  let imageId = '';
  if (state.neededHere.has(name) || forTest) {
    const remoteRef = family.naming.remoteRef(name, facts.fpTag);
    const why = state.neededHere.has(name) ? 'for the images built on it' : 'for its smoke test';
    log(`kbuild: ${name} is up to date in the registry; pulling it ${why}`);
    const r = await ports.engine.pull(remoteRef, { signal, log });
    if (!r.ok) return failed(stepError(r.error, []));
    await holdLocalTags(ctx, name);
    for (const t of [...family.naming.tags(name), facts.fpRef]) {
      const t2 = await ports.engine.tag(remoteRef, t);
      if (!t2.ok) return failed(stepError(t2.error, []));
    }
    imageId = r.value.imageId;
  }
  if (foreign) return { ok: true, value: { imageId } };
  const test = await smokeTest(ctx, name, log, signal);
  if (test) return failed(test);
  if (ctx.options.push && ports.registry) {
    const r = await fromFingerprint(ctx, name, log, signal, facts.remoteDigest);
    if (r && 'error' in r)
      return failed({ reason: 'push-failed', message: r.error, transient: false });
  }
  return { ok: true, value: { imageId } };
}

/** Polls the registry for an image another shard builds, by its fp tag. */
async function waitForShard(
  ctx: BuildContext,
  name: ImageName,
  log: Log,
  signal: AbortSignal,
): Promise<StepResult<undefined>> {
  const { ports, family } = ctx;
  const owner = ctx.options.foreign!.get(name)!;
  const registry = ports.registry;
  const repo = family.naming.repository(name);
  const fpTag = ctx.facts(name).fpTag;
  const limit = ctx.options.shardWaitSeconds ?? 0;
  const deadline = ports.now() + limit * 1000;
  // Rebuilt for its packages (or a parent's), the image keeps its fingerprint: what the registry
  // held under the fp tag when this run looked is the old image, not the one being built. (An
  // image built for any other reason has a new fingerprint, so the registry had no such tag.)
  const old = ctx.facts(name).remoteDigest;
  const look = async () => {
    const r = await registry?.digest(repo, fpTag, signal);
    return r?.ok && r.value !== old ? r.value : undefined;
  };
  let digest = await look();
  if (!digest)
    log(`kbuild: ${name} is built by ${owner}; waiting up to ${limit} s for ${repo}:${fpTag}`);
  while (!digest) {
    if (signal.aborted) return failed({ reason: 'cancelled', message: 'cancelled' });
    if (!registry || ports.now() >= deadline) {
      return failed({
        reason: 'shard-wait',
        message: `${repo}:${fpTag} did not reach the registry within ${limit} s (${owner} builds it: did it fail?)`,
      });
    }
    await ports.sleep(2000, signal);
    digest = await look();
  }
  ctx.state.waitedFor.set(name, digest);
  log(`kbuild: ${name} is in the registry as ${digest} (built by ${owner})`);
  return { ok: true, value: undefined };
}

/** With --test, whether the image's test runs in this run (this fingerprint did not pass it before). */
const testsHere = (ctx: BuildContext, name: ImageName) =>
  ctx.options.test &&
  ctx.family.images.get(name)?.spec.meta.test !== undefined &&
  !ctx.facts(name).testPassed;

/**
 * The image's smoke test (with --test), on its fingerprint reference: the image this run has.
 * A failure fails the image, so it is not pushed and its children do not build.
 */
async function smokeTest(
  ctx: BuildContext,
  name: ImageName,
  log: Log,
  signal: AbortSignal,
): Promise<StepError | undefined> {
  if (!ctx.options.test) return undefined;
  const { tested } = ctx.state;
  const test = ctx.family.images.get(name)?.spec.meta.test;
  if (!test) {
    tested.set(name, { status: 'no-test', seconds: null });
    return undefined;
  }
  if (ctx.facts(name).testPassed) {
    log('kbuild: smoke test not run: this fingerprint passed it before');
    tested.set(name, { status: 'passed-before', seconds: null });
    return undefined;
  }
  const t = ctx.ports.now();
  const run = await runTest(ctx.ports.engine, ctx.facts(name).fpRef, test, { signal, log });
  tested.set(name, { status: run.status, seconds: Math.round(ctx.ports.now() - t) / 1000 });
  if (run.status === 'passed') return undefined;
  if (run.status === 'cancelled') return { reason: 'cancelled', message: 'cancelled' };
  return { reason: 'test-failed', message: run.message ?? 'smoke test failed' };
}

/**
 * The registry holds the image's fingerprint (under its fp tag): the publish mode adopts it.
 * `known`: the fp manifest's digest when already looked up. Undefined when the registry has no
 * such manifest (or cannot say); the error text when adopting it failed.
 */
async function fromFingerprint(
  ctx: BuildContext,
  name: ImageName,
  log: Log,
  signal: AbortSignal,
  known?: string,
): Promise<{ digest: string } | { error: string } | undefined> {
  const registry = ctx.ports.registry!;
  const repo = ctx.family.naming.repository(name);
  let digest = known;
  if (!digest) {
    const r = await registry.digest(repo, ctx.facts(name).fpTag, signal);
    digest = r.ok ? r.value : undefined;
  }
  if (!digest) return undefined;
  const error = await ctx.publish.adopt(ctx, name, digest, log, signal);
  return error ? { error } : { digest };
}

/** The scheduler's push function. */
export async function pushStep(
  ctx: BuildContext,
  name: ImageName,
  attempt: number,
  signal: AbortSignal,
): Promise<StepResult<{ digest: string }>> {
  const r = await pushOnly(ctx, name, attempt, signal);
  // Another shard's image is signed by the job that pushes it.
  if (!r.ok || !ctx.signing || ctx.options.foreign?.has(name)) return r;
  ctx.state.pushed.set(name, r.value.digest);
  const log = ctx.state.logs.line(name);
  const signed = await signStep(ctx, ctx.signing, name, r.value.digest, log, signal);
  return signed ? failed(signed) : r;
}

/** The push itself (or finding the image pushed already): the digest in the registry. */
async function pushOnly(
  ctx: BuildContext,
  name: ImageName,
  attempt: number,
  signal: AbortSignal,
): Promise<StepResult<{ digest: string }>> {
  const { family, ports, state } = ctx;
  const log = state.logs.line(name);
  // Another shard's image: its own job pushes it and moves its tags.
  if (ctx.options.foreign?.has(name))
    return {
      ok: true,
      value: { digest: state.waitedFor.get(name) ?? ctx.facts(name).remoteDigest ?? '' },
    };
  const known = state.published.get(name);
  if (known) {
    log(
      `kbuild: ${family.naming.registry} already has ${family.naming.ref(name)} as ${known}: nothing to push`,
    );
    return { ok: true, value: { digest: known } };
  }
  if (ctx.step(name).action !== 'build' && ports.registry) {
    // Unchanged and already in the registry under its fingerprint: adopt it there, push nothing.
    const r = await fromFingerprint(ctx, name, log, signal);
    if (r && 'digest' in r) return { ok: true, value: r };
  }
  const ref = ctx.publish.pushRef(ctx, name);
  if (!family.naming.tags(name).includes(ref)) {
    const t = await ports.engine.tag(ctx.facts(name).fpRef, ref);
    if (!t.ok) return failed(stepError(t.error, []));
  }
  log(`kbuild: pushing ${ref}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
  const limit = ctx.options.pushTimeoutSeconds;
  const r = await ports.engine.push(ref, {
    signal,
    log,
    ...(limit > 0 ? { timeoutSeconds: limit } : {}),
  });
  if (!r.ok && r.error.reason === 'timeout') {
    // A stalled registry, or a connection that died without a reset: another attempt may pass.
    const message = `push of ${ref} did not finish within ${limit} s (--push-timeout): the registry stopped answering`;
    log(`kbuild: ${message}`);
    return failed({ reason: 'push-failed', message, transient: true });
  }
  if (!r.ok) return failed(stepError(r.error, []));
  log(`kbuild: pushed ${ref}@${r.value.digest}`);
  await ctx.publish.afterPush(ctx, name, log, signal);
  return r;
}
