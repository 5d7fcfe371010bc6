/** The run's summary: what happened to every step of the plan, from the scheduler's outcomes. */
import type { ImageName } from '../../core/model.js';
import type { Family } from '../../core/family.js';
import type { Outcome } from '../scheduler.js';
import {
  countStatuses,
  imageSummary,
  succeeded,
  tagsMade,
  type ImageSummary,
  type PublishSummary,
  type RunSummary,
} from '../summary.js';
import type { BuildContext } from './context.js';

export async function summarise(
  ctx: BuildContext,
  t0: number,
  outcomes: ReadonlyMap<ImageName, Outcome>,
  logs: ReadonlyMap<ImageName, Promise<string>>,
  publish: PublishSummary | undefined,
): Promise<RunSummary> {
  const { family, state, ports, signal } = ctx;
  const allowed = new Set(family.profile.allowedToFail);
  const out: ImageSummary[] = [];
  for (const step of ctx.plan.steps) {
    const extra = {
      planReason: step.reason,
      tags: family.naming.tags(step.name),
      allowedToFail: allowed.has(step.name),
      test: state.tested.get(step.name)?.status ?? null,
      testSeconds: state.tested.get(step.name)?.seconds ?? null,
    };
    const outcome = outcomes.get(step.name);
    if (!outcome) {
      out.push(unbuildable(step.name, step.reason, extra));
      continue;
    }
    const summary = imageSummary(outcome, {
      ...extra,
      t0,
      log: (await logs.get(step.name)) ?? null,
    });
    const unchanged =
      (outcome.status === 'built' ||
        (outcome.status === 'pushed' && state.published.has(step.name))) &&
      (step.action === 'fresh' || step.action === 'retag');
    const status = step.action === 'retag' || state.moved.has(step.name) ? 'retagged' : 'fresh';
    const digest = summary.digest || step.facts?.remoteDigest || null;
    const owner = ctx.options.foreign?.get(step.name);
    const made = tagsMade(summary.status, summary.imageId) ? {} : { tags: [] };
    if (owner !== undefined && succeeded(outcome.status))
      out.push({ ...summary, status: 'fresh', message: `built by ${owner}`, digest });
    else out.push(unchanged ? { ...summary, status, digest } : { ...summary, ...made });
  }
  return {
    runId: ctx.id.runId,
    profile: family.profile.name,
    tag: family.naming.tag,
    ...extraTagsOf(family, out),
    registry: family.naming.registry,
    threads: ctx.options.threads,
    start: ctx.id.startedAt,
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
}

function unbuildable(
  name: ImageName,
  why: string,
  extra: Pick<ImageSummary, 'planReason' | 'tags' | 'allowedToFail' | 'test' | 'testSeconds'>,
): ImageSummary {
  return {
    name,
    status: 'unbuildable',
    reason: 'unbuildable',
    message: why,
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
    tags: [], // never made
  };
}

/** Every extra tag of the summarised images, each once (none: no field). */
function extraTagsOf(family: Family, images: readonly ImageSummary[]): { extraTags?: string[] } {
  const tags = [...new Set(images.flatMap((i) => family.naming.extraTags(i.name)))];
  return tags.length ? { extraTags: tags } : {};
}
