/**
 * runBuild with --push, over a real observed plan (test/helpers/build-world.ts): the three publish
 * modes (eager, atomic, deferred) as the registry sees them, and push retries.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildWorld,
  IMAGES,
  ref,
  REGISTRY,
  remote,
  repo,
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
const engineCalls = (r: Ran, op: 'build' | 'push') => r.calls.filter((c) => c.startsWith(`${op} `));
const copies = (r: Ran) => r.registryCalls.filter((c) => c.startsWith('copy '));
/** The registry's digest under each image's shared tag. */
const shared = () => IMAGES.map((n) => w.registry.digestOf(repo(n), 't1'));
const sharedTagsInRegistry = () => [...w.registry.store.keys()].filter((k) => k.endsWith(':t1'));

describe('publish eager (the default)', () => {
  it('pushes each image under its shared tag and adds its fp tag beside it in the registry', async () => {
    const r = await w.run({ push: true });
    expect(statuses(r)).toEqual(every('pushed'));
    expect(engineCalls(r, 'push').sort()).toEqual(IMAGES.map((n) => `push ${remote(n)}`).sort());
    expect(copies(r).sort()).toEqual(IMAGES.map((n) => `copy kt/${n}:t1 ${r.fpTag(n)}`).sort());
    for (const n of IMAGES) {
      const digest = r.image(n).digest;
      expect(digest).toMatch(/^sha256:/);
      expect(w.registry.digestOf(repo(n), 't1')).toBe(digest);
      expect(w.registry.digestOf(repo(n), r.fpTag(n))).toBe(digest);
    }
    expect(r.summary.publish).toBeUndefined();
    expect(r.scheduler('push-end').filter((e) => e.result.ok)).toHaveLength(5);
  });

  it('does not push again a fresh image the registry already has under its shared tag: "nothing to push"', async () => {
    const first = await w.run({ push: true });
    const r = await w.run({ push: true });
    expect(engineCalls(r, 'build')).toEqual([]);
    expect(engineCalls(r, 'push')).toEqual([]);
    expect(copies(r)).toEqual([]);
    expect(statuses(r)).toEqual(every('fresh'));
    for (const n of IMAGES) {
      const digest = first.image(n).digest!;
      expect(r.image(n).digest).toBe(digest);
      expect(r.logs.get(n)).toContain(
        `kbuild: ${REGISTRY} already has kt/${n}:t1 as ${digest}: nothing to push`,
      );
    }
  });

  it('points the shared tag at an image only the registry has (a copy inside it): retagged, nothing built or pushed', async () => {
    await w.run({ push: true, publish: 'deferred' });
    await w.forgetLocal();
    expect(sharedTagsInRegistry()).toEqual([]);
    const r = await w.run({ push: true });
    expect(engineCalls(r, 'build')).toEqual([]);
    expect(engineCalls(r, 'push')).toEqual([]);
    expect(copies(r).sort()).toEqual(IMAGES.map((n) => `copy kt/${n}:${r.fpTag(n)} t1`).sort());
    expect(statuses(r)).toEqual(every('retagged'));
    for (const n of IMAGES) {
      expect(r.image(n).digest).toBe(w.registry.digestOf(repo(n), r.fpTag(n)));
      expect(w.registry.digestOf(repo(n), 't1')).toBe(r.image(n).digest);
    }
  });
});

describe('publish atomic', () => {
  it('pushes under fp tags only and moves every shared tag at the end, when all succeeded', async () => {
    // Whenever a push ends, no shared tag is in the registry yet.
    const seenAtPushEnd: string[][] = [];
    const r = await w.run(
      { push: true, publish: 'atomic' },
      {
        onEvent: (e) => {
          if (e.type === 'scheduler' && e.event.type === 'push-end')
            seenAtPushEnd.push(sharedTagsInRegistry());
        },
      },
    );
    expect(seenAtPushEnd).toEqual(IMAGES.map(() => []));
    expect(engineCalls(r, 'push').sort()).toEqual(
      IMAGES.map((n) => `push ${REGISTRY}/kt/${n}:${r.fpTag(n)}`).sort(),
    );
    expect(copies(r).sort()).toEqual(IMAGES.map((n) => `copy kt/${n}:${r.fpTag(n)} t1`).sort());
    expect(r.summary.publish).toMatchObject({
      mode: 'atomic',
      published: true,
      failed: [],
      message: "published: 5 shared tag(s) moved to this run's images, 0 already there",
    });
    expect([...r.summary.publish!.moved].sort()).toEqual([...IMAGES].sort());
    expect(shared()).toEqual(IMAGES.map((n) => r.image(n).digest));
    expect(r.summary.ok).toBe(true);
  });

  it('with one build failing, moves no shared tag: the previous complete set stays published', async () => {
    await w.run({ push: true, publish: 'atomic' });
    const before = shared();
    // A change at the root rebuilds base, lib, tools and app; edge is unchanged.
    w.write('images/base/base.txt', 'the base context, changed\n');
    w.engine.failBuild('app');
    const r = await w.run({ push: true, publish: 'atomic' });
    expect(statuses(r)).toEqual({
      base: 'pushed',
      lib: 'pushed',
      tools: 'pushed',
      edge: 'fresh',
      app: 'failed',
    });
    expect(r.summary.publish).toEqual({
      mode: 'atomic',
      published: false,
      moved: [],
      failed: [],
      message:
        'nothing published: 1 image(s) did not succeed (app); the shared tag t1 still names the previous complete set',
    });
    expect(copies(r)).toEqual([]);
    expect(shared()).toEqual(before);
    // What was built is in the registry under its new fingerprint, for the next run to publish.
    for (const n of ['base', 'lib', 'tools'] as Name[]) {
      expect(w.registry.digestOf(repo(n), r.fpTag(n))).toBe(r.image(n).digest);
      expect(r.image(n).digest).not.toBe(before[IMAGES.indexOf(n)]);
    }
    expect(r.summary.ok).toBe(false);
  });
});

