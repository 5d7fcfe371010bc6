/**
 * The update check on the real engine, against a real apt repository on loopback (no mocks):
 * tiny .deb packages served as a flat repository, a family of four Debian images installing
 * different ones, then new versions published. `plan --check-updates` must rebuild exactly the
 * images that installed an updated package and their descendants, `build --check-updates` must put
 * the new version inside them, and a repository that went away must give `check-failed`.
 *
 *     pkg-root (FROM debian:bookworm; only the loopback repository; kbt-alpha, apt-get upgrade)
 *     ├── pkg-beta (kbt-beta)
 *     │   └── pkg-delta (kbt-delta, which depends on kbt-beta)
 *     └── pkg-gamma (kbt-gamma, which depends on kbt-alpha)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAptRepo, type AptRepo } from './helpers/apt-repo.js';
import {
  kbuild,
  randomTag,
  readSummary,
  removeImages,
  requireHost,
  sh,
  type CliRun,
} from './helpers/host.js';

const dir = mkdtempSync(join(tmpdir(), 'kbuild-pkgs-'));
const namespace = `kbuild-pkgs-${randomTag()}`;
const tag = randomTag();
const P = ['-p', 'pkgs', '--tag', tag];
const IMAGES = ['pkg-root', 'pkg-beta', 'pkg-gamma', 'pkg-delta'];
let repo: AptRepo;

/** One step of `plan --json`, as far as this test reads it. */
interface Step {
  name: string;
  action: string;
  reason: string;
  packages?: {
    status: string;
    updates?: { name: string; from: string; to: string }[];
    reason?: string;
  };
}

/**
 * The project, written once the repository has its port: the sources line is part of the rendered
 * root Dockerfile, so of every fingerprint, and must not change during the test.
 */
function writeProject(sourcesLine: string): void {
  const file = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  file('kbuild.yaml', `namespace: ${namespace}\ntag: "{{ profile }}"\nmaintainer: kbuild tests\n`);
  file(
    'profiles/pkgs.yaml',
    [
      'distro: debian',
      'distro_tag: bookworm',
      'base_image: debian:bookworm',
      'package_manager: apt',
      'install_type: binary',
      '# RUN steps reach the loopback repository through the host network.',
      'network: host',
      'vars:',
      `  kbt_sources: "${sourcesLine}"`,
      '',
    ].join('\n'),
  );
  // Only the loopback repository: nothing reaches deb.debian.org, so every candidate apt knows
  // of for bookworm's own packages is the installed version.
  file(
    'images/pkg-root/Dockerfile.j2',
    [
      'FROM {{ base_image }}',
      'ENV DEBIAN_FRONTEND=noninteractive',
      'RUN rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* \\',
      ' && echo "{{ kbt_sources }}" > /etc/apt/sources.list.d/kbt.list \\',
      ' && apt-get update && apt-get install -y kbt-alpha && apt-get upgrade -y',
      '',
    ].join('\n'),
  );
  for (const [image, parent, pkg] of [
    ['pkg-beta', 'pkg-root', 'kbt-beta'],
    ['pkg-gamma', 'pkg-root', 'kbt-gamma'],
    ['pkg-delta', 'pkg-beta', 'kbt-delta'],
  ] as const)
    file(
      `images/${image}/Dockerfile.j2`,
      `FROM {{ image_ref('${parent}') }}\nRUN apt-get update && apt-get install -y ${pkg}\n`,
    );
}

beforeAll(async () => {
  requireHost();
  repo = await startAptRepo([
    { name: 'kbt-alpha', version: '1.0' },
    { name: 'kbt-beta', version: '1.0' },
    { name: 'kbt-gamma', version: '1.0', depends: 'kbt-alpha' },
    { name: 'kbt-delta', version: '1.0', depends: 'kbt-beta (>= 1.0)' },
  ]);
  writeProject(repo.sourcesLine);
});
afterAll(async () => {
  await repo?.close();
  await removeImages((r) => r.startsWith(`${namespace}/`));
  rmSync(dir, { recursive: true, force: true });
});

/** Runs kbuild in the project; the run, also on failure (the assertion shows its output). */
async function cli(...args: string[]): Promise<CliRun> {
  return kbuild([...args.slice(0, 1), ...P, ...args.slice(1)], dir);
}

let n = 0;
/** `build --check-updates` (or what is given); each image's status. */
async function build(...extra: string[]): Promise<Record<string, string>> {
  const file = join(dir, `run-${n++}.json`);
  const r = await cli('build', '--summary-json', file, '-q', ...extra);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return Object.fromEntries(readSummary(file).images.map((i) => [i.name, i.status]));
}

/** `plan --check-updates --json`: the steps by image, and how often apt fetched the Release file. */
async function plan(...extra: string[]) {
  const before = releaseFetches();
  const r = await cli('plan', '--check-updates', '--json', ...extra);
  expect(r.code, r.stderr).toBe(0);
  const steps = (JSON.parse(r.stdout) as { steps: Step[] }).steps;
  return {
    steps: Object.fromEntries(steps.map((s) => [s.name, s])),
    releaseFetches: releaseFetches() - before,
    stderr: r.stderr,
  };
}
const releaseFetches = () => repo.requests.filter((r) => r === 'GET /Release').length;

