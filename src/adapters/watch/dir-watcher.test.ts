/**
 * The directory watcher on the real file system (inotify): what editors and builds do to files
 * is heard, or not, as `kbuild watch` needs. Waits for events, never asserts a time.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchDirs, type DirWatcher } from './dir-watcher.js';
import { countedChanges, describeChanges } from './watch-set.js';

let dir: string;
let heard: string[];
let watcher: DirWatcher;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbuild-dir-watcher-'));
  mkdirSync(join(dir, 'images', 'a'), { recursive: true });
  mkdirSync(join(dir, '.kbuild'));
  writeFileSync(join(dir, 'images', 'a', 'Dockerfile.j2'), 'FROM x\n');
  heard = [];
  watcher = watchDirs(
    (p) => heard.push(p),
    (d) => d.endsWith('/.kbuild'),
  );
  watcher.set([
    { dir, deep: false },
    { dir: join(dir, 'images'), deep: true },
  ]);
});
afterEach(() => {
  watcher.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until `path` has been heard `times` times in all (a marker write proves a silence). */
async function heardOf(path: string, times = 1): Promise<number> {
  for (let i = 0; i < 100; i++) {
    if (heard.filter((p) => p === path).length >= times) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return heard.filter((p) => p === path).length;
}

describe('watchDirs', () => {
  it('hears every rename-over save of a file (which a watch on the file, or Node 20 recursive, loses after the first)', async () => {
    const file = join(dir, 'images', 'a', 'Dockerfile.j2');
    for (const n of [1, 2, 3]) {
      heard = [];
      writeFileSync(`${file}.tmp`, `FROM x\n# ${n}\n`);
      renameSync(`${file}.tmp`, file);
      expect(await heardOf(file), `save ${n}`).toBeGreaterThan(0);
    }
    heard = [];
    writeFileSync(file, 'FROM y\n');
    expect(await heardOf(file)).toBeGreaterThan(0);
  });

  it('watches a new directory of a deep one, and reports the files already in it', async () => {
    const sub = join(dir, 'images', 'b', 'conf');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'x.conf'), '1');
    expect(await heardOf(join(dir, 'images', 'b'))).toBeGreaterThan(0);
    expect(await heardOf(join(sub, 'x.conf'))).toBeGreaterThan(0);
    heard = [];
    writeFileSync(join(sub, 'x.conf'), '2');
    expect(await heardOf(join(sub, 'x.conf'))).toBeGreaterThan(0);
  });

  it('does not enter a skipped directory, nor below a shallow one', async () => {
    writeFileSync(join(dir, '.kbuild', 'state.json'), '{}');
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', 'f'), '1');
    writeFileSync(join(dir, 'kbuild.yaml'), 'x: 1\n'); // the marker: heard after the others
    expect(await heardOf(join(dir, 'kbuild.yaml'))).toBeGreaterThan(0);
    expect(heard.filter((p) => p.includes('/.kbuild/') || p.endsWith('/other/f'))).toEqual([]);
  });

  it('forgets a removed directory, and set() replaces what is watched', async () => {
    rmSync(join(dir, 'images', 'a'), { recursive: true });
    expect(await heardOf(join(dir, 'images', 'a'))).toBeGreaterThan(0);
    for (let i = 0; i < 100 && watcher.size() > 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(watcher.size()).toBe(2); // the root and images/
    watcher.set([{ dir, deep: false }]);
    expect(watcher.size()).toBe(1);
  });
});

describe('countedChanges', () => {
  const before = new Set(['/p/images/a/Dockerfile.j2', '/p/images/a/ctx.txt']);
  const after = new Set(['/p/images/a/Dockerfile.j2', '/p/images/a/new.txt']);

  it('counts files watched before or after, and directories holding one; not temp files', () => {
    expect(
      countedChanges(
        [
          '/p/images/a/Dockerfile.j2',
          '/p/images/a/Dockerfile.j2.swp',
          '/p/images/a/ctx.txt',
          '/p/images/a/new.txt',
          '/p/images/a',
          '/p/images/ab',
          '/p/.kbuild/state',
        ],
        before,
        after,
      ),
    ).toEqual([
      '/p/images/a/Dockerfile.j2',
      '/p/images/a/ctx.txt',
      '/p/images/a/new.txt',
      '/p/images/a',
    ]);
  });

  it('names the first three relative to the root, then how many more', () => {
    expect(describeChanges('/p', ['/p/a', '/p/b/c'])).toBe('a, b/c');
    expect(describeChanges('/p', ['/p/1', '/p/2', '/p/3', '/p/4', '/p/5'])).toBe('1, 2, 3 +2 more');
  });
});
