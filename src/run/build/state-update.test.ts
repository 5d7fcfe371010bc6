/**
 * What a build run learns from the state and leaves in it, over a real observed plan
 * (test/helpers/build-world.ts): observe's expected seconds, the scheduler's weights (planJobs),
 * and stateAfterRun. Build seconds come from the injected clock: each engine build advances it by
 * the image's `buildSeconds` (one build at a time, so each is measured alone).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageState } from '../ports.js';
import {
  buildWorld,
  factsOf,
  IMAGES,
  REGISTRY,
  type BuildWorld,
  type Name,
} from '../../../test/helpers/build-world.js';
import { imageName, type ImageName } from '../../core/model.js';
import type { Inventory } from '../../core/packages/inventory.js';
import { planJobs } from './run-build.js';
import { stateAfterRun } from './state-update.js';

let w: BuildWorld;
beforeEach(() => {
  w = buildWorld();
  Object.assign(w.buildSeconds, { base: 4, lib: 2, tools: 6, edge: 3, app: 5 });
});
afterEach(() => w.remove());

const one = { threads: 1 };
/** What the fake engine's images (no dpkg status file) answer the inventory script. */
const NO_PACKAGES = { manager: 'none', packages: [], distro: '', distroVersion: '', config: '' };
/** The state without the build seconds of these images (as if never built here). */
function forgetSeconds(...names: Name[]) {
  const images: Record<string, ImageState> = { ...w.state.images };
  for (const n of names) {
    const { seconds: _, ...rest } = images[n]!;
    images[n] = rest;
  }
  w.state = { ...w.state, images };
}

describe('expected build seconds (observe)', () => {
  it('is 1 for every image when the state knows no build time', async () => {
    const observed = await w.observe();
    for (const n of IMAGES) {
      expect(factsOf(observed, n).expectedSeconds).toBe(1);
      expect(factsOf(observed, n).lastSeconds).toBeUndefined();
    }
  });

  it("is the image's last build seconds from the state, else the mean of the known ones", async () => {
    await w.run(one);
    forgetSeconds('tools', 'edge', 'app');
    const observed = await w.observe();
    const expected = (n: Name) => factsOf(observed, n).expectedSeconds;
    expect(expected('base')).toBe(4);
    expect(expected('lib')).toBe(2);
    // (4 + 2) / 2
    expect(['tools', 'edge', 'app'].map((n) => expected(n as Name))).toEqual([3, 3, 3]);
    expect(factsOf(observed, 'base').lastSeconds).toBe(4);
    expect(factsOf(observed, 'app').lastSeconds).toBeUndefined();
  });
});

describe('planJobs', () => {
  it("weighs each build by its step's expected seconds and what is not built by 0", async () => {
    await w.run(one);
    forgetSeconds('app');
    w.write('images/lib/lib.txt', 'the lib context, changed\n');
    const observed = await w.observe();
    const jobs = planJobs(observed.plan);
    expect(jobs.map((j) => [j.name, j.parents, j.weight])).toEqual([
      ['base', [], 0],
      ['edge', [], 0],
      ['lib', ['base'], 2],
      ['tools', ['base'], 0],
      // Never measured: the mean of base, lib, tools and edge (4, 2, 6, 3).
      ['app', ['edge', 'lib'], 3.75],
    ]);
    expect(factsOf(observed, 'app').expectedSeconds).toBe(3.75);
    // The run tells the reporters the same: last seconds for builds (null: never), 0 for the rest.
    const r = await w.run(one, { observed });
    const start = r.events.find((e) => e.type === 'run-start');
    expect(start?.type === 'run-start' && start.expected?.map((x) => [x.name, x.seconds])).toEqual([
      ['base', 0],
      ['edge', 0],
      ['lib', 2],
      ['tools', 0],
      ['app', null],
    ]);
  });

  it('weighs images taken from the registry by 0, however long they took to build', async () => {
    await w.run({ ...one, push: true, publish: 'deferred' });
    await w.forgetLocal();
    w.write('images/app/app.txt', 'the app context, changed\n');
    const observed = await w.observe();
    expect(observed.plan.steps.filter((s) => s.fromRegistry).map((s) => s.name)).toEqual([
      'base',
      'edge',
      'lib',
      'tools',
    ]);
    expect(factsOf(observed, 'base').expectedSeconds).toBe(4);
    expect(planJobs(observed.plan).map((j) => [j.name, j.weight])).toEqual([
      ['base', 0],
      ['edge', 0],
      ['lib', 0],
      ['tools', 0],
      ['app', 5],
    ]);
  });
});

describe('stateAfterRun', () => {
  it('records each built image: fingerprint, record, image id, build seconds, and the digest once pushed', async () => {
    const r = await w.run({ ...one, push: true });
    for (const n of IMAGES) {
      const facts = r.facts(n);
      expect(w.state.images[n]).toEqual({
        fingerprint: facts.fingerprint,
        record: facts.record,
        imageId: r.image(n).imageId,
        registry: REGISTRY,
        digest: r.image(n).digest,
        seconds: w.buildSeconds[n],
        packages: NO_PACKAGES,
      });
    }
    expect(r.image('base').digest).toMatch(/^sha256:/);
  });

  it('keeps an inventory the run read from an image it did not build (as the sign step reads it), and the previous one otherwise', async () => {
    await w.run(one);
    const withPackages = w.state;
    w.state = {
      ...w.state,
      images: Object.fromEntries(
        Object.entries(w.state.images).map(([n, { packages: _, ...rest }]) => [n, rest]),
      ),
    };
    const r = await w.run(one); // nothing changed: every image fresh, no inventory read
    expect(IMAGES.map((n) => r.image(n).status)).toEqual(IMAGES.map(() => 'fresh'));
    expect(w.state.images['edge']!.packages).toBeUndefined();
    const read = new Map<ImageName, Inventory>([[imageName('edge'), NO_PACKAGES as Inventory]]);
    const after = stateAfterRun(w.state, r.summary, r.observed.plan, REGISTRY, read);
    expect(after.images['edge']!.packages).toEqual(NO_PACKAGES);
    expect(after.images['app']!.packages).toBeUndefined();
    // Unchanged images keep what the state had when this run read nothing for them.
    const kept = stateAfterRun(withPackages, r.summary, r.observed.plan, REGISTRY, new Map());
    expect(kept.images['app']!.packages).toEqual(NO_PACKAGES);
  });

  it('keeps the previous entry of an image that failed (and of its descendants); a fresh one keeps its digest', async () => {
    await w.run({ ...one, push: true });
    const before = w.state.images;
    w.write('images/base/base.txt', 'the base context, changed\n');
    w.engine.failBuild('lib');
    w.buildSeconds.base = 7;
    const r = await w.run(one);
    expect(r.image('lib').status).toBe('failed');
    expect(r.image('app').status).toBe('parent-failed');
    expect(w.state.images['lib']).toEqual(before['lib']);
    expect(w.state.images['app']).toEqual(before['app']);
    // Rebuilt with a new fingerprint and not pushed: no digest.
    expect(w.state.images['base']).toEqual({
      fingerprint: r.facts('base').fingerprint,
      record: r.facts('base').record,
      imageId: r.image('base').imageId,
      seconds: 7,
      packages: NO_PACKAGES,
    });
    expect(w.state.images['base']!.fingerprint).not.toBe(before['base']!.fingerprint);
    expect(w.state.images['edge']).toEqual(before['edge']);
    expect(w.state.images['edge']!.digest).toMatch(/^sha256:/);
  });
});
