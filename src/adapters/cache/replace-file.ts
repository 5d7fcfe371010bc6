/** Cache files, written whole or not at all. */
import { renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes `data` to `path` through a temp file and a rename, so a reader (another kbuild run)
 * never sees half a file. False when the host refused (read-only, full): the temp file is gone,
 * and the caller stops writing for the run.
 */
export function replaceFile(path: string, data: string | Uint8Array): boolean {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
    return true;
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing more to do
    }
    return false;
  }
}
