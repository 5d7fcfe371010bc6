import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { InitFlags } from '../actions/init.js';
import type { Action } from '../options.js';

export function registerInit(program: Command, run: (a: Action) => void): void {
  program
    .command('init')
    .argument('[dir]', 'where to create the family (default: the current directory)')
    .description(
      'create a new image family that builds: kbuild.yaml, a profile, macros, a base image and a hello image with a smoke test',
    )
    .option('--base-image <ref>', 'the external image the family starts from', 'debian:bookworm')
    .option('-p, --profile <name>', "the profile's name (default: <distro>-binary)")
    .option('--namespace <ns>', 'namespace of the image references (default: from the folder name)')
    .option('--force', 'overwrite files that exist')
    .action((dir: string | undefined, flags: InitFlags) => {
      run(async (io) =>
        (await import('../actions/init.js')).initCommand(io, resolve(io.cwd, dir ?? '.'), flags),
      );
    });
}
