/**
 * What V8 compiled of each cached template (`<key>.v8` beside `<key>.js` in
 * .kbuild/cache/templates, src/adapters/cache/v8-code-cache.ts) is taken by the next kbuild
 * process and refused when it is not what V8 wrote: whole processes, since V8 reads the data only
 * when it has not compiled the same code already in the process. The output never changes.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from './helpers/run-cli.js';

const bin = fileURLToPath(new URL('../bin/kbuild.js', import.meta.url));
const project = mkdtempSync(join(tmpdir(), 'kbuild-code-cache-'));
const cacheDir = join(project, '.kbuild', 'cache', 'templates');
afterAll(() => rmSync(project, { recursive: true, force: true }));

const graph = () =>
  execFileSync(process.execPath, [bin, 'graph', '-p', 'deb', '--format', 'json'], {
    cwd: project,
    encoding: 'utf8',
  });
const v8Files = () => readdirSync(cacheDir).filter((f) => f.endsWith('.v8'));
/** Sets every .v8 file's times to 2001, so a rewrite (a rename onto it) shows. */
const backdate = () => v8Files().forEach((f) => utimesSync(join(cacheDir, f), 1e9, 1e9));
const rewritten = () => v8Files().filter((f) => statSync(join(cacheDir, f)).mtimeMs !== 1e12);
/** Replaces what follows each .v8 file's header line. */
const corrupt = (payload: (data: Buffer) => Buffer) => {
  for (const f of v8Files()) {
    const data = readFileSync(join(cacheDir, f));
    const header = data.subarray(0, data.indexOf('\n') + 1);
    writeFileSync(
      join(cacheDir, f),
      Buffer.concat([header, payload(data.subarray(header.length))]),
    );
  }
};

describe('the V8 data of cached templates, across kbuild processes', () => {
  let first: string;
  beforeAll(() => {
    // Not the fixture's own .kbuild (other tests run kbuild in it).
    cpSync(fixture('mini'), project, {
      recursive: true,
      filter: (src) => !src.includes(`${fixture('mini')}/.kbuild`),
    });
    first = graph();
  });

  it('is written by the first run, one file per compiled template', () => {
    const js = readdirSync(cacheDir).filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(1);
    expect(v8Files().sort()).toEqual(js.map((f) => f.replace(/\.js$/, '.v8')).sort());
  });

  it('is taken by the next process: the same output, nothing written again', () => {
    backdate();
    expect(graph()).toBe(first);
    expect(rewritten()).toEqual([]);
  });

  it.each([
    ['not V8 data', (data: Buffer) => Buffer.alloc(data.length, 7)],
    ['cut short', (data: Buffer) => data.subarray(0, data.length >> 1)],
  ])('is refused when %s: the same output, and written afresh', (_, payload) => {
    corrupt(payload);
    backdate();
    expect(graph()).toBe(first);
    expect(rewritten().sort()).toEqual(v8Files().sort());
    backdate();
    expect(graph()).toBe(first);
    expect(rewritten()).toEqual([]);
  });
});
