/**
 * The shipped apt macro with BuildKit cache mounts (issue 14, item 2), on the real engine against
 * a loopback apt repository that records every request: a two-image family installing one package
 * each with the shipped `install_packages` fetches the repository's index once per run and each
 * package once per host, and nothing of the cache lands in the images.
 *
 *     apt-root (FROM debian:bookworm; only the loopback repository; kbt-alpha)
 *     └── apt-child (kbt-beta)
 *
 * The profile's distro_tag is unique to the run: the macro names its cache mounts after the
 * release (kbuild-apt-lists-<distro>-<distro_tag>), so this test starts from empty caches whatever
 * the engine built before.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAptRepo, type AptRepo } from './helpers/apt-repo.js';
import { fixture } from './helpers/run-cli.js';
import { kbuild, randomTag, readSummary, removeImages, requireHost, sh } from './helpers/host.js';

const dir = mkdtempSync(join(tmpdir(), 'kbuild-aptcache-'));
const namespace = `kbuild-aptcache-${randomTag()}`;
const release = `cachetest${randomTag()}`;
let repo: AptRepo;

function writeProject(sourcesLine: string): void {
  const file = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  file('kbuild.yaml', `namespace: ${namespace}\ntag: "{{ profile }}"\nmaintainer: kbuild tests\n`);
  file(
    'profiles/p.yaml',
    [
      'distro: debian',
      `distro_tag: ${release}`,
      'base_image: debian:bookworm',
      'package_manager: apt',
      'install_type: binary',
      'network: host',
      '',
    ].join('\n'),
  );
  mkdirSync(join(dir, 'images'), { recursive: true });
  copyFileSync(fixture('../../images/macros.j2'), join(dir, 'images', 'macros.j2'));
  file('images/apt-root/seed', 'first\n');
  file(
    'images/apt-root/Dockerfile.j2',
    [
      'FROM {{ base_image }}',
      '{% import "macros.j2" as macros with context %}',
      'RUN rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* \\',
      ` && echo "${sourcesLine}" > /etc/apt/sources.list.d/kbt.list`,
      '# Changed between runs: every layer below it is built again.',
      'COPY seed /etc/kbt-seed',
      "{{ macros.install_packages(['kbt-alpha']) }}",
      '',
    ].join('\n'),
  );
  file(
    'images/apt-child/Dockerfile.j2',
    [
      "FROM {{ image_ref('apt-root') }}",
      '{% import "macros.j2" as macros with context %}',
      "{{ macros.install_packages(['kbt-beta']) }}",
      '',
    ].join('\n'),
  );
}

beforeAll(async () => {
  requireHost();
  repo = await startAptRepo([
    { name: 'kbt-alpha', version: '1.0' },
    { name: 'kbt-beta', version: '1.0' },
  ]);
  writeProject(repo.sourcesLine);
});
afterAll(async () => {
  await repo?.close();
  await removeImages((r) => r.startsWith(`${namespace}/`));
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** One `kbuild build` with BuildKit; each image's status and its log. */
async function build(...extra: string[]) {
  const summary = join(dir, `run-${n++}.json`);
  const r = await kbuild(
    ['build', '-p', 'p', '-j', '1', '--summary-json', summary, '-q', ...extra],
    dir,
    undefined,
    { DOCKER_BUILDKIT: '1' },
  );
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const s = readSummary(summary);
  const runs = readdirSync(join(dir, '.kbuild/logs')).sort();
  const log = (image: string) =>
    readFileSync(join(dir, '.kbuild/logs', runs.at(-1)!, `${image}.log`), 'utf8');
  return { statuses: Object.fromEntries(s.images.map((i) => [i.name, i.status])), log };
}

const fetched = (re: RegExp) => repo.requests.filter((r) => r.startsWith('GET ') && re.test(r));
const indexFetches = () => fetched(/\/Packages(\.gz|\.xz)?$/).length;
const debFetches = (pkg: string) => fetched(new RegExp(`/${pkg}_[^/]*\\.deb$`)).length;
/** `Get:` lines of the repository's index in an image's log. */
const indexGets = (log: string) =>
  log.split('\n').filter((l) => /Get:\d+ \S+ \.\/ Packages|Get:\d+ \S+\s+Packages/.test(l)).length;

describe('apt with BuildKit cache mounts (the shipped install_packages)', () => {
  it('fetches the index once per run and each package once, across images and runs', async () => {
    const first = await build();
    expect(first.statuses).toEqual({ 'apt-root': 'built', 'apt-child': 'built' });
    expect(first.log('apt-root')).toContain('--mount=type=cache');
    expect(first.log('apt-child')).toContain('--mount=type=cache');
    // The root's apt-get update fetched the index; the child's found it fresh.
    expect(indexFetches()).toBe(1);
    expect(indexGets(first.log('apt-root'))).toBe(1);
    expect(indexGets(first.log('apt-child'))).toBe(0);
    expect([debFetches('kbt-alpha'), debFetches('kbt-beta')]).toEqual([1, 1]);

    // Every apt step again (a file above them changed; not --no-cache: BuildKit's --no-cache drops
    // cache mounts too): the packages come from the host's cache, the index is still fresh.
    writeFileSync(join(dir, 'images/apt-root/seed'), 'second\n');
    const again = await build();
    expect(again.statuses).toEqual({ 'apt-root': 'built', 'apt-child': 'built' });
    expect(indexFetches()).toBe(1);
    expect(indexGets(again.log('apt-root')) + indexGets(again.log('apt-child'))).toBe(0);
    expect([debFetches('kbt-alpha'), debFetches('kbt-beta')]).toEqual([1, 1]);
  });

  it('leaves nothing of the cache in the images, and keeps their apt configuration', async () => {
    const inside = await sh('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'sh',
      `${namespace}/apt-child:p`,
      '-c',
      'cat /usr/share/kbt/kbt-alpha.version /usr/share/kbt/kbt-beta.version; ' +
        'echo files: $(find /var/lib/apt/lists /var/cache/apt -type f | wc -l); ' +
        'ls /etc/apt/apt.conf.d; ls /etc/apt',
    ]);
    expect(inside).toContain('1.0\n1.0\n');
    expect(inside).toContain('files: 0');
    // debian:bookworm's docker-clean, set aside during the install, is back; nothing left over.
    const base = await sh('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      'debian:bookworm',
      'ls',
      '/etc/apt/apt.conf.d',
    ]);
    for (const f of base.split('\n').filter(Boolean)) expect(inside).toContain(f);
    expect(inside).not.toContain('docker-clean.kbuild');
  });
});
