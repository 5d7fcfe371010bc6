import type { Command } from 'commander';
import type { LockFlags } from '../actions/lock.js';
import { jsonFormatOptions, profileOptions, type Action } from '../options.js';

export function registerLock(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('lock')
    .description(
      'pin the external base images of a profile to their current digests in kbuild.lock',
    );
  jsonFormatOptions(profileOptions(cmd))
    .option('--all-profiles', 'lock every profile (the default when no --profile is given)')
    .action((opts: LockFlags) =>
      run(async (io) => (await import('../actions/lock.js')).lockCommand(io, opts)),
    );
}
