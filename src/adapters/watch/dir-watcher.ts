/**
 * Watches directories (one inotify watch each, through fs.watch without `recursive`) and says
 * which paths in them changed. Directories, not files: an editor that saves by writing a temp
 * file and renaming it over the original replaces the file's inode, and a watch on the file
 * would hear nothing after the first save. Not fs.watch's `recursive` either: on Linux, Node 20
 * (measured with 20.20) builds it from per-file watches, and after one rename-over save it hears
 * no further change of that file, not even the next rename-over save.
 */
import { watch, readdirSync, statSync, type FSWatcher } from 'node:fs';
import { join, sep } from 'node:path';

/** A directory to watch: alone, or with every directory below it (`deep`). */
export interface WatchedDir {
  readonly dir: string;
  readonly deep: boolean;
}

export interface DirWatcher {
  /** Watches these directories from now on (and no others); missing ones are left out. */
  readonly set: (dirs: readonly WatchedDir[]) => void;
  /** How many directories are watched. */
  readonly size: () => number;
  readonly close: () => void;
}

const isDir = (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
const under = (path: string, dir: string) => path === dir || path.startsWith(dir + sep);

/**
 * `onPath` gets the absolute path of every entry that was created, written, renamed or removed
 * in a watched directory (also the files already inside a directory that appears in a deep one).
 * `skip`: directories not to enter or watch (.kbuild, .git, node_modules).
 */
export function watchDirs(
  onPath: (path: string) => void,
  skip: (dir: string) => boolean,
): DirWatcher {
  const watchers = new Map<string, FSWatcher>();
  let deepRoots: readonly string[] = [];

  const unwatch = (dir: string) => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
  };

  /** `dir` and, if `deep`, every directory below it; `found` gets the files met on the way. */
  const walk = (dir: string, deep: boolean, out: Set<string>, found?: (f: string) => void) => {
    if (out.has(dir) || skip(dir) || !isDir(dir)) return;
    out.add(dir);
    if (!deep && !found) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // gone again, or unreadable: nothing to watch there
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (deep) walk(path, deep, out, found);
      } else found?.(path);
    }
  };

  const add = (dir: string) => {
    if (watchers.has(dir)) return;
    try {
      const w = watch(dir, { persistent: true }, (type, name) => {
        const path = name ? join(dir, name.toString()) : dir;
        onPath(path);
        if (type === 'rename') renamed(path);
      });
      // The directory was removed (or can no longer be read): stop watching it.
      w.on('error', () => unwatch(dir));
      watchers.set(dir, w);
    } catch {
      // Removed between the walk and the watch: its parent's watch reports it.
    }
  };

  /** A path appeared or went: watch a new directory inside a deep one, forget a removed one. */
  const renamed = (path: string) => {
    if (isDir(path)) {
      if (!deepRoots.some((r) => under(path, r)) || watchers.has(path)) return;
      const dirs = new Set<string>();
      // Files written before its watch was in place are reported as changed.
      walk(path, true, dirs, onPath);
      for (const d of dirs) add(d);
    } else {
      for (const d of [...watchers.keys()]) if (under(d, path)) unwatch(d);
    }
  };

  return {
    set: (specs) => {
      deepRoots = specs.filter((s) => s.deep).map((s) => s.dir);
      const want = new Set<string>();
      // Deep ones first: a shallow one met first would keep the walk out of the same directory.
      for (const s of [...specs].sort((a, b) => Number(b.deep) - Number(a.deep)))
        walk(s.dir, s.deep, want);
      for (const d of [...watchers.keys()]) if (!want.has(d)) unwatch(d);
      for (const d of want) add(d);
    },
    size: () => watchers.size,
    close: () => {
      for (const d of [...watchers.keys()]) unwatch(d);
    },
  };
}
