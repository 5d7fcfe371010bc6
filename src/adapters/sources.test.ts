import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceSpec } from '../core/sources.js';
import { createSourceFetcher, listArchive } from './sources.js';

const at = () => ({ file: 'kbuild.yaml', line: 7 });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const op = () => {
  const lines: string[] = [];
  return { signal: AbortSignal.timeout(30_000), log: (l: string) => lines.push(l), lines };
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

let dir: string;
let server: Server;
let base: string;
const served = new Map<string, Buffer>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kbuild-sources-'));
  server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** A .tar.gz of `files` (path -> content) with one top directory, as upstream tarballs have. */
async function archive(name: string, files: Record<string, string>): Promise<Buffer> {
  const src = mkdtempSync(join(dir, 'src-'));
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(src, name, p, '..'), { recursive: true });
    writeFileSync(join(src, name, p), content);
  }
  const out = join(src, 'out.tar.gz');
  await tar.c({ file: out, cwd: src, gzip: true, portable: true }, [name]);
  return readFileSync(out);
}

const fetcher = () => createSourceFetcher({ root: dir, cacheDir: join(dir, 'cache') });
const ctx = () => mkdtempSync(join(dir, 'ctx-'));

describe('url sources', () => {
  it('downloads, checks the sha256 and places the archive under its name with a content-derived mtime', async () => {
    const body = await archive('redis-7.0', { 'README.md': 'redis\n' });
    served.set('/redis-7.0.tar.gz', body);
    const spec: SourceSpec = {
      type: 'url',
      url: `${base}/redis-7.0.tar.gz`,
      sha256: sha(body),
      at,
    };
    const f = fetcher();
    const id = await f.identify('redis', spec, AbortSignal.timeout(5000));
    expect(id).toEqual({ ok: true, value: `sha256:${sha(body)}` });
    const into = ctx();
    const o = op();
    expect(await f.place('redis', spec, `sha256:${sha(body)}`, into, o)).toEqual({
      ok: true,
      value: undefined,
    });
    const placed = join(into, 'kbuild-sources/redis.tar.gz');
    expect(sha(readFileSync(placed))).toBe(sha(body));
    // An mtime from the content: the same on every host, different for other content.
    const seconds = parseInt(sha(body).slice(0, 8), 16);
    expect(statSync(placed).mtimeMs).toBe(Date.UTC(1980, 0, 1) + seconds * 1000);
    expect(o.lines.join('\n')).toMatch(/downloading/);

    // Cached by content: a second placement does not download, even with the server gone.
    served.delete('/redis-7.0.tar.gz');
    const again = op();
    expect((await f.place('redis', spec, `sha256:${sha(body)}`, ctx(), again)).ok).toBe(true);
    expect(again.lines.join('\n')).not.toMatch(/downloading/);
  });

  it('fails the image on a checksum mismatch, naming the file, line and both digests', async () => {
    const body = await archive('x-1', { a: 'a' });
    served.set('/x-1.tar.gz', body);
    const wrong = 'b'.repeat(64);
    const spec: SourceSpec = { type: 'url', url: `${base}/x-1.tar.gz`, sha256: wrong, at };
    const r = await fetcher().place('x', spec, `sha256:${wrong}`, ctx(), op());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain('kbuild.yaml:7: sources.x: checksum mismatch');
    expect(r.error).toContain(sha(body));
    expect(r.error).toContain(wrong);
  });

  it('says what the server answered when the archive is not there', async () => {
    const spec: SourceSpec = {
      type: 'url',
      url: `${base}/nope.tar.gz`,
      sha256: 'c'.repeat(64),
      at,
    };
    const r = await fetcher().place('nope', spec, 'sha256:c', ctx(), op());
    expect(r).toEqual({
      ok: false,
      error: `kbuild.yaml:7: sources.nope: cannot download ${base}/nope.tar.gz: HTTP 404 Not Found`,
    });
  });
});

describe('git sources', () => {
  let repo: string;
  let v1: string;
  beforeAll(() => {
    repo = join(dir, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repo, 'app.txt'), 'one\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'one');
    git(repo, 'tag', '-a', 'v1', '-m', 'v1');
    v1 = git(repo, 'rev-parse', 'HEAD');
    writeFileSync(join(repo, 'app.txt'), 'two\n');
    git(repo, 'commit', '--quiet', '-am', 'two');
  });

  it('resolves a branch or an annotated tag to its commit, and archives that commit', async () => {
    const f = fetcher();
    const main = git(repo, 'rev-parse', 'HEAD');
    const branch: SourceSpec = { type: 'git', url: 'repo', reference: 'main', at };
    expect(await f.identify('app', branch, AbortSignal.timeout(5000))).toEqual({
      ok: true,
      value: `git:${main}`,
    });
    const tag: SourceSpec = { type: 'git', url: repo, reference: 'v1', at };
    expect(await f.identify('app', tag, AbortSignal.timeout(5000))).toEqual({
      ok: true,
      value: `git:${v1}`,
    });

    const into = ctx();
    expect((await f.place('app', tag, `git:${v1}`, into, op())).ok).toBe(true);
    const out = execFileSync('tar', ['-xOf', join(into, 'kbuild-sources/app.tar'), 'app/app.txt'], {
      encoding: 'utf8',
    });
    expect(out).toBe('one\n');
  });

  it('fails with a clear error for a reference that does not exist', async () => {
    const spec: SourceSpec = { type: 'git', url: repo, reference: 'v9', at };
    expect(await fetcher().identify('app', spec, AbortSignal.timeout(5000))).toEqual({
      ok: false,
      error: `kbuild.yaml:7: sources.app: git reference 'v9' does not exist in ${repo}; give a branch, a tag or a full 40-character commit id`,
    });
    const missing: SourceSpec = { type: 'git', url: repo, reference: 'f'.repeat(40), at };
    const r = await fetcher().place('app', missing, `git:${'f'.repeat(40)}`, ctx(), op());
    expect(r.ok === false && r.error).toMatch(/commit f{40} .* is not in any branch or tag/);
  });
});

