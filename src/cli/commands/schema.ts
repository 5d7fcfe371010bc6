import { Argument, type Command } from 'commander';
import { imageMetaSchema, profileSchema, projectSchema } from '../../core/config/config.js';
import { toJsonSchema } from '../../core/config/schema.js';
import type { Action } from '../options.js';

const FILES = { kbuild: projectSchema, profile: profileSchema, image: imageMetaSchema } as const;

export function registerSchema(program: Command, run: (a: Action) => void): void {
  program
    .command('schema')
    .description(
      'print the JSON Schema of kbuild.yaml, a profile or image.yaml (the schemas validation uses), for editors',
    )
    .addArgument(new Argument('<file>', 'which file').choices(Object.keys(FILES)))
    .action((file: keyof typeof FILES) =>
      run((io) => {
        const schema = {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          ...toJsonSchema(FILES[file]),
        };
        io.out(`${JSON.stringify(schema, null, 2)}\n`);
        return Promise.resolve(0);
      }),
    );
}
