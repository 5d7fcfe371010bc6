/**
 * Fetches per-image sources into build contexts: downloads (checked against their sha256), git
 * checkouts (a mirror per repository, archived at the resolved commit) and local directories
 * (packed reproducibly). Every archive is listed before it is used, and refused when an entry
 * would land outside the directory it is unpacked into. Downloads and packs are cached under
 * .kbuild/sources, by content, so a re-run fetches nothing.
 *
 * Uses node-tar (isaacs/node-tar) to write and list archives: pax headers, long names and
 * gzip are its daily business, and it lets every header field be fixed for reproducibility.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { spawn } from 'node:child_process';
import fg from 'fast-glob';
import * as tar from 'tar';
import { err, ok, type Result } from '../core/model.js';
import {
  archiveSuffix,
  describeSource,
  entryEscapes,
  sourceArchiveName,
  sourceWhere,
  type ArchiveEntry,
  type SourceSpec,
} from '../core/sources.js';
import { shortId } from '../core/plan/fingerprint.js';
import { fileSha256 } from './context-hash.js';
import { lastLine, runCommand } from './exec.js';

/** The mtime of every entry of the archives kbuild packs: 1980-01-01. */
const FIXED_TIME = new Date(Date.UTC(1980, 0, 1));

export interface SourceOp {
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
}

export interface SourceFetcher {
  /**
   * What a source is, for fingerprints, without downloading: `sha256:<hex>` (url, local archive,
   * or a local directory's reproducible pack) or `git:<commit>` (a branch or tag resolved now).
   */
  identify(image: string, spec: SourceSpec, signal: AbortSignal): Promise<Result<string, string>>;
  /** Puts the archive into `contextDir` at its name (core/sources sourceArchiveName). */
  place(
    image: string,
    spec: SourceSpec,
    identity: string,
    contextDir: string,
    op: SourceOp,
  ): Promise<Result<void, string>>;
}

/** Runs `work` once per key at a time (two images of one repository share its mirror). */
function keyedLock() {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(work, work);
    tails.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  };
}

const isRemoteGit = (url: string) => /^[a-z][a-z0-9+.-]*:\/\/|^[^/]+@[^/:]+:/i.test(url);

