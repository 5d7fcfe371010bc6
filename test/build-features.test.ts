/**
 * build_features: what templates are told about the build path (issue 14, item 2). The value per
 * build path, that it reaches the render context and the fingerprint, and the shipped apt macro in
 * both forms: BuildKit cache mounts for apt's lists and archives, today's commands without them.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFeaturesOf } from '../src/cli/build-features.js';
import { loadProfileFamily, loadWorkspace } from '../src/cli/load.js';
import { NO_ENGINE, type BuildFeatures } from '../src/core/family.js';
import { imageName } from '../src/core/model.js';
import { fingerprintFamily } from '../src/core/plan/freshness.js';
import type { BuildPath, EngineInfo } from '../src/run/ports.js';
import { fixture } from './helpers/run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'kbuild-features-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const io = (cwd: string) => ({ out: () => undefined, err: () => undefined, cwd, env: {} });
const info = (buildPath: BuildPath): EngineInfo => ({
  kind: buildPath === 'buildah' ? 'podman' : 'docker',
  client: 'x',
  clientVersion: '1',
  serverVersion: '1',
  buildPath,
  platform: 'linux/amd64',
});

/** Every image's rendered Dockerfile of `profile` in the project at `dir`, rendered with `features`. */
async function rendered(dir: string, profile: string, features?: BuildFeatures) {
  const ws = await loadWorkspace(io(dir), { project: dir, templateOverride: [] });
  if (!ws.ok) throw new Error(JSON.stringify(ws.failures));
  const opts = {
    var: [],
    buildArg: [],
    templateOverride: [],
    ...(features ? { buildFeatures: features } : {}),
  };
  const fam = loadProfileFamily(io(dir), ws.value, opts, profile);
  if (!fam.ok) throw new Error(JSON.stringify(fam.failures));
  return fam.value;
}

