/**
 * kbuild.lock: per profile, each external base reference pinned to the digest (image id) it had
 * when `kbuild lock` ran. With a lock, fingerprints use the pinned digests, so a base that moves
 * shows up as `base-moved (ref)` when the lock is updated — and a base that drifted in the engine
 * without a new lock is an error, not a silent rebuild on another base.
 */
import type { ConfigProblem, Result } from '../model.js';
import { err, ok } from '../model.js';

export const LOCK_FILE = 'kbuild.lock';
export const LOCK_SCHEMA = 1;

export interface Lock {
  readonly schema: number;
  /** profile -> base reference -> digest */
  readonly profiles: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export const EMPTY_LOCK: Lock = { schema: LOCK_SCHEMA, profiles: {} };

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function parseLock(text: string, file: string): Result<Lock, ConfigProblem[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return err([
      {
        file,
        message: `not valid JSON: ${(e as Error).message}`,
        hint: 'regenerate it with `kbuild lock --all-profiles`',
      },
    ]);
  }
  const problems: ConfigProblem[] = [];
  const obj = raw as { schema?: unknown; profiles?: unknown };
  if (obj?.schema !== LOCK_SCHEMA)
    problems.push({
      file,
      message: `unknown lock schema ${JSON.stringify(obj?.schema)}`,
      hint: 'regenerate it with `kbuild lock --all-profiles`',
    });
  const profiles: Record<string, Record<string, string>> = {};
  if (!obj?.profiles || typeof obj.profiles !== 'object')
    problems.push({ file, message: "no 'profiles' object" });
  else {
    for (const [p, bases] of Object.entries(obj.profiles as Record<string, unknown>)) {
      profiles[p] = {};
      for (const [ref, digest] of Object.entries((bases ?? {}) as Record<string, unknown>)) {
        if (typeof digest !== 'string' || !DIGEST.test(digest))
          problems.push({
            file,
            message: `${p}: '${ref}' is pinned to ${JSON.stringify(digest)}, not a sha256 digest`,
          });
        else profiles[p][ref] = digest;
      }
    }
  }
  return problems.length ? err(problems) : ok({ schema: LOCK_SCHEMA, profiles });
}

/** The lock with one profile's pins replaced; keys sorted so the file diffs well. */
export function withProfile(
  lock: Lock,
  profile: string,
  pins: Readonly<Record<string, string>>,
): Lock {
  const sorted = (o: Readonly<Record<string, unknown>>) =>
    Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  return {
    schema: LOCK_SCHEMA,
    profiles: sorted({ ...lock.profiles, [profile]: sorted(pins) }) as Lock['profiles'],
  };
}

/** Bases whose digest in the engine differs from the pin: building on them would break the pin. */
export function driftedBases(
  pins: Readonly<Record<string, string>> | undefined,
  engine: ReadonlyMap<string, string>,
): { ref: string; pinned: string; now: string }[] {
  if (!pins) return [];
  return Object.entries(pins).flatMap(([ref, pinned]) => {
    const now = engine.get(ref);
    return now !== undefined && now !== pinned ? [{ ref, pinned, now }] : [];
  });
}
