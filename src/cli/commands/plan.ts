import { Option, type Command } from 'commander';
import type { PlanFlags } from '../actions/plan.js';
import {
  checkUpdatesOption,
  platformOption,
  secretOption,
  profileOptions,
  selectionOptions,
  type Action,
} from '../options.js';

export function registerPlan(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('plan')
    .description('show what a build would do: order, waves, critical path, and why');
  selectionOptions(profileOptions(cmd).addOption(platformOption()).addOption(secretOption()))
    .option('--json', 'print JSON (same as --format json)')
    .addOption(
      new Option(
        '--format <format>',
        'table, json, or matrix: a CI matrix of --shards jobs (GitHub Actions include list)',
      ).choices(['table', 'json', 'matrix']),
    )
    .option(
      '--shards <n>',
      'with --format matrix: split the selection into N jobs along subtrees, balanced by the last build times',
    )
    .option('--force', 'plan a rebuild of the selection even where nothing changed')
    .addOption(checkUpdatesOption())
    .option('--no-check-updates', 'do not check packages for updates')
    .option(
      '--no-engine',
      'do not ask the engine: every buildable image shows as build (no freshness)',
    )
    .addOption(
      new Option('--engine <engine>', 'container engine (default: detected)').choices([
        'docker',
        'podman',
      ]),
    )
    .action((images: string[], opts: PlanFlags) => {
      run(async (io) => (await import('../actions/plan.js')).planCommand(io, images, opts));
    });
}
