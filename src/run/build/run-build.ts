/**
 * One build run: the plan's images worked on by the engine in DAG order (the scheduler), each
 * one's log kept, smoke-tested and pushed when asked, published by the chosen mode, and a summary
 * of everything at the end.
 */
import type { ImageName } from '../../core/model.js';
import type { Inventory } from '../../core/packages/inventory.js';
import type { Plan } from '../../core/plan/plan.js';
import { imageLogs } from '../image-logs.js';
import { schedule, type Job } from '../scheduler.js';
import type { RunSummary } from '../summary.js';
import { buildStep, pushStep, workOf } from './actions.js';
import type { BuildContext, BuildRun, RunState } from './context.js';
import { publishModes } from './publish.js';
import { summarise } from './summarise.js';

/**
 * The scheduler's jobs for a plan: every step but the unbuildable ones (fresh ones are instant
 * jobs, so their children wait on nothing and with --push they are pushed like the rest), each
 * weighted by its expected build seconds (0 for what is not built here).
 */
export function planJobs(plan: Plan): Job[] {
  const steps = plan.steps.filter((s) => s.action !== 'unbuildable');
  const inRun = new Set(steps.map((s) => s.name));
  return steps.map((s) => ({
    name: s.name,
    parents: s.parents.filter((p) => inRun.has(p)),
    weight: s.action === 'build' && !s.fromRegistry ? (s.facts?.expectedSeconds ?? 1) : 0,
  }));
}

export async function runBuild(run: BuildRun): Promise<RunSummary> {
  const { plan, family, options: o, ports, signal, report } = run;
  const t0 = ports.now();
  const steps = new Map(plan.steps.map((s) => [s.name, s]));
  const jobs = planJobs(plan);
  const state: RunState = {
    logs: imageLogs(ports.logs, report),
    // Images only the registry has are pulled only when something builds on them here (not
    // another shard, not a build that cannot start).
    neededHere: new Set(
      plan.steps
        .filter((s) => workOf(s, o.foreign) === 'build' && !s.blocked)
        .flatMap((s) => s.parents),
    ),
    waitedFor: new Map(),
    published: new Map(),
    moved: new Set(),
    tested: new Map(),
    heldTags: new Map(),
    inventories: run.inventories ?? new Map<ImageName, Inventory>(),
    startedMs: t0,
    buildStarted: new Map(),
    pushed: new Map(),
  };
  const ctx: BuildContext = {
    ...run,
    state,
    publish: publishModes[o.push ? o.publish : 'eager'],
    step: (n) => steps.get(n)!,
    facts: (n) => {
      const facts = steps.get(n)?.facts;
      if (!facts) throw new Error(`internal: no observed facts for ${n}`);
      return facts;
    },
  };
  report({
    type: 'run-start',
    runId: run.id.runId,
    profile: family.profile.name,
    images: jobs.map((j) => j.name),
    unbuildable: new Map(
      plan.steps.filter((s) => s.action === 'unbuildable').map((s) => [s.name, s.reason]),
    ),
    threads: o.threads,
    push: o.push,
    engine: ports.engineInfo,
    logsDir: ports.logs.dir,
    expected: jobs.map((j) => {
      const s = steps.get(j.name)!;
      return {
        name: j.name,
        action: s.action,
        reason: s.reason,
        parents: j.parents,
        seconds: s.action === 'build' ? (s.facts?.lastSeconds ?? null) : 0,
      };
    }),
  });
  if (o.push) await findPublished(ctx);

  const closed = new Map<ImageName, Promise<string>>();
  const outcomes = await schedule(jobs, {
    threads: o.threads,
    pushThreads: o.pushThreads,
    retries: o.retries,
    pushRetries: o.pushRetries,
    failFast: o.failFast,
    signal,
    build: (name, attempt, s) => buildStep(ctx, name, attempt, s),
    ...(o.push ? { push: (name, attempt, s) => pushStep(ctx, name, attempt, s) } : {}),
    emit: (event) => {
      if (event.type === 'done') {
        const ok = event.outcome.status === 'built' || event.outcome.status === 'pushed';
        const { name } = event.outcome;
        const log = state.logs.close(name, !ok);
        if (log) {
          closed.set(name, log);
          // Before the summary: it awaits the same promise, after this.
          void log.then((path) => report({ type: 'log-closed', name, path, failed: !ok }));
        }
      }
      report({ type: 'scheduler', event });
    },
    now: ports.now,
    sleep: ports.sleep,
  });
  const publish = o.push ? await ctx.publish.finish(ctx, outcomes) : undefined;
  const summary = await summarise(ctx, t0, outcomes, closed, publish);
  report({ type: 'run-end', summary });
  return summary;
}

/**
 * Unchanged images the registry already holds under the shared tag (and every extra tag) are not
 * pushed again.
 */
async function findPublished(ctx: BuildContext): Promise<void> {
  const registry = ctx.ports.registry;
  if (!registry) return;
  const { naming } = ctx.family;
  await Promise.all(
    ctx.plan.steps
      .filter((s) => s.action !== 'build' && s.action !== 'unbuildable' && s.facts?.publishedDigest)
      .map(async (s) => {
        const want = s.facts!.publishedDigest;
        const tags = [naming.tag, ...naming.extraTags(s.name)];
        const there = await Promise.all(
          tags.map((t) => registry.digest(naming.repository(s.name), t, ctx.signal)),
        );
        if (there.every((d) => d.ok && d.value && d.value === want))
          ctx.state.published.set(s.name, want!);
      }),
  );
}
