/** `kbuild render`: each selected image's rendered Dockerfile and build context, in a work dir. */
import { join, resolve } from 'node:path';
import { writeBuildDir } from '../../adapters/build-context.js';
import type { Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { imagePath } from '../observe-family.js';
import { loadSelected } from '../commands/shared.js';

export interface RenderFlags extends ProfileOptions, SelectionOptions {
  workDir?: string;
  stdout?: boolean;
}

export async function renderCommand(io: Io, images: string[], opts: RenderFlags): Promise<number> {
  const { family, selection, root } = await loadSelected(io, opts, images);
  if (opts.stdout) {
    for (const name of selection.images)
      io.out(`# ---- ${name} (${family.naming.ref(name)})\n${family.images.get(name)!.dockerfile}`);
    return 0;
  }
  const workDir = resolve(io.cwd, opts.workDir ?? join('.kbuild', 'render', family.profile.name));
  for (const name of selection.images) {
    await writeBuildDir(
      join(workDir, name),
      family.images.get(name)!.dockerfile,
      imagePath(root, family, name),
    );
  }
  io.out(`rendered ${selection.images.length} image(s) to ${workDir}\n`);
  return 0;
}
