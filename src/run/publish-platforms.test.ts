import { describe, expect, it } from 'vitest';
import type { Family } from '../core/family.js';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  listedPlatforms,
} from '../core/registry/manifest-list.js';
import type { ImageName } from '../core/model.js';
import { memoryRegistry } from '../../test/helpers/memory-registry.js';
import { registryView } from './build/registry-view.js';
import {
  archOf,
  publishPlatforms,
  type ListSigner,
  type PlatformRun,
} from './publish-platforms.js';
import type { ImageSummary, RunSummary, SummaryStatus } from './summary.js';

const familyWith = (extraTags: (n: string) => string[]) =>
  ({ naming: { repository: (n: string) => `ns/${n}`, extraTags } }) as unknown as Family;
const family = familyWith(() => []);
const image = (name: string, status: SummaryStatus, digest: string | null): ImageSummary =>
  ({ name: name as ImageName, status, digest }) as ImageSummary;
const run = (platform: string, images: ImageSummary[], of = family): PlatformRun => ({
  platform,
  family: of,
  summary: { images } as unknown as RunSummary,
});

/** A registry in memory; `refuseLists` answers a list PUT as Distribution does without support. */
function fakeRegistry(opts: { refuseLists?: boolean } = {}) {
  const memory = memoryRegistry();
  if (opts.refuseLists) memory.refuse = (_, mediaType) => mediaType === DOCKER_MANIFEST_LIST;
  const pushed = (repo: string, arch: string) =>
    memory.put(repo, `fp-${arch}`, DOCKER_MANIFEST, `{"${arch}":1}`);
  return { store: memory.store, publisher: registryView(memory, 'r.test'), pushed };
}

const opts = { tag: 'v1', archTags: false, atomic: false, allowedToFail: new Set<string>() };
const signal = new AbortController().signal;

