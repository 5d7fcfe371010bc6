/**
 * runBuild over a real observed plan (test/helpers/build-world.ts: a five-image family, the fake
 * engine, the Registry port in memory): each kind of work an image's slot does (build, fresh,
 * retag, take from the registry, wait for another shard), blocked steps, failures and Ctrl-C.
 * Publishing is in publish.test.ts, durations and the state in state-update.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { imageName } from '../../core/model.js';
import { baseMissingMessage } from '../../core/plan/plan.js';
import {
  buildWorld,
  factsOf,
  IMAGES,
  ref,
  REGISTRY,
  remote,
  repo,
  sourceFailure,
  type BuildWorld,
  type Name,
  type Ran,
} from '../../../test/helpers/build-world.js';

let w: BuildWorld;
beforeEach(() => {
  w = buildWorld();
});
afterEach(() => w.remove());

const statuses = (r: Ran) => Object.fromEntries(r.summary.images.map((i) => [i.name, i.status]));
const every = (status: string) => Object.fromEntries(IMAGES.map((n) => [n, status]));
/** First tags of the engine builds of a run, sorted. */
const builds = (r: Ran) =>
  r.calls
    .filter((c) => c.startsWith('build '))
    .map((c) => c.slice('build '.length))
    .sort();
const pulls = (r: Ran) =>
  r.calls
    .filter((c) => c.startsWith('pull '))
    .map((c) => c.slice('pull '.length))
    .sort();
const log = (r: Ran, n: Name) => r.logs.get(n) ?? [];
const localId = async (reference: string) =>
  (await w.engine.inspect([reference])).get(reference)?.id;

