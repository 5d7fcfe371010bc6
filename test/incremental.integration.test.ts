/**
 * Incremental builds on the real engine and registry: an image is rebuilt when, and only when,
 * what it is made of changed. Counts of builds and pushes, never times.
 */
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
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
  logSays,
  processesMatching,
  requireHost,
  sh,
} from './helpers/host.js';

const project = projectCopy('bb');
const tag = randomTag();
const tag2 = `${tag}-b`;
let n = 0;
/** Runs a build; returns each image's status. */
const build = (...extra: string[]) => buildSaying('', ...extra);

/** A build that succeeds with exactly `stderr` on its standard error. */
async function buildSaying(stderr: string | RegExp, ...extra: string[]) {
  const file = join(project.dir, `run-${n++}.json`);
  const r = await kbuild(
    ['build', '-p', 'bb', '--summary-json', file, '-q', ...extra],
    project.dir,
  );
  if (typeof stderr === 'string') expect(r.stderr).toBe(stderr);
  else expect(r.stderr).toMatch(stderr);
  expect(r.code).toBe(0);
  return {
    statuses: Object.fromEntries(readSummary(file).images.map((i) => [i.name, i.status])),
    summary: readSummary(file),
    stdout: r.stdout,
  };
}
const count = (statuses: Record<string, string>, status: string) =>
  Object.values(statuses).filter((s) => s === status).length;

beforeAll(() => requireHost());
afterAll(async () => {
  await removeImages((r) => r.startsWith('kbuild-test/') && r.includes(`:${tag}`));
  project.remove();
});