/** The version of `pkg` installed in an image (the file its package holds). */
const installed = async (image: string, pkg: string) =>
  (
    await sh('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      `${namespace}/${image}:${tag}`,
      'cat',
      `/usr/share/kbt/${pkg}.version`,
    ])
  ).trim();

const actions = (steps: Record<string, Step>) =>
  Object.fromEntries(IMAGES.map((i) => [i, steps[i]?.action]));

describe('package updates from a loopback apt repository', () => {
  it('builds the family from the repository', async () => {
    const statuses = await build();
    expect(statuses).toEqual(Object.fromEntries(IMAGES.map((i) => [i, 'built'])));
    expect(await installed('pkg-delta', 'kbt-beta')).toBe('1.0');
    expect(await installed('pkg-gamma', 'kbt-alpha')).toBe('1.0');
  });

  it('a new kbt-beta: plan --check-updates rebuilds exactly pkg-beta and its child, asking apt once', async () => {
    await repo.publish({ name: 'kbt-beta', version: '1.1' });
    const { steps, releaseFetches: asked } = await plan();
    expect(actions(steps)).toEqual({
      'pkg-root': 'fresh',
      'pkg-beta': 'build',
      'pkg-gamma': 'fresh',
      'pkg-delta': 'build',
    });
    expect(steps['pkg-beta']!.reason).toContain('packages-updated');
    expect(steps['pkg-beta']!.reason).toContain('kbt-beta 1.0 → 1.1');
    expect(steps['pkg-beta']!.packages?.updates).toEqual([
      expect.objectContaining({ name: 'kbt-beta', from: '1.0', to: '1.1' }),
    ]);
    expect(steps['pkg-delta']!.reason).toBe('parent-changed (pkg-beta)');
    // One apt configuration (every image has the root's sources): apt is asked once.
    expect(asked).toBe(1);
  });

  it('build --check-updates puts kbt-beta 1.1 into both rebuilt images; the next plan is all fresh', async () => {
    expect(await build('--check-updates')).toEqual({
      'pkg-root': 'fresh',
      'pkg-beta': 'built',
      'pkg-gamma': 'fresh',
      'pkg-delta': 'built',
    });
    expect(await installed('pkg-beta', 'kbt-beta')).toBe('1.1');
    expect(await installed('pkg-delta', 'kbt-beta')).toBe('1.1');
    expect(await installed('pkg-delta', 'kbt-delta')).toBe('1.0');
    const { steps } = await plan();
    expect(actions(steps)).toEqual(Object.fromEntries(IMAGES.map((i) => [i, 'fresh'])));
    for (const i of IMAGES) expect(steps[i]!.packages).toBeUndefined();
  });

  it('a new kbt-alpha, installed in the root: the whole tree is rebuilt', async () => {
    await repo.publish({ name: 'kbt-alpha', version: '1.1' });
    const { steps } = await plan();
    expect(actions(steps)).toEqual(Object.fromEntries(IMAGES.map((i) => [i, 'build'])));
    expect(steps['pkg-root']!.reason).toContain('packages-updated (kbt-alpha 1.0 → 1.1');
    expect(steps['pkg-beta']!.reason).toBe('parent-changed (pkg-root)');
    expect(steps['pkg-gamma']!.reason).toBe('parent-changed (pkg-root)');
    expect(steps['pkg-delta']!.reason).toBe('parent-changed (pkg-beta)');
    expect(await build('--check-updates')).toEqual(
      Object.fromEntries(IMAGES.map((i) => [i, 'built'])),
    );
    expect(await installed('pkg-gamma', 'kbt-alpha')).toBe('1.1');
    expect(await installed('pkg-delta', 'kbt-alpha')).toBe('1.1');
    expect(await installed('pkg-delta', 'kbt-beta')).toBe('1.1');
  });

  it('the repository gone: check-failed naming the problem, nothing built; strict fails', async () => {
    await repo.stop();
    // apt retries a refused connection for about 7 s: the three runs ask at once.
    const [{ steps, stderr }, strict, built] = await Promise.all([
      plan(),
      cli('plan', '--check-updates=strict', '--json'),
      build('--check-updates'),
    ]);
    expect(actions(steps)).toEqual(Object.fromEntries(IMAGES.map((i) => [i, 'fresh'])));
    for (const i of IMAGES) {
      expect(steps[i]!.packages?.status).toBe('check-failed');
      // apt's own words: which repository, and why.
      expect(steps[i]!.reason).toMatch(
        /^check-failed: .*127\.0\.0\.1:\d+.*(Could not connect|refused)/,
      );
      expect(steps[i]!.reason).toContain(`127.0.0.1:${repo.port}`);
    }
    expect(stderr).toContain('check-failed');
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('--check-updates=strict');
    expect(strict.stderr).toContain('pkg-root');
    // A build with the check builds nothing extra, and succeeds.
    expect(built).toEqual(Object.fromEntries(IMAGES.map((i) => [i, 'fresh'])));
  });
});
