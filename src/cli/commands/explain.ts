import { Option, type Command } from 'commander';
import type { ExplainFlags } from '../actions/explain.js';
import {
  jsonFormatOptions,
  platformOption,
  profileOptions,
  secretOption,
  type Action,
} from '../options.js';

export function registerExplain(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('explain')
    .argument('<image>', 'the image to explain')
    .description(
      'show how one image is built: ancestors and descendants, rendered Dockerfile, fingerprint inputs, and whether (and why) a build would rebuild it now',
    );
  jsonFormatOptions(profileOptions(cmd).addOption(platformOption()).addOption(secretOption()))
    .option('--no-engine', 'do not ask the engine (freshness is then unknown)')
    .addOption(
      new Option('--engine <engine>', 'container engine (default: detected)').choices([
        'docker',
        'podman',
      ]),
    )
    .action((image: string, opts: ExplainFlags) => {
      run(async (io) => (await import('../actions/explain.js')).explainCommand(io, image, opts));
    });
}
