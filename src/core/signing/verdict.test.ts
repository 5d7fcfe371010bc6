import { describe, expect, it } from 'vitest';
import { imageName } from '../model.js';
import { archTagsRow, verdict, withPlatforms, type VerifyObservation } from './verdict.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const good: VerifyObservation = {
  name: imageName('app'),
  ref: '127.0.0.1:5000/kbuild/app:latest',
  digest: D1,
  signature: { kind: 'valid' },
  provenance: ['fp1'],
  sbom: true,
  expectedFingerprint: 'fp1',
  lastPushed: D1,
};

describe('verdict', () => {
  it('signed, provenance of the checkout, SBOM: ok', () => {
    expect(verdict(good)).toMatchObject({
      signed: 'yes',
      provenance: 'matches',
      sbom: 'yes',
      ok: true,
      problems: [],
    });
    expect(verdict({ ...good, expectedFingerprint: undefined })).toMatchObject({
      provenance: 'present',
      ok: true,
    });
  });

  it('a tag pushed over with an unsigned image: unsigned, and the tag said to have moved', () => {
    const r = verdict({
      ...good,
      digest: D2,
      signature: { kind: 'unsigned' },
      provenance: [],
      sbom: false,
    });
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.reason)).toEqual(['unsigned', 'no-provenance', 'no-sbom']);
    expect(r.problems[0]!.message).toBe(
      '127.0.0.1:5000/kbuild/app:latest@222222222222 has no signature (the tag was moved: kbuild last pushed 111111111111 here, it now names 222222222222)',
    );
  });

  it('signed by another key; provenance for another fingerprint', () => {
    const r = verdict({ ...good, signature: { kind: 'other-key', count: 2 }, provenance: ['fp0'] });
    expect(r).toMatchObject({ signed: 'other key', provenance: 'other fingerprint', ok: false });
    expect(r.problems.map((p) => p.reason)).toEqual(['other-key', 'provenance-mismatch']);
    expect(r.problems[1]!.message).toMatch(/names fingerprint fp0, the checkout gives fp1/);
  });

  it('a missing tag or an unreadable registry: one problem, nothing else claimed', () => {
    expect(verdict({ ...good, digest: undefined })).toMatchObject({
      digest: null,
      signed: '?',
      ok: false,
      problems: [{ reason: 'missing' }],
    });
    expect(verdict({ ...good, lookupError: 'connection refused' }).problems).toEqual([
      {
        reason: 'unreachable',
        message: '127.0.0.1:5000/kbuild/app:latest could not be read: connection refused',
      },
    ]);
  });

  it("a platform of a list: named in each message; the list must carry every platform's provenance", () => {
    const arm = verdict({ ...good, platform: 'linux/arm64', signature: { kind: 'unsigned' } });
    expect(arm).toMatchObject({ platform: 'linux/arm64', signed: 'no', ok: false });
    expect(arm.problems[0]!.message).toBe(
      '127.0.0.1:5000/kbuild/app:latest (linux/arm64)@111111111111 has no signature',
    );
    const expectedFingerprints = [
      { platform: 'linux/amd64', fingerprint: 'fp1' },
      { platform: 'linux/arm64', fingerprint: 'fp2' },
    ];
    expect(verdict({ ...good, provenance: ['fp2', 'fp1'], expectedFingerprints })).toMatchObject({
      provenance: 'matches',
      ok: true,
    });
    const half = verdict({ ...good, provenance: ['fp1'], expectedFingerprints });
    expect(half).toMatchObject({ provenance: 'other fingerprint', ok: false });
    expect(half.problems[0]!.message).toMatch(
      /names fingerprint\(s\) fp1, not fp2 \(linux\/arm64\)/,
    );
  });

  it('an image of several platforms is ok only when its list and every platform are', () => {
    const list = verdict(good);
    const arm = verdict({ ...good, platform: 'linux/arm64', sbom: false });
    expect(withPlatforms(list, [verdict({ ...good, platform: 'linux/amd64' })]).ok).toBe(true);
    const both = withPlatforms(list, [arm]);
    expect(both.ok).toBe(false);
    expect(both.problems).toEqual([]);
    expect(archTagsRow(good.name, good.ref, [arm])).toMatchObject({ signed: '-', ok: false });
  });
});
