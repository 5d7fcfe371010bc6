/** `kbuild validate`: kbuild.yaml, profiles, templates and the graph; every problem printed. */
import type { Failure } from '../../core/model.js';
import { formatFailure, exitCodeFor } from '../../report/failures.js';
import type { Io } from '../io.js';
import { loadProfileFamily, loadWorkspace, select, type ProfileOptions } from '../load.js';

export interface ValidateFlags extends ProfileOptions {
  allProfiles?: boolean;
  /** --format json / --json: one JSON document on stdout instead of lines. */
  json?: boolean;
}

/** One profile's result in `--format json`. */
interface ProfileResult {
  name: string;
  ok: boolean;
  images: number;
  unbuildable: number;
  problems: { reason: Failure['reason']; message: string }[];
}

const problemsOf = (failures: readonly Failure[]) =>
  failures.map((f) => ({ reason: f.reason, message: formatFailure(f) }));

export async function validateCommand(io: Io, opts: ValidateFlags): Promise<number> {
  const ws = await loadWorkspace(io, opts);
  if (!ws.ok) {
    if (opts.json)
      io.out(
        `${JSON.stringify({ ok: false, problems: problemsOf(ws.failures), profiles: [] }, null, 2)}\n`,
      );
    else for (const f of ws.failures) io.err(`${formatFailure(f)}\n`);
    return exitCodeFor(ws.failures);
  }
  const names =
    opts.profile && !opts.allProfiles ? [opts.profile] : [...ws.value.profiles.keys()].sort();
  const all: Failure[] = [];
  const results: ProfileResult[] = [];
  for (const name of names) {
    const family = loadProfileFamily(io, ws.value, opts, name);
    const failures = family.ok ? [] : family.failures;
    if (family.ok) {
      const sel = select(family.value, [], { exclude: [] });
      if (!sel.ok) failures.push(...sel.failures);
    }
    all.push(...failures);
    const f = family.ok ? family.value : undefined;
    results.push({
      name,
      ok: failures.length === 0,
      images: f?.images.size ?? 0,
      unbuildable: f?.unbuildable.size ?? 0,
      problems: problemsOf(failures),
    });
    if (opts.json) continue;
    if (failures.length) {
      io.err(`profile ${name}: ${failures.length} problem(s)\n`);
      for (const f of failures) io.err(`  ${formatFailure(f).replace(/\n/g, '\n  ')}\n`);
    } else {
      io.out(
        `profile ${name}: ok (${f?.images.size ?? 0} images, ${f?.unbuildable.size ?? 0} unbuildable)\n`,
      );
    }
  }
  if (opts.json)
    io.out(
      `${JSON.stringify({ ok: names.length > 0 && all.length === 0, problems: [], profiles: results }, null, 2)}\n`,
    );
  if (names.length === 0) io.err(`no profiles found in ${ws.value.project.profilesDir}/\n`);
  return names.length === 0 ? 2 : exitCodeFor(all);
}
