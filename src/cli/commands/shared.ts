/** What every profile command does first: load the workspace and the profile's family. */
import { join } from 'node:path';
import { descendants } from '../../core/graph.js';
import { imageDir } from '../../core/naming.js';
import type { Family } from '../../core/family.js';
import type { ImageName } from '../../core/model.js';
import type { Selection } from '../../core/select.js';
import { UsageError, type Io } from '../io.js';
import {
  loadProfileFamily,
  loadWorkspace,
  profileName,
  select,
  type ProfileOptions,
  type SelectionOptions,
  type Workspace,
} from '../load.js';
import { Failed } from '../options.js';
import type { StateFile } from '../../run/ports.js';

/** A profile's family and the images selected from it. */
export interface Selected {
  readonly family: Family;
  readonly selection: Selection;
  readonly root: string;
  /** The workspace it was rendered from (to render another platform without reading it again). */
  readonly workspace: Workspace;
}

export async function loadSelected(
  io: Io,
  opts: ProfileOptions & SelectionOptions,
  patterns: readonly string[],
  at: {
    /** The workspace already read; default: read it. */
    readonly workspace?: Workspace;
    /** Render for this platform instead of the profile's first. */
    readonly platform?: string;
    /** Appended to the shared tag (one platform of several: `-<arch>`). */
    readonly tagSuffix?: string;
  } = {},
): Promise<Selected> {
  let workspace = at.workspace;
  if (!workspace) {
    const ws = await loadWorkspace(io, opts);
    if (!ws.ok) throw new Failed(ws.failures);
    workspace = ws.value;
  }
  const family = loadProfileFamily(
    io,
    workspace,
    opts,
    profileName(io, workspace, opts.profile),
    at.platform,
    at.tagSuffix,
  );
  if (!family.ok) throw new Failed(family.failures);
  const selection = opts.changedSince
    ? await changedSelection(io, workspace, opts, family.value, patterns, opts.changedSince)
    : select(family.value, patterns, opts);
  if ('ok' in selection && !selection.ok) throw new Failed(selection.failures);
  return {
    family: family.value,
    selection: 'ok' in selection ? selection.value : selection,
    root: workspace.root,
    workspace,
  };
}

/**
 * --changed-since REF: the images whose rendered Dockerfile, build args or context differ from
 * the family rendered at REF (patterns narrow them), with their descendants and ancestors.
 */
async function changedSelection(
  io: Io,
  ws: Workspace,
  opts: ProfileOptions & SelectionOptions,
  family: Family,
  patterns: readonly string[],
  ref: string,
): Promise<Selection> {
  // Loaded here, not with the module: every command that loads a family comes through this file,
  // and git, context hashing and the comparison serve --changed-since alone.
  const [{ snapshotAt }, { hashContext }, { changedImages }] = await Promise.all([
    import('../../adapters/git-snapshot.js'),
    import('../../adapters/context-hash.js'),
    import('../../core/plan/changes.js'),
  ]);
  const snap = await snapshotAt(ws.root, ref);
  if (!snap.ok) throw new UsageError(`--changed-since: ${snap.message}`);
  let changed: Set<ImageName>;
  try {
    // A revision before the project existed loads as no project (a usage error): all changed.
    const then = await loadWorkspace(io, { ...opts, project: snap.dir }).catch((e: unknown) => {
      if (e instanceof UsageError) return undefined;
      throw e;
    });
    const before = then?.ok
      ? loadProfileFamily(io, then.value, opts, family.profile.name)
      : undefined;
    if (!before?.ok)
      io.err(`kbuild: the family did not load as of ${ref}; every image counts as changed\n`);
    const hashAll = async (root: string, f: Family | undefined) =>
      new Map(
        await Promise.all(
          [...(f?.images.values() ?? [])].map(
            async (img) =>
              [
                img.spec.name,
                await hashContext(join(root, imageDir(f!.project, img.spec))),
              ] as const,
          ),
        ),
      );
    const beforeFamily = before?.ok ? before.value : undefined;
    changed = changedImages(beforeFamily, family, {
      before: await hashAll(snap.dir, beforeFamily),
      now: await hashAll(ws.root, family),
    });
  } finally {
    await snap.remove();
  }
  const inOrder = family.graph.order.filter((n) => changed.has(n));
  io.err(`kbuild: changed since ${ref}: ${inOrder.length ? inOrder.join(', ') : 'nothing'}\n`);
  // What a change reaches: the changed images and everything built on them; patterns narrow it.
  let affected = new Set([...changed, ...descendants(family.graph, changed)]);
  if (patterns.length) {
    const matched = select(family, patterns, {
      ...opts,
      skipParents: true,
      withDescendants: opts.withDescendants ?? false,
    });
    if (!matched.ok) throw new Failed(matched.failures);
    affected = new Set(matched.value.images.filter((n) => affected.has(n)));
  }
  if (affected.size === 0)
    return { images: [], addedAncestors: new Set(), addedDescendants: new Set() };
  const selection = select(family, [...affected], { ...opts, withDescendants: false });
  if (!selection.ok) throw new Failed(selection.failures);
  return selection.value;
}

/**
 * Expected seconds per image for splitting a selection into shards: the last build's, 1 when
 * unknown. Every job of a CI matrix must see the same state (or none) to split it the same way.
 */
export function shardWeights(state: StateFile): (n: ImageName) => number {
  return (n) => Math.max(1, state.images[n]?.seconds ?? 1);
}
