/**
 * Package inventories on the real engine: a two-image family on debian:bookworm (no network: the
 * child installs a tiny .deb made here with dpkg-deb), built through the compiled bin. The state
 * must hold each image's dpkg inventory, `kbuild explain` must show the packages the child added,
 * and `--sbom-dir` must write CycloneDX documents the official schema accepts, the same bytes on a
 * run that builds nothing. A build that needs no packages (no update check, no --sbom-dir) reads
 * none, and `kbuild explain` then reads them from the image. Needs `scripts/setup-host.sh` (it
 * fails, never skips, without).
 *
 *     inv-base (FROM debian:bookworm, a file copied) ── inv-child (dpkg -i kbt-inv 1:1.0-1+kb)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycloneDxBom } from '../src/core/packages/sbom.js';
import type { StateFile } from '../src/run/ports.js';
import { cycloneDxErrors } from './helpers/cyclonedx.js';
import { kbuild, randomTag, readSummary, removeImages, requireHost } from './helpers/host.js';

const dir = mkdtempSync(join(tmpdir(), 'kbuild-inventory-'));
const namespace = `kbuild-inv-${randomTag()}`;
const tag = randomTag();
const VERSION = '1:1.0-1+kb';

function file(path: string, text: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
}

/** The project, and a .deb for the child to install (dpkg-deb -b of a control file and one file). */
function writeProject(): void {
  file('kbuild.yaml', `namespace: ${namespace}\ntag: ${tag}\nmaintainer: kbuild tests\n`);
  file(
    'profiles/deb.yaml',
    'distro: debian\ndistro_tag: bookworm\nbase_image: debian:bookworm\npackage_manager: apt\ninstall_type: binary\nnetwork: none\n',
  );
  file(
    'images/inv-base/Dockerfile.j2',
    'FROM {{ base_image }}\nCOPY note.txt /etc/kbuild-inv-note.txt\n',
  );
  file('images/inv-base/note.txt', `${namespace}\n`);
  file(
    'images/inv-child/Dockerfile.j2',
    "FROM {{ image_ref('inv-base') }}\nCOPY kbt-inv.deb /tmp/kbt-inv.deb\nRUN dpkg -i /tmp/kbt-inv.deb && rm /tmp/kbt-inv.deb\n",
  );
  const pkg = join(dir, 'deb-src');
  mkdirSync(join(pkg, 'DEBIAN'), { recursive: true });
  mkdirSync(join(pkg, 'usr/share/kbt-inv'), { recursive: true });
  writeFileSync(join(pkg, 'usr/share/kbt-inv/hello'), 'hello\n');
  writeFileSync(
    join(pkg, 'DEBIAN/control'),
    `Package: kbt-inv\nVersion: ${VERSION}\nArchitecture: all\nMaintainer: kbuild tests <t@kbuild.test>\nDescription: a package of kbuild's inventory test\n`,
  );
  execFileSync(
    'dpkg-deb',
    ['--root-owner-group', '-b', pkg, join(dir, 'images/inv-child/kbt-inv.deb')],
    {
      stdio: 'ignore',
    },
  );
}

const state = () =>
  JSON.parse(readFileSync(join(dir, '.kbuild/state/deb.json'), 'utf8')) as StateFile;
const sbom = (image: string) =>
  JSON.parse(readFileSync(join(dir, 'sboms', `${image}.cdx.json`), 'utf8')) as CycloneDxBom;
const version = (image: string, name: string) =>
  state().images[image]?.packages?.packages.find((p) => p.name === name)?.version;

beforeAll(() => {
  requireHost();
  writeProject();
});
afterAll(async () => {
  await removeImages((ref) => ref.startsWith(`${namespace}/`));
  rmSync(dir, { recursive: true, force: true });
});

