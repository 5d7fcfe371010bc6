import type { Command } from 'commander';
import { numberOption, wholeNumber, type Action } from '../options.js';
import { buildOptions, settingsOf, type BuildFlags } from './build.js';

export function registerWatch(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('watch')
    .description(
      "build, then build again whenever a template, a build context, kbuild.yaml or the profile changes (the plan rebuilds what changed and its descendants); one build at a time; takes build's options; Ctrl-C stops",
    );
  buildOptions(cmd)
    .addOption(
      numberOption(
        '--debounce <ms>',
        'how long the files must be quiet before a build starts',
        300,
      ),
    )
    .action((images: string[], flags: BuildFlags & { debounce: string | number }) => {
      run(async (io) => {
        const settings = await settingsOf(flags);
        const debounce = wholeNumber('--debounce', flags.debounce, 0);
        // Watching, like building, loads its modules only when it runs.
        const { watchCommand } = await import('../actions/watch.js');
        return watchCommand(io, images, settings, debounce);
      });
    });
}
