import {
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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRenderer } from '../../core/jinja/render.js';
import { openTemplateCache } from './template-cache.js';

const IMAGE = 'img/Dockerfile.j2';
const files = {
  'macros.j2': '{% macro pkgs(p) %}RUN install {{ p | join(" ") }}{% endmacro %}',
  [IMAGE]: '{% import "macros.j2" as m %}\nFROM debian\n{{ m.pkgs(["a", "b"]) }}\n{{ nope.x }}',
};
const expected = { ok: true, value: '\nFROM debian\nRUN install a b\nX\n' };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbuild-v8-cache-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** One run of a fresh renderer over the cache in `dir`, then the turn the V8 data is made in. */
async function run(layer = 'layer-1', templates: Record<string, string> = files) {
  const result = createRenderer({
    templates: new Map(Object.entries(templates)),
    overrides: [],
    plugins: [],
    displayPath: (key) => `images/${key}`,
    compiledCache: openTemplateCache(dir, layer),
  }).render(IMAGE, { nope: { x: 'X' } });
  await new Promise((resolve) => setImmediate(resolve));
  return result;
}

const v8Files = () => readdirSync(dir).filter((f) => f.endsWith('.v8'));
/** Sets every .v8 file's times to 2001, so a rewrite (a rename onto it) shows. */
const backdate = () => v8Files().forEach((f) => utimesSync(join(dir, f), 1e9, 1e9));
const rewritten = () => v8Files().filter((f) => statSync(join(dir, f)).mtimeMs !== 1e12);

describe('what V8 compiled of each cached template, kept beside it', () => {
  it('is written after the templates ran, headed by the layer and the code’s length', async () => {
    expect(await run()).toEqual(expected);
    expect(v8Files()).toHaveLength(2);
    for (const f of v8Files()) {
      const data = readFileSync(join(dir, f));
      const code = readFileSync(join(dir, f.replace(/\.v8$/, '.js')), 'utf8').split('\n')[0]!;
      // The header names the layer and the code's length, as the .js file's first line does.
      expect(data.toString('latin1', 0, data.indexOf('\n'))).toBe(
        `kbuild v8 code cache layer-1 ${code.split(' ').pop()}`,
      );
      expect(data.length).toBeGreaterThan(data.indexOf('\n') + 100);
    }
    expect(await run()).toEqual(expected);
  });

  // Whether V8 takes the data shows only in a new process (in this one it still has the code
  // compiled): test/template-code-cache.test.ts runs kbuild twice for that.
  it.each([
    [
      'of another jinja layer',
      (data: Buffer) =>
        Buffer.from(data.toString('latin1').replace('layer-1', 'layer-2'), 'latin1'),
    ],
    ['empty', () => Buffer.alloc(0)],
  ])('is not used when %s: the same output, and written afresh', async (_, corrupt) => {
    await run();
    for (const f of v8Files()) writeFileSync(join(dir, f), corrupt(readFileSync(join(dir, f))));
    backdate();
    expect(await run()).toEqual(expected);
    expect(rewritten().sort()).toEqual(v8Files().sort());
  });

  it('keeps errors located in the template', async () => {
    const broken = { ...files, [IMAGE]: files[IMAGE].replace('nope.x', 'nope.y') };
    const first = await run('layer-1', broken);
    expect(first).toMatchObject({
      ok: false,
      error: { file: 'images/img/Dockerfile.j2', line: 4 },
    });
    expect(v8Files()).toHaveLength(2);
    expect(await run('layer-1', broken)).toEqual(first);
  });
});
