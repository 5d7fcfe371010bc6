import { Option, type Command } from 'commander';
import type { VerifyFlags } from '../actions/verify.js';
import {
  jsonFormatOptions,
  profileOptions,
  secretOption,
  selectionOptions,
  type Action,
} from '../options.js';

export function registerVerify(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('verify')
    .description(
      "check each image's shared tag in the registry: signed with the key, a provenance naming the fingerprint the checkout gives now, an SBOM (exit 1 when any is not)",
    );
  selectionOptions(profileOptions(cmd))
    .addOption(secretOption())
    .option('--key <file>', 'the public key (PEM) the images must be signed with')
    .option(
      '--platform <list>',
      "the platforms the images were built for, comma-separated (default: the profile's); several: the tag's manifest list and each platform's manifest are checked",
    )
    .option(
      '--arch-tags',
      'with several platforms: check the <tag>-<arch> tags build --arch-tags published instead of a list',
    )
    .option(
      '--no-source-check',
      'do not compare the provenance with the checkout (no engine needed)',
    )
    .addOption(
      new Option('--engine <engine>', 'container engine (default: detected)').choices([
        'docker',
        'podman',
      ]),
    );
  jsonFormatOptions(cmd);
  cmd.action((images: string[], flags: VerifyFlags) => {
    run(async (io) => (await import('../actions/verify.js')).verifyCommand(io, images, flags));
  });
}
