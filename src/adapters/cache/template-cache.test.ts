import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRenderer, type CompiledTemplateCache } from '../../core/jinja/render.js';
import { jinjaLayerHash, openTemplateCache } from './template-cache.js';

const IMAGE = 'img/Dockerfile.j2';
const MACROS = '{% macro pkgs(p) %}RUN install {{ p | join(" ") }}{% endmacro %}';
const image = (from: string) =>
  `{% import "macros.j2" as m %}\nFROM ${from}\n{{ m.pkgs(["a", "b"]) }}\n{{ nope.x }}`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbuild-template-cache-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A cache over `dir` whose hits and writes are counted. */
function counted(cacheDir: string, layer = 'layer-1') {
  const fs = openTemplateCache(cacheDir, layer);
  const n = { hits: 0, writes: 0 };
  const cache: CompiledTemplateCache = {
    get: (key) => {
      const code = fs.get(key);
      if (code !== undefined) n.hits++;
      return code;
    },
    set: (key, code) => {
      n.writes++;
      fs.set(key, code);
    },
  };
  return { cache, n };
}

/** One "run": a fresh renderer over `files` with the cache, rendering the image. */
function run(files: Record<string, string>, cache: CompiledTemplateCache) {
  return createRenderer({
    templates: new Map(Object.entries(files)),
    overrides: [],
    plugins: [],
    displayPath: (key) => `images/${key}`,
    compiledCache: cache,
  }).render(IMAGE, { nope: { x: 'X' } });
}

const files = { 'macros.j2': MACROS, [IMAGE]: image('debian') };
const expected = '\nFROM debian\nRUN install a b\nX\n';

describe('the compiled-template cache in .kbuild/cache/templates', () => {
  it('lets a second run take every template from the cache, with the same output', () => {
    const first = counted(dir);
    expect(run(files, first.cache)).toEqual({ ok: true, value: expected });
    expect(first.n).toEqual({ hits: 0, writes: 2 });
    expect(readdirSync(dir)).toHaveLength(2);
    const second = counted(dir);
    expect(run(files, second.cache)).toEqual({ ok: true, value: expected });
    expect(second.n).toEqual({ hits: 2, writes: 0 });
  });

  it('compiles an edited template again: its new text is rendered, the others are cached', () => {
    run(files, counted(dir).cache);
    const edited = counted(dir);
    expect(run({ ...files, [IMAGE]: image('ubuntu') }, edited.cache)).toEqual({
      ok: true,
      value: '\nFROM ubuntu\nRUN install a b\nX\n',
    });
    expect(edited.n).toEqual({ hits: 1, writes: 1 });
    // And back: both versions are kept.
    const back = counted(dir);
    expect(run(files, back.cache)).toEqual({ ok: true, value: expected });
    expect(back.n).toEqual({ hits: 2, writes: 0 });
  });

  it('keeps errors located in the template when running from cached code', () => {
    const broken = { ...files, [IMAGE]: image('debian').replace('nope.x', 'nope.y') };
    const first = run(broken, counted(dir).cache);
    const second = counted(dir);
    expect(run(broken, second.cache)).toEqual(first);
    expect(second.n.hits).toBe(2);
    expect(first).toMatchObject({
      ok: false,
      error: { file: 'images/img/Dockerfile.j2', line: 4, message: expect.stringMatching(/y/) },
    });
  });

  it.each([
    ['garbage', (text: string) => `${text.slice(0, text.indexOf('\n') + 1)}}{ not javascript`],
    ['cut short', (text: string) => text.slice(0, Math.floor(text.length / 2))],
    [
      'another template’s code',
      (text: string) => {
        const header = text.slice(0, text.indexOf('\n'));
        const code = 'return {};';
        return `${header.replace(/ \d+$/, ` ${code.length}`)}\n${code}`;
      },
    ],
    ['empty', () => ''],
  ])('ignores a corrupt cache file (%s) and writes it afresh', (_, corrupt) => {
    run(files, counted(dir).cache);
    for (const f of readdirSync(dir)) {
      writeFileSync(join(dir, f), corrupt(readFileSync(join(dir, f), 'utf8')));
    }
    const again = counted(dir);
    expect(run(files, again.cache)).toEqual({ ok: true, value: expected });
    expect(again.n).toEqual({ hits: expect.any(Number), writes: 2 });
    const healed = counted(dir);
    expect(run(files, healed.cache)).toEqual({ ok: true, value: expected });
    expect(healed.n).toEqual({ hits: 2, writes: 0 });
  });

  it('does not mix code of another jinja layer or nunjucks version', () => {
    run(files, counted(dir, 'layer-1').cache);
    const other = counted(dir, 'layer-2');
    expect(run(files, other.cache)).toEqual({ ok: true, value: expected });
    expect(other.n).toEqual({ hits: 0, writes: 2 });
    // Rewritten in place: an upgrade leaves no stale files behind.
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('never fails a run when the directory cannot be written: there is just no cache', () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const blocked = counted(join(file, 'templates'));
    expect(run(files, blocked.cache)).toEqual({ ok: true, value: expected });
    expect(run(files, blocked.cache)).toEqual({ ok: true, value: expected });
    expect(blocked.n.hits).toBe(0);
  });

  it('keys on the jinja layer’s code, read once; none when it cannot be read', () => {
    expect(jinjaLayerHash()).toMatch(/^[0-9a-f]{64}$/);
    expect(jinjaLayerHash(join(dir, 'missing'))).toBeUndefined();
    const none = openTemplateCache(dir, undefined);
    none.set('k', 'return {};');
    expect(none.get('k')).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
  });
});
