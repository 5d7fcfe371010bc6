/** `kbuild lock`: pin a profile's external base images to their current digests in kbuild.lock. */
import { readLockFile, writeLockFile } from '../../adapters/state.js';
import { withProfile } from '../../core/config/lock.js';
import { table } from '../../report/table.js';
import type { Io } from '../io.js';
import { loadProfileFamily, loadWorkspace, type ProfileOptions } from '../load.js';
import { Failed } from '../options.js';

export interface LockFlags extends ProfileOptions {
  allProfiles?: boolean;
  /** --format json / --json: the pins as one JSON document. */
  json?: boolean;
}

export async function lockCommand(io: Io, opts: LockFlags): Promise<number> {
  const ws = await loadWorkspace(io, opts);
  if (!ws.ok) throw new Failed(ws.failures);
  const { detectEngine } = await import('../../adapters/engines.js');
  const detected = await detectEngine();
  if (!detected.ok) {
    io.err(`kbuild: no container engine: ${detected.error.message}\n`);
    return 1;
  }
  const current = await readLockFile(ws.value.root);
  if (!current.ok) throw new Failed([{ reason: 'config-invalid', problems: current.error }]);
  let next = current.value;
  const names =
    opts.profile && !opts.allProfiles ? [opts.profile] : [...ws.value.profiles.keys()].sort();
  const rows: string[][] = [];
  let missing = 0;
  for (const name of names) {
    const fam = loadProfileFamily(io, ws.value, opts, name);
    if (!fam.ok) throw new Failed(fam.failures);
    const bases = [
      ...new Set(
        [...fam.value.graph.nodes.values()]
          .filter((n) => !fam.value.unbuildable.has(n.name))
          .flatMap((n) => n.externals),
      ),
    ].sort();
    const found = await detected.value.engine.inspect(bases);
    const pins: Record<string, string> = {};
    for (const b of bases) {
      const img = found.get(b);
      const was = current.value.profiles[name]?.[b];
      if (img) pins[b] = img.id;
      else missing++;
      rows.push([
        name,
        b,
        img?.id ?? 'MISSING',
        !img
          ? 'not in the engine'
          : was === undefined
            ? 'new'
            : was === img.id
              ? 'unchanged'
              : 'moved',
      ]);
    }
    if (bases.every((b) => found.has(b))) next = withProfile(next, name, pins);
  }
  if (!opts.json) io.out(table(['PROFILE', 'BASE', 'DIGEST', ''], rows));
  if (missing) {
    io.err(
      `kbuild: ${missing} base image(s) are not in the ${detected.value.info.kind} engine, so their profiles were not locked: ` +
        `pull or import them (or build with --base-image LOCAL), then lock again\n`,
    );
  }
  await writeLockFile(ws.value.root, next);
  if (opts.json) {
    const pins = rows.map(([profile, base, digest, change]) => ({
      profile,
      base,
      digest: digest === 'MISSING' ? null : digest,
      change: change === 'not in the engine' ? 'missing' : change,
    }));
    io.out(`${JSON.stringify({ ok: missing === 0, file: 'kbuild.lock', pins }, null, 2)}\n`);
  } else io.out(`wrote kbuild.lock (${Object.keys(next.profiles).length} profile(s))\n`);
  return missing ? 1 : 0;
}
