/**
 * `kbuild watch`: the build at start, then again whenever a file it reads changes (templates,
 * build contexts, kbuild.yaml, the profile), once the files are quiet; one build at a time. Each
 * build is `kbuild build`'s own (buildFamily with the same settings), so its plan rebuilds only
 * what changed and its descendants. Ctrl-C: idle, exits 0 (docker compose's and skaffold dev's
 * way of ending); during a build, cancels it as it would cancel `kbuild build` and exits 130.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { findProjectRoot, PROJECT_FILE } from '../../adapters/workspace.js';
import { watchDirs } from '../../adapters/watch/dir-watcher.js';
import {
  countedChanges,
  describeChanges,
  isIgnored,
  skipsDir,
  watchedDirs,
  watchedFiles,
  type WatchInputs,
} from '../../adapters/watch/watch-set.js';
import { imageDir } from '../../core/naming.js';
import { exitCodeFor, formatFailure } from '../../report/failures.js';
import { watchLoop, type WatchClock } from '../../run/watch-loop.js';
import type { BuildSettings } from '../build-run.js';
import { HostError, UsageError, type Io } from '../io.js';
import { loadWorkspace, profileName, type Workspace } from '../load.js';
import { Failed } from '../options.js';
import { loadSelected } from '../commands/shared.js';

const realClock: WatchClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
};

export async function watchCommand(
  io: Io,
  patterns: string[],
  settings: BuildSettings,
  debounceMs: number,
): Promise<number> {
  const { buildFamily } = await import('../build-run.js');
  // The watch's own loads (to know what to watch) say nothing: the build says it all.
  const silent: Io = { ...io, out: () => undefined, err: () => undefined };
  const stop = new AbortController();
  let inputs = await inputsOf(silent, patterns, settings);
  let before = await watchedFiles(inputs);

  /** The build's exit code; `mistake`: the command line is wrong (no such profile or image). */
  const buildOnce = async (): Promise<{ code: number; mistake: boolean }> => {
    try {
      return {
        code: await buildFamily(io, patterns, { ...settings, stop: stop.signal }),
        mistake: false,
      };
    } catch (e) {
      return { code: reported(io, e), mistake: commandLineMistake(e) };
    }
  };

  return new Promise<number>((exit) => {
    let finished = false;
    let signals = 0;
    const watcher = watchDirs(
      (path) => {
        if (!isIgnored(inputs, path)) loop.changed(path);
      },
      (dir) => skipsDir(inputs)(dir),
    );
    const finish = (code: number, note = 'stopped') => {
      if (finished) return;
      finished = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      watcher.close();
      void loop.stop();
      if (note) io.err(`kbuild watch: ${note}\n`);
      exit(code);
    };
    const loop = watchLoop({
      debounceMs,
      clock: realClock,
      build: async (changed) => {
        if (changed.length) {
          // Files watched after the change matter only for paths that are new and still there
          // (listing them costs ~0.5 s for 187 images; an editor's temp file is gone by now).
          const known = new Set(countedChanges(changed, before, new Set()));
          const newOnes = changed.some((p) => !known.has(p) && existsSync(p));
          const after = newOnes ? await watchedFiles(inputs) : new Set<string>();
          const counted = countedChanges(changed, before, after);
          if (!counted.length || stop.signal.aborted) return;
          io.err(`kbuild watch: changed ${describeChanges(inputs.root, counted)}\n`);
        }
        const { code, mistake } = await buildOnce();
        // Watching cannot mend a wrong command line (edits can mend a template or kbuild.yaml).
        if (mistake && !changed.length) return finish(code, '');
        // What to watch may have changed with the files (a new context file, another include).
        inputs = await inputsOf(silent, patterns, settings, inputs);
        before = await watchedFiles(inputs);
        watcher.set(watchedDirs(inputs));
        if (stop.signal.aborted) return finish(code === 130 ? 130 : 0);
        io.err(
          `kbuild watch: ${code === 0 ? 'build ok' : `build ended with exit code ${code}`}; watching ${before.size} files (Ctrl-C to stop)\n`,
        );
      },
    });
    // A build running cancels as `kbuild build` does (its own handler reports the interrupt and
    // aborts the run; `stop` also covers the time before it is there), then the watch ends; idle,
    // it ends at once. A second signal exits at once, as it does for `kbuild build`.
    const onSignal = (sig: NodeJS.Signals) => {
      if (++signals > 1) process.exit(130);
      stop.abort(sig);
      if (!loop.building()) finish(0);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    watcher.set(watchedDirs(inputs));
    loop.start();
  });
}