describe('publish atomic: the local shared tags (issue 13, defect 7)', () => {
  /** The local image id under each image's shared tag and its registry twin (absent: none). */
  const localShared = async () => {
    const found = await w.engine.inspect(IMAGES.flatMap((n) => [ref(n), remote(n)]));
    return Object.fromEntries([...found].map(([k, v]) => [k, v.id]));
  };
  const localId = async (reference: string) =>
    (await w.engine.inspect([reference])).get(reference)?.id;

  it('stay on the previous complete set when the publish fails, and move when it succeeds', async () => {
    await w.run({ push: true, publish: 'atomic' });
    const before = await localShared();
    expect(Object.keys(before)).toHaveLength(2 * IMAGES.length);
    w.write('images/base/base.txt', 'the base context, changed\n');
    w.engine.failBuild('app', { times: 1 });
    const failed = await w.run({ push: true, publish: 'atomic' });
    expect(failed.summary.publish?.published).toBe(false);
    expect(await localShared()).toEqual(before);
    // The new builds are here under their fp references, for the next run to reuse.
    for (const n of ['base', 'lib', 'tools'] as Name[]) {
      expect(await localId(failed.facts(n).fpRef)).toBe(failed.image(n).imageId);
      expect(failed.image(n).imageId).not.toBe(before[ref(n)]);
    }

    const r = await w.run({ push: true, publish: 'atomic' });
    expect(r.summary.publish?.published).toBe(true);
    const after = await localShared();
    for (const n of IMAGES) {
      const id = await localId(r.facts(n).fpRef);
      expect(id).toMatch(/^sha256:/);
      expect([n, after[ref(n)], after[remote(n)]]).toEqual([n, id, id]);
    }
    expect(after[ref('base')]).not.toBe(before[ref('base')]);
    expect(after[ref('edge')]).toBe(before[ref('edge')]);
  });

  it('on a first run that fails, leaves no local shared tag naming an unpublished build', async () => {
    w.engine.failBuild('app');
    const r = await w.run({ push: true, publish: 'atomic' });
    expect(r.summary.publish?.published).toBe(false);
    expect(await localShared()).toEqual({});
    expect(await localId(r.facts('base').fpRef)).toBe(r.image('base').imageId);
  });
});

describe('publish deferred', () => {
  it('pushes under fp tags only, moves no shared tag and has no publish summary', async () => {
    const r = await w.run({ push: true, publish: 'deferred' });
    expect(statuses(r)).toEqual(every('pushed'));
    expect(engineCalls(r, 'push').sort()).toEqual(
      IMAGES.map((n) => `push ${REGISTRY}/kt/${n}:${r.fpTag(n)}`).sort(),
    );
    expect(copies(r)).toEqual([]);
    expect(sharedTagsInRegistry()).toEqual([]);
    for (const n of IMAGES)
      expect(r.image(n).digest).toBe(w.registry.digestOf(repo(n), r.fpTag(n)));
    expect(r.summary.publish).toBeUndefined();
    expect(r.summary.ok).toBe(true);
  });
});

describe('push failures', () => {
  it('retries a transient push failure (pushRetries) after a backoff on the injected sleep', async () => {
    w.engine.failPush(remote('lib'), { times: 1 });
    const r = await w.run({ push: true, pushRetries: 2 });
    expect(r.image('lib').status).toBe('pushed');
    expect(r.image('lib').digest).toBe(w.registry.digestOf('kt/lib', 't1'));
    const lib = r.calls.filter((c) => c.includes(remote('lib')));
    expect(lib).toEqual([
      `push ${remote('lib')}`,
      `push-failed ${remote('lib')}`,
      `push ${remote('lib')}`,
      `pushed ${remote('lib')}`,
    ]);
    expect(r.scheduler('push-retry')).toEqual([
      {
        type: 'push-retry',
        name: 'lib',
        attempt: 1,
        delayMs: 1000,
        error: {
          reason: 'push-failed',
          message: 'received unexpected HTTP status: 503 Service Unavailable',
          transient: true,
        },
      },
    ]);
    expect(w.sleeps).toEqual([1000]);
  });

  it('without retries the same failure fails the image with push-failed', async () => {
    w.engine.failPush(remote('lib'), { times: 1 });
    const r = await w.run({ push: true, pushRetries: 0 });
    expect(r.image('lib')).toMatchObject({
      status: 'failed',
      reason: 'push-failed',
      message: 'received unexpected HTTP status: 503 Service Unavailable',
      digest: null,
    });
    expect(w.registry.digestOf('kt/lib', 't1')).toBeUndefined();
    expect(r.scheduler('push-retry')).toEqual([]);
    // Its child was built (the build succeeded) and pushed.
    expect(r.image('app').status).toBe('pushed');
    // Built but not pushed is a failure: the state does not record it (the next run pushes it).
    expect(r.image('lib').imageId).toMatch(/^sha256:/);
    expect(w.state.images['lib']).toBeUndefined();
    expect(w.state.images['app']?.digest).toBe(r.image('app').digest);
  });
});
