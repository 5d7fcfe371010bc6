import type { Command } from 'commander';
import type { ListFlags } from '../actions/list.js';
import { jsonFormatOptions, profileOptions, selectionOptions, type Action } from '../options.js';

export function registerList(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('list')
    .description('list the selected images with their parents and depth');
  jsonFormatOptions(selectionOptions(profileOptions(cmd))).action(
    (images: string[], opts: ListFlags) => {
      run(async (io) => (await import('../actions/list.js')).listCommand(io, images, opts));
    },
  );
}
