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
