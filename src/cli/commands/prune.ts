import type { Command } from 'commander';
import type { PruneFlags } from '../actions/prune.js';
import {
  engineOption,
  jsonFormatOptions,
  numberOption,
  profileOptions,
  secretOption,
  selectionOptions,
  type Action,
} from '../options.js';

export function registerPrune(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('prune')
    .description(
      "delete old tags from the registry by kbuild.yaml's retention rules (--registry), or old local builds of the family (--local); a dry run unless --yes",
    );
  selectionOptions(engineOption(profileOptions(cmd)))
    // --local keeps the images of the current fingerprints, which hold the secret ids a build had.
    .addOption(secretOption())
    .option('--local', 'remove local images of the family that no current fingerprint uses')
    .addOption(
      numberOption('--keep <n>', '--local: older builds kept per image besides the current one', 2),
    )
    .option('--yes', 'delete or remove for real (default: only say what would go)');
  jsonFormatOptions(cmd);
  // Here --registry also works bare: prune the family's own registry.
  const registry = cmd.options.find((o) => o.long === '--registry')!;
  registry.required = false;
  registry.optional = true;
  registry.flags = '--registry [host[:port]]';
  registry.description =
    "prune the registry's tags (default: the family's registry; a host overrides it)";
  cmd.action((images: string[], flags: PruneFlags) => {
    run(async (io) => (await import('../actions/prune.js')).pruneCommand(io, images, flags));
  });
}
