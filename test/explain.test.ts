import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Explanation } from '../src/core/plan/explain.js';
import { fixture, runCli } from './helpers/run-cli.js';

// A copy: explain reads .kbuild/state, which a test writes.
const dir = mkdtempSync(join(tmpdir(), 'kbuild-explain-'));
cpSync(fixture('mini'), dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const explainJson = async (...args: string[]) => {
  const r = await runCli(['explain', '-p', 'deb', '--no-engine', '--json', ...args], dir);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Explanation;
};

describe('kbuild explain (no engine; the real engine is in init.integration.test.ts)', () => {
  it('shows ancestors up to the external base, descendants, inputs and the rendered Dockerfile', async () => {
    const r = await runCli(['explain', 'leaf-2', '-p', 'deb', '--no-engine'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      [
        '  leaf-2',
        '  ├── mid-b',
        '  │   └── base',
        '  │       └── debian:bookworm (external)',
        '  └── mid-a',
        '      └── base (see above)',
      ].join('\n'),
    );
    expect(r.stdout).toContain('Built on it: nothing');
    expect(r.stdout).toContain(
      'Would it be rebuilt now? unknown — no engine answers (--no-engine)',
    );
    expect(r.stdout).toMatch(/^ {2}parents +mid-b +fp-[0-9a-f]{24}$/m);
    expect(r.stdout).toMatch(/^ +\d+ {2}FROM acme\/debian-mid-a:deb$/m);
  });

  it('gives the same as JSON, descendants in build order', async () => {
    const e = await explainJson('mid-a');
    expect(e.ancestors.map((a) => a.name)).toEqual(['base']);
    expect(e.ancestors[0]!.externals).toEqual(['debian:bookworm']);
    expect(e.children).toEqual(['leaf-1', 'leaf-2']);
    expect(e.descendants).toEqual(['leaf-1', 'leaf-2', 'leaf-3']);
    expect(e.rebuild).toMatchObject({ known: false, action: null });
    expect(e.changes).toEqual(['new']);
    expect(e.inputs!.buildArgs).toEqual({ HTTP_PROXY: '' });
    expect(e.fingerprintTag).toBe(`fp-${e.fingerprint!.slice(0, 24)}`);
  });

  it('says what changed since the build recorded in .kbuild/state', async () => {
    const now = await explainJson('mid-a');
    const record = {
      ...now.inputs!,
      dockerfile: '0'.repeat(64),
      buildArgs: { HTTP_PROXY: 'http://proxy:3128' },
    };
    mkdirSync(join(dir, '.kbuild', 'state'), { recursive: true });
    writeFileSync(
      join(dir, '.kbuild', 'state', 'deb.json'),
      JSON.stringify({
        schema: 1,
        profile: 'deb',
        images: {
          'mid-a': { fingerprint: 'f'.repeat(64), record, imageId: 'sha256:1', seconds: 3 },
        },
      }),
    );
    const e = await explainJson('mid-a');
    expect(e.changes).toEqual(['dockerfile-changed', 'build-args-changed (HTTP_PROXY)']);
    expect(e.lastBuild).toMatchObject({ imageId: 'sha256:1', seconds: 3 });
    const text = await runCli(['explain', 'mid-a', '-p', 'deb', '--no-engine'], dir);
    expect(text.stdout).toContain(
      'Changes since its last build (fp-ffffffffffffffffffffffff, built in 3.0s):\n  dockerfile-changed\n  build-args-changed (HTTP_PROXY)\n',
    );
  });

  it('exits 2 for an unknown image, naming the nearest one', async () => {
    const r = await runCli(['explain', 'leaf2', '-p', 'deb', '--no-engine'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no image named 'leaf2' — did you mean 'leaf-2'?");
  });
});

describe('kbuild explain: packages (from .kbuild/state, for the current fingerprint)', () => {
  const pkg = (name: string, version: string) => ({ name, arch: 'amd64', version, source: name });
  const inv = (packages: ReturnType<typeof pkg>[], manager = 'dpkg') => ({
    manager,
    packages,
    distro: 'debian',
    distroVersion: '12',
    config: 'c',
  });
  const basePackages = [
    pkg('apt', '2.6.1'),
    pkg('base-files', '12.4+deb12u7'),
    pkg('bash', '5.2.15-2'),
  ];
  // mid-a keeps base's, upgrades bash and adds 40 of its own.
  const added = Array.from({ length: 40 }, (_, i) =>
    pkg(`lib${String(i).padStart(2, '0')}`, '1.0-1'),
  );
  const midPackages = [...basePackages.slice(0, 2), pkg('bash', '5.2.15-3'), ...added];

  /** The state as if base and mid-a were built with their current inputs and their packages read. */
  async function builtState(o: { basePackages?: boolean; midManager?: string } = {}) {
    const base = await explainJson('base');
    const mid = await explainJson('mid-a');
    const entry = (e: Explanation, packages?: object) => ({
      fingerprint: e.fingerprint,
      record: e.inputs,
      imageId: `sha256:${e.image}`,
      ...(packages ? { packages } : {}),
    });
    writeFileSync(
      join(dir, '.kbuild', 'state', 'deb.json'),
      JSON.stringify({
        schema: 1,
        profile: 'deb',
        images: {
          base: entry(base, o.basePackages === false ? undefined : inv(basePackages)),
          'mid-a': entry(mid, o.midManager === 'none' ? inv([], 'none') : inv(midPackages)),
        },
      }),
    );
  }

  it('lists what the image added over its parents, at most 30 in text, all of them in JSON', async () => {
    mkdirSync(join(dir, '.kbuild', 'state'), { recursive: true });
    await builtState();
    const e = await explainJson('mid-a');
    expect(e.packages).toMatchObject({
      known: true,
      manager: 'dpkg',
      distro: 'debian',
      distroVersion: '12',
      count: 43,
      parents: ['base'],
      parentsUnknown: [],
    });
    const p = e.packages.known ? e.packages : undefined;
    expect(p?.packages).toHaveLength(43);
    expect(p?.added?.map((x) => `${x.name} ${x.version}`)).toEqual([
      'bash 5.2.15-3',
      ...added.map((x) => `${x.name} ${x.version}`),
    ]);
    // The last build's entry does not carry the inventory a second time.
    expect(e.lastBuild).not.toHaveProperty('packages');
    const text = (await runCli(['explain', 'mid-a', '-p', 'deb', '--no-engine'], dir)).stdout;
    expect(text).toContain(
      'Packages: 43 installed (dpkg, debian 12); 41 added or changed by this image (relative to base):\n  PACKAGE  VERSION   ARCH\n  bash     5.2.15-3  amd64\n  lib00    1.0-1     amd64\n',
    );
    expect(text).toContain(
      '  lib28    1.0-1     amd64\n  +11 more (kbuild explain --json lists them all)\n',
    );
    expect(text).not.toContain('lib29');
  });

  it('a root image answers for all of its packages', async () => {
    await builtState();
    const text = (await runCli(['explain', 'base', '-p', 'deb', '--no-engine'], dir)).stdout;
    expect(text).toContain(
      'Packages: 3 installed (dpkg, debian 12); a root image (FROM an external base): it answers for all 3:\n',
    );
    expect(text).toMatch(/^ {2}base-files +12\.4\+deb12u7 +amd64$/m);
  });

  it('says plainly when they are unknown (never built here, a parent not read) or empty (no package database)', async () => {
    await builtState({ basePackages: false, midManager: 'none' });
    const never = (await runCli(['explain', 'leaf-1', '-p', 'deb', '--no-engine'], dir)).stdout;
    expect(never).toContain('Packages: unknown — never built here (no record in .kbuild/state)\n');
    const empty = (await runCli(['explain', 'mid-a', '-p', 'deb', '--no-engine'], dir)).stdout;
    expect(empty).toContain(
      'Packages: none (none, debian 12) — the image has no package database (no dpkg, no rpm)\n',
    );
    const base = await explainJson('base');
    expect(base.packages.known).toBe(false);
    await builtState({ basePackages: false });
    const mid = (await runCli(['explain', 'mid-a', '-p', 'deb', '--no-engine'], dir)).stdout;
    expect(mid).toContain(
      'Packages: 43 installed (dpkg, debian 12); added by this image: unknown (the packages of base are not recorded for the build it stands on)\n',
    );
  });

  it('does not show packages read for other inputs', async () => {
    await builtState();
    writeFileSync(join(dir, 'images', 'mid', 'mid-a', 'changed.txt'), 'a change\n');
    try {
      const e = await explainJson('mid-a');
      expect(e.packages).toEqual({
        known: false,
        reason: expect.stringMatching(
          /^they were read for its last build \(fp-[0-9a-f]{24}\), not for its current inputs/,
        ),
      });
    } finally {
      rmSync(join(dir, 'images', 'mid', 'mid-a', 'changed.txt'));
    }
  });
});
