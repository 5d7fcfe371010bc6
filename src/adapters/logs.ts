/** Per-image log files: <dir>/<image>.log, renamed <image>.FAILED.log when the image failed. */
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageLog, LogStore } from '../run/ports.js';
import { hostIoProblem } from './io-errors.js';

/**
 * A log store that keeps going when its files cannot be written (a full disk): the build does
 * not fail for its log; `problem()` says what went wrong first, for the run to report.
 */
export function createLogStore(dir: string): LogStore & { problem(): string | undefined } {
  mkdirSync(dir, { recursive: true });
  let problem: string | undefined;
  const failed = (e: unknown, path: string) => {
    problem ??= hostIoProblem(e, path) ?? `cannot write ${path}: ${String(e)}`;
  };
  return {
    dir,
    problem: () => problem,
    open(image: string): ImageLog {
      const path = join(dir, `${image}.log`);
      const stream = createWriteStream(path, { flags: 'a' });
      let broken = false;
      stream.on('error', (e) => {
        broken = true;
        failed(e, path);
      });
      return {
        write: (line) => void (broken || stream.write(`${line}\n`)),
        close: async (imageFailed) => {
          if (!broken) await new Promise<void>((resolve) => stream.end(() => resolve()));
          if (!imageFailed) return path;
          const failedPath = join(dir, `${image}.FAILED.log`);
          return rename(path, failedPath).then(
            () => failedPath,
            (e: unknown) => (failed(e, failedPath), path),
          );
        },
      };
    },
  };
}

/** The last `lines` lines of a log file (none when it cannot be read). */
export async function readLogTail(path: string, lines: number): Promise<string[]> {
  try {
    const text = await readFile(path, 'utf8');
    return text.replace(/\n$/, '').split('\n').slice(-lines);
  } catch {
    return [];
  }
}
