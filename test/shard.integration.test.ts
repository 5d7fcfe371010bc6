/**
 * CI fan-out on one machine: two Docker engines (two dockerd, their own data roots and sockets)
 * share the loopback registry; `kbuild build --shard 1/2` and `--shard 2/2` run at once, each on
 * its engine, and together build the family once, with no image built twice.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  byName,
  kbuild,
  projectCopy,
  randomTag,
  readSummary,
  REGISTRY,
  registryDigest,
  removeImages,
  requireHost,
  sh,
} from './helpers/host.js';
import { startSecondDockerd, type SecondEngine } from './helpers/second-dockerd.js';

const project = projectCopy('bb');
const tag = randomTag();
const IMAGES = ['bb-base', 'bb-lib', 'bb-tools', 'bb-app1', 'bb-app2', 'bb-app3'];
let second: SecondEngine;

/** One shard as its own process, on the engine `dockerHost` names (default: the first). */
function shard(spec: string, dockerHost?: string, ...extra: string[]) {
  const file = join(project.dir, `summary-${spec.replace('/', 'of')}-${randomTag()}.json`);
  const args = ['build', '-p', 'bb', '--tag', tag, '--push', '--registry', REGISTRY, '-q'].concat([
    '--shard',
    spec,
    '--summary-json',
    file,
    ...extra,
  ]);
  return new Promise<{ code: number | null; out: string; images: ReturnType<typeof byName> }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: project.dir,
        env: { ...process.env, CI: 'true', ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}) },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out, images: byName(readSummary(file)) }));
    },
  );
}

beforeAll(async () => {
  requireHost();
  second = await startSecondDockerd(['busybox:latest']);
}, 120_000);
afterAll(async () => {
  await second?.stop();
  await removeImages((r) => r.includes('kbuild-test/') && r.endsWith(`:${tag}`));
  project.remove();
});

describe('scale-out across engines', () => {
  it('splits the selection into disjoint shares along subtrees (plan --format matrix)', async () => {
    const r = await kbuild(
      ['plan', '-p', 'bb', '--format', 'matrix', '--shards', '2'],
      project.dir,
    );
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as { include: { shard: string; images: string }[] };
    expect(m.include.map((i) => i.shard)).toEqual(['1/2', '2/2']);
    const all = m.include.flatMap((i) => i.images.split(' '));
    expect([...all].sort()).toEqual([...IMAGES].sort());
  });

  it('two shards on two engines build every image exactly once, parents crossing through the registry', async () => {
    const [a, b] = await Promise.all([shard('1/2'), shard('2/2', second.dockerHost)]);
    expect(a.code, a.out).toBe(0);
    expect(b.code, b.out).toBe(0);
    const builtBy = Object.fromEntries(
      IMAGES.map((n) => [
        n,
        [a, b].filter((s) => s.images[n]?.status === 'pushed').map((s) => (s === a ? 'a' : 'b')),
      ]),
    );
    for (const n of IMAGES) expect(builtBy[n], n).toHaveLength(1);
    // Share b really built on the second engine.
    const onSecond = await sh('/usr/bin/docker', [
      '-H',
      second.dockerHost,
      'images',
      '--format',
      '{{.Repository}}:{{.Tag}}',
    ]);
    const byB = IMAGES.filter((n) => builtBy[n]![0] === 'b');
    expect(byB.length).toBeGreaterThan(0);
    for (const n of byB) expect(onSecond).toContain(`kbuild-test/${n}:${tag}`);
    // What one share took from the other is reported as such.
    const waited = [a, b].flatMap((s) =>
      Object.values(s.images).filter((i) => i.message?.startsWith('built by shard')),
    );
    expect(waited.length).toBeGreaterThan(0);
    for (const n of IMAGES)
      expect(await registryDigest(REGISTRY, `kbuild-test/${n}`, tag), n).toMatch(/^sha256:/);
  });

  it('a share whose parent never reaches the registry fails after --shard-wait, naming who builds it', async () => {
    const lonely = `${tag}-lonely`;
    const file = join(project.dir, 'lonely.json');
    // The share without the root image needs it from the other one (the split follows the
    // durations the state now holds, so ask for it).
    const plan = await kbuild(
      ['plan', '-p', 'bb', '--format', 'matrix', '--shards', '2'],
      project.dir,
    );
    const shares = (JSON.parse(plan.stdout) as { include: { shard: string; images: string }[] })
      .include;
    const needy = shares.find((sh) => !sh.images.split(' ').includes('bb-base'))!;
    const owner = shares.find((sh) => sh !== needy)!.shard;
    const r = await kbuild(
      ['build', '-p', 'bb', '--tag', lonely, '--push', '--registry', REGISTRY, '-q'].concat([
        '--shard',
        needy.shard,
        '--shard-wait',
        '2',
        '--summary-json',
        file,
        // New fingerprints: nothing of this family is in the registry yet.
        '--build-arg',
        `UNIQUE=${lonely}`,
      ]),
      project.dir,
    );
    expect(r.code).toBe(1);
    const failed = readSummary(file).images.filter((i) => i.reason === 'shard-wait');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.message).toContain(
      `did not reach the registry within 2 s (shard ${owner} builds it`,
    );
  });
});