export function createSourceFetcher(opts: {
  /** Project root: relative local paths and git paths are resolved from it. */
  readonly root: string;
  /** Cache directory, e.g. <root>/.kbuild/sources. */
  readonly cacheDir: string;
}): SourceFetcher {
  const locked = keyedLock();
  const cache = (...parts: string[]) => join(opts.cacheDir, ...parts);
  const tmpName = (path: string) => `${path}.part-${randomBytes(4).toString('hex')}`;
  const git = async (args: string[], signal: AbortSignal, cwd?: string) =>
    runCommand({
      file: 'git',
      args,
      signal,
      env: { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' },
      ...(cwd ? { cwd } : {}),
    });
  const gitUrl = (url: string) => (isRemoteGit(url) ? url : resolve(opts.root, url));

  /** Packs a directory: entries sorted, owner root, mode without group/other write, fixed mtime. */
  const pack = async (image: string, dir: string): Promise<string> => {
    const entries = (
      await fg('**', {
        cwd: dir,
        dot: true,
        onlyFiles: false,
        followSymbolicLinks: false,
        ignore: ['**/.git', '**/.git/**'],
      })
    ).sort();
    const out = cache('packed', `${image}.tar`);
    await mkdir(dirname(out), { recursive: true });
    const tmp = tmpName(out);
    await tar.c(
      {
        file: tmp,
        cwd: dir,
        portable: true,
        mtime: FIXED_TIME,
        noDirRecurse: true,
        follow: false,
        prefix: image,
      },
      entries,
    );
    const sha = await fileSha256(tmp);
    const final = cache('packed', `${sha}.tar`);
    await rename(tmp, final);
    return sha;
  };

  const resolveGit = async (
    spec: Extract<SourceSpec, { type: 'git' }>,
    image: string,
    signal: AbortSignal,
  ): Promise<Result<string, string>> => {
    if (/^[0-9a-f]{40}$/.test(spec.reference)) return ok(spec.reference);
    // Annotated tags: the peeled line (the commit) matches only its own pattern.
    const r = await git(
      ['ls-remote', gitUrl(spec.url), spec.reference, `${spec.reference}^{}`],
      signal,
    );
    const where = sourceWhere(spec, image);
    if (r.status !== 'exited' || r.exitCode !== 0) {
      return err(
        `${where}: sources.${image}: cannot read git repository ${spec.url}: ${lastLine(r.stderr) || r.status}`,
      );
    }
    const refs = new Map(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [sha, name] = l.split('\t');
          return [name ?? '', sha ?? ''] as const;
        }),
    );
    const ref = spec.reference;
    const commit =
      refs.get(`refs/tags/${ref}^{}`) ??
      refs.get(`refs/tags/${ref}`) ??
      refs.get(`refs/heads/${ref}`) ??
      refs.get(`${ref}^{}`) ??
      refs.get(ref);
    if (!commit) {
      return err(
        `${where}: sources.${image}: git reference '${ref}' does not exist in ${spec.url}; give a branch, a tag or a full 40-character commit id`,
      );
    }
    return ok(commit);
  };

  const download = async (
    spec: Extract<SourceSpec, { type: 'url' }>,
    image: string,
    op: SourceOp,
  ): Promise<Result<string, string>> => {
    const out = cache('url', `${spec.sha256}${archiveSuffix(spec.url) ?? ''}`);
    if ((await exists(out)) && (await fileSha256(out)) === spec.sha256) return ok(out);
    await mkdir(dirname(out), { recursive: true });
    const where = sourceWhere(spec, image);
    let last = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (op.signal.aborted) return err('cancelled');
      if (attempt > 1) await new Promise((r) => setTimeout(r, 1000 * (attempt - 1)));
      const tmp = tmpName(out);
      try {
        op.log(`kbuild: source ${image}: downloading ${spec.url}`);
        const res = await fetch(spec.url, { signal: op.signal, redirect: 'follow' });
        if (!res.ok || !res.body) {
          last = `HTTP ${res.status} ${res.statusText}`;
          await res.body?.cancel();
          if (res.status < 500 && res.status !== 429) break;
          continue;
        }
        const hash = createHash('sha256');
        let bytes = 0;
        await pipeline(
          res.body,
          async function* (chunks: AsyncIterable<Uint8Array>) {
            for await (const c of chunks) {
              hash.update(c);
              bytes += c.length;
              yield c;
            }
          },
          createWriteStream(tmp),
        );
        const got = hash.digest('hex');
        if (got !== spec.sha256) {
          await rm(tmp, { force: true });
          return err(
            `${where}: sources.${image}: checksum mismatch for ${spec.url}: it has sha256 ${got}, the configuration expects ${spec.sha256}. ` +
              'If the archive really changed upstream, check it and update sha256; otherwise the download was tampered with or truncated.',
          );
        }
        await rename(tmp, out);
        op.log(`kbuild: source ${image}: ${bytes} bytes, sha256 ${got} as expected`);
        return ok(out);
      } catch (e) {
        await rm(tmp, { force: true });
        if (op.signal.aborted) return err('cancelled');
        last =
          e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
      }
    }
    return err(`${where}: sources.${image}: cannot download ${spec.url}: ${last}`);
  };

  const gitArchive = async (
    spec: Extract<SourceSpec, { type: 'git' }>,
    image: string,
    commit: string,
    op: SourceOp,
  ): Promise<Result<string, string>> => {
    const out = cache('git', `${image}-${commit}.tar`);
    if (await exists(out)) return ok(out);
    const url = gitUrl(spec.url);
    const mirror = cache(
      'git',
      `${createHash('sha256').update(url).digest('hex').slice(0, 16)}.git`,
    );
    const where = sourceWhere(spec, image);
    return locked(mirror, async () => {
      if (!(await exists(mirror))) {
        await mkdir(mirror, { recursive: true });
        const init = await git(['init', '--bare', '--quiet', mirror], op.signal);
        if (init.status !== 'exited' || init.exitCode !== 0)
          return err(`cannot create a git mirror in ${mirror}: ${lastLine(init.stderr)}`);
      }
      const have = async () => {
        const r = await git(['cat-file', '-e', `${commit}^{commit}`], op.signal, mirror);
        return r.status === 'exited' && r.exitCode === 0;
      };
      if (!(await have())) {
        op.log(`kbuild: source ${image}: fetching ${spec.url}`);
        const f = await git(
          [
            'fetch',
            '--quiet',
            '--prune',
            '--no-tags',
            url,
            '+refs/heads/*:refs/heads/*',
            '+refs/tags/*:refs/tags/*',
          ],
          op.signal,
          mirror,
        );
        if (f.status !== 'exited' || f.exitCode !== 0)
          return err(
            `${where}: sources.${image}: git fetch ${spec.url} failed: ${lastLine(f.stderr)}`,
          );
        if (!(await have()))
          return err(
            `${where}: sources.${image}: commit ${commit} ('${spec.reference}') is not in any branch or tag of ${spec.url}`,
          );
      }
      const tmp = tmpName(out);
      const a = await git(
        ['archive', '--format=tar', `--prefix=${image}/`, '-o', tmp, commit],
        op.signal,
        mirror,
      );
      if (a.status !== 'exited' || a.exitCode !== 0) {
        await rm(tmp, { force: true });
        return err(
          `${where}: sources.${image}: git archive ${commit} failed: ${lastLine(a.stderr)}`,
        );
      }
      await rename(tmp, out);
      return ok(out);
    });
  };

  /** The archive in the cache (or the user's own file) for a source, checked. */
  const obtain = async (
    image: string,
    spec: SourceSpec,
    identity: string,
    op: SourceOp,
  ): Promise<Result<string, string>> => {
    const where = sourceWhere(spec, image);
    switch (spec.type) {
      case 'url':
        return locked(`url:${spec.sha256}`, () => download(spec, image, op));
      case 'git':
        return gitArchive(spec, image, identity.replace(/^git:/, ''), op);
      case 'local': {
        const abs = resolve(opts.root, spec.path);
        if (spec.sha256) {
          const got = await fileSha256(abs).catch(() => undefined);
          if (got === undefined) return err(`${where}: sources.${image}: cannot read ${abs}`);
          if (got !== spec.sha256)
            return err(
              `${where}: sources.${image}: checksum mismatch for ${abs}: it has sha256 ${got}, the configuration expects ${spec.sha256}; update sha256 if the archive changed on purpose`,
            );
          return ok(abs);
        }
        const packed = cache('packed', `${identity.replace(/^sha256:/, '')}.tar`);
        if (await exists(packed)) return ok(packed);
        const sha = await locked(`pack:${image}`, () => pack(image, abs));
        if (`sha256:${sha}` !== identity)
          return err(
            `${where}: sources.${image}: ${abs} changed while kbuild was running; run again`,
          );
        return ok(packed);
      }
    }
  };

  return {
    identify: async (image, spec, signal) => {
      switch (spec.type) {
        case 'url':
          return ok(`sha256:${spec.sha256}`);
        case 'git': {
          const r = await resolveGit(spec, image, signal);
          return r.ok ? ok(`git:${r.value}`) : r;
        }
        case 'local': {
          const abs = resolve(opts.root, spec.path);
          const st = await stat(abs).catch(() => undefined);
          const where = sourceWhere(spec, image);
          if (!st)
            return err(
              `${where}: sources.${image}: ${abs} does not exist; fix 'path' (relative to the project root)`,
            );
          if (st.isDirectory())
            return ok(`sha256:${await locked(`pack:${image}`, () => pack(image, abs))}`);
          if (!spec.sha256)
            return err(
              `${where}: sources.${image}: ${abs} is neither a directory nor a tar archive (.tar, .tar.gz, .tar.xz, .tar.bz2, .tar.zst)`,
            );
          return ok(`sha256:${spec.sha256}`);
        }
      }
    },

    place: async (image, spec, identity, contextDir, op) => {
      const got = await obtain(image, spec, identity, op);
      if (!got.ok) return got;
      const suffix = archiveSuffix(got.value) ?? '.tar';
      const listed = await listArchive(got.value, suffix, op.signal);
      if (!listed.ok)
        return err(
          `${sourceWhere(spec, image)}: sources.${image}: ${got.value} is not a readable tar archive: ${listed.error}`,
        );
      const bad = listed.value.map(entryEscapes).find((why) => why !== undefined);
      if (bad) {
        return err(
          `${sourceWhere(spec, image)}: sources.${image} (${describeSource(spec)}): refused: ${bad}. kbuild does not use archives with entries outside their own directory.`,
        );
      }
      const dest = join(contextDir, sourceArchiveName(image, spec));
      await mkdir(dirname(dest), { recursive: true });
      await copyFile(got.value, dest);
      await utimes(dest, ...contentTime(identity));
      op.log(
        `kbuild: source ${image}: ${describeSource(spec)} (${shortId(identity)}, ${listed.value.length} entries) -> ${sourceArchiveName(image, spec)}`,
      );
      return ok(undefined);
    },
  };
}

