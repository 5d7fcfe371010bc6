import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSignedLayers } from './signed-layers.js';

const FP = 'ab'.repeat(32);
const dirs: string[] = [];
const root = () => {
  const d = mkdtempSync(join(tmpdir(), 'kbuild-signed-'));
  dirs.push(d);
  return d;
};
const file = (r: string) => join(r, '.kbuild', 'cache', 'signed', `${FP.slice(0, 32)}.json`);
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the SignedLayers cache file', () => {
  it('keeps what was set for the next run, per key; written only when something changed', () => {
    const r = root();
    const a = openSignedLayers(r, FP);
    expect(a.get('reg/x@sha256:1')).toBeUndefined();
    a.set('reg/x@sha256:1', {
      'sha256:s': 'https://cyclonedx.org/bom',
      'sha256:p': 'https://slsa.dev/provenance/v1',
    });
    expect(a.save()).toBe(true);
    const b = openSignedLayers(r, FP);
    expect(b.get('reg/x@sha256:1')).toEqual({
      'sha256:s': 'https://cyclonedx.org/bom',
      'sha256:p': 'https://slsa.dev/provenance/v1',
    });
    expect(openSignedLayers(r, 'cd'.repeat(32)).get('reg/x@sha256:1')).toBeUndefined();
    const before = statSync(file(r)).mtimeMs;
    b.set('reg/x@sha256:1', {
      'sha256:s': 'https://cyclonedx.org/bom',
      'sha256:p': 'https://slsa.dev/provenance/v1',
    });
    writeFileSync(file(r), readFileSync(file(r))); // same bytes, a new mtime only if saved again
    const touched = statSync(file(r)).mtimeMs;
    expect(b.save()).toBe(true);
    expect(statSync(file(r)).mtimeMs).toBe(touched);
    expect(touched).toBeGreaterThanOrEqual(before);
  });

  it('keeps the most recent targets only', () => {
    const r = root();
    const c = openSignedLayers(r, FP, 2);
    for (const n of [1, 2, 3]) c.set(`t${n}`, { [`sha256:${n}`]: 'https://cyclonedx.org/bom' });
    c.save();
    const d = openSignedLayers(r, FP, 2);
    expect([d.get('t1'), d.get('t2'), d.get('t3')]).toEqual([
      undefined,
      { 'sha256:2': 'https://cyclonedx.org/bom' },
      { 'sha256:3': 'https://cyclonedx.org/bom' },
    ]);
  });

  it('a file that is not one it wrote reads as empty; a host that refuses is false, not an error', () => {
    const r = root();
    mkdirSync(join(r, '.kbuild', 'cache', 'signed'), { recursive: true });
    for (const text of ['not json', '[1]', '{"t": {"sha256:1": 5}}', '{"t": "x"}']) {
      writeFileSync(file(r), text);
      expect(openSignedLayers(r, FP).get('t')).toBeUndefined();
    }
    writeFileSync(file(r), '{"t": {"sha256:1": "https://cyclonedx.org/bom"}, "u": 3}');
    expect(openSignedLayers(r, FP).get('t')).toEqual({ 'sha256:1': 'https://cyclonedx.org/bom' });

    const blocked = root();
    writeFileSync(join(blocked, '.kbuild'), 'a file where the directory goes');
    const e = openSignedLayers(blocked, FP);
    e.set('t', { 'sha256:1': 'https://cyclonedx.org/bom' });
    expect(e.save()).toBe(false);
  });
});
