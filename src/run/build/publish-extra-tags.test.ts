/**
 * Extra tags (`-t t1 -t t2`, `--set IMAGE.tags=…`) through runBuild with --push: made locally with
 * the shared tag, and moved with it in the registry: eager as each image is pushed, atomic only
 * when the whole set is published.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildWorld,
  IMAGES,
  REGISTRY,
  repo,
  type BuildWorld,
} from '../../../test/helpers/build-world.js';
import type { ExtraTag } from '../../core/model.js';

let w: BuildWorld;
beforeEach(() => {
  w = buildWorld();
});
afterEach(() => w.remove());

const extra = (...tags: string[]): ExtraTag[] => tags.map((tag) => ({ tag, from: `-t ${tag}` }));
const inRegistry = (tag: string) => IMAGES.map((n) => w.registry.digestOf(repo(n), tag));
const localIds = async (tag: string) => {
  const refs = IMAGES.flatMap((n) => [`kt/${n}:${tag}`, `${REGISTRY}/kt/${n}:${tag}`]);
  const found = await w.engine.inspect(refs);
  return refs.map((r) => found.get(r)?.id);
};

describe('extra tags, publish eager', () => {
  it('every image gets them locally and in the registry, naming what the shared tag names', async () => {
    w.load = { extraTags: extra('t2', 'latest') };
    const r = await w.run({ push: true });
    expect(r.summary.ok).toBe(true);
    const digests = IMAGES.map((n) => r.image(n).digest);
    expect(inRegistry('t1')).toEqual(digests);
    expect(inRegistry('t2')).toEqual(digests);
    expect(inRegistry('latest')).toEqual(digests);
    expect(await localIds('t2')).toEqual(await localIds('t1'));
    expect(r.image('app').tags).toEqual([
      'kt/app:t1',
      `${REGISTRY}/kt/app:t1`,
      'kt/app:t2',
      `${REGISTRY}/kt/app:t2`,
      'kt/app:latest',
      `${REGISTRY}/kt/app:latest`,
    ]);
    expect(r.summary).toMatchObject({ tag: 't1', extraTags: ['t2', 'latest'] });
    // Pushed once, under the shared tag; the others are copies inside the registry.
    expect(r.calls.filter((c) => c.startsWith('push ')).sort()).toEqual(
      IMAGES.map((n) => `push ${REGISTRY}/kt/${n}:t1`).sort(),
    );
  });

  it('a new extra tag on an unchanged, published set: nothing built or pushed, the tag is added', async () => {
    const first = await w.run({ push: true });
    w.load = { extraTags: extra('t3') };
    const r = await w.run({ push: true });
    expect(r.calls.filter((c) => c.startsWith('build ') || c.startsWith('push '))).toEqual([]);
    expect(inRegistry('t3')).toEqual(IMAGES.map((n) => first.image(n).digest));
    expect(await localIds('t3')).toEqual(await localIds('t1'));
  });

  it('--set IMAGE.tags gives only that image the tag', async () => {
    w.load = { set: [{ flag: "--set 'app.tags=v9'", pattern: 'app', key: 'tags', tags: 'v9' }] };
    const r = await w.run({ push: true });
    expect(inRegistry('v9')).toEqual(
      IMAGES.map((n) => (n === 'app' ? r.image('app').digest : undefined)),
    );
  });
});

describe('extra tags, publish atomic', () => {
  it('move only when the whole set is published, together with the shared tags', async () => {
    w.load = { extraTags: extra('t2') };
    w.engine.failBuild('app', { times: 1 });
    const failed = await w.run({ push: true, publish: 'atomic' });
    expect(failed.summary.publish?.published).toBe(false);
    expect(inRegistry('t1')).toEqual(IMAGES.map(() => undefined));
    expect(inRegistry('t2')).toEqual(IMAGES.map(() => undefined));
    // Locally too: no extra tag names a build of a set that was not published.
    expect(await localIds('t2')).toEqual(IMAGES.flatMap(() => [undefined, undefined]));

    const r = await w.run({ push: true, publish: 'atomic' });
    expect(r.summary.publish?.published).toBe(true);
    const digests = IMAGES.map((n) => r.image(n).digest);
    expect(inRegistry('t1')).toEqual(digests);
    expect(inRegistry('t2')).toEqual(digests);
    expect(await localIds('t2')).toEqual(await localIds('t1'));
  });
});
