/**
 * Hashes an image's build context as the engine would receive it: the image directory's context
 * files, less what .dockerignore excludes (Docker's own matching rules, @balena/dockerignore),
 * by path, content and executable bit — never mtime.
 */
import dockerignore from '@balena/dockerignore';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listContextFiles } from './build-context.js';

/** sha256 (hex) of a file's content, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The files of a context that the engine would send, given its .dockerignore. */
export async function sentContextFiles(imageDirAbs: string): Promise<string[]> {
  const files = await listContextFiles(imageDirAbs);
  const rules = files.includes('.dockerignore')
    ? await readFile(join(imageDirAbs, '.dockerignore'), 'utf8')
    : '';
  if (!rules.trim()) return files;
  // The package is CommonJS (`module.exports = factory`) typed as an ES default export.
  const factory = dockerignore as unknown as typeof dockerignore.default;
  const keep = factory().add(rules.split(/\r?\n/)).createFilter();
  // Docker always sends .dockerignore itself (and the Dockerfile, which kbuild writes).
  return files.filter((f) => f === '.dockerignore' || keep(f));
}

/** path -> sha256 of the content, with `+x` when the file is executable by its owner. */
export async function hashContext(imageDirAbs: string): Promise<Record<string, string>> {
  const files = await sentContextFiles(imageDirAbs);
  const entries = await Promise.all(
    files.map(async (f) => {
      const abs = join(imageDirAbs, f);
      const [digest, st] = await Promise.all([fileSha256(abs), stat(abs)]);
      return [f, `${digest}${st.mode & 0o100 ? '+x' : ''}`] as const;
    }),
  );
  return Object.fromEntries(entries);
}