describe('package inventories with docker', () => {
  let built: ReturnType<typeof readSummary>;

  it('reads each built image’s dpkg inventory into the state and says it in the image’s log', async () => {
    const r = await kbuild(
      ['build', '-p', 'deb', '--sbom-dir', 'sboms', '--summary-json', 'summary.json'],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    built = readSummary(join(dir, 'summary.json'));
    expect(built.images.map((i) => [i.name, i.status])).toEqual([
      ['inv-base', 'built'],
      ['inv-child', 'built'],
    ]);
    const base = state().images['inv-base']!.packages!;
    expect(base).toMatchObject({ manager: 'dpkg', distro: 'debian', distroVersion: '12' });
    expect(base.config).toMatch(/^[0-9a-f]{64}$/);
    expect(version('inv-base', 'apt')).toMatch(/^2\.6\./);
    expect(version('inv-base', 'base-files')).toMatch(/^12\./);
    expect(version('inv-base', 'kbt-inv')).toBeUndefined();
    expect(version('inv-child', 'kbt-inv')).toBe(VERSION);
    const count = base.packages.length;
    expect(count).toBeGreaterThan(50);
    const logOf = (n: string) => readFileSync(built.images.find((i) => i.name === n)!.log!, 'utf8');
    expect(logOf('inv-base')).toContain(
      `kbuild: packages: ${count} (dpkg, debian 12), ${count} added by this image\n`,
    );
    expect(logOf('inv-child')).toContain(
      `kbuild: packages: ${count + 1} (dpkg, debian 12), 1 added by this image\n`,
    );
    // The script's own lines stay out of the log.
    expect(logOf('inv-child')).not.toMatch(/^KBI\t/m);
  });

  it('kbuild explain shows the packages the child added, and a root image’s own', async () => {
    const child = await kbuild(['explain', 'inv-child', '-p', 'deb'], dir);
    expect(child.code).toBe(0);
    expect(child.stdout).toMatch(
      /^Packages: \d+ installed \(dpkg, debian 12\); 1 added or changed by this image \(relative to inv-base\):\n {2}PACKAGE +VERSION +ARCH\n {2}kbt-inv +1:1\.0-1\+kb +all\n/m,
    );
    const base = await kbuild(['explain', 'inv-base', '-p', 'deb', '--json'], dir);
    expect(base.code).toBe(0);
    const e = JSON.parse(base.stdout) as {
      packages: { known: boolean; added: { name: string }[] };
    };
    expect(e.packages.known).toBe(true);
    expect(e.packages.added.map((p) => p.name)).toEqual(
      expect.arrayContaining(['apt', 'base-files', 'dpkg']),
    );
  });

  it('--sbom-dir writes one valid CycloneDX 1.5 document per image, the same bytes when nothing is rebuilt', async () => {
    for (const image of ['inv-base', 'inv-child']) {
      const doc = sbom(image);
      expect(cycloneDxErrors(doc)).toEqual([]);
      expect(doc.metadata.component).toMatchObject({
        type: 'container',
        name: `${namespace}/${image}`,
        version: tag,
      });
      expect(doc.components.length).toBe(state().images[image]!.packages!.packages.length);
    }
    const purls = sbom('inv-child').components.map((c) => c.purl);
    expect(purls).toContain(
      `pkg:deb/debian/apt@${version('inv-child', 'apt')}?arch=amd64&distro=debian-12`,
    );
    expect(purls).toContain('pkg:deb/debian/kbt-inv@1%3A1.0-1%2Bkb?arch=all&distro=debian-12');
    const before = readFileSync(join(dir, 'sboms/inv-child.cdx.json'), 'utf8');
    const again = await kbuild(
      ['build', '-p', 'deb', '--sbom-dir', 'sboms', '--summary-json', 'summary2.json'],
      dir,
    );
    expect(again.code).toBe(0);
    const s = readSummary(join(dir, 'summary2.json'));
    expect(s.images.map((i) => i.status)).toEqual(['fresh', 'fresh']);
    expect(readFileSync(join(dir, 'sboms/inv-child.cdx.json'), 'utf8')).toBe(before);
  });

  it('a build that needs no packages reads none (no container after the build); explain reads them then', async () => {
    file('images/inv-child/extra.txt', 'changed\n');
    const r = await kbuild(['build', '-p', 'deb', '--summary-json', 'summary3.json'], dir);
    expect(r.code).toBe(0);
    const s = readSummary(join(dir, 'summary3.json'));
    expect(s.images.map((i) => i.status)).toEqual(['fresh', 'built']);
    expect(state().images['inv-child']!.packages).toBeUndefined();
    const log = readFileSync(s.images.find((i) => i.name === 'inv-child')!.log!, 'utf8');
    expect(log).not.toContain('kbuild: packages:');
    const child = await kbuild(['explain', 'inv-child', '-p', 'deb'], dir);
    expect(child.code).toBe(0);
    expect(child.stdout).toMatch(
      /^Packages: \d+ installed \(dpkg, debian 12\); 1 added or changed by this image \(relative to inv-base\):\n {2}PACKAGE +VERSION +ARCH\n {2}kbt-inv +1:1\.0-1\+kb +all\n/m,
    );
  });
});
