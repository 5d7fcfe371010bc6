/**
 * --publish atomic on the real engine and registry: the shared tag of every image moves only when
 * the whole selection succeeded; a failure anywhere leaves every shared tag on the previous set.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  byName,
  kbuild,
  projectCopy,
  randomTag,
  readSummary,
  REGISTRY,
  registryDigest,
  removeImages,
  requireHost,
} from './helpers/host.js';

const project = projectCopy('bb');
const tag = randomTag();
const IMAGES = ['bb-base', 'bb-lib', 'bb-tools', 'bb-app1', 'bb-app2', 'bb-app3'];
const shared = () =>
  Promise.all(IMAGES.map((i) => registryDigest(REGISTRY, `kbuild-test/${i}`, tag)));

async function publish(...extra: string[]) {
  const file = join(project.dir, `summary-${randomTag()}.json`);
  const r = await kbuild(
    [
      'build',
      '-p',
      'bb',
      '--tag',
      tag,
      '--push',
      '--registry',
      REGISTRY,
      '--publish',
      'atomic',
    ].concat(['-q', '--summary-json', file, ...extra]),
    project.dir,
  );
  const summary = readSummary(file) as ReturnType<typeof readSummary> & {
    publish?: { published: boolean; moved: string[]; message: string };
  };
  return { ...r, summary, images: byName(summary) };
}

beforeAll(() => requireHost());
afterAll(async () => {
  await removeImages((r) => r.includes('kbuild-test/') && r.endsWith(`:${tag}`));
  project.remove();
});

describe('--publish atomic', () => {
  it('moves every shared tag at the end of a run where everything succeeded', async () => {
    const r = await publish();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summary.publish).toMatchObject({ published: true });
    expect([...r.summary.publish!.moved].sort()).toEqual([...IMAGES].sort());
    expect(r.stdout).toContain('published: 6 shared tag(s) moved');
    const digests = await shared();
    for (const [i, name] of IMAGES.entries()) expect(digests[i], name).toBe(r.images[name]!.digest);
  });

  it('with one image failing, moves no shared tag, though the others were pushed under their fp tags', async () => {
    const before = await shared();
    // A change at the root: every image is rebuilt, so every shared tag would move.
    appendFileSync(join(project.dir, 'images', 'bb-base', 'base.txt'), `changed ${tag}\n`);
    const r = await publish('--var', 'fail_image=bb-app2');
    expect(r.code).toBe(1);
    expect(r.images['bb-app2']!.status).toBe('failed');
    expect(r.images['bb-app1']!.status).toBe('pushed');
    expect(r.summary.publish).toMatchObject({ published: false, moved: [] });
    expect(r.stdout).toMatch(
      /nothing published: 1 image\(s\) did not succeed \(bb-app2\); the shared tag \S+ still names the previous complete set/,
    );
    expect(await shared()).toEqual(before);
    // What was built is in the registry under its fingerprint, for the next run to publish.
    const app1 = r.images['bb-app1']!;
    const fpTag = readFileSync(app1.log!, 'utf8').match(/pushed \S+:(fp-[0-9a-f]{24})@/)?.[1];
    expect(fpTag).toBeDefined();
    expect(await registryDigest(REGISTRY, 'kbuild-test/bb-app1', fpTag!)).toBe(app1.digest);
    expect(app1.digest).not.toBe(before[IMAGES.indexOf('bb-app1')]);
  });

  it('publishes the whole set once the failure is fixed, pushing only what was not pushed yet', async () => {
    const r = await publish();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summary.publish).toMatchObject({ published: true });
    expect(r.images['bb-app2']!.status).toBe('pushed');
    // Only bb-app2 goes through the engine; the others are in the registry under their fp tags.
    const logText = (n: string) => {
      const log = r.images[n]!.log;
      return log ? readFileSync(log, 'utf8') : '';
    };
    const pushedByEngine = IMAGES.filter((n) => logText(n).includes('kbuild: pushing'));
    expect(pushedByEngine).toEqual(['bb-app2']);
    const digests = await shared();
    for (const [i, name] of IMAGES.entries()) expect(digests[i], name).toBe(r.images[name]!.digest);
  });
});