/** A usage error, or a profile or image named on the command line that does not exist. */
const commandLineMistake = (e: unknown) =>
  e instanceof UsageError ||
  (e instanceof Failed &&
    e.failures.some(
      (f) =>
        f.reason === 'profile-not-found' ||
        (f.reason === 'selection-unknown' && f.source === 'the command line'),
    ));

/** Says why a build did not run, as `kbuild build` would; its exit code. */
function reported(io: Io, e: unknown): number {
  if (e instanceof Failed) {
    for (const f of e.failures) io.err(`${formatFailure(f)}\n`);
    return exitCodeFor(e.failures);
  }
  if (e instanceof UsageError || e instanceof HostError) {
    io.err(`kbuild: ${e.message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
  io.err(`kbuild: internal error (a bug; please report it): ${(e as Error).stack ?? String(e)}\n`);
  return 1;
}

/**
 * What to watch for a build of `patterns`: from the workspace and the selection as they load now;
 * what does not load is taken from `previous` (a broken template leaves the selection unknown: the
 * build contexts stay those watched before), or else every image's context is watched.
 */
async function inputsOf(
  io: Io,
  patterns: readonly string[],
  s: BuildSettings,
  previous?: WatchInputs,
): Promise<WatchInputs> {
  const outputs = [
    s.output.logsDir,
    s.files.summaryJson,
    s.files.report,
    s.files.junit,
    s.files.metadataFile,
    s.sbomDir,
  ].flatMap((f) => (f ? [resolve(io.cwd, f)] : []));
  const overrides = s.load.templateOverride.map((o) => resolve(io.cwd, o));
  const ws = await loadWorkspace(io, s.load).then(
    (w) => (w.ok ? w.value : undefined),
    () => undefined,
  );
  if (!ws) {
    if (previous) return previous;
    const root = findProjectRoot(s.load.project, io.cwd);
    return {
      root,
      projectFile: join(root, PROJECT_FILE),
      imagesDir: join(root, 'images'),
      profilesDir: join(root, 'profiles'),
      profileFiles: [],
      overrides,
      ignored: outputs,
    };
  }
  const root = ws.root;
  let profile: string | undefined;
  try {
    profile = profileName(io, ws, s.load.profile);
  } catch {
    profile = undefined; // the build says which to choose
  }
  const contexts = await loadSelected(io, s.load, patterns, { workspace: ws }).then(
    (sel) =>
      sel.selection.images.flatMap((n) => {
        const img = sel.family.images.get(n);
        return img ? [join(root, imageDir(sel.family.project, img.spec))] : [];
      }),
    () => previous?.contexts ?? ws.images.map((spec) => join(root, imageDir(ws.project, spec))),
  );
  return {
    root,
    projectFile: join(root, PROJECT_FILE),
    imagesDir: join(root, ws.project.imagesDir),
    profilesDir: join(root, ws.project.profilesDir),
    profileFiles: profileChain(ws, profile).map((f) => join(root, f)),
    overrides,
    contexts,
    ignored: outputs,
  };
}

/** The files of profile `name` and of the profiles it extends (every profile's: none named). */
function profileChain(ws: Workspace, name: string | undefined): string[] {
  if (name === undefined) return [...ws.profiles.values()].map((p) => p.file);
  const files: string[] = [];
  const seen = new Set<string>();
  for (let n: string | undefined = name; n !== undefined && !seen.has(n);) {
    seen.add(n);
    const src = ws.profiles.get(n);
    if (!src) break;
    files.push(src.file);
    let ext: unknown;
    try {
      ext = (parse(src.text) as { extends?: unknown } | null)?.extends;
    } catch {
      ext = undefined; // the build reports the broken profile
    }
    n = typeof ext === 'string' ? ext : undefined;
  }
  return files;
}
