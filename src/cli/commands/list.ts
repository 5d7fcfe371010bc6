import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { profileOptions, selectionOptions, type Action } from '../options.js';
import { loadSelected } from './shared.js';
import { table } from '../../report/table.js';

export function registerList(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('list')
    .description('list the selected images with their parents and depth');
  selectionOptions(profileOptions(cmd))
    .option('--json', 'print JSON')
    .action((images: string[], opts: ProfileOptions & SelectionOptions & { json?: boolean }) => {
      run(async (io: Io) => {
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
      });
    });
}
