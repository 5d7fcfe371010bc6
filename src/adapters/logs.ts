/** Per-image log files: <dir>/<image>.log, renamed <image>.FAILED.log when the image failed. */
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageLog, LogStore } from '../run/ports.js';

export function createLogStore(dir: string): LogStore {
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    open(image: string): ImageLog {
      const path = join(dir, `${image}.log`);
      const stream = createWriteStream(path, { flags: 'a' });
      return {
        write: (line) => void stream.write(`${line}\n`),
        close: async (failed) => {
          await new Promise<void>((resolve, reject) =>
            stream.end((e?: Error | null) => (e ? reject(e) : resolve())),
          );
          if (!failed) return path;
          const failedPath = join(dir, `${image}.FAILED.log`);
          await rename(path, failedPath);
          return failedPath;
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
