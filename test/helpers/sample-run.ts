/**
 * A finished run of a small family, with every status the reports colour: for the report
 * renderers' unit tests (no engine).
 *
 *   base ─┬─ tools
 *         ├─ lib ── app     (lib failed, so app is parent-failed)
 *         ├─ extra          (waited for a slot)
 *         └─ old            (unbuildable)
 */
import { buildGraph } from '../../src/core/graph.js';
import type { BuildGraph } from '../../src/core/model.js';
import { imageName } from '../../src/core/model.js';
import type { Plan, StepAction } from '../../src/core/plan/plan.js';
import type { EngineInfo } from '../../src/run/ports.js';
import { countStatuses, type ImageSummary, type RunSummary } from '../../src/run/summary.js';

export const LOGS = '/work/run/.kbuild/logs/r1';

const parents: Record<string, string[]> = {
  base: [],
  tools: ['base'],
  lib: ['base'],
  app: ['lib'],
  extra: ['base'],
  old: ['base'],
};

const engine: EngineInfo = {
  kind: 'docker',
  client: '/usr/bin/docker',
  clientVersion: '26.1',
  serverVersion: '26.1.5',
  buildPath: 'buildkit',
  platform: 'linux/amd64',
};

const none = {
  reason: null,
  message: null,
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
  allowedToFail: false,
  test: null,
  testSeconds: null,
};

const image = (name: string, status: ImageSummary['status'], more: Partial<ImageSummary>) => ({
  ...none,
  name: imageName(name),
  status,
  planReason: 'dockerfile changed',
  tags: [`kb/${name}:t1`, `127.0.0.1:5000/kb/${name}:t1`],
  ...more,
});

const digest = (c: string) => `sha256:${c.repeat(64)}`;

export const sampleImages: ImageSummary[] = [
  image('base', 'pushed', {
    seconds: 3,
    buildSeconds: 2,
    pushSeconds: 1,
    queueSeconds: 0,
    queuedAt: 0,
    startedAt: 0,
    builtAt: 2,
    pushedAt: 3,
    imageId: digest('1'),
    digest: digest('a'),
    log: `${LOGS}/base.log`,
  }),
  image('tools', 'fresh', {
    planReason: 'up to date',
    seconds: 0,
    buildSeconds: 0,
    queueSeconds: 0,
    queuedAt: 2,
    startedAt: 2,
    builtAt: 2,
    imageId: digest('2'),
    digest: digest('b'),
  }),
  image('lib', 'failed', {
    reason: 'engine-exit',
    message: 'engine exited with 3: about to fail on purpose',
    seconds: 2,
    buildSeconds: 2,
    queueSeconds: 0,
    queuedAt: 2,
    startedAt: 2,
    builtAt: 4,
    log: `${LOGS}/lib & co.FAILED.log`,
    tags: [],
  }),
  image('app', 'parent-failed', {
    reason: 'parent-failed',
    message: "parent 'lib' failed",
    failedParent: imageName('lib'),
    tags: [],
  }),
  image('extra', 'built', {
    seconds: 2.5,
    buildSeconds: 2.5,
    queueSeconds: 0.5,
    queuedAt: 2,
    startedAt: 2.5,
    builtAt: 5,
    imageId: digest('3'),
    log: `${LOGS}/extra.log`,
  }),
  image('old', 'unbuildable', {
    reason: 'unbuildable',
    message: 'not supported on busybox (image.yaml)',
    planReason: 'not supported on busybox (image.yaml)',
    tags: [],
  }),
];

export const sampleSummary = (images: ImageSummary[] = sampleImages): RunSummary => ({
  runId: 'r1',
  profile: 'bb',
  tag: 't1',
  registry: '127.0.0.1:5000',
  threads: 2,
  start: '2026-01-01T10:00:00.000Z',
  seconds: 5.2,
  engine,
  interrupted: false,
  ok: false,
  counts: countStatuses(images),
  images,
});

export const sampleGraph = (): BuildGraph => {
  const g = buildGraph(
    Object.entries(parents).map(([name, ps]) => ({
      name: imageName(name),
      parents: ps.map(imageName),
      externals: name === 'base' ? ['busybox:latest'] : [],
    })),
  );
  if (!g.ok) throw new Error('sample graph has a cycle');
  return g.value;
};

const actions: Record<string, StepAction> = {
  tools: 'fresh',
  old: 'unbuildable',
};

export const samplePlan = (): Plan => ({
  profile: 'bb',
  steps: sampleImages.map((i) => ({
    name: i.name,
    ref: `kb/${i.name}:t1`,
    action: actions[i.name] ?? 'build',
    reason: i.planReason,
    selectedAs: 'selected',
    parents: (parents[i.name] ?? []).map(imageName),
    wave: 0,
  })),
  waves: [],
  criticalPath: ['base', 'lib', 'app'].map(imageName),
});
