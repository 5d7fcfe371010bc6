import type { Command } from 'commander';
import type { PromoteFlags } from '../actions/promote.js';
import { jsonFormatOptions, profileOptions, selectionOptions, type Action } from '../options.js';

export function registerPromote(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('promote')
    .description(
      "give the selection's images found under one tag another tag, in the same or another registry, by digest (no rebuild, no engine); nothing is written unless every image is there",
    );
  jsonFormatOptions(selectionOptions(profileOptions(cmd, { buildInputs: false })))
    .requiredOption('--from <tag>', 'the tag the images have now (in --registry)')
    .requiredOption('--to <tag>', 'the tag to give them')
    .option('--to-registry <host[:port]>', 'copy them to this registry (default: the same one)')
    .option(
      '--require-signed <pub.pem>',
      "refuse the whole promotion unless every image's digest under --from carries a valid signature by this public key (PEM, ECDSA P-256)",
    )
    .action((images: string[], flags: PromoteFlags) => {
      run(async (io) => (await import('../actions/promote.js')).promoteCommand(io, images, flags));
    });
}