describe('runBuild: what each image slot does', () => {
  it('builds a new family in DAG order, tagged with the shared tags and the fp ref, labelled with the fingerprint', async () => {
    const r = await w.run();
    expect(statuses(r)).toEqual(every('built'));
    expect(r.summary).toMatchObject({
      ok: true,
      interrupted: false,
      registry: REGISTRY,
      tag: 't1',
    });
    expect(builds(r)).toEqual(IMAGES.map(ref).sort());
    for (const n of IMAGES) {
      const facts = r.facts(n);
      const req = w.engine.requests.find((q) => q.tags[0] === ref(n))!;
      expect(req.tags).toEqual([ref(n), remote(n), `kt/${n}:${r.fpTag(n)}`]);
      expect(facts.fpRef).toBe(`kt/${n}:${r.fpTag(n)}`);
      expect(req.labels['io.kbuild.fingerprint']).toBe(facts.fingerprint);
      expect(r.image(n)).toMatchObject({ planReason: 'new', reason: null, digest: null });
      expect(r.image(n).imageId).toBe(await localId(ref(n)));
      expect(await localId(facts.fpRef)).toBe(r.image(n).imageId);
    }
    // A child starts only once its own parents are built (app has two: lib, and edge as a stage).
    const at = (c: string) => r.calls.indexOf(c);
    expect(at('built kt/base:t1')).toBeLessThan(at('build kt/lib:t1'));
    expect(at('built kt/base:t1')).toBeLessThan(at('build kt/tools:t1'));
    expect(at('built kt/lib:t1')).toBeLessThan(at('build kt/app:t1'));
    expect(at('built kt/edge:t1')).toBeLessThan(at('build kt/app:t1'));
    // No push, and the registry was only asked (by observe) for each fingerprint.
    expect(r.calls.filter((c) => c.startsWith('push'))).toEqual([]);
    expect(r.registryCalls.every((c) => c.startsWith('head '))).toBe(true);
    expect(r.registryCalls).toHaveLength(IMAGES.length);
    // The reporters hear the start (with what is expected), every build, and the summary.
    expect(r.events[0]).toMatchObject({
      type: 'run-start',
      images: r.observed.plan.steps.map((s) => s.name),
      push: false,
      expected: r.observed.plan.steps.map((s) => ({
        name: s.name,
        action: 'build',
        seconds: null,
      })),
    });
    expect(r.scheduler('build-end').map((e) => [e.name, e.result.ok])).toEqual(
      expect.arrayContaining(IMAGES.map((n) => [n, true])),
    );
    expect(r.scheduler('build-end')).toHaveLength(IMAGES.length);
    expect(r.events.at(-1)).toEqual({ type: 'run-end', summary: r.summary });
  });

  it('a second run with nothing changed builds nothing: every image fresh, the registry not asked', async () => {
    const first = await w.run();
    const r = await w.run();
    expect(builds(r)).toEqual([]);
    expect(r.calls).toEqual([]);
    expect(r.registryCalls).toEqual([]);
    expect(statuses(r)).toEqual(every('fresh'));
    expect(r.summary.counts.fresh).toBe(5);
    for (const n of IMAGES) {
      expect(r.image(n)).toMatchObject({
        planReason: 'up to date',
        imageId: first.image(n).imageId,
      });
    }
    const start = r.events.find((e) => e.type === 'run-start');
    expect(
      start?.type === 'run-start' && start.expected?.map((x) => [x.action, x.seconds]),
    ).toEqual(IMAGES.map(() => ['fresh', 0]));
  });

  it('retags an image whose fingerprint is here but whose shared tag moved away: no build', async () => {
    const first = await w.run();
    // Someone pointed kt/lib:t1 at another image.
    await w.engine.tag(ref('tools'), ref('lib'));
    const r = await w.run();
    const fpRef = r.facts('lib').fpRef;
    expect(r.observed.plan.steps.find((s) => s.name === imageName('lib'))).toMatchObject({
      action: 'retag',
      reason: 'image present; tag moves',
    });
    expect(builds(r)).toEqual([]);
    expect(r.calls).toEqual([`tag ${fpRef} ${ref('lib')}`, `tag ${fpRef} ${remote('lib')}`]);
    expect(statuses(r)).toEqual({ ...every('fresh'), lib: 'retagged' });
    expect(r.image('lib').imageId).toBe(first.image('lib').imageId);
    expect(await localId(ref('lib'))).toBe(first.image('lib').imageId);
    expect(log(r, 'lib')).toContain(`kbuild: tagged ${ref('lib')} (up to date as ${fpRef})`);
  });

  /** Everything pushed under its fp tag only, then a new host: the registry alone has the family. */
  async function onlyInRegistry() {
    await w.run({ push: true, publish: 'deferred' });
    await w.forgetLocal();
  }

  it('takes an image only the registry has without building or pulling it when nothing builds on it here', async () => {
    await onlyInRegistry();
    const r = await w.run();
    for (const s of r.observed.plan.steps)
      expect(s).toMatchObject({
        action: 'fresh',
        fromRegistry: true,
        reason: 'up to date in the registry',
      });
    expect(builds(r)).toEqual([]);
    expect(pulls(r)).toEqual([]);
    expect(statuses(r)).toEqual(every('fresh'));
    for (const n of IMAGES) {
      const there = w.registry.digestOf(repo(n), r.fpTag(n));
      expect(there).toMatch(/^sha256:/);
      expect(r.image(n).digest).toBe(there);
    }
  });

  it('pulls an image only the registry has where a child is built on it here, and only that one', async () => {
    await onlyInRegistry();
    w.write('images/app/app.txt', 'the app context, changed\n');
    const r = await w.run();
    expect(builds(r)).toEqual([ref('app')]);
    // app stands on lib and edge; base and tools are not pulled.
    expect(pulls(r)).toEqual([
      `${REGISTRY}/kt/edge:${r.fpTag('edge')}`,
      `${REGISTRY}/kt/lib:${r.fpTag('lib')}`,
    ]);
    expect(statuses(r)).toEqual({ ...every('fresh'), app: 'built' });
    expect(r.image('lib').digest).toBe(w.registry.digestOf('kt/lib', r.fpTag('lib')));
    expect(r.image('lib').imageId).toBe(await localId(ref('lib')));
    expect(log(r, 'lib')).toContain(
      'kbuild: lib is up to date in the registry; pulling it for the images built on it',
    );
  });

  it('waits for an image another shard builds, polling the registry, then pulls it for its children', async () => {
    // The fake engine pulls only what it pushed itself: base goes there once; then this host
    // forgets everything and the registry starts empty, until the other shard "pushes" base.
    const pushed = await w.run({ push: true, publish: 'deferred' });
    const fpTag = pushed.fpTag('base');
    const manifest = w.registry.store.get(`kt/base:${fpTag}`)!;
    await w.forgetLocal();
    w.registry.store.clear();
    w.onSleep = (n) => {
      if (n === 2) w.registry.put('kt/base', fpTag, manifest.mediaType, manifest.body);
    };
    const foreign = new Map([[imageName('base'), 'shard 1/2']]);
    const r = await w.run({ push: true, threads: 1, foreign, shardWaitSeconds: 60 });
    expect(w.sleeps).toEqual([2000, 2000]);
    expect(r.image('base')).toMatchObject({
      status: 'fresh',
      message: 'built by shard 1/2',
      digest: manifest.digest,
    });
    expect(builds(r)).toEqual(['lib', 'tools', 'edge', 'app'].map((n) => ref(n as Name)).sort());
    expect(pulls(r)).toEqual([`${REGISTRY}/kt/base:${fpTag}`]);
    // Its own shard pushes it and moves its tags.
    expect(r.calls.filter((c) => c.includes('kt/base') && c.startsWith('push'))).toEqual([]);
    expect(r.registryCalls.filter((c) => c.startsWith('copy kt/base'))).toEqual([]);
    expect(statuses(r)).toEqual({ ...every('pushed'), base: 'fresh' });
    expect(log(r, 'base')).toEqual(
      expect.arrayContaining([
        `kbuild: base is built by shard 1/2; waiting up to 60 s for kt/base:${fpTag}`,
        `kbuild: base is in the registry as ${manifest.digest} (built by shard 1/2)`,
      ]),
    );
  });

  it('fails an image another shard never delivers after shardWaitSeconds; its children are parent-failed', async () => {
    const foreign = new Map([[imageName('base'), 'shard 1/2']]);
    const r = await w.run({ push: true, threads: 1, foreign, shardWaitSeconds: 5 });
    const fpTag = r.fpTag('base');
    expect(w.sleeps).toEqual([2000, 2000, 2000]);
    expect(r.image('base')).toMatchObject({
      status: 'failed',
      reason: 'shard-wait',
      message: `kt/base:${fpTag} did not reach the registry within 5 s (shard 1/2 builds it: did it fail?)`,
    });
    expect(statuses(r)).toEqual({
      base: 'failed',
      lib: 'parent-failed',
      tools: 'parent-failed',
      app: 'parent-failed',
      edge: 'pushed',
    });
    expect(r.image('app').message).toBe("parent 'lib' failed");
    expect(builds(r)).toEqual([ref('edge')]);
    expect(r.summary.ok).toBe(false);
  });
});