describe('incremental builds', () => {
  it('a second build --push with nothing changed builds nothing and pushes nothing', async () => {
    const first = await build('--tag', tag, '--push', '--registry', REGISTRY);
    expect(count(first.statuses, 'pushed')).toBe(6);
    const second = await build('--tag', tag, '--push', '--registry', REGISTRY);
    expect(second.statuses).toEqual(
      Object.fromEntries(Object.keys(first.statuses).map((k) => [k, 'fresh'])),
    );
    expect(second.stdout).not.toContain('kbuild: pushing');
    // The fingerprint tag was published beside the shared one, naming the same manifest.
    const fpTag = (
      await sh('docker', [
        'image',
        'inspect',
        '--format',
        '{{index .Config.Labels "io.kbuild.fingerprint"}}',
        `kbuild-test/bb-app1:${tag}`,
      ])
    )
      .trim()
      .slice(0, 24);
    expect(await registryDigest(REGISTRY, 'kbuild-test/bb-app1', `fp-${fpTag}`)).toBe(
      byName(first.summary)['bb-app1']!.digest,
    );
  });

  it('touching one context file rebuilds exactly that image and its descendants, and plan says why', async () => {
    appendFileSync(join(project.dir, 'images/bb-tools/bb-tools.txt'), `changed ${tag}\n`); // unique: fingerprints are content-addressed
    const plan = await kbuild(['plan', '-p', 'bb', '--tag', tag, '--json'], project.dir);
    const steps = Object.fromEntries(
      (
        JSON.parse(plan.stdout) as { steps: { name: string; action: string; reason: string }[] }
      ).steps.map((s) => [s.name, s]),
    );
    expect(steps['bb-tools']).toMatchObject({
      action: 'build',
      reason: 'context-changed (bb-tools.txt)',
    });
    expect(steps['bb-app1']).toMatchObject({
      action: 'build',
      reason: 'parent-changed (bb-tools)',
    });
    expect(steps['bb-base']).toMatchObject({ action: 'fresh' });
    const r = await build('--tag', tag);
    expect(r.statuses).toEqual({
      'bb-base': 'fresh',
      'bb-lib': 'fresh',
      'bb-tools': 'built',
      'bb-app1': 'built',
      'bb-app2': 'built',
      'bb-app3': 'fresh',
    });
  });

  it('a new tag retags instead of rebuilding', async () => {
    const r = await build('--tag', tag2);
    expect(count(r.statuses, 'retagged')).toBe(6);
    const ids = await Promise.all(
      ['bb-app2'].flatMap((img) =>
        [tag, tag2].map((t) =>
          sh('docker', ['image', 'inspect', '--format', '{{.Id}}', `kbuild-test/${img}:${t}`]),
        ),
      ),
    );
    expect(ids[0]).toBe(ids[1]);
  });

  it('another namespace retags too: the names are not in the fingerprint, so the image is the same', async () => {
    const ns = `kbuild-ns-${tag}`;
    const plan = await kbuild(['plan', '-p', 'bb', '--tag', tag, '--namespace', ns], project.dir);
    expect(plan.stdout).toMatch(
      /bb-app2 +retag +same fingerprint as kbuild-test\/bb-app2:fp-[0-9a-f]{24}\n/,
    );
    const r = await build('--tag', tag, '--namespace', ns);
    expect(count(r.statuses, 'retagged')).toBe(6);
    const id = (ref: string) => sh('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]);
    expect(await id(`${ns}/bb-app2:${tag}`)).toBe(await id(`kbuild-test/bb-app2:${tag}`));
    expect(count((await build('--tag', tag, '--namespace', ns)).statuses, 'fresh')).toBe(6);
    await removeImages((ref) => ref.startsWith(`${ns}/`));
  });

  it('without the state file the engine still knows what is fresh; --force rebuilds', async () => {
    rmSync(join(project.dir, '.kbuild/state'), { recursive: true, force: true });
    expect(count((await build('--tag', tag)).statuses, 'fresh')).toBe(6);
    expect(count((await build('--tag', tag, '--force')).statuses, 'built')).toBe(6);
  });

  it('a run killed mid-way: the next run builds only what is missing', async () => {
    const file = join(project.dir, 'killed.json');
    appendFileSync(join(project.dir, 'images/bb-base/base.txt'), `again ${tag}\n`);
    let killed = false;
    // bb-app3's `docker build`, once it runs (after the 'building' line).
    const orphans = () =>
      processesMatching(`${project.dir}/.kbuild/build/bb/bb-app3`).filter((l) => / build /.test(l));
    const r = await kbuild(
      [
        'build',
        '-p',
        'bb',
        '--tag',
        tag,
        '--var',
        'sleep_image=bb-app3',
        '--var',
        'sleep_seconds=64',
        '--summary-json',
        file,
      ],
      project.dir,
      (out, child) => {
        if (!killed && out.includes('bb-app3: building')) {
          killed = true;
          const running = () => orphans().length && logSays(project.dir, 'bb-app3', 'sleep 64');
          const kill = () => (running() ? child.kill('SIGKILL') : setTimeout(kill, 100));
          kill();
        }
      },
    );
    expect(r.signal).toBe('SIGKILL');
    // Its `docker build` of bb-app3 goes on under init (until its 64 s sleep ends)...
    expect(orphans()).not.toEqual([]);
    // The killed run's lock is left behind; its process is gone, so the next run takes it over,
    // and stops the build the killed run left running before building bb-app3 again.
    const again = await buildSaying(
      /^kbuild: taking over the lock of profile 'bb' from PID \d+ \(started [^)]+\): that process is gone\n(kbuild: (stopped|cleaned up after) docker \w+ … .* which was killed\n)*kbuild: stopped docker build … \S+\/bb-app3 \(PID \d+\), left running by the run of PID \d+, which was killed\n(kbuild: (stopped|cleaned up after) docker \w+ … .* which was killed\n)*$/,
      '--tag',
      tag,
      '--var',
      'sleep_image=bb-app3',
      '--var',
      'sleep_seconds=0',
    );
    // bb-app3's Dockerfile changed (no sleep now) and it never finished: it builds; bb-base,
    // bb-lib (its parent) finished before the kill and are fresh.
    expect(again.statuses['bb-base']).toBe('fresh');
    expect(again.statuses['bb-lib']).toBe('fresh');
    expect(again.statuses['bb-app3']).toBe('built');
    expect(orphans()).toEqual([]);
  });

  it('a new CI host (no local images, no state) builds nothing: the registry has every fingerprint', async () => {
    const tag3 = `${tag}-c`;
    await build('--tag', tag, '--push', '--registry', REGISTRY);
    const ours = (await sh('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}']))
      .split('\n')
      .filter((r) => r.startsWith('kbuild-test/'));
    const fps = new Set(
      (
        await sh('docker', [
          'images',
          '--filter',
          'label=io.kbuild.profile=bb',
          '--format',
          '{{.ID}}',
        ])
      )
        .split('\n')
        .filter(Boolean),
    );
    expect(fps.size).toBeGreaterThan(0);
    await sh('docker', ['rmi', '-f', ...ours]).catch(() => '');
    rmSync(join(project.dir, '.kbuild/state'), { recursive: true, force: true });
    const r = await build('--tag', tag3, '--push', '--registry', REGISTRY);
    expect(count(r.statuses, 'retagged')).toBe(6); // the shared tag moved inside the registry
    expect(r.stdout).not.toContain('kbuild: pushing');
    for (const img of r.summary.images) {
      expect(await registryDigest(REGISTRY, `kbuild-test/${img.name}`, tag3)).toBe(img.digest);
    }
    // A leaf changes: only its parent is pulled (by fingerprint), only the leaf is built.
    appendFileSync(join(project.dir, 'images/bb-app3/bb-app3.txt'), `leaf ${tag}\n`);
    const leaf = await build('--tag', tag3, '--push', '--registry', REGISTRY);
    expect(leaf.statuses['bb-app3']).toBe('pushed');
    expect(count(leaf.statuses, 'fresh')).toBe(5);
    const libLog = byName(leaf.summary)['bb-lib']!.log!;
    expect(readFileSync(libLog, 'utf8')).toContain(
      'bb-lib is up to date in the registry; pulling it',
    );
  });

  it('kbuild.lock pins the base: a drifted base is refused, a new lock rebuilds as base-moved', async () => {
    const base = `kbuild-lock-test/${tag}:1`;
    await sh('docker', ['tag', 'busybox:latest', base]);
    try {
      const b = ['--base-image', base];
      const locked = await kbuild(['lock', '-p', 'bb', ...b], project.dir);
      expect(locked.code).toBe(0);
      expect(locked.stdout).toMatch(
        new RegExp(`bb +${base.replace(/[/.:]/g, '\\$&')} +sha256:[0-9a-f]{64} +new`),
      );
      expect(count((await build('--tag', tag, ...b)).statuses, 'built')).toBe(6);
      // The base moves under the same tag.
      await sh('sh', [
        '-c',
        `printf 'FROM busybox:latest\\nRUN echo ${tag} > /moved\\n' | DOCKER_BUILDKIT=1 /usr/bin/docker build -q --network none -t ${base} -`,
      ]);
      const refused = await kbuild(['build', '-p', 'bb', '--tag', tag, ...b], project.dir);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`kbuild.lock: base image '${base}' is sha256:`);
      expect(refused.stderr).toContain('nothing was built');
      expect((await kbuild(['lock', '-p', 'bb', ...b], project.dir)).stdout).toContain('moved');
      const plan = await kbuild(['plan', '-p', 'bb', '--tag', tag, '--json', ...b], project.dir);
      const steps = (JSON.parse(plan.stdout) as { steps: { name: string; reason: string }[] })
        .steps;
      expect(steps.find((st) => st.name === 'bb-base')!.reason).toBe(`base-moved (${base})`);
      expect(count((await build('--tag', tag, ...b)).statuses, 'built')).toBe(6);
    } finally {
      await sh('docker', ['rmi', '-f', base]).catch(() => '');
    }
    // Three whole-family builds: more than the default limit on a loaded 2-core host.
  }, 180_000);
});
