/**
 * The SignedLayers cache of one signing key, in `.kbuild/cache/signed/<key fingerprint>.json`:
 * target -> its attestations by this key (layer digest -> predicate type). Read once
 * when the key is opened, written once after the build when something changed. Unreadable, it is
 * empty; not writable, it is not written: either way the next run reads the registry as before.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedLayers } from '../../run/signing-ports.js';
import { replaceFile } from './replace-file.js';

/** The most targets kept (the ones signed or found signed longest ago go first). */
export const MAX_SIGNED_TARGETS = 20_000;

export interface SignedLayersFile extends SignedLayers {
  /** Writes the file when something changed; false when the host refused. */
  save(): boolean;
}

export function openSignedLayers(
  root: string,
  keyFingerprint: string,
  max = MAX_SIGNED_TARGETS,
): SignedLayersFile {
  const dir = join(root, '.kbuild', 'cache', 'signed');
  const file = join(dir, `${keyFingerprint.slice(0, 32)}.json`);
  const entries = new Map(readEntries(file));
  let changed = false;
  return {
    get: (target) => entries.get(target),
    set(target, layers) {
      const before = entries.get(target);
      entries.delete(target); // re-inserted last: the most recent
      entries.set(target, { ...layers });
      if (JSON.stringify(before) !== JSON.stringify(layers)) changed = true;
    },
    save() {
      if (!changed) return true;
      try {
        mkdirSync(dir, { recursive: true });
      } catch {
        return false;
      }
      const kept = [...entries].slice(-max);
      return replaceFile(file, `${JSON.stringify(Object.fromEntries(kept))}\n`);
    },
  };
}

function readEntries(file: string): [string, Readonly<Record<string, string>>][] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  if (!isRecord(data)) return [];
  return Object.entries(data).filter(
    (e): e is [string, Record<string, string>] =>
      isRecord(e[1]) && Object.values(e[1]).every((v) => typeof v === 'string'),
  );
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
