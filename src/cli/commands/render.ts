import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { writeBuildDir } from '../../adapters/build-context.js';
import type { Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { profileOptions, selectionOptions, type Action } from '../options.js';
import { loadSelected } from './shared.js';
import { imagePath } from '../observe-family.js';

export function registerRender(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('render')
    .description("write each selected image's rendered Dockerfile and build context to a work dir");
  selectionOptions(profileOptions(cmd))
    .option('--work-dir <dir>', 'where to write (default: .kbuild/render/<profile>)')
    .option('--stdout', 'print the rendered Dockerfiles instead of writing them')
    .action(
      (
        images: string[],
        opts: ProfileOptions & SelectionOptions & { workDir?: string; stdout?: boolean },
      ) => {
        run(async (io: Io) => {
          const { family, selection, root } = await loadSelected(io, opts, images);
          if (opts.stdout) {
            for (const name of selection.images)
              io.out(
                `# ---- ${name} (${family.naming.ref(name)})\n${family.images.get(name)!.dockerfile}`,
              );
            return 0;
          }
          const workDir = resolve(
            io.cwd,
            opts.workDir ?? join('.kbuild', 'render', family.profile.name),
          );
          for (const name of selection.images) {
            await writeBuildDir(
              join(workDir, name),
              family.images.get(name)!.dockerfile,
              imagePath(root, family, name),
            );
          }
          io.out(`rendered ${selection.images.length} image(s) to ${workDir}\n`);
          return 0;
        });
      },
    );
}
