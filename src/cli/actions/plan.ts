/** `kbuild plan`: what a build would do: order, waves, critical path, and why. */
import { planBuild, type Plan } from '../../core/plan/plan.js';
import { table } from '../../report/table.js';
import { shardSelection } from '../../core/plan/shard.js';
import { UsageError, type Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { checkUpdatesFlag, wholeNumber } from '../options.js';
import {
  driftMessage,
  observeFamily,
  reportObservation,
  strictCheckFailure,
} from '../observe-family.js';
import { readState } from '../../adapters/state.js';
import { loadSelected, shardWeights } from '../commands/shared.js';
import { withBuildFeatures } from '../build-features.js';

export interface PlanFlags extends ProfileOptions, SelectionOptions {
  /** --platform: render for it instead of the profile's first. */
  platform?: string;
  json?: boolean;
  format?: 'table' | 'json' | 'matrix';
  shards?: string;
  force?: boolean;
  /** false with --no-engine; a kind with --engine. */
  engine?: 'docker' | 'podman' | false;
  checkUpdates?: boolean | string;
}

export async function planCommand(io: Io, images: string[], opts: PlanFlags): Promise<number> {
  // With an engine, the templates are rendered for its build path (build_features), as a build
  // renders them: the engine is detected first.
  const observing =
    opts.engine !== false && opts.format !== 'matrix'
      ? await withBuildFeatures({
          ...(typeof opts.engine === 'string' ? { engine: opts.engine } : {}),
          force: opts.force ?? false,
          ...checkUpdatesFlag(opts.checkUpdates),
        })
      : undefined;
  const { family, selection, root } = await loadSelected(
    io,
    observing ? { ...opts, buildFeatures: observing.features } : opts,
    images,
    opts.platform ? { platform: opts.platform } : {},
  );
  const state = await readState(root, family.profile.name);
  if (opts.format === 'matrix') {
    if (!opts.shards) throw new UsageError('--format matrix needs --shards N');
    const count = wholeNumber('--shards', opts.shards, 1);
    const weights = shardWeights(state);
    const { shares } = shardSelection(
      family.graph,
      selection,
      family.unbuildable,
      { index: 1, count },
      weights,
    );
    const include = Array.from({ length: count }, (_, i) => {
      const mine = selection.images.filter((n) => shares.get(n) === i + 1);
      return {
        shard: `${i + 1}/${count}`,
        images: mine.join(' '),
        count: mine.length,
        seconds: Math.round(mine.reduce((t, n) => t + weights(n), 0)),
      };
    });
    io.out(`${JSON.stringify({ include })}\n`);
    return 0;
  }
  if (opts.shards) throw new UsageError('--shards goes with --format matrix');
  let plan = planBuild(family, selection);
  let strict: string | undefined;
  if (observing) {
    const settings = observing.settings;
    const found = await observeFamily(root, family, selection, state, settings);
    if (found.ok) {
      plan = found.value.observed.plan;
      for (const d of found.value.observed.drift) io.err(driftMessage(d, found.value.info.kind));
      reportObservation(io, found.value);
      strict = strictCheckFailure(family, settings, found.value);
    } else
      io.err(
        `kbuild: no engine answers, so freshness is unknown and every image shows as build (${found.message})\n`,
      );
  }
  if (opts.json || opts.format === 'json') {
    io.out(`${JSON.stringify(planJson(plan), null, 2)}\n`);
    if (strict) io.err(strict);
    return strict ? 1 : 0;
  }
  io.out(
    table(
      ['#', 'IMAGE', 'ACTION', 'WAVE', 'REASON'],
      plan.steps.map((s, i) => [
        String(i + 1),
        s.name,
        s.action,
        s.wave >= 0 ? String(s.wave) : '',
        s.blocked ? `${s.reason}; fails: ${s.blocked.reason}` : s.reason,
      ]),
    ),
  );
  const count = (a: string) => plan.steps.filter((s) => s.action === a).length;
  const builds = count('build');
  io.out(
    `\n${builds} to build, ${count('retag')} to retag, ${count('fresh')} up to date, ${count('unbuildable')} unbuildable; ${plan.waves.length} wave(s); ` +
      `critical path ${plan.criticalPath.length}: ${plan.criticalPath.join(' → ')}\n`,
  );
  if (strict) io.err(strict);
  return strict ? 1 : 0;
}

/**
 * The plan as JSON: each step with its facts (fingerprint, fp reference, digests, expected
 * seconds) but not the whole fingerprint record (`kbuild explain` shows that).
 */
function planJson(plan: Plan) {
  return {
    ...plan,
    steps: plan.steps.map(({ facts, ...step }) => {
      if (!facts) return step;
      const { record: _record, ...shown } = facts;
      return { ...step, facts: shown };
    }),
    criticalPathLength: plan.criticalPath.length,
  };
}
