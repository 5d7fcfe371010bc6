/** `kbuild graph`: the selected images' graph as a tree, JSON, dot or mermaid. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { formatGraph, type GraphFormat } from '../../report/graph-formats.js';
import type { Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { loadSelected } from '../commands/shared.js';

export interface GraphFlags extends ProfileOptions, SelectionOptions {
  /** --platform: render for it instead of the profile's first. */
  platform?: string;
  format: GraphFormat;
  output?: string;
}

export async function graphCommand(io: Io, images: string[], opts: GraphFlags): Promise<number> {
  const { family, selection } = await loadSelected(
    io,
    opts,
    images,
    opts.platform ? { platform: opts.platform } : {},
  );
  const text = formatGraph(
    {
      profile: family.profile.name,
      graph: family.graph,
      images: selection.images,
      unbuildable: family.unbuildable,
    },
    opts.format,
  );
  if (opts.output) await writeFile(resolve(io.cwd, opts.output), text);
  else io.out(text);
  return 0;
}
