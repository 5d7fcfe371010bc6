/**
 * kbuild's two statements as the real cosign CLI reads them: each signed into a DSSE envelope
 * (made here with node:crypto, independently of kbuild's own signing code) and checked with
 * `cosign verify-blob-attestation --type cyclonedx | slsaprovenance1` against a blob whose sha256
 * is the statements' subject digest, as `verify-attestation` checks an image's manifest digest:
 * the same predicate-type lookup and subject match.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf, type FingerprintRecord } from '../src/core/plan/fingerprint.js';
import {
  COSIGN_TYPES,
  imageStatements,
  statementJson,
  type Statement,
} from '../src/core/signing/statements.js';
import { requireCosign, runCosign } from './helpers/cosign.js';

/** A DSSE envelope of the statement, signed with `key` (PAE over the in-toto payload type). */
function envelope(statement: Statement<unknown>, key: ReturnType<typeof generateKeyPairSync>) {
  const type = 'application/vnd.in-toto+json';
  const body = Buffer.from(statementJson(statement));
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${body.length} `), body]);
  const sig = sign('sha256', pae, key.privateKey);
  return JSON.stringify({
    payloadType: type,
    payload: body.toString('base64'),
    signatures: [{ keyid: '', sig: sig.toString('base64') }],
  });
}

describe('the statements, verified by cosign', () => {
  let dir = '';
  const path = (f: string) => join(dir, f);
  /** cosign's exit code and last line for one attestation file against one blob. */
  const verify = async (attestation: string, type: string, blob = 'manifest') => {
    const r = await runCosign([
      'verify-blob-attestation',
      '--key',
      path('pub.pem'),
      '--signature',
      path(attestation),
      '--type',
      type,
      '--insecure-ignore-tlog',
      path(blob),
    ]);
    return { code: r.code, last: r.out.trim().split('\n').at(-1) ?? '' };
  };

  beforeAll(() => {
    requireCosign();
    dir = mkdtempSync(join(tmpdir(), 'kbuild-statements-'));
    // The "manifest": the subject is its sha256, as a pushed image's is its manifest digest.
    const manifest = Buffer.from('{"schemaVersion":2}\n');
    writeFileSync(path('manifest'), manifest);
    writeFileSync(path('other'), 'another manifest\n');
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    const record: FingerprintRecord = {
      schema: 1,
      dockerfile: '1'.repeat(64),
      context: { 'files/a': '2'.repeat(64) },
      buildArgs: { VERSION: '1' },
      labels: {},
      platform: 'linux/amd64',
      engine: 'docker',
      parents: {},
      bases: { 'debian:bookworm': `sha256:${'b'.repeat(64)}` },
    };
    const { sbom, provenance } = imageStatements({
      image: {
        name: 'hello',
        registry: '127.0.0.1:5000',
        repository: 'kbuild/hello',
        tag: 't',
        digest,
      },
      profile: 'debian',
      template: 'images/hello/Dockerfile.j2',
      platform: 'linux/amd64',
      fingerprint: fingerprintOf(record),
      record,
      git: { commit: 'c'.repeat(40), dirty: false },
      run: { id: 'r1', startedOn: '2026-11-29T08:00:00Z', finishedOn: '2026-11-29T08:00:03Z' },
      tool: { name: 'kbuild', version: '0.1.0' },
      inventory: {
        manager: 'dpkg',
        distro: 'debian',
        distroVersion: '12',
        config: 'x',
        packages: [{ name: 'apt', arch: 'amd64', version: '2.6.1', source: 'apt' }],
      },
    });
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(path('pub.pem'), key.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(path('sbom.json'), envelope(sbom!, key));
    writeFileSync(path('provenance.json'), envelope(provenance, key));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`the SBOM verifies as --type ${COSIGN_TYPES.sbom}, the provenance as --type ${COSIGN_TYPES.provenance}`, async () => {
    expect(await verify('sbom.json', COSIGN_TYPES.sbom)).toEqual({ code: 0, last: 'Verified OK' });
    expect(await verify('provenance.json', COSIGN_TYPES.provenance)).toEqual({
      code: 0,
      last: 'Verified OK',
    });
  });

  it('each fails as the other type, as SLSA v0.2 (--type slsaprovenance) and for another digest', async () => {
    for (const [file, type, blob] of [
      ['provenance.json', COSIGN_TYPES.sbom, 'manifest'],
      ['sbom.json', COSIGN_TYPES.provenance, 'manifest'],
      ['provenance.json', 'slsaprovenance', 'manifest'],
      ['provenance.json', COSIGN_TYPES.provenance, 'other'],
    ] as const) {
      const r = await verify(file, type, blob);
      expect(r.code, `${file} as ${type} for ${blob}: ${r.last}`).not.toBe(0);
      expect(r.last).toMatch(blob === 'other' ? /no matching subject digest/ : /predicate type/);
    }
  });
});
