/** `kbuild prune`: old registry tags by the retention rules, or old local builds of the family. */
import type { ImageName } from '../../core/model.js';
import type { Family } from '../../core/family.js';
import type { Selection } from '../../core/select.js';
import { pruneLocalSummary, pruneLocalTable, pruneRegistryTable } from '../../report/release.js';
import { pruneLocal } from '../../run/prune-local.js';
import { pruneRegistry } from '../../run/prune-registry.js';
import { UsageError, type Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { wholeNumber } from '../options.js';
import { observeFamily, type ObserveSettings } from '../observe-family.js';
import { withBuildFeatures } from '../build-features.js';
import { loadSelected } from '../commands/shared.js';
import { readState } from '../../adapters/state.js';

export interface PruneFlags extends Omit<ProfileOptions, 'registry'>, SelectionOptions {
  /** true for a bare --registry (the family's registry), or the host given. */
  registry?: string | true;
  local?: boolean;
  keep: string | number;
  yes?: boolean;
  json?: boolean;
  engine?: 'docker' | 'podman';
}

export async function pruneCommand(io: Io, patterns: string[], flags: PruneFlags): Promise<number> {
  if (!flags.registry && !flags.local) {
    throw new UsageError(
      "say what to prune: --registry (the registry's tags, by kbuild.yaml's retention rules) or --local (local images), or both",
    );
  }
  const keep = wholeNumber('--keep', flags.keep, 0);
  const { registry: host, ...rest } = flags;
  // --local keeps the images of the current fingerprints: rendered for the engine's build path
  // (build_features), as a build renders them, or the current build would look old.
  const observing = flags.local
    ? await withBuildFeatures({
        ...(flags.engine ? { engine: flags.engine } : {}),
        force: false,
        registryCache: false,
      })
    : undefined;
  const { family, selection, root } = await loadSelected(
    io,
    {
      ...rest,
      ...(typeof host === 'string' ? { registry: host } : {}),
      ...(observing ? { buildFeatures: observing.features } : {}),
    },
    patterns,
  );
  const json: Record<string, unknown> = {};
  let code = 0;
  if (flags.registry)
    code = Math.max(code, await pruneRegistryCommand(io, family, selection, flags, json));
  if (observing)
    code = Math.max(
      code,
      await pruneLocalCommand(io, family, selection, root, keep, flags, json, observing.settings),
    );
  if (flags.json) io.out(`${JSON.stringify({ dryRun: !flags.yes, ...json }, null, 2)}\n`);
  return code;
}

async function pruneRegistryCommand(
  io: Io,
  family: Family,
  selection: Selection,
  flags: PruneFlags,
  json: Record<string, unknown>,
): Promise<number> {
  const registry = family.naming.registry;
  if (!registry) {
    throw new UsageError(
      `prune --registry needs a registry: set 'registry' in ${family.project.file || 'kbuild.yaml'} or the profile, or pass --registry HOST`,
    );
  }
  const rules = family.project.retention;
  if (rules.length === 0)
    io.err(
      `kbuild: ${family.project.file || 'kbuild.yaml'} has no 'retention' rules: every tag is kept\n`,
    );
  const { createRegistryClient } = await import('../../adapters/registry/index.js');
  const repos = await pruneRegistry(createRegistryClient(), {
    registry,
    images: selection.images.map((name) => ({ name, repository: family.naming.repository(name) })),
    rules,
    now: Date.now(),
    apply: flags.yes ?? false,
  });
  json['registry'] = { registry, repositories: repos };
  const tags = repos.flatMap((r) => r.decisions);
  const doomed = tags.filter((d) => !d.keep).length;
  const digests = repos.reduce((n, r) => n + r.deleteDigests.length, 0);
  if (!flags.json) {
    io.out(pruneRegistryTable(repos, registry));
    if (!flags.yes) {
      io.out(
        `\n${doomed} tag(s) to delete (${digests} manifest(s)), ${tags.length - doomed} kept; nothing deleted: run with --yes to delete them\n`,
      );
    } else {
      const deleted = repos.reduce((n, r) => n + r.deleted.length, 0);
      const verified = repos.reduce((n, r) => n + r.verified, 0);
      io.out(
        `\ndeleted ${deleted} manifest(s) (${doomed} tag(s)); ${verified} kept tag(s) checked, ${repos.every((r) => r.unresolved.length === 0) ? 'every one resolves as before' : 'NOT all resolve'}\n`,
      );
    }
  }
  let code = 0;
  for (const r of repos) {
    for (const p of r.problems) {
      io.err(
        `kbuild: ${registry}/${r.repository}: ${p}${r.deleted.length ? '' : ' (nothing deleted there)'}\n`,
      );
      code = 1;
    }
    if (r.unresolved.length) {
      io.err(
        `kbuild: ${registry}/${r.repository}: kept tag(s) no longer resolving as before: ${r.unresolved.join(', ')}\n`,
      );
      code = 1;
    }
  }
  return code;
}

async function pruneLocalCommand(
  io: Io,
  family: Family,
  selection: Selection,
  root: string,
  keep: number,
  flags: PruneFlags,
  json: Record<string, unknown>,
  settings: ObserveSettings,
): Promise<number> {
  const state = await readState(root, family.profile.name);
  const found = await observeFamily(root, family, selection, state, settings);
  if (!found.ok) {
    io.err(`kbuild: no container engine: ${found.message}\n`);
    return 1;
  }
  const { engine, observed } = found.value;
  const names: ImageName[] = selection.images.filter((n) => observed.fingerprints.has(n));
  for (const n of selection.images.filter((x) => !observed.fingerprints.has(x)))
    io.err(
      `kbuild: skipping ${n}: it cannot be built for this profile, so it has no current fingerprint\n`,
    );
  const { registry } = family.naming;
  const steps = new Map(observed.plan.steps.map((s) => [s.name, s]));
  const r = await pruneLocal(engine, {
    images: names.map((name) => {
      const repo = family.naming.repository(name);
      const id = steps.get(name)?.facts?.localId;
      return {
        name,
        repositories: registry ? [repo, `${registry}/${repo}`] : [repo],
        current: new Set(id ? [id] : []),
      };
    }),
    keep,
    apply: flags.yes ?? false,
  });
  if (!r.ok) {
    io.err(
      `kbuild: listing or removing local images failed: ${'message' in r.error ? r.error.message : r.error.reason}\n`,
    );
    return 1;
  }
  json['local'] = r.value;
  if (!flags.json)
    io.out(
      `${pruneLocalTable(r.value.decisions)}\n${pruneLocalSummary(r.value, flags.yes ?? false)}\n`,
    );
  const failed = r.value.decisions.filter((d) => d.outcome === 'failed');
  for (const d of failed)
    io.err(`kbuild: removing ${d.refs.join(' ')} failed: ${d.problem ?? ''}\n`);
  return failed.length ? 1 : 0;
}
