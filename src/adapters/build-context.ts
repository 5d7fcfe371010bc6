/**
 * An image's build context on disk: the files of its directory, without templates, without
 * kbuild's own image.yaml, and without the directories of images nested inside it.
 */
import fg from 'fast-glob';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Context files of an image directory, relative to it, sorted. */
export async function listContextFiles(imageDirAbs: string): Promise<string[]> {
  const nested = await fg('*/**/Dockerfile.j2', { cwd: imageDirAbs, onlyFiles: true, dot: true });
  const nestedDirs = nested.map((p) => p.slice(0, -'/Dockerfile.j2'.length));
  const files = await fg('**/*', {
    cwd: imageDirAbs,
    onlyFiles: true,
    dot: true,
    ignore: ['**/*.j2', 'image.yaml'],
  });
  return files.filter((f) => !nestedDirs.some((d) => f.startsWith(`${d}/`))).sort();
}

/** Writes a rendered Dockerfile and the image's context files into `outDir` (replacing it). */
export async function writeBuildDir(
  outDir: string,
  dockerfile: string,
  imageDirAbs: string,
): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const files = await listContextFiles(imageDirAbs);
  await Promise.all(
    files.map(async (f) => {
      await mkdir(dirname(join(outDir, f)), { recursive: true });
      await copyFile(join(imageDirAbs, f), join(outDir, f));
    }),
  );
  await writeFile(join(outDir, 'Dockerfile'), dockerfile);
  return files;
}
