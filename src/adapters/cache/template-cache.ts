/**
 * .kbuild/cache/templates: the compiled JavaScript of each template (render.ts
 * `CompiledTemplateCache`), one small file per template, so a run whose templates did not change
 * skips nunjucks' lexer, parser and compiler (most of a cold `kbuild graph`).
 *
 * Security: these files hold code that kbuild evaluates. They live in the project's .kbuild,
 * beside its state, and are as trusted as the templates (and plugins) of the same project:
 * whoever can write them can write those too. Never point this at a shared or downloaded dir.
 *
 * A file is named by the core's key (itself a hash) and starts with a line naming what the core
 * cannot see — a hash of the jinja layer's code (src/core/jinja, read once when the cache opens)
 * and of nunjucks' version — and the code's length: a file of another layer, or cut short, is
 * ignored and rewritten in place (so upgrades leave no stale files behind). Nothing here fails a
 * command: a directory that cannot be read or written (read-only, full disk) just means no cache.
 * Beside each file, `<key>.v8` keeps what V8 compiled of it (v8-code-cache.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompiledTemplateCache } from '../../core/jinja/render.js';
import { replaceFile } from './replace-file.js';
import { codeCacheRunner } from './v8-code-cache.js';

const HEADER = '// kbuild compiled template ';

/**
 * The jinja layer's folder: src/core/jinja or dist/core/jinja seen from this module's own place,
 * else dist/core/jinja seen from dist/bundle/ (scripts/bundle.js puts this code there; the bundle
 * is made from dist/ at the same build, so those files are the code it runs).
 */
function defaultLayerDir(): string | undefined {
  for (const relative of ['../../core/jinja/', '../core/jinja/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return undefined;
}

/**
 * A hash of the jinja layer's code (the built .js files, or the .ts sources when run from src/)
 * and of nunjucks' version: what the compiled code also depends on. Undefined when they cannot
 * be read (then no cache: stale code must never be taken for fresh).
 */
export function jinjaLayerHash(layerDir = defaultLayerDir()): string | undefined {
  if (layerDir === undefined) return undefined;
  try {
    const require = createRequire(import.meta.url);
    const { version } = require('nunjucks/package.json') as { version: string };
    const hash = createHash('sha256').update(`nunjucks ${version}\0`);
    const files = readdirSync(layerDir)
      .filter((f) => /\.(?:js|ts)$/.test(f) && !/\.test\.[jt]s$/.test(f))
      .sort();
    if (files.length === 0) return undefined;
    for (const f of files)
      hash
        .update(`${f}\0`)
        .update(readFileSync(join(layerDir, f)))
        .update('\0');
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * The compiled-template cache in `dir` (created on the first write). Without a `layerHash`
 * (see jinjaLayerHash) there is no cache: every get misses, nothing is written.
 */
export function openTemplateCache(
  dir: string,
  layerHash: string | undefined,
): CompiledTemplateCache {
  if (layerHash === undefined) return { get: () => undefined, set: () => undefined };
  // Keys are hex hashes; anything else (never made by the core) gets no file.
  const fileOf = (key: string, ext = 'js'): string | undefined =>
    /^[0-9a-f]{16,128}$/.test(key) ? join(dir, `${key}.${ext}`) : undefined;
  let writable = true;
  let made = false;
  return {
    evaluate: codeCacheRunner((key) => fileOf(key, 'v8'), layerHash),
    get(key) {
      const path = fileOf(key);
      if (path === undefined) return undefined;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
      const eol = text.indexOf('\n');
      const code = text.slice(eol + 1);
      return text.slice(0, eol) === `${HEADER}${layerHash} ${code.length}` ? code : undefined;
    },
    set(key, code) {
      const path = fileOf(key);
      if (!writable || path === undefined) return;
      try {
        if (!made) mkdirSync(dir, { recursive: true });
        made = true;
      } catch {
        writable = false;
        return;
      }
      // Read-only or full: run without a cache; try no further writes this run.
      writable = replaceFile(path, `${HEADER}${layerHash} ${code.length}\n${code}`);
    },
  };
}
