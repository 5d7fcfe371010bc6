/**
 * Multi-platform builds on the real engine: a two-level busybox family built for linux/amd64 and
 * linux/arm64 (RUN steps of arm64 under qemu), each image's platforms under one manifest list, the
 * arm64 child built on its arm64 parent; and per-platform tags with --arch-tags.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
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
  sh,
} from './helpers/host.js';

const project = projectCopy('bb');
const tag = randomTag();
const IMAGES = ['bb-base', 'bb-lib'];

async function build(...extra: string[]) {
  const file = join(project.dir, `summary-${randomTag()}.json`);
  const r = await kbuild(
    [
      'build',
      '-p',
      'bb-multi',
      '--push',
      '--registry',
      REGISTRY,
      '-q',
      '--summary-json',
      file,
    ].concat([...extra, 'bb-lib']),
    project.dir,
  );
  const summary = readSummary(file) as unknown as {
    ok: boolean;
    platforms: (ReturnType<typeof readSummary> & { platform: string })[];
    manifests: { published: boolean; images: { name: string; status: string; digest?: string }[] };
  };
  return { ...r, summary };
}

/** The platforms the manifest list under repo:tag names (os/arch). */
async function listed(repo: string, t: string): Promise<string[]> {
  const r = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${t}`, {
    headers: {
      Accept:
        'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json',
    },
  });
  const body = (await r.json()) as {
    manifests?: { platform: { os: string; architecture: string } }[];
  };
  return (body.manifests ?? []).map((m) => `${m.platform.os}/${m.platform.architecture}`).sort();
}

// The 20.10 client: the 28.x one at /usr/local/bin asks a 20.10 daemon to pull for --platform.
const run = (image: string, platform: string, ...cmd: string[]) =>
  sh('/usr/bin/docker', [
    'run',
    '--rm',
    '--network',
    'none',
    '--platform',
    platform,
    image,
    ...cmd,
  ]);

beforeAll(() => {
  requireHost();
  // A family whose external base is the registry's multi-platform busybox (setup-host makes it).
  writeFileSync(
    join(project.dir, 'profiles', 'bb-multi.yaml'),
    `extends: bb\nbase_image: ${REGISTRY}/kbuild-bases/busybox:latest\nplatforms: [linux/amd64, linux/arm64]\n`,
  );
  for (const image of IMAGES) {
    appendFileSync(
      join(project.dir, 'images', image, 'Dockerfile.j2'),
      `\nRUN uname -m > /etc/arch-{{ image_name }}\n`,
    );
  }
});
afterAll(async () => {
  await removeImages((r) => r.startsWith('kbuild-test/') && r.includes(`:${tag}`));
  project.remove();
});

describe('multi-platform builds', () => {
  it('publishes one manifest list per image, and the arm64 child holds its arm64 parent', async () => {
    const r = await build('--tag', tag);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summary.platforms.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    for (const p of r.summary.platforms) {
      expect(Object.values(byName(p)).map((i) => i.status)).toEqual(['pushed', 'pushed']);
    }
    expect(r.summary.manifests.published).toBe(true);
    for (const image of IMAGES)
      expect(await listed(`kbuild-test/${image}`, tag)).toEqual(['linux/amd64', 'linux/arm64']);
    // Built at build time, under qemu for arm64: the child's parent layer is the arm64 one.
    expect(
      await run(
        `kbuild-test/bb-lib:${tag}-arm64`,
        'linux/arm64',
        'cat',
        '/etc/arch-bb-base',
        '/etc/arch-bb-lib',
      ),
    ).toBe('aarch64\naarch64\n');
    expect(
      await run(
        `kbuild-test/bb-lib:${tag}-amd64`,
        'linux/amd64',
        'cat',
        '/etc/arch-bb-base',
        '/etc/arch-bb-lib',
      ),
    ).toBe('x86_64\nx86_64\n');
    expect(r.stdout).toMatch(
      /bb-lib\s+published\s+linux\/amd64 linux\/arm64\s+kbuild-test\/bb-lib:/,
    );
  });

  it('builds nothing again when nothing changed, and the lists stay the same', async () => {
    const before = await registryDigest(REGISTRY, 'kbuild-test/bb-lib', tag);
    const r = await build('--tag', tag);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const p of r.summary.platforms)
      for (const i of p.images) expect(i.status, `${p.platform} ${i.name}`).not.toBe('built');
    expect(await registryDigest(REGISTRY, 'kbuild-test/bb-lib', tag)).toBe(before);
  });

  it('--arch-tags publishes <tag>-<arch> tags instead of a list', async () => {
    const t2 = `${tag}-x`;
    const r = await build('--tag', t2, '--arch-tags');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const image of IMAGES) {
      expect(await registryDigest(REGISTRY, `kbuild-test/${image}`, `${t2}-amd64`)).toMatch(
        /^sha256:/,
      );
      expect(await registryDigest(REGISTRY, `kbuild-test/${image}`, `${t2}-arm64`)).toMatch(
        /^sha256:/,
      );
      expect(await registryDigest(REGISTRY, `kbuild-test/${image}`, t2)).toBeNull();
    }
  });
});
