import type { Command } from 'commander';
import { planBuild } from '../../core/plan.js';
import { table } from '../../report/table.js';
import type { Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { profileOptions, selectionOptions, type Action } from '../options.js';
import { loadSelected } from './shared.js';

export function registerPlan(program: Command, run: (a: Action) => void): void {
  const cmd = program
    .command('plan')
    .description('show what a build would do: order, waves, critical path, and why');
  selectionOptions(profileOptions(cmd))
    .option('--json', 'print JSON')
    .action((images: string[], opts: ProfileOptions & SelectionOptions & { json?: boolean }) => {
      run(async (io: Io) => {
        const { family, selection } = await loadSelected(io, opts, images);
        const plan = planBuild(family, selection);
        if (opts.json) {
          io.out(
            `${JSON.stringify({ ...plan, criticalPathLength: plan.criticalPath.length }, null, 2)}\n`,
          );
          return 0;
        }
        io.out(
          table(
            ['#', 'IMAGE', 'ACTION', 'WAVE', 'REASON'],
            plan.steps.map((s, i) => [String(i + 1), s.name, s.action, String(s.wave), s.reason]),
          ),
        );
        const builds = plan.steps.filter((s) => s.action === 'build').length;
        io.out(
          `\n${builds} to build, ${plan.steps.length - builds} unbuildable; ${plan.waves.length} wave(s); ` +
            `critical path ${plan.criticalPath.length}: ${plan.criticalPath.join(' → ')}\n`,
        );
        return 0;
      });
    });
}
