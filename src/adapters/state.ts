/**
 * .kbuild/state/<profile>.json: per image, the fingerprint and the record behind it, as of its
 * last successful build. Written atomically (temp file + rename), only after success.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EMPTY_LOCK, LOCK_FILE, parseLock, type Lock } from '../core/config/lock.js';
import type { ConfigProblem, Result } from '../core/model.js';
import type { StateFile } from '../run/ports.js';

export const STATE_SCHEMA = 1;

export const statePath = (root: string, profile: string) =>
  join(root, '.kbuild', 'state', `${profile}.json`);

/** The state's name for a profile, built for one of several platforms (`<profile>@<arch>`) or not. */
export const stateName = (profile: string, arch?: string) =>
  arch === undefined ? profile : `${profile}@${arch}`;

/** The stored state; an empty one when there is none or it is from another schema. */
export async function readState(root: string, profile: string): Promise<StateFile> {
  try {
    const s = JSON.parse(await readFile(statePath(root, profile), 'utf8')) as StateFile;
    if (s.schema === STATE_SCHEMA && s.images && typeof s.images === 'object') return s;
  } catch {
    // Missing or unreadable: start afresh (the next build rewrites it).
  }
  return { schema: STATE_SCHEMA, profile, images: {} };
}

/** Writes text to a temp file beside `path`, then renames it over: readers never see half a file. */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }); // a full disk leaves no half-written temp file behind
    throw e;
  }
}

export async function writeState(root: string, state: StateFile): Promise<void> {
  await writeFileAtomically(statePath(root, state.profile), `${JSON.stringify(state, null, 2)}\n`);
}

/** kbuild.lock at the project root; the empty lock when there is none. */
export async function readLockFile(root: string): Promise<Result<Lock, ConfigProblem[]>> {
  let text: string;
  try {
    text = await readFile(join(root, LOCK_FILE), 'utf8');
  } catch {
    return { ok: true, value: EMPTY_LOCK };
  }
  return parseLock(text, LOCK_FILE);
}

export async function writeLockFile(root: string, lock: Lock): Promise<void> {
  await writeFileAtomically(join(root, LOCK_FILE), `${JSON.stringify(lock, null, 2)}\n`);
}
