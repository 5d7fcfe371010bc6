/**
 * `kbuild prune` for real, through the compiled bin: retention rules applied to a repository of
 * the registry on 127.0.0.1:5000 seeded with dated tags, and old local builds removed from
 * docker. Needs `scripts/setup-host.sh` (it fails, never skips).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient, sha256Digest } from '../src/adapters/registry/index.js';
import type { Digest } from '../src/core/model.js';
import {
  kbuild,
  projectCopy,
  randomTag,
  REGISTRY,
  removeImages,
  requireHost,
  sh,
} from './helpers/host.js';

const project = projectCopy('bb');
const ns = `kbuild-prune-${randomTag()}`;
const client = createRegistryClient();
const repository = `${ns}/bb-base`;
const at = <R extends string>(reference: R) => ({ registry: REGISTRY, repository, reference });

/** `YYYYMMDD` of `days` days before today (UTC). */
const daysAgo = (days: number) =>
  new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');

beforeAll(() => {
  requireHost();
  appendFileSync(
    join(project.dir, 'kbuild.yaml'),
    [
      'retention:',
      '  - tags: "master-*"',
      '    keep_days: 30',
      '  - tags: "/^v\\\\d+\\\\.\\\\d+\\\\.\\\\d+$/"',
      '    keep_newest: 2',
      '  - tags: "*"',
      '    keep_days: 7',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  const tags = await client.listTags(REGISTRY, repository);
  const digests = new Set<Digest>();
  for (const tag of tags.ok ? tags.value : []) {
    const h = await client.headManifest(at(tag));
    if (h.ok) digests.add(h.value.digest);
  }
  for (const d of digests) await client.deleteManifest(at(d));
  await removeImages((r) => r.includes(`${ns}/`) || r.includes(`${ns}-local/`));
  project.remove();
});

/** A copy of `base` whose config has one more label: a distinct manifest over the same layers. */
async function variant(
  base: { mediaType: string; body: Uint8Array },
  n: number,
  tags: string[],
): Promise<Digest> {
  const manifest = JSON.parse(new TextDecoder().decode(base.body)) as {
    config: { digest: Digest; size: number };
  };
  const got = await client.getBlob(REGISTRY, repository, manifest.config.digest);
  if (!got.ok) throw new Error(got.error.message);
  const config = JSON.parse(await new Response(got.value.stream).text()) as {
    config: { Labels?: Record<string, string> };
  };
  config.config.Labels = { ...config.config.Labels, 'io.kbuild.test.variant': String(n) };
  const bytes = new TextEncoder().encode(JSON.stringify(config));
  const digest = sha256Digest(bytes);
  const up = await client.uploadBlob(REGISTRY, repository, digest, new Response(bytes).body!);
  if (!up.ok) throw new Error(up.error.message);
  const body = new TextEncoder().encode(
    JSON.stringify({ ...manifest, config: { ...manifest.config, digest, size: bytes.length } }),
  );
  let stored: Digest | undefined;
  for (const tag of tags) {
    const put = await client.putManifest(at(tag), { mediaType: base.mediaType, body });
    if (!put.ok) throw new Error(put.error.message);
    stored = put.value.digest;
  }
  return stored!;
}

describe('kbuild prune --registry', () => {
  it('deletes exactly the tags the rules doom (by digest); every other tag still resolves', async () => {
    const seed = randomTag();
    const built = await kbuild(
      [
        'build',
        '-p',
        'bb',
        'bb-base',
        '--push',
        '--registry',
        REGISTRY,
        '--namespace',
        ns,
        '--tag',
        seed,
      ],
      project.dir,
    );
    if (built.code !== 0) throw new Error(`kbuild build failed:\n${built.stdout}\n${built.stderr}`);
    const base = await client.getManifest(at(seed));
    if (!base.ok) throw new Error(base.error.message);
    const pushed = await client.listTags(REGISTRY, repository);
    const fp = pushed.ok ? pushed.value.find((t) => t.startsWith('fp-')) : undefined;
    if (!fp) throw new Error(`no fp- tag pushed: ${JSON.stringify(pushed)}`);
    const oldFp = `fp-${'a'.repeat(24)}`;
    const layout: [string[], boolean][] = [
      [[`master-${daysAgo(2)}`], true], // 2 days < 30
      [[`master-${daysAgo(60)}`, oldFp], false], // the fp tag goes with its last tag
      [[`master-${daysAgo(90)}`], false],
      [['v1.0.0'], false], // not among the newest 2 versions
      [['v1.1.0'], true],
      [['v1.2.0', `pr-${daysAgo(20)}`], true], // the old pr tag shares a kept manifest
      [[`pr-${daysAgo(1)}`], true],
      [[`pr-${daysAgo(10)}`], false],
    ];
    const digestOf = new Map<string, Digest>([
      [seed, base.value.digest],
      [fp, base.value.digest],
    ]);
    for (const [i, [tags]] of layout.entries()) {
      const d = await variant(base.value, i, tags);
      for (const t of tags) digestOf.set(t, d);
    }
    const doomed = layout.filter(([, keep]) => !keep).flatMap(([tags]) => tags);
    const kept = [...digestOf.keys()].filter((t) => !doomed.includes(t));
    const args = ['prune', '--registry', REGISTRY, '-p', 'bb', 'bb-base', '--namespace', ns];

    const dry = await kbuild(args, project.dir);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      `\n5 tag(s) to delete (4 manifest(s)), 7 kept; nothing deleted: run with --yes to delete them\n`,
    );
    for (const t of doomed)
      expect(dry.stdout).toMatch(new RegExp(`^bb-base +${t} +sha256:\\w+ +delete `, 'm'));
    const before = await client.listTags(REGISTRY, repository);
    expect(before.ok && before.value.length).toBe(12);

    const real = await kbuild([...args, '--yes', '--json'], project.dir);
    expect(real.stderr).toBe('');
    expect(real.code).toBe(0);
    const json = JSON.parse(real.stdout) as {
      dryRun: boolean;
      registry: {
        repositories: {
          decisions: { tag: string; keep: boolean }[];
          deleted: string[];
          verified: number;
          unresolved: string[];
        }[];
      };
    };
    const repo = json.registry.repositories[0]!;
    expect(json.dryRun).toBe(false);
    expect(
      repo.decisions
        .filter((d) => !d.keep)
        .map((d) => d.tag)
        .sort(),
    ).toEqual([...doomed].sort());
    expect(repo.deleted.sort()).toEqual([...new Set(doomed.map((t) => digestOf.get(t)!))].sort());
    expect(repo.verified).toBe(7);
    expect(repo.unresolved).toEqual([]);

    const after = await client.listTags(REGISTRY, repository);
    expect(after.ok && after.value.sort()).toEqual([...kept].sort());
    for (const t of kept) {
      const h = await client.headManifest(at(t));
      expect([t, h.ok && h.value.digest]).toEqual([t, digestOf.get(t)]);
    }
    for (const t of doomed) {
      const h = await client.headManifest(at(t));
      expect([t, h.ok || h.error.reason]).toEqual([t, 'not-found']);
    }
  });
});

describe('kbuild prune --local', () => {
  const local = `${ns}-local`;
  const args = ['-p', 'bb', 'bb-base', '--namespace', local, '--tag', 'pl'];
  const inspect = async (ref: string) =>
    sh('docker', ['image', 'inspect', '--format', '{{.Id}} {{.Size}}', ref]).then(
      (out) => {
        const [id, size] = out.trim().split(' ');
        return { id: id!, size: Number(size) };
      },
      () => undefined,
    );

  it('removes the old builds, keeps the current one, and reports the space freed', async () => {
    // Three builds of bb-base, each with a context file of its own (a layer of its own).
    const builds: { id: string; size: number }[] = [];
    for (let i = 0; i < 3; i++) {
      writeFileSync(
        join(project.dir, 'images', 'bb-base', 'base.txt'),
        `build ${i}\n${'x'.repeat(200_000)}${i}\n`,
      );
      const r = await kbuild(['build', ...args], project.dir);
      if (r.code !== 0) throw new Error(`kbuild build failed:\n${r.stdout}\n${r.stderr}`);
      builds.push((await inspect(`${local}/bb-base:pl`))!);
    }
    expect(new Set(builds.map((b) => b.id)).size).toBe(3);

    const dry = await kbuild(['prune', '--local', ...args, '--keep', '1'], project.dir);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      /1 local image\(s\) to remove, 2 kept; would free up to .+; nothing removed: run with --yes to remove them/,
    );
    for (const b of builds) expect(await inspect(b.id)).toBeDefined();

    const real = await kbuild(
      ['prune', '--local', ...args, '--keep', '0', '--yes', '--json'],
      project.dir,
    );
    expect(real.stderr).toBe('');
    expect(real.code).toBe(0);
    const json = JSON.parse(real.stdout) as {
      local: { freedBytes: number; decisions: { id: string; keep: boolean; outcome?: string }[] };
    };
    expect(json.local.decisions.map((d) => [d.id, d.keep, d.outcome ?? null])).toEqual([
      [builds[2]!.id, true, null],
      [builds[1]!.id, false, 'removed'],
      [builds[0]!.id, false, 'removed'],
    ]);
    expect(json.local.freedBytes).toBe(builds[0]!.size + builds[1]!.size);
    expect(json.local.freedBytes).toBeGreaterThan(400_000);
    expect(await inspect(builds[0]!.id)).toBeUndefined();
    expect(await inspect(builds[1]!.id)).toBeUndefined();
    expect((await inspect(`${local}/bb-base:pl`))?.id).toBe(builds[2]!.id);

    // What is left is current: nothing more to remove, and the plan says the image is fresh.
    const again = await kbuild(['prune', '--local', ...args, '--keep', '0'], project.dir);
    expect(again.stdout).toContain('0 local image(s) to remove, 1 kept');
    const plan = await kbuild(['plan', ...args], project.dir);
    expect(plan.stdout).toMatch(/^1 +bb-base +fresh/m);
  });
});
