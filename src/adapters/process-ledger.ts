/**
 * What a build run has running, written down beside its run lock (`.kbuild/locks/<key>.procs/`,
 * one small file per command, removed when the command ends). A run killed with SIGKILL cannot
 * stop its `docker build` clients or `docker run` containers: they go on under init. The next
 * run of the same lock reads what the dead run left and stops it before building again.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runCommand, stopLeftover, type ProcessRecorder, type StartedProcess } from './exec.js';
import { pidAlive } from './run-lock.js';

/** The directory of a run lock's process records. */
export const processDir = (lockFile: string) => lockFile.replace(/\.lock$/, '') + '.procs';

interface Entry extends StartedProcess {
  /** The pid of the run that started it. */
  readonly owner: number;
}

/** Writes each started command to `dir` (synchronously: it must be there before a kill can come). */
export function fileRecorder(dir: string, owner = process.pid): ProcessRecorder {
  mkdirSync(dir, { recursive: true });
  const file = (pid: number) => join(dir, `${pid}.json`);
  return {
    started(p) {
      const entry: Entry = { ...p, owner };
      try {
        writeFileSync(file(p.pid), JSON.stringify(entry));
      } catch {
        // A full disk must not fail the build: the command then just goes unrecorded.
      }
    },
    ended(pid) {
      rmSync(file(pid), { force: true });
    },
  };
}

/** A command a dead run left, and what was done about it. */
export interface Leftover {
  /** The dead run's pid. */
  readonly owner: number;
  readonly pid: number;
  /** `docker build … /ctx`: the client, its subcommand and its last argument. */
  readonly command: string;
  /** It was still running and was stopped (else only its container, if any, was removed). */
  readonly stopped: boolean;
}

const describe = (argv: readonly string[]) =>
  argv.length > 3
    ? `${basename(argv[0] ?? '')} ${argv[1]} … ${argv.at(-1)}`
    : [basename(argv[0] ?? ''), ...argv.slice(1)].join(' ');

function readEntry(file: string): Entry | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<Entry>;
    if (typeof v.pid === 'number' && typeof v.owner === 'number' && Array.isArray(v.argv))
      return v as Entry;
  } catch {
    // unreadable (cut short by a full disk): nothing to act on
  }
  return undefined;
}

/**
 * Stops what runs that are gone left in `dir` (records of live runs are left alone), runs their
 * after-kill commands (removing a `docker run` container by name), and removes their records.
 * Answers what it found that was still running or had something to clean up.
 */
export async function reapLeftovers(
  dir: string,
  isAlive: (pid: number) => boolean = pidAlive,
): Promise<Leftover[]> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const found: Leftover[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const e = readEntry(file);
    if (e && e.owner !== process.pid && isAlive(e.owner)) continue;
    if (e) {
      const stopped = await stopLeftover(e.pid, e.start);
      const [cmd, ...args] = e.afterKill ?? [];
      // `docker rm -f NAME` prints the name when there was such a container.
      const cleaned =
        cmd !== undefined &&
        (await runCommand({ file: cmd, args, timeoutSeconds: 30, killGraceMs: 1000 })).stdout.trim()
          .length > 0;
      if (stopped || cleaned)
        found.push({ owner: e.owner, pid: e.pid, command: describe(e.argv), stopped });
    }
    rmSync(file, { force: true });
  }
  return found;
}