describe("runBuild: another shard's images (regressions)", () => {
  it('with --publish atomic, does not move the shared tag of an image another shard builds', async () => {
    const pushed = await w.run({ push: true, publish: 'deferred' });
    const fpTag = pushed.fpTag('base');
    const manifest = w.registry.store.get(`kt/base:${fpTag}`)!;
    await w.forgetLocal();
    w.registry.store.clear();
    w.onSleep = () => void w.registry.put('kt/base', fpTag, manifest.mediaType, manifest.body);
    const foreign = new Map([[imageName('base'), 'shard 1/2']]);
    const r = await w.run({
      push: true,
      publish: 'atomic',
      threads: 1,
      foreign,
      shardWaitSeconds: 60,
    });
    expect(r.summary.publish!.published).toBe(true);
    expect(r.registryCalls).not.toContain(`copy kt/base:${fpTag} t1`);
    expect(r.summary.publish!.moved).not.toContain('base');
    expect(r.summary.publish!.moved).toEqual(expect.arrayContaining(['lib', 'tools', 'app']));
  });

  it('waits for a new digest of an image another shard rebuilds for its packages (same fingerprint)', async () => {
    const pushed = await w.run({ push: true, publish: 'deferred' });
    const fpTag = pushed.fpTag('base');
    const before = w.registry.store.get(`kt/base:${fpTag}`)!;
    await w.forgetLocal();
    const observed = await w.observe(); // everything fresh in the registry under its fp tag
    // The other shard's update check flagged base: it rebuilds it under the same fp tag.
    const steps = observed.plan.steps.map((s) =>
      s.name === 'base'
        ? { ...s, action: 'build' as const, fromRegistry: undefined, refresh: true as const }
        : s,
    );
    w.onSleep = (n) => {
      if (n === 2) w.registry.put('kt/base', fpTag, before.mediaType, `${before.body} `);
    };
    const foreign = new Map([[imageName('base'), 'shard 1/2']]);
    const r = await w.run(
      { push: true, threads: 1, foreign, shardWaitSeconds: 60 },
      { observed: { ...observed, plan: { ...observed.plan, steps } } },
    );
    // The old digest under the fp tag was not taken for the new image: it waited for the new one.
    expect(w.sleeps).toEqual([2000, 2000]);
    expect(r.image('base')).toMatchObject({ status: 'fresh', message: 'built by shard 1/2' });
    expect(r.image('base').digest).not.toBe(before.digest);
  });

  it('does not pull the parents of an image another shard builds', async () => {
    await w.run({ push: true, publish: 'deferred' });
    await w.forgetLocal();
    w.write('images/app/app.txt', 'changed\n');
    const observed = await w.observe(); // app: build; base, edge, lib, tools: from the registry
    const fp = factsOf(observed, 'app').fingerprint;
    w.onSleep = () =>
      void w.registry.put('kt/app', `fp-${fp.slice(0, 24)}`, 'm', 'app by shard 2/2');
    const foreign = new Map([[imageName('app'), 'shard 2/2']]);
    const r = await w.run({ push: true, threads: 1, foreign, shardWaitSeconds: 60 }, { observed });
    expect(pulls(r)).toEqual([]);
  });
});

