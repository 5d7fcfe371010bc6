/** `kbuild list`: the selected images with their parents and depth. */
import { table } from '../../report/table.js';
import type { Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { loadSelected } from '../commands/shared.js';

export interface ListFlags extends ProfileOptions, SelectionOptions {
  json?: boolean;
}

export async function listCommand(io: Io, images: string[], opts: ListFlags): Promise<number> {
  const { family, selection } = await loadSelected(io, opts, images);
  const rows = selection.images.map((name) => {
    const node = family.graph.nodes.get(name)!;
    return {
      name,
      ref: family.naming.ref(name),
      parents: node.parents,
      external: node.externals,
      depth: node.depth,
      dir: `${family.project.imagesDir}/${family.images.get(name)!.spec.dir}`,
      ...(family.unbuildable.has(name) ? { unbuildable: family.unbuildable.get(name) } : {}),
    };
  });
  if (opts.json)
    io.out(`${JSON.stringify({ profile: family.profile.name, images: rows }, null, 2)}\n`);
  else {
    io.out(
      table(
        ['IMAGE', 'PARENT', 'DEPTH', 'NOTE'],
        rows.map((r) => [
          r.name,
          [...r.parents, ...r.external].join(', '),
          String(r.depth),
          r.unbuildable ? `unbuildable: ${r.unbuildable}` : '',
        ]),
      ),
    );
    io.out(`${rows.length} image(s), profile ${family.profile.name}\n`);
  }
  return 0;
}
