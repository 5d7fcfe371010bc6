/** `kbuild schema`: the JSON Schema of kbuild.yaml, a profile or image.yaml. */
import { imageMetaSchema, profileSchema, projectSchema } from '../../core/config/config.js';
import { toJsonSchema } from '../../core/config/schema.js';
import type { Io } from '../io.js';

const FILES = { kbuild: projectSchema, profile: profileSchema, image: imageMetaSchema } as const;

/** The files `kbuild schema` describes (the command's choices). */
export type SchemaFile = keyof typeof FILES;

export function schemaCommand(io: Io, file: SchemaFile): Promise<number> {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...toJsonSchema(FILES[file]),
  };
  io.out(`${JSON.stringify(schema, null, 2)}\n`);
  return Promise.resolve(0);
}
