import type { Command } from 'commander';
import type { TestFlags } from '../actions/test.js';
import {
  engineOption,
  numberOption,
  outputOptions,
  profileOptions,
  selectionOptions,
  type Action,
} from '../options.js';

export function registerTest(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('test')
    .description(
      "run the smoke tests (image.yaml 'test') of built images, inside each image with no network; default: every image of the profile's selection that has one",
    );
  selectionOptions(profileOptions(cmd, { buildInputs: false }), { ancestors: false })
    .addOption(numberOption('-j, --threads <n>', 'concurrent tests', 2))
    .option(
      '--junit <file>',
      "write JUnit XML: one testcase per image tested, failures with their output's last lines",
    );
  outputOptions(engineOption(cmd)).action((images: string[], flags: TestFlags) => {
    run(async (io) => (await import('../actions/test.js')).testCommand(io, images, flags));
  });
}