describe('build_features', () => {
  it('says cache mounts exist on BuildKit (buildx, built into the client) and not elsewhere', () => {
    expect(buildFeaturesOf(info('buildkit'))).toEqual({ cacheMounts: true, buildPath: 'buildkit' });
    expect(buildFeaturesOf(info('buildx'))).toEqual({ cacheMounts: true, buildPath: 'buildx' });
    expect(buildFeaturesOf(info('legacy'))).toEqual({ cacheMounts: false, buildPath: 'legacy' });
    expect(buildFeaturesOf(info('buildah'))).toEqual({ cacheMounts: false, buildPath: 'buildah' });
    expect(NO_ENGINE).toEqual({ cacheMounts: false, buildPath: 'none' });
  });

  it('reaches every template per build path, and what a template makes of it is in the fingerprint', async () => {
    const dir = join(work, 'p');
    mkdirSync(join(dir, 'images', 'a'), { recursive: true });
    mkdirSync(join(dir, 'profiles'));
    writeFileSync(join(dir, 'kbuild.yaml'), 'namespace: t\n');
    writeFileSync(
      join(dir, 'profiles', 'p.yaml'),
      'distro: debian\ndistro_tag: bookworm\nbase_image: debian:bookworm\ninstall_type: binary\npackage_manager: apt\n',
    );
    writeFileSync(
      join(dir, 'images', 'a', 'Dockerfile.j2'),
      'FROM {{ base_image }}\nRUN echo {{ build_features.build_path }} {{ "mounts" if build_features.cache_mounts else "plain" }}\n',
    );
    const a = imageName('a');
    const lines = new Map<string, string>();
    const fps = new Map<string, string>();
    for (const path of ['buildkit', 'buildx', 'legacy', 'buildah', undefined] as const) {
      const fam = await rendered(dir, 'p', path ? buildFeaturesOf(info(path)) : undefined);
      const key = path ?? 'no engine';
      lines.set(key, fam.images.get(a)!.dockerfile.split('\n')[1]!);
      const fp = fingerprintFamily(fam, new Set([a]), {
        contexts: new Map(),
        bases: new Map(),
        engine: 'docker',
        labels: () => ({}),
      });
      fps.set(key, fp.get(a)!.fingerprint);
    }
    expect(Object.fromEntries(lines)).toEqual({
      buildkit: 'RUN echo buildkit mounts',
      buildx: 'RUN echo buildx mounts',
      legacy: 'RUN echo legacy plain',
      buildah: 'RUN echo buildah plain',
      'no engine': 'RUN echo none plain',
    });
    expect(new Set(fps.values()).size).toBe(5);
  });

  describe('the shipped apt macro (install_packages)', () => {
    const root = fixture('../..');
    const dockerfile = async (image: string, features: BuildFeatures) =>
      (await rendered(root, 'debian-binary', features)).images.get(imageName(image))!.dockerfile;
    const apt = (text: string) =>
      text
        .split('\n\n')
        .find((b) => /apt-get install/.test(b))!
        .trim();

    it('uses cache mounts for the lists and archives where the build path has them', async () => {
      const step = apt(await dockerfile('memcached', buildFeaturesOf(info('buildkit'))));
      expect(step).toBe(
        [
          'RUN --mount=type=cache,id=kbuild-apt-archives-debian-bookworm,target=/var/cache/apt,sharing=locked \\',
          '    --mount=type=cache,id=kbuild-apt-lists-debian-bookworm,target=/var/lib/apt/lists,sharing=locked \\',
          '    if [ -f /etc/apt/apt.conf.d/docker-clean ]; then mv /etc/apt/apt.conf.d/docker-clean /etc/apt/docker-clean.kbuild; fi \\',
          '    && apt-get update -o APT::Get::List-Cleanup=false \\',
          '    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o APT::Keep-Downloaded-Packages=true memcached \\',
          '    && if [ -f /etc/apt/docker-clean.kbuild ]; then mv /etc/apt/docker-clean.kbuild /etc/apt/apt.conf.d/docker-clean; fi',
        ].join('\n'),
      );
      // base upgrades in the same step; mariadb's post_install runs inside it.
      const base = apt(await dockerfile('base', buildFeaturesOf(info('buildx'))));
      expect(base).toMatch(
        /&& apt-get update -o APT::Get::List-Cleanup=false \\\n {4}&& DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -o APT::Keep-Downloaded-Packages=true \\\n/,
      );
      expect(base).not.toMatch(/apt-get clean|rm -rf \/var\/lib\/apt\/lists/);
      const mariadb = apt(await dockerfile('mariadb', buildFeaturesOf(info('buildkit'))));
      expect(mariadb).toMatch(/mariadb-server \\\n {4}&& rm -rf \/var\/lib\/mysql \\\n/);
      expect(mariadb).toMatch(/sharing=locked/);
    });

    it("renders today's commands without cache mounts (legacy builder, buildah, no engine)", async () => {
      for (const features of [
        buildFeaturesOf(info('legacy')),
        buildFeaturesOf(info('buildah')),
        NO_ENGINE,
      ]) {
        const text = await dockerfile('memcached', features);
        expect(text).not.toContain('--mount');
        expect(apt(text)).toBe(
          [
            'RUN apt-get update \\',
            '    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends memcached \\',
            '    && apt-get clean \\',
            '    && rm -rf /var/lib/apt/lists/*',
          ].join('\n'),
        );
      }
    });

    it('renders every image of every shipped profile in both forms', async () => {
      for (const profile of ['debian-binary', 'debian-source', 'ubuntu-binary', 'ubuntu-source']) {
        const mounted = await rendered(root, profile, buildFeaturesOf(info('buildkit')));
        const plain = await rendered(root, profile, buildFeaturesOf(info('legacy')));
        let withMounts = 0;
        for (const [name, img] of mounted.images) {
          const other = plain.images.get(name)!;
          expect(img.parents).toEqual(other.parents);
          if (img.dockerfile.includes('--mount=type=cache')) withMounts++;
          expect(other.dockerfile).not.toContain('--mount=type=cache');
        }
        expect(withMounts).toBeGreaterThan(15);
      }
    });
  });
});
