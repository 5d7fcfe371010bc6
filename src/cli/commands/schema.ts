import { Argument, type Command } from 'commander';
import type { SchemaFile } from '../actions/schema.js';
import type { Action } from '../options.js';

/** Written out, not read from the schemas: naming the choices must not load the config layer. */
const FILES: readonly SchemaFile[] = ['kbuild', 'profile', 'image'];

export function registerSchema(program: Command, run: (a: Action) => void): void {
  program
    .command('schema')
    .description(
      'print the JSON Schema of kbuild.yaml, a profile or image.yaml (the schemas validation uses), for editors',
    )
    .addArgument(new Argument('<file>', 'which file').choices(FILES))
    .action((file: SchemaFile) =>
      run(async (io) => (await import('../actions/schema.js')).schemaCommand(io, file)),
    );
}
