import type { Command } from 'commander';
import { Option } from 'commander';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { formatGraph, GRAPH_FORMATS, type GraphFormat } from '../../report/graph-formats.js';
import type { Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { profileOptions, selectionOptions, type Action } from '../options.js';
import { loadSelected } from './shared.js';

export function registerGraph(program: Command, run: (a: Action) => void): void {
  const cmd = program.command('graph').description('print the family graph (the selected images)');
  selectionOptions(profileOptions(cmd))
    .addOption(
      new Option('--format <format>', 'output format').choices(GRAPH_FORMATS).default('tree'),
    )
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(
      (
        images: string[],
        opts: ProfileOptions & SelectionOptions & { format: GraphFormat; output?: string },
      ) => {
        run(async (io: Io) => {
          const { family, selection } = await loadSelected(io, opts, images);
          const text = formatGraph(
            {
              profile: family.profile.name,
              graph: family.graph,
              images: selection.images,
              unbuildable: family.unbuildable,
            },
            opts.format,
          );
          if (opts.output) await writeFile(resolve(io.cwd, opts.output), text);
          else io.out(text);
          return 0;
        });
      },
    );
}
