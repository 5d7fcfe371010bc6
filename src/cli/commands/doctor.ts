import { Option, type Command } from 'commander';
import type { DoctorFlags } from '../actions/doctor.js';
import { jsonFormatOptions, profileOptions, type Action } from '../options.js';

export function registerDoctor(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('doctor')
    .description(
      'check the host: engine and version, build path, registry, base images, emulation',
    );
  jsonFormatOptions(profileOptions(cmd))
    .addOption(
      new Option('--engine <engine>', 'container engine to check (default: detected)').choices([
        'docker',
        'podman',
      ]),
    )
    .option('--builder <name>', 'docker buildx builder')
    .action((flags: DoctorFlags) =>
      run(async (io) => (await import('../actions/doctor.js')).doctorCommand(io, flags)),
    );
}
