import type { Command } from 'commander';
import type { RenderFlags } from '../actions/render.js';
import { profileOptions, selectionOptions, type Action } from '../options.js';

export function registerRender(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('render')
    .description("write each selected image's rendered Dockerfile and build context to a work dir");
  selectionOptions(profileOptions(cmd))
    .option('--work-dir <dir>', 'where to write (default: .kbuild/render/<profile>)')
    .option('--stdout', 'print the rendered Dockerfiles instead of writing them')
    .action((images: string[], opts: RenderFlags) => {
      run(async (io) => (await import('../actions/render.js')).renderCommand(io, images, opts));
    });
}
