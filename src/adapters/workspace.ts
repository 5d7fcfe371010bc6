/**
 * Reads an image family's files from disk: kbuild.yaml, the profiles, every template and
 * image.yaml under the images root, override files and plugin modules. The only place the
 * core's inputs touch the filesystem.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ProfileSource } from '../core/config/config.js';
import type { FoundTemplate } from '../core/config/images.js';
import type { Failure, Result } from '../core/model.js';
import { err, ok } from '../core/model.js';
import type { TemplatePlugin } from '../core/jinja/render.js';

export const PROJECT_FILE = 'kbuild.yaml';

/** The project root: `dir` if given, else the nearest folder upwards holding kbuild.yaml, else cwd. */
export function findProjectRoot(dir: string | undefined, cwd: string): string {
  if (dir) return resolve(cwd, dir);
  for (let d = cwd; ; d = dirname(d)) {
    if (existsSync(join(d, PROJECT_FILE))) return d;
    if (dirname(d) === d) return cwd;
  }
}

const toPosix = (p: string) => p.split(sep).join('/');

/**
 * The real path, links resolved, in one system call: node's own realpathSync resolves in
 * JavaScript with an lstat of every component of the path, and the workspace walk asks for about
 * two per image (measured on the 187-image bench family: 380 paths, 52–82 ms that way, 13–25 ms
 * this way).
 */
const realpath = (path: string): string => realpathSync.native(path);

/**
 * The files in `dir` (and below it, when `deep`) whose posix path relative to `dir` passes
 * `keep`, as a glob of them listed them: links followed (a linked folder is walked, but not back
 * into a folder it came through), names starting with a dot left out, node_modules not entered;
 * a missing `dir` has none. Synchronous and without a glob library on purpose: this runs first in
 * every command that loads a family, and loading fast-glob alone took longer than walking a
 * 187-image tree with it.
 */
function listFiles(dir: string, keep: (path: string) => boolean, deep: boolean): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string, chain: ReadonlySet<string>) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const full = join(abs, entry.name);
      let isFile = entry.isFile();
      let isDir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        const target = statSync(full, { throwIfNoEntry: false });
        if (!target) continue; // a broken link is no file
        isFile = target.isFile();
        isDir = target.isDirectory();
      }
      if (isFile) {
        if (keep(path)) out.push(path);
      } else if (isDir && deep && entry.name !== 'node_modules') {
        const real = realpath(full);
        if (!chain.has(real)) walk(full, path, new Set([...chain, real]));
      }
    }
  };
  if (!existsSync(dir)) return out;
  walk(dir, '', new Set([realpath(dir)]));
  return out;
}