describe('local sources', () => {
  it('packs a directory reproducibly: mtimes and owners do not change the archive', async () => {
    const src = join(dir, 'site');
    mkdirSync(join(src, 'bin'), { recursive: true });
    writeFileSync(join(src, 'index.html'), '<p>hi</p>\n');
    writeFileSync(join(src, 'bin/run'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync('../index.html', join(src, 'bin/index'));
    const spec: SourceSpec = { type: 'local', path: 'site', at };
    const first = await fetcher().identify('site', spec, AbortSignal.timeout(5000));
    utimesSync(join(src, 'index.html'), new Date(), new Date(Date.now() - 86_400_000));
    const second = await fetcher().identify('site', spec, AbortSignal.timeout(5000));
    expect(first.ok && second.ok).toBe(true);
    expect(second).toEqual(first);

    const into = ctx();
    expect((await fetcher().place('site', spec, first.ok ? first.value : '', into, op())).ok).toBe(
      true,
    );
    const listing = execFileSync('tar', ['-tvf', join(into, 'kbuild-sources/site.tar')], {
      encoding: 'utf8',
    });
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* site\/bin\/run$/m);
    expect(listing).toMatch(/site\/bin\/index -> \.\.\/index\.html$/m);

    writeFileSync(join(src, 'index.html'), '<p>changed</p>\n');
    const third = await fetcher().identify('site', spec, AbortSignal.timeout(5000));
    expect(third).not.toEqual(first);
  });

  it('checks a local archive against its sha256', async () => {
    const body = await archive('v-1', { f: 'x' });
    writeFileSync(join(dir, 'v.tgz'), body);
    const good: SourceSpec = { type: 'local', path: 'v.tgz', sha256: sha(body), at };
    const into = ctx();
    expect((await fetcher().place('v', good, `sha256:${sha(body)}`, into, op())).ok).toBe(true);
    expect(readFileSync(join(into, 'kbuild-sources/v.tar.gz'))).toEqual(body);
    const bad: SourceSpec = { ...good, sha256: 'd'.repeat(64) };
    const r = await fetcher().place('v', bad, 'sha256:d', ctx(), op());
    expect(r.ok === false && r.error).toMatch(/checksum mismatch for .*v\.tgz/);
  });

  it('says when the path does not exist', async () => {
    const spec: SourceSpec = { type: 'local', path: 'missing', at };
    const r = await fetcher().identify('m', spec, AbortSignal.timeout(5000));
    expect(r).toEqual({
      ok: false,
      error: `kbuild.yaml:7: sources.m: ${join(dir, 'missing')} does not exist; fix 'path' (relative to the project root)`,
    });
  });
});

describe('archives that reach outside their directory', () => {
  /** A tar with the given raw entry paths (node-tar keeps them as written with preservePaths). */
  async function evil(name: string, entries: string[], cwd: string): Promise<string> {
    const out = join(dir, `${name}.tar`);
    await tar.c({ file: out, cwd, preservePaths: true, portable: true }, entries);
    return out;
  }

  it('refuses ../ entries, absolute paths and links outward, and places nothing', async () => {
    const work = join(dir, 'evil', 'inner');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(dir, 'evil', 'outside'), 'x');
    writeFileSync(join(work, 'ok'), 'x');
    symlinkSync('/etc/passwd', join(work, 'to-etc'));
    const cases: [string, string[], RegExp][] = [
      ['dotdot', ['ok', '../outside'], /'\.\.\/outside' climbs out/],
      ['absolute', ['ok', join(dir, 'evil', 'outside')], /is an absolute path/],
      ['link', ['ok', 'to-etc'], /'to-etc' links to the absolute path '\/etc\/passwd'/],
    ];
    for (const [name, entries, why] of cases) {
      const file = await evil(name, entries, work);
      const spec: SourceSpec = { type: 'local', path: file, sha256: sha(readFileSync(file)), at };
      const into = ctx();
      const r = await fetcher().place(name, spec, `sha256:${spec.sha256!}`, into, op());
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error).toMatch(why);
      expect(r.error).toMatch(/^kbuild.yaml:7: sources\./);
      expect(() => statSync(join(into, 'kbuild-sources'))).toThrow();
    }
  });

  it('lists xz, bzip2 and zstd archives through their tools', async () => {
    const body = await archive('z-1', { 'a/b.txt': 'b' });
    const plain = join(dir, 'z.tar');
    writeFileSync(plain, execFileSync('gzip', ['-dc'], { input: body }));
    for (const [suffix, tool] of [
      ['.tar.xz', 'xz'],
      ['.tar.bz2', 'bzip2'],
      ['.tar.zst', 'zstd'],
    ] as const) {
      const file = join(dir, `z${suffix}`);
      writeFileSync(file, execFileSync(tool, ['-c', plain]));
      const r = await listArchive(file, suffix, AbortSignal.timeout(5000));
      expect(r.ok && r.value.map((e) => e.path)).toEqual(['z-1/', 'z-1/a/', 'z-1/a/b.txt']);
    }
    const broken = join(dir, 'broken.tar.xz');
    writeFileSync(broken, 'not xz');
    const r = await listArchive(broken, '.tar.xz', AbortSignal.timeout(5000));
    expect(r.ok).toBe(false);
  });
});