/**
 * An mtime derived from the content. The engine copies mtimes into layers, so it must not be the
 * time of the run (the layer would differ on every host); but it must not be one fixed time either:
 * BuildKit re-sends a context file only when its size or mtime changed, and tar archives of one
 * project often have the same size, so a new archive would silently be taken for the old one.
 */
function contentTime(identity: string): [Date, Date] {
  // The identity (sha256:<hex>, git:<commit>) already names the content: no need to hash it again.
  const hex = identity.replace(/^\w+:/, '');
  const t = new Date(FIXED_TIME.getTime() + parseInt(hex.slice(0, 8), 16) * 1000);
  return [t, t];
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

const DECOMPRESSORS: Readonly<Record<string, readonly string[]>> = {
  '.tar.xz': ['xz', '-dc'],
  '.tar.bz2': ['bzip2', '-dc'],
  '.tar.zst': ['zstd', '-dcq'],
};

/** Every entry of a tar archive (plain or gzip by node-tar; xz, bzip2, zstd through their tools). */
export async function listArchive(
  file: string,
  suffix: string,
  signal: AbortSignal,
): Promise<Result<ArchiveEntry[], string>> {
  const entries: ArchiveEntry[] = [];
  const onReadEntry = (e: tar.ReadEntry) => {
    entries.push({ path: e.path, type: e.type, ...(e.linkpath ? { linkpath: e.linkpath } : {}) });
    e.resume();
  };
  const warnings: string[] = [];
  const onwarn = (_code: string, message: string | Error) =>
    warnings.push(typeof message === 'string' ? message : message.message);
  try {
    const tool = DECOMPRESSORS[suffix];
    if (!tool) {
      await tar.t({ file, onReadEntry, onwarn, strict: true });
    } else {
      const child = spawn(tool[0]!, [...tool.slice(1), file], {
        stdio: ['ignore', 'pipe', 'pipe'],
        signal,
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number>((res, rej) => {
        child.on('error', rej);
        child.on('close', (code) => res(code ?? 1));
      });
      await pipeline(child.stdout, new tar.Parser({ onReadEntry, onwarn, strict: true }));
      const code = await exited;
      if (code !== 0) return err(`${tool[0]!} exited with ${code}: ${lastLine(stderr)}`);
    }
  } catch (e) {
    return err(e instanceof Error ? e.message : String(e));
  }
  if (entries.length === 0) return err(warnings[0] ?? 'it holds no entries');
  return ok(entries);
}
