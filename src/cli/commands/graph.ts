import { Option, type Command } from 'commander';
import { GRAPH_FORMATS } from '../../report/graph-formats.js';
import type { GraphFlags } from '../actions/graph.js';
import { platformOption, profileOptions, selectionOptions, type Action } from '../options.js';

export function registerGraph(program: Command, run: (a: Action) => void): void {
  const cmd = program.command('graph').description('print the family graph (the selected images)');
  selectionOptions(profileOptions(cmd).addOption(platformOption()))
    .addOption(
      new Option('--format <format>', 'output format').choices(GRAPH_FORMATS).default('tree'),
    )
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action((images: string[], opts: GraphFlags) => {
      run(async (io) => (await import('../actions/graph.js')).graphCommand(io, images, opts));
    });
}
