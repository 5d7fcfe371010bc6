import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  diffRecords,
  fingerprintOf,
  formatReason,
  sha256,
  type FingerprintRecord,
} from './fingerprint.js';
import { fingerprintTag } from '../naming.js';

const record = (over: Partial<FingerprintRecord> = {}): FingerprintRecord => ({
  schema: 1,
  dockerfile: sha256('FROM base\nRUN true\n'),
  context: { 'a.txt': sha256('a'), 'bin/run.sh': `${sha256('#!/bin/sh')}+x` },
  buildArgs: { A: '1', B: '2' },
  labels: { 'io.kbuild.image': 'x' },
  platform: 'linux/amd64',
  engine: 'docker',
  parents: { base: 'f'.repeat(64) },
  bases: { 'debian:bookworm': `sha256:${'1'.repeat(64)}` },
  ...over,
});

describe('fingerprintOf', () => {
  it('does not depend on key order', () => {
    const a = record();
    const b: FingerprintRecord = {
      bases: a.bases,
      parents: a.parents,
      engine: a.engine,
      platform: a.platform,
      labels: a.labels,
      buildArgs: { B: '2', A: '1' },
      context: { 'bin/run.sh': a.context['bin/run.sh']!, 'a.txt': a.context['a.txt']! },
      dockerfile: a.dockerfile,
      schema: 1,
    };
    expect(fingerprintOf(b)).toBe(fingerprintOf(a));
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });

  it('changes with every input: content, executable bit, line endings, args, parents, bases', () => {
    const base = fingerprintOf(record());
    const variants: Partial<FingerprintRecord>[] = [
      { dockerfile: sha256('FROM base\r\nRUN true\r\n') }, // line endings are content
      { context: { 'a.txt': sha256('b'), 'bin/run.sh': `${sha256('#!/bin/sh')}+x` } },
      { context: { 'a.txt': sha256('a'), 'bin/run.sh': sha256('#!/bin/sh') } }, // lost its +x
      { context: { 'a.txt': sha256('a') } },
      { buildArgs: { A: '1', B: '3' } },
      { labels: {} },
      { platform: 'linux/arm64' },
      { engine: 'podman' },
      { parents: { base: 'e'.repeat(64) } },
      { bases: { 'debian:bookworm': `sha256:${'2'.repeat(64)}` } },
      { schema: 2 },
    ];
    const all = variants.map((v) => fingerprintOf(record(v)));
    expect(new Set([base, ...all]).size).toBe(variants.length + 1);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprintTag(fingerprintOf(record()))).toBe(`fp-${base.slice(0, 24)}`);
  });
});

describe('diffRecords', () => {
  it('says "new" without a stored record, nothing when equal', () => {
    expect(diffRecords(undefined, record())).toEqual([{ kind: 'new' }]);
    expect(diffRecords(record(), record())).toEqual([]);
  });

  it('names the files, args, parents and bases that changed', () => {
    const now = record({
      context: {
        'a.txt': sha256('changed'),
        'new.txt': sha256('n'),
        'bin/run.sh': `${sha256('#!/bin/sh')}+x`,
      },
      buildArgs: { A: '1' },
      parents: { base: '0'.repeat(64) },
      bases: { 'debian:bookworm': `sha256:${'9'.repeat(64)}` },
    });
    expect(diffRecords(record(), now).map(formatReason)).toEqual([
      'context-changed (a.txt, new.txt)',
      'build-args-changed (B)',
      'parent-changed (base)',
      'base-moved (debian:bookworm)',
    ]);
    expect(
      diffRecords(record(), record({ dockerfile: sha256('x'), platform: 'linux/arm64' })).map(
        formatReason,
      ),
    ).toEqual(['dockerfile-changed', 'platform-changed (linux/amd64 → linux/arm64)']);
    expect(diffRecords(record(), record({ schema: 2 }))).toEqual([{ kind: 'schema-changed' }]);
  });

  it('keeps long file lists short', () => {
    const context = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [`f${i}`, sha256(String(i))]),
    );
    expect(formatReason(diffRecords(record({ context: {} }), record({ context }))[0]!)).toBe(
      'context-changed (f0, f1, f2, f3, f4, +3 more)',
    );
  });
});
