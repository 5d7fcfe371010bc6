import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Explanation } from '../src/core/plan/explain.js';
import { kbuild, randomTag, removeImages, requireHost, sh } from './helpers/host.js';

// A new family from `kbuild init` on busybox, built by the real bin with docker.
const parent = mkdtempSync(join(tmpdir(), 'kbuild-init-'));
const dir = join(parent, 'fam');
const namespace = `kbuild-init-${randomTag()}`;
const tag = randomTag();
const P = ['-p', 'busybox-binary', '--tag', tag];

beforeAll(() => requireHost());
afterAll(async () => {
  await removeImages((r) => r.startsWith(`${namespace}/`));
  rmSync(parent, { recursive: true, force: true });
});

/** One JSON object per line (--progress json). */
const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const explain = async (...args: string[]) => {
  const r = await kbuild(['explain', 'hello', ...P, '--json', ...args], dir);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Explanation;
};

describe('kbuild init, then build with docker', () => {
  it('builds and smoke-tests both images of the new family, reporting as JSON lines', async () => {
    const init = await kbuild(
      ['init', 'fam', '--base-image', 'busybox:latest', '--namespace', namespace],
      parent,
    );
    expect(init.code).toBe(0);
    const r = await kbuild(['build', ...P, '--test', '--progress', 'json'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const stream = events(r.stdout);
    expect(stream[0]).toMatchObject({ event: 'run-start', images: ['base', 'hello'] });
    expect(stream.filter((e) => e['event'] === 'image-end')).toEqual([
      expect.objectContaining({ name: 'base', status: 'built', ok: true }),
      expect.objectContaining({ name: 'hello', status: 'built', ok: true }),
    ]);
    expect(stream.at(-1)).toMatchObject({ event: 'run-end', ok: true, counts: { built: 2 } });
    expect((await sh('docker', ['run', '--rm', `${namespace}/hello:${tag}`])).trim()).toBe(
      'hello from hello built for busybox-binary',
    );

    // Again, forced: the ETA now comes from the first run's build times.
    const again = events(
      (await kbuild(['build', ...P, '--force', '--progress', 'json'], dir)).stdout,
    );
    expect(again[0]!['etaSeconds']).toEqual(expect.any(Number));
  });

  it('explains why hello is up to date, and why it is rebuilt after a context file changed', async () => {
    const fresh = await explain();
    expect(fresh.rebuild).toEqual({ known: true, action: 'fresh', reason: 'up to date' });
    expect(fresh.changes).toEqual([]);
    expect(fresh.inputs!.engine).toBe('docker');
    expect(fresh.ancestors).toEqual([{ name: 'base', parents: [], externals: ['busybox:latest'] }]);

    writeFileSync(join(dir, 'images', 'hello', 'hello.sh'), '#!/bin/sh\necho changed\n');
    const changed = await explain();
    expect(changed.rebuild).toEqual({
      known: true,
      action: 'build',
      reason: 'context-changed (hello.sh)',
    });
    expect(changed.changes).toEqual(['context-changed (hello.sh)']);
    // Without an engine: the same change, freshness unknown.
    const offline = await explain('--no-engine');
    expect(offline.rebuild.known).toBe(false);
    expect(offline.changes).toEqual(['context-changed (hello.sh)']);
    expect(offline.fingerprint).toBe(changed.fingerprint);
  });
});
