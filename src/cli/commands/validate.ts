import type { Command } from 'commander';
import type { ValidateFlags } from '../actions/validate.js';
import { jsonFormatOptions, profileOptions, type Action } from '../options.js';

export function registerValidate(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('validate')
    .description(
      'check kbuild.yaml, profiles, templates and the graph; print every problem (for CI linting)',
    );
  jsonFormatOptions(profileOptions(cmd))
    .option('--all-profiles', 'validate every profile (the default when no --profile is given)')
    .action((opts: ValidateFlags) => {
      run(async (io) => (await import('../actions/validate.js')).validateCommand(io, opts));
    });
}