describe('publishPlatforms', () => {
  it('writes one list per image naming the platforms it was built for (image.yaml may narrow them)', async () => {
    const reg = fakeRegistry();
    const runs = [
      run('linux/amd64', [
        image('a', 'pushed', reg.pushed('ns/a', 'amd64')),
        image('b', 'pushed', reg.pushed('ns/b', 'amd64')),
      ]),
      run('linux/arm64', [
        image('a', 'pushed', reg.pushed('ns/a', 'arm64')),
        image('b', 'unbuildable', null),
      ]),
    ];
    const r = await publishPlatforms(runs, opts, reg.publisher, signal);
    expect(r.published).toBe(true);
    expect(r.images.map((i) => [i.name, i.status, i.platforms])).toEqual([
      ['a', 'published', ['linux/amd64', 'linux/arm64']],
      ['b', 'published', ['linux/amd64']],
    ]);
    expect(listedPlatforms(reg.store.get('ns/a:v1')!.body)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(listedPlatforms(reg.store.get('ns/b:v1')!.body)).toEqual(['linux/amd64']);
  });

  it('says to use --arch-tags when the registry refuses lists, and --arch-tags writes tag-arch', async () => {
    const reg = fakeRegistry({ refuseLists: true });
    const runs = [
      run('linux/amd64', [image('a', 'pushed', reg.pushed('ns/a', 'amd64'))]),
      run('linux/arm/v7', [image('a', 'pushed', reg.pushed('ns/a', 'armv7'))]),
    ];
    const refused = await publishPlatforms(runs, opts, reg.publisher, signal);
    expect(refused.published).toBe(false);
    expect(refused.images[0]).toMatchObject({ status: 'refused' });
    expect(refused.images[0]!.message).toMatch(
      /refused the manifest list .*HTTP 400.*--arch-tags \(v1-<arch>\)/,
    );
    const tagged = await publishPlatforms(runs, { ...opts, archTags: true }, reg.publisher, signal);
    expect(tagged.published).toBe(true);
    expect(tagged.images[0]!.refs).toEqual(['ns/a:v1-amd64', 'ns/a:v1-arm-v7']);
    expect(reg.store.get('ns/a:v1-arm-v7')!.digest).toBe(reg.store.get('ns/a:fp-armv7')!.digest);
  });

  it('puts the list (or the arch tags) under the extra tags too (-t v1 -t latest)', async () => {
    const reg = fakeRegistry();
    // Each platform's family carries the extra tags with its arch suffix, as the shared tag.
    const runs = ['amd64', 'arm64'].map((arch) =>
      run(
        `linux/${arch}`,
        [image('a', 'pushed', reg.pushed('ns/a', arch))],
        familyWith(() => [`latest-${arch}`, `stable-${arch}`]),
      ),
    );
    const r = await publishPlatforms(runs, opts, reg.publisher, signal);
    expect(r.published).toBe(true);
    expect(r.images[0]!.refs).toEqual(['ns/a:v1', 'ns/a:latest', 'ns/a:stable']);
    const list = reg.store.get('ns/a:v1')!.digest;
    expect(reg.store.get('ns/a:latest')!.digest).toBe(list);
    expect(reg.store.get('ns/a:stable')!.digest).toBe(list);
    const tagged = await publishPlatforms(runs, { ...opts, archTags: true }, reg.publisher, signal);
    expect([...tagged.images[0]!.refs].sort()).toEqual(
      ['v1', 'latest', 'stable'].flatMap((t) => [`ns/a:${t}-amd64`, `ns/a:${t}-arm64`]).sort(),
    );
    expect(reg.store.get('ns/a:latest-arm64')!.digest).toBe(reg.store.get('ns/a:fp-arm64')!.digest);
  });

  it('publishes only images built on every platform; atomic publishes nothing then', async () => {
    const reg = fakeRegistry();
    const runs = [
      run('linux/amd64', [
        image('a', 'pushed', reg.pushed('ns/a', 'amd64')),
        image('b', 'pushed', reg.pushed('ns/b', 'amd64')),
      ]),
      run('linux/arm64', [
        image('a', 'pushed', reg.pushed('ns/a', 'arm64')),
        image('b', 'failed', null),
      ]),
    ];
    const eager = await publishPlatforms(runs, opts, reg.publisher, signal);
    expect(eager.published).toBe(false);
    expect(eager.images.map((i) => [i.name, i.status, i.message])).toEqual([
      ['a', 'published', 'ns/a:v1 lists linux/amd64, linux/arm64'],
      ['b', 'not-published', 'not built for linux/arm64'],
    ]);
    reg.store.delete('ns/a:v1');
    const atomic = await publishPlatforms(runs, { ...opts, atomic: true }, reg.publisher, signal);
    expect(atomic.images.every((i) => i.status === 'not-published')).toBe(true);
    expect(atomic.message).toBe(
      'nothing published: b did not succeed on every platform; the shared tags are unchanged',
    );
    expect(reg.store.has('ns/a:v1')).toBe(false);
  });

  it('signs each list stored by digest before any tag names it; an unsigned list is never tagged', async () => {
    const reg = fakeRegistry();
    const runs = ['amd64', 'arm64'].map((arch) =>
      run(`linux/${arch}`, [
        image('a', 'pushed', reg.pushed('ns/a', arch)),
        image('b', 'pushed', reg.pushed('ns/b', arch)),
      ]),
    );
    const seen: string[] = [];
    const sign: ListSigner = (list) => {
      // Stored by digest, and no tag of either image moved yet.
      expect(reg.store.get(`${list.repository}@${list.digest}`)).toBeDefined();
      expect(reg.store.has('ns/a:v1') || reg.store.has('ns/b:v1')).toBe(false);
      seen.push(`${list.name} ${list.platforms.map((p) => p.platform).join(' ')}`);
      return Promise.resolve(list.name === 'b' ? 'HTTP 500' : undefined);
    };
    const eager = await publishPlatforms(runs, { ...opts, sign }, reg.publisher, signal);
    expect(seen).toEqual(['a linux/amd64 linux/arm64', 'b linux/amd64 linux/arm64']);
    expect(eager.published).toBe(false);
    expect(eager.images.map((i) => i.status)).toEqual(['published', 'refused']);
    expect(eager.images[1]!.message).toMatch(
      /ns\/b@sha256:\w+ could not be signed \(HTTP 500\); ns\/b:v1 was not moved/,
    );
    expect(reg.store.get('ns/a:v1')!.digest).toBe(eager.images[0]!.digest);
    expect(reg.store.has('ns/b:v1')).toBe(false);
    // Atomic: b's unsigned list holds back a's tag too.
    reg.store.delete('ns/a:v1');
    seen.length = 0;
    const atomic = await publishPlatforms(
      runs,
      { ...opts, atomic: true, sign },
      reg.publisher,
      signal,
    );
    expect(atomic.images.map((i) => i.status)).toEqual(['not-published', 'refused']);
    expect(atomic.message).toMatch(
      /^nothing published: b: .*could not be signed.*the shared tags are unchanged$/,
    );
    expect(reg.store.has('ns/a:v1')).toBe(false);
  });

  it('names per-platform tags after the architecture and variant', () => {
    expect(archOf('linux/arm64')).toBe('arm64');
    expect(archOf('linux/arm/v7')).toBe('arm-v7');
  });
});
