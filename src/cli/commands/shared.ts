/** What every profile command does first: load the workspace and the profile's family. */
import type { Family } from '../../core/family.js';
import type { Selection } from '../../core/select.js';
import type { Io } from '../io.js';
import {
  loadProfileFamily,
  loadWorkspace,
  profileName,
  select,
  type ProfileOptions,
  type SelectionOptions,
} from '../load.js';
import { Failed } from '../options.js';

export async function loadSelected(
  io: Io,
  opts: ProfileOptions & SelectionOptions,
  patterns: readonly string[],
): Promise<{ family: Family; selection: Selection; root: string }> {
  const ws = await loadWorkspace(io, opts);
  if (!ws.ok) throw new Failed(ws.failures);
  const family = loadProfileFamily(io, ws.value, opts, profileName(io, ws.value, opts.profile));
  if (!family.ok) throw new Failed(family.failures);
  const selection = select(family.value, patterns, opts);
  if (!selection.ok) throw new Failed(selection.failures);
  return { family: family.value, selection: selection.value, root: ws.value.root };
}
