/** The run summary: what happened to every selected image, for people and machines. */
import type { ImageName, TemplateLocation } from '../core/model.js';
import type { EngineInfo } from './ports.js';
import type { Outcome } from './scheduler.js';
import type { TestRun } from './smoke-result.js';

export type SummaryStatus =
  | 'built'
  | 'pushed'
  | 'fresh'
  | 'retagged'
  | 'skipped'
  | 'parent-failed'
  | 'failed'
  | 'cancelled'
  | 'unbuildable';

/** An image's smoke test in a `build --test` run; `passed-before`: this fingerprint passed it in an earlier run. */
export type ImageTestStatus = TestRun['status'] | 'passed-before' | 'no-test';

export interface ImageSummary {
  readonly name: ImageName;
  readonly status: SummaryStatus;
  readonly reason: string | null;
  readonly message: string | null;
  /** Why the plan built the image or left it alone (the plan step's reason). */
  readonly planReason: string;
  /** Wall seconds from build start to the end of its push (or build). */
  readonly seconds: number | null;
  /** From build start to build end: with --test, its smoke test included. */
  readonly buildSeconds: number | null;
  readonly pushSeconds: number | null;
  /** Seconds it waited for a build slot after its parents were done. */
  readonly queueSeconds: number | null;
  /** Seconds from the run's start: when its parents were done, its build started / ended, its push ended. */
  readonly queuedAt: number | null;
  readonly startedAt: number | null;
  readonly builtAt: number | null;
  readonly pushedAt: number | null;
  readonly imageId: string | null;
  readonly digest: string | null;
  /** The references the image carries: none when it was never made (failed, never built). */
  readonly tags: readonly string[];
  readonly log: string | null;
  readonly allowedToFail: boolean;
  /** Null without --test, or when the image did not get as far as its test. */
  readonly test: ImageTestStatus | null;
  readonly testSeconds: number | null;
  /** A failed build: where the failing instruction was written (--summary-json `template`). */
  readonly template?: TemplateLocation;
  /** Parent-failed: the failed image it descends from (the root cause). */
  readonly failedParent?: ImageName;
}

export interface RunSummary {
  readonly runId: string;
  readonly profile: string;
  readonly tag: string;
  /** The images' tags beside the shared one (`-t t1 -t t2`, `--set IMAGE.tags=…`), when any. */
  readonly extraTags?: readonly string[];
  readonly registry: string;
  readonly threads: number;
  readonly start: string;
  readonly seconds: number;
  readonly engine: EngineInfo;
  readonly interrupted: boolean;
  /** True when every image that may not fail succeeded. */
  readonly ok: boolean;
  readonly counts: Readonly<Record<SummaryStatus, number>>;
  readonly images: readonly ImageSummary[];
  /** With --publish atomic: whether the shared tags moved. */
  readonly publish?: PublishSummary;
}

/** How an atomic publish ended. */
export interface PublishSummary {
  readonly mode: 'atomic';
  /** Every image's shared tag names this run's image. */
  readonly published: boolean;
  /** Images whose shared tag this run moved. */
  readonly moved: readonly ImageName[];
  /** Images whose shared tag could not be moved (the registry refused). */
  readonly failed: readonly { readonly name: ImageName; readonly message: string }[];
  readonly message: string;
}

const secs = (a?: number, b?: number) =>
  a !== undefined && b !== undefined ? Math.round(b - a) / 1000 : null;

export function imageSummary(
  o: Outcome,
  extra: {
    /** The run's start on the outcome's clock (ms). */
    t0: number;
    planReason: string;
    tags: readonly string[];
    log: string | null;
    allowedToFail: boolean;
    test: ImageTestStatus | null;
    testSeconds: number | null;
  },
): ImageSummary {
  return {
    name: o.name,
    status: o.status,
    reason: o.reason ?? null,
    message: o.message ?? null,
    planReason: extra.planReason,
    seconds: secs(o.buildStart, o.pushEnd ?? o.buildEnd),
    buildSeconds: secs(o.buildStart, o.buildEnd),
    pushSeconds: secs(o.pushStart, o.pushEnd),
    queueSeconds: secs(o.readyAt, o.buildStart),
    queuedAt: secs(extra.t0, o.readyAt),
    startedAt: secs(extra.t0, o.buildStart),
    builtAt: secs(extra.t0, o.buildEnd),
    pushedAt: secs(extra.t0, o.pushEnd),
    imageId: o.imageId ?? null,
    digest: o.digest ?? null,
    tags: extra.tags,
    log: extra.log,
    allowedToFail: extra.allowedToFail,
    test: extra.test,
    testSeconds: extra.testSeconds,
    ...(o.template ? { template: o.template } : {}),
    ...(o.failedParent ? { failedParent: o.failedParent } : {}),
  };
}

const SUCCESS: readonly SummaryStatus[] = [
  'built',
  'pushed',
  'fresh',
  'retagged',
  'skipped',
  'unbuildable',
];
export const succeeded = (s: SummaryStatus) => SUCCESS.includes(s);

/**
 * Whether an image with this outcome carries its tags: not when it failed or was never built (a
 * cancelled one only when its build finished: its local tags were made, its push was not).
 */
export const tagsMade = (status: SummaryStatus, imageId: string | null) =>
  status === 'cancelled' ? imageId !== null : succeeded(status) && status !== 'unbuildable';

export function countStatuses(images: readonly ImageSummary[]): Record<SummaryStatus, number> {
  const counts: Record<SummaryStatus, number> = {
    built: 0,
    pushed: 0,
    fresh: 0,
    retagged: 0,
    skipped: 0,
    'parent-failed': 0,
    failed: 0,
    cancelled: 0,
    unbuildable: 0,
  };
  for (const i of images) counts[i.status]++;
  return counts;
}