export async function readProjectFile(root: string): Promise<string | undefined> {
  return readOptional(join(root, PROJECT_FILE));
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Every profiles/<name>.yaml (or .yml), by name. */
export async function readProfiles(
  root: string,
  profilesDir: string,
): Promise<Map<string, ProfileSource>> {
  const files = listFiles(join(root, profilesDir), (f) => /\.ya?ml$/.test(f), false);
  const out = new Map<string, ProfileSource>();
  await Promise.all(
    files.sort().map(async (f) => {
      const name = f.replace(/\.ya?ml$/, '');
      out.set(name, {
        name,
        file: `${profilesDir}/${f}`,
        text: await readFile(join(root, profilesDir, f), 'utf8'),
      });
    }),
  );
  return out;
}

export interface ImagesTree {
  readonly found: FoundTemplate[];
  /** Every *.j2 under the images root, by posix path relative to it. */
  readonly templates: Map<string, string>;
}

/** Reads the images tree: every Dockerfile.j2 (with image.yaml) and every other template. */
export function readImagesTree(root: string, imagesDir: string): Result<ImagesTree, Failure> {
  const cwd = join(root, imagesDir);
  if (!existsSync(cwd)) {
    return err({
      reason: 'config-invalid',
      problems: [
        {
          file: PROJECT_FILE,
          message: `the images directory '${imagesDir}' does not exist`,
          hint: "create it, or set 'images_dir' in kbuild.yaml",
        },
      ],
    });
  }
  const paths = listFiles(
    cwd,
    (p) => p.endsWith('.j2') || p === 'image.yaml' || p.endsWith('/image.yaml'),
    true,
  );
  const escaping = leavingDir(cwd, paths);
  if (escaping.length) {
    return err({
      reason: 'config-invalid',
      problems: escaping.map(({ path, real }) => ({
        file: `${imagesDir}/${path}`,
        message: `a link to ${real}, outside the images directory: kbuild reads templates only from inside '${imagesDir}' (as it refuses an include of '../')`,
        hint: 'copy the file into the images directory, or remove the link',
      })),
    });
  }
  // Synchronously: for a few hundred small files that costs less than as many promises (an open,
  // a stat, a read and a close each, on the thread pool).
  const texts = paths.map((p) => readFileSync(join(cwd, p), 'utf8'));
  const templates = new Map<string, string>();
  const metas = new Map<string, string>();
  paths.forEach((p, i) => (p.endsWith('.j2') ? templates : metas).set(p, texts[i]!));
  const found: FoundTemplate[] = [];
  for (const t of templates.keys()) {
    if (t !== 'Dockerfile.j2' && !t.endsWith('/Dockerfile.j2')) continue;
    const meta = metas.get(t.replace(/Dockerfile\.j2$/, 'image.yaml'));
    found.push({ template: t, ...(meta !== undefined ? { metaText: meta } : {}) });
  }
  return ok({ found, templates });
}

/**
 * The files among `paths` (relative to `dir`) whose real path, links resolved, is not inside
 * `dir`'s own real path: a symlink (of the file, or of a folder on its way) leading out.
 */
function leavingDir(dir: string, paths: readonly string[]): { path: string; real: string }[] {
  const root = realpath(dir);
  const reals = paths.map((p) => realpath(join(dir, p)));
  return paths.flatMap((path, i) => {
    const real = reals[i]!;
    const rel = relative(root, real);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? [{ path, real }] : [];
  });
}

/**
 * Override files in the order given; a directory stands for its *.j2 files, sorted, and may not
 * lead out of itself through links (a file given by name is the user's choice).
 */
export async function readOverrides(
  root: string,
  paths: readonly string[],
  cwd: string,
): Promise<Result<{ path: string; source: string }[], Failure>> {
  const out: { path: string; source: string }[] = [];
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let files: string[];
    try {
      if ((await stat(abs)).isDirectory()) {
        const names = listFiles(abs, (n) => n.endsWith('.j2'), false).sort();
        const escaping = leavingDir(abs, names);
        if (escaping.length) {
          return err({
            reason: 'config-invalid',
            problems: escaping.map(({ path, real }) => ({
              file: toPosix(join(p, path)),
              message: `a link to ${real}, outside the template override directory '${p}': it is not read`,
              hint: 'copy the file into the directory, or give it as its own --template-override',
            })),
          });
        }
        files = names.map((n) => join(abs, n));
      } else files = [abs];
    } catch {
      return err({
        reason: 'config-invalid',
        problems: [
          {
            file: p,
            message: `template override '${p}' does not exist`,
            hint: 'give a file or a directory of *.j2 files',
          },
        ],
      });
    }
    for (const f of files)
      out.push({ path: toPosix(relative(root, f)) || f, source: await readFile(f, 'utf8') });
  }
  return ok(out);
}

/** Imports the plugin modules named in kbuild.yaml and checks what they export. */
export async function loadPlugins(
  root: string,
  modules: readonly string[],
): Promise<Result<TemplatePlugin[], Failure>> {
  const out: TemplatePlugin[] = [];
  for (const m of modules) {
    const file = resolve(root, m);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (e) {
      return err({
        reason: 'plugin-invalid',
        file: m,
        message: `cannot load: ${(e as Error).message}`,
      });
    }
    const exported = (
      mod['default'] && typeof mod['default'] === 'object' ? mod['default'] : mod
    ) as Record<string, unknown>;
    const plugin: TemplatePlugin = {};
    for (const key of ['filters', 'tests', 'globals'] as const) {
      const v = exported[key];
      if (v === undefined) continue;
      if (typeof v !== 'object' || v === null)
        return err({
          reason: 'plugin-invalid',
          file: m,
          message: `'${key}' must be an object of named ${key}`,
        });
      if (key !== 'globals') {
        for (const [name, fn] of Object.entries(v)) {
          if (typeof fn !== 'function')
            return err({
              reason: 'plugin-invalid',
              file: m,
              message: `${key}.${name} must be a function`,
            });
        }
      }
      Object.assign(plugin, { [key]: v });
    }
    if (!plugin.filters && !plugin.tests && !plugin.globals) {
      return err({
        reason: 'plugin-invalid',
        file: m,
        message: 'exports none of filters, tests, globals',
      });
    }
    out.push(plugin);
  }
  return ok(out);
}
