/**
 * What `kbuild watch` watches: the files a build of the selection reads (kbuild.yaml, the profile
 * and the profiles it extends, every template and image.yaml of the images directory,
 * --template-override files, and each watched image's build context as the engine receives it,
 * .dockerignore applied), the directories they are in, and what never counts (kbuild's own
 * output: .kbuild/, logs, summaries, reports).
 */
import fg from 'fast-glob';
import { dirname, join, relative, sep } from 'node:path';
import { statSync } from 'node:fs';
import { sentContextFiles } from '../context-hash.js';
import type { WatchedDir } from './dir-watcher.js';

export interface WatchInputs {
  /** The project root; every path below is absolute. */
  readonly root: string;
  readonly projectFile: string;
  readonly imagesDir: string;
  readonly profilesDir: string;
  /** The profile's file and those of the profiles it extends. */
  readonly profileFiles: readonly string[];
  /** --template-override files or directories (of *.j2 files). */
  readonly overrides: readonly string[];
  /** The watched images' build context directories; undefined: every file of the images dir. */
  readonly contexts?: readonly string[];
  /** Files or directories whose changes never count (kbuild's own output). */
  readonly ignored: readonly string[];
}

const within = (path: string, dir: string) => path === dir || path.startsWith(dir + sep);
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.kbuild']);

/** Whether a change of `path` is kbuild's own doing (.kbuild/, an output file): never a trigger. */
export const isIgnored = (i: WatchInputs, path: string) =>
  within(path, join(i.root, '.kbuild')) || i.ignored.some((x) => within(path, x));

/** Directories the watcher does not enter. */
export const skipsDir = (i: WatchInputs) => (dir: string) =>
  SKIPPED_DIRS.has(dir.slice(dir.lastIndexOf(sep) + 1)) || isIgnored(i, dir);

const isDirectory = (path: string) =>
  statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** The directories to watch for `i`'s files (directories, so that rename-over saves are heard). */
export function watchedDirs(i: WatchInputs): WatchedDir[] {
  return [
    { dir: i.root, deep: false },
    { dir: i.profilesDir, deep: false },
    { dir: i.imagesDir, deep: true },
    ...i.overrides.map((o) => ({ dir: isDirectory(o) ? o : dirname(o), deep: false })),
    ...(i.contexts ?? [])
      .filter((c) => !within(c, i.imagesDir))
      .map((dir) => ({ dir, deep: true })),
  ];
}

/** Every file a build of the selection reads now, by absolute path. */
export async function watchedFiles(i: WatchInputs): Promise<Set<string>> {
  const glob = (patterns: string[], cwd: string, dot: boolean) =>
    fg(patterns, {
      cwd,
      absolute: true,
      dot,
      onlyFiles: true,
      ignore: ['**/node_modules/**', '**/.git/**'],
      suppressErrors: true,
    });
  const [templates, overrides, contexts] = await Promise.all([
    glob(['**/*.j2', '**/image.yaml'], i.imagesDir, false),
    Promise.all(
      i.overrides.map((o) => (isDirectory(o) ? glob(['*.j2'], o, false) : Promise.resolve([o]))),
    ),
    i.contexts
      ? Promise.all(
          i.contexts.map(async (dir) =>
            (await sentContextFiles(dir).catch(() => [])).map((f) => join(dir, f)),
          ),
        )
      : glob(['**/*'], i.imagesDir, true).then((all) => [all]),
  ]);
  const files = [
    i.projectFile,
    ...i.profileFiles,
    ...templates,
    ...overrides.flat(),
    ...contexts.flat(),
  ].map((f) => f.split('/').join(sep));
  return new Set(files.filter((f) => !isIgnored(i, f)));
}

/**
 * The changed paths that matter: a file watched before the change or after it, or a directory
 * holding one (a directory renamed or removed). An editor's temp file, written and renamed away
 * before the files were quiet, is neither: it does not count.
 */
export function countedChanges(
  changed: readonly string[],
  before: ReadonlySet<string>,
  after: ReadonlySet<string>,
): string[] {
  const holds = (set: ReadonlySet<string>, p: string) => {
    if (set.has(p)) return true;
    for (const f of set) if (f.startsWith(p + sep)) return true;
    return false;
  };
  return changed.filter((p) => holds(before, p) || holds(after, p));
}

/** A trigger's paths for one line: relative to the root, the first few, then `+N more`. */
export function describeChanges(root: string, paths: readonly string[], shown = 3): string {
  const rel = paths.map((p) => relative(root, p).split(sep).join('/'));
  const more = rel.length - shown;
  return `${rel.slice(0, shown).join(', ')}${more > 0 ? ` +${more} more` : ''}`;
}