describe('runBuild: steps the plan says cannot start', () => {
  it('fails an image whose base is missing with base-missing, without the engine; its children are parent-failed', async () => {
    w.remove();
    w = buildWorld({ bases: ['busybox:latest'] });
    const r = await w.run();
    const message = baseMissingMessage('alpine:3.20', 'fake', false);
    const edge = r.observed.plan.steps.find((s) => s.name === imageName('edge'));
    expect(edge?.blocked).toEqual({ reason: 'base-missing', message });
    expect(r.image('edge')).toMatchObject({ status: 'failed', reason: 'base-missing', message });
    expect(r.image('app')).toMatchObject({
      status: 'parent-failed',
      reason: 'parent-failed',
      message: "parent 'edge' failed",
    });
    expect(r.scheduler('skipped').map((e) => [e.name, e.status])).toEqual([
      ['app', 'parent-failed'],
    ]);
    expect(builds(r)).toEqual([ref('base'), ref('lib'), ref('tools')].sort());
    expect(statuses(r)).toMatchObject({ base: 'built', lib: 'built', tools: 'built' });
    expect(r.summary.ok).toBe(false);
  });

  it('fails an image whose source cannot be had with source-failed, without the engine', async () => {
    w.source = sourceFailure('vendor/lib: no such directory');
    const r = await w.run();
    const lib = r.observed.plan.steps.find((s) => s.name === imageName('lib'));
    expect(lib?.blocked).toEqual({
      reason: 'source-failed',
      message: 'vendor/lib: no such directory',
    });
    expect(r.image('lib')).toMatchObject({
      status: 'failed',
      reason: 'source-failed',
      message: 'vendor/lib: no such directory',
    });
    expect(r.image('app')).toMatchObject({
      status: 'parent-failed',
      message: "parent 'lib' failed",
    });
    expect(builds(r)).toEqual([ref('base'), ref('edge'), ref('tools')].sort());
  });
});

