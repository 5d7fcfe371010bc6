/** Fingerprints over real files: context hashing and how changes propagate through a family. */
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashContext, sentContextFiles } from '../src/adapters/context-hash.js';
import { loadProfileFamily, loadWorkspace } from '../src/cli/load.js';
import { fingerprintFamily } from '../src/core/plan/freshness.js';
import type { ImageName } from '../src/core/model.js';
import { fixture } from './helpers/run-cli.js';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'kbuild-fp-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('build context hashing', () => {
  it('follows .dockerignore as Docker does, and always sends .dockerignore itself', async () => {
    const d = temp();
    mkdirSync(join(d, 'sub/deep'), { recursive: true });
    for (const f of [
      'a.txt',
      'b.log',
      'sub/c.txt',
      'sub/d.txt',
      'sub/deep/e.log',
      'Dockerfile.j2',
      'image.yaml',
    ])
      writeFileSync(join(d, f), f);
    writeFileSync(join(d, '.dockerignore'), '# comment\n*.log\nsub\n!sub/c.txt\n.dockerignore\n');
    expect(await sentContextFiles(d)).toEqual(['.dockerignore', 'a.txt', 'sub/c.txt']);
  });

  it('leaves out the directories of images nested inside the image', async () => {
    const d = temp();
    mkdirSync(join(d, 'child'));
    writeFileSync(join(d, 'a.txt'), 'a');
    writeFileSync(join(d, 'child/Dockerfile.j2'), 'FROM x');
    writeFileSync(join(d, 'child/b.txt'), 'b');
    expect(await sentContextFiles(d)).toEqual(['a.txt']);
  });

  it('depends on content and the executable bit, not on mtime; line endings are content', async () => {
    const d = temp();
    writeFileSync(join(d, 'run.sh'), 'echo hi\n');
    const first = await hashContext(d);
    utimesSync(join(d, 'run.sh'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(await hashContext(d)).toEqual(first);
    chmodSync(join(d, 'run.sh'), 0o755);
    const exec = await hashContext(d);
    expect(exec['run.sh']).toBe(`${first['run.sh']!}+x`);
    writeFileSync(join(d, 'run.sh'), 'echo hi\r\n');
    chmodSync(join(d, 'run.sh'), 0o755);
    expect((await hashContext(d))['run.sh']).not.toBe(exec['run.sh']);
  });
});

describe('fingerprints of a family', () => {
  const io = (cwd: string) => ({ out: () => undefined, err: () => undefined, cwd, env: {} });
  async function fingerprints(dir: string, tag = 'deb') {
    const ws = await loadWorkspace(io(dir), { project: dir, templateOverride: [] });
    if (!ws.ok) throw new Error(JSON.stringify(ws.failures));
    const fam = loadProfileFamily(
      io(dir),
      ws.value,
      { var: [], buildArg: [], templateOverride: [], tag },
      'deb',
    );
    if (!fam.ok) throw new Error(JSON.stringify(fam.failures));
    const names = new Set(fam.value.graph.order);
    const contexts = new Map<ImageName, Record<string, string>>();
    for (const n of names)
      contexts.set(n, await hashContext(join(dir, 'images', fam.value.images.get(n)!.spec.dir)));
    const fps = fingerprintFamily(fam.value, names, {
      contexts,
      bases: new Map([['debian:bookworm', 'sha256:1']]),
      engine: 'docker',
      labels: () => ({}),
    });
    return Object.fromEntries([...fps].map(([k, v]) => [k, v.fingerprint]));
  }
  const changedBetween = (a: Record<string, string>, b: Record<string, string>) =>
    Object.keys(a).filter((k) => a[k] !== b[k]);

  it('a change to an included template reaches exactly the images that import it, and their descendants', async () => {
    const d = temp();
    cpSync(fixture('mini'), d, { recursive: true });
    const before = await fingerprints(d);
    writeFileSync(
      join(d, 'images/macros.j2'),
      "{% macro install(packages) -%}\nRUN {{ package_manager }}-get install -y --quiet {{ packages | join(' ') }}\n{%- endmacro %}\n",
    );
    expect(changedBetween(before, await fingerprints(d)).sort()).toEqual([
      'leaf-1',
      'leaf-2',
      'leaf-3',
      'mid-a',
    ]);
  });

  it('a parent change cascades to every descendant and nothing else', async () => {
    const d = temp();
    cpSync(fixture('mini'), d, { recursive: true });
    const before = await fingerprints(d);
    writeFileSync(join(d, 'images/mid/mid-b/extra.txt'), 'x');
    expect(changedBetween(before, await fingerprints(d)).sort()).toEqual(['leaf-2', 'mid-b']);
  });

  it('does not change with the shared tag: a new tag is a retag', async () => {
    const d = temp();
    cpSync(fixture('mini'), d, { recursive: true });
    expect(await fingerprints(d, 'v2')).toEqual(await fingerprints(d, 'v1'));
  });
});
