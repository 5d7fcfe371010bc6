/**
 * The project in git: as it was at a revision (a temporary copy of its tracked files then), and
 * the commit its working tree is at.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A command's exit code (null when it could not start) and output; never rejects. */
function run(
  file: string,
  args: readonly string[],
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      resolve({ exitCode: error ? (typeof code === 'number' ? code : null) : 0, stdout, stderr });
    });
  });
}

export type Snapshot =
  { ok: true; dir: string; remove: () => Promise<void> } | { ok: false; message: string };

/** Extracts `rev`'s tree of the repository holding `root` (the part below `root` only). */
export async function snapshotAt(root: string, rev: string): Promise<Snapshot> {
  const top = await run('git', ['-C', root, 'rev-parse', '--show-toplevel', '--show-prefix']);
  if (top.exitCode !== 0)
    return { ok: false, message: `${root} is not in a git repository: ${top.stderr.trim()}` };
  const [, prefix = ''] = top.stdout.split('\n');
  const verify = await run('git', [
    '-C',
    root,
    'rev-parse',
    '--verify',
    '--quiet',
    `${rev}^{commit}`,
  ]);
  if (verify.exitCode !== 0)
    return {
      ok: false,
      message: `'${rev}' names no commit in this repository (try a branch, tag or hash: git log --oneline)`,
    };
  const dir = await mkdtemp(join(tmpdir(), 'kbuild-since-'));
  const tree = prefix ? `${rev}:${prefix}` : rev;
  const archive = await run('sh', [
    '-c',
    `git -C "$1" archive --format=tar "$2" | tar -x -C "$3"`,
    'sh',
    root,
    tree,
    dir,
  ]);
  if (archive.exitCode !== 0) {
    await rm(dir, { recursive: true, force: true });
    return { ok: false, message: `cannot read ${rev}: ${archive.stderr.trim()}` };
  }
  return { ok: true, dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The commit the project's working tree is at, and whether it has uncommitted changes. */
export interface GitState {
  readonly commit: string;
  /** Tracked files changed or untracked files present under the project (its .kbuild/ aside). */
  readonly dirty: boolean;
}

/** `root`'s git state, or null when it is not in a git repository (or git is not there). */
export async function gitStateOf(root: string): Promise<GitState | null> {
  const head = await run('git', ['-C', root, 'rev-parse', '--verify', '--quiet', 'HEAD']);
  if (head.exitCode !== 0) return null;
  const status = await run('git', [
    '-C',
    root,
    'status',
    '--porcelain',
    '--',
    '.',
    ':(exclude).kbuild',
  ]);
  return {
    commit: head.stdout.trim(),
    dirty: status.exitCode !== 0 || status.stdout.trim() !== '',
  };
}