describe('runBuild: failures and Ctrl-C', () => {
  it('an engine failure fails that image (engine-exit, with the last log line) and skips only its descendants', async () => {
    w.engine.failBuild('lib', { exitCode: 3, message: 'about to fail on purpose' });
    const r = await w.run();
    expect(r.image('lib')).toMatchObject({
      status: 'failed',
      reason: 'engine-exit',
      message: 'engine exited with 3: ERROR: about to fail on purpose',
      log: '/logs/lib.FAILED.log',
      tags: [], // never made
    });
    expect(r.image('app')).toMatchObject({
      status: 'parent-failed',
      message: "parent 'lib' failed",
      failedParent: 'lib',
      tags: [],
    });
    expect(r.image('base').tags).toEqual([ref('base'), remote('base')]);
    expect(statuses(r)).toMatchObject({ base: 'built', tools: 'built', edge: 'built' });
    expect(builds(r)).toEqual([ref('base'), ref('edge'), ref('lib'), ref('tools')].sort());
    expect(r.summary).toMatchObject({ ok: false, interrupted: false });
  });

  it('an abort while a build runs cancels it, starts none of its children, and says the run was interrupted', async () => {
    w.engine.hold('lib');
    const ctl = new AbortController();
    const running = w.run({}, { signal: ctl.signal });
    await w.engine.started('lib');
    ctl.abort();
    const r = await running;
    expect(r.summary).toMatchObject({ interrupted: true, ok: false });
    expect(r.image('lib')).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled',
      message: 'interrupted while building',
    });
    expect(r.image('app')).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled',
      message: 'the run was interrupted',
    });
    expect(r.calls).toContain('build-failed kt/lib:t1 cancelled');
    expect(w.engine.buildOrder).not.toContain(ref('app'));
    expect(r.image('base').status).toBe('built');
    // Nothing half-done reaches the state.
    expect(w.state.images['lib']).toBeUndefined();
    expect(w.state.images['base']?.imageId).toBe(r.image('base').imageId);
  });

  it('with the registry unreachable, observe says so and the images it holds are built here instead', async () => {
    await w.run({ push: true, publish: 'deferred' });
    await w.forgetLocal();
    w.registry.down = true;
    const observed = await w.observe();
    expect(observed.registryProblem).toBe('connection refused');
    for (const s of observed.plan.steps) {
      expect(s.action).toBe('build');
      expect(s.fromRegistry).toBeUndefined();
    }
    const r = await w.run({}, { observed });
    expect(builds(r)).toEqual(IMAGES.map(ref).sort());
    expect(pulls(r)).toEqual([]);
    expect(statuses(r)).toEqual(every('built'));
  });
});

/**
 * Engine round trips before the first build (issue 14): the bases' ids are needed for the
 * fingerprints, which name the images to look for. With the bases as the last run saw them, one
 * inspect asks for both; a base that moved is seen in that answer and its images asked again.
 */
describe('observe: inspects before the first build', () => {
  const inspects = () => vi.spyOn(w.engine, 'inspect').mock.calls;

  it('a first run (no state) asks for the bases, then for the images their fingerprints name', async () => {
    const calls = inspects();
    await w.observe();
    expect(calls).toHaveLength(2);
    expect([...calls[0]![0]].sort()).toEqual(['alpine:3.20', 'busybox:latest']);
    expect(calls[1]![0]).toContain(ref('base'));
  });

  it('with the bases as the last run saw them: one inspect of bases and images together, all fresh', async () => {
    await w.run();
    const calls = inspects();
    const r = await w.run();
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toEqual(expect.arrayContaining(['busybox:latest', r.facts('app').fpRef]));
    expect(statuses(r)).toEqual(every('fresh'));
  });

  it("a base that moved since: its images' new fingerprints are asked in a second inspect, and they rebuild", async () => {
    const first = await w.run();
    await w.engine.tag(ref('edge'), 'busybox:latest');
    const calls = inspects();
    const r = await w.run();
    expect(calls).toHaveLength(2);
    expect(calls[1]![0]).toContain(r.facts('base').fpRef);
    expect(calls[1]![0]).not.toContain(r.facts('edge').fpRef);
    expect(r.facts('base').fingerprint).not.toBe(first.facts('base').fingerprint);
    expect(r.observed.plan.steps.find((s) => s.name === imageName('base'))).toMatchObject({
      action: 'build',
    });
    expect(statuses(r)).toEqual({ ...every('built'), edge: 'fresh' });
  });
});
