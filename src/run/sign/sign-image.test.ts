/**
 * signImage and readSignedState over the in-memory registry: what is
 * written, what is not written twice, and the failures. The real registry and cosign are
 * test/signing.integration.test.ts's.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signerOf } from '../../adapters/signing/keys.js';
import { memoryRegistry } from '../../../test/helpers/memory-registry.js';
import type { Digest } from '../../core/model.js';
import { cosignTag, OCI_CONFIG } from '../../core/signing/cosign-manifest.js';
import type { InTotoStatement } from '../../core/signing/in-toto.js';
import type { SignTarget } from './attached.js';
import { signImage } from './sign-image.js';
import { readSignedState } from './signed-state.js';

const REG = 'reg.test';
const REPO = 'kbuild/base';
const P = 'https://example.com/p/v1';

function world() {
  const reg = memoryRegistry();
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: OCI_CONFIG, size: 2, digest: `sha256:${'0'.repeat(64)}` },
    layers: [],
  });
  const digest = reg.put(REPO, 'latest', 'application/vnd.oci.image.manifest.v1+json', body);
  const target: SignTarget = { registry: REG, repository: REPO, digest };
  return { reg, target };
}

const newSigner = () =>
  signerOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'test key');
const statement = (
  digest: Digest,
  predicate: unknown = { n: 1 },
  predicateType = P,
): InTotoStatement => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: `${REG}/${REPO}`, digest: { sha256: digest.slice(7) } }],
  predicateType,
  predicate,
});
const puts = (calls: readonly string[]) => calls.filter((c) => c.startsWith('put '));

describe('signImage', () => {
  it('writes the .sig and .att manifests once; signing again writes nothing', async () => {
    const { reg, target } = world();
    const s = newSigner();
    const first = await signImage(reg, target, s, [statement(target.digest)]);
    expect(first).toEqual({
      ok: true,
      value: {
        signature: 'signed',
        attestations: [{ predicateType: P, outcome: 'added' }],
        layers: expect.any(Object),
      },
    });
    expect(Object.values(first.ok ? first.value.layers : {})).toEqual([P]);
    expect(puts(reg.calls).sort()).toEqual([
      `put ${REPO}:${cosignTag(target.digest, 'att')}`,
      `put ${REPO}:${cosignTag(target.digest, 'sig')}`,
    ]);
    reg.calls.length = 0;
    const again = await signImage(reg, target, s, [statement(target.digest)]);
    expect(again).toEqual({
      ok: true,
      value: {
        signature: 'already-signed',
        attestations: [{ predicateType: P, outcome: 'present' }],
        layers: first.ok ? first.value.layers : {},
      },
    });
    expect(puts(reg.calls)).toEqual([]);
    expect(reg.calls.filter((c) => c.startsWith('upload'))).toEqual([]);
  });

  it('known attestations of an earlier run are recognised by digest: their blobs are not read again', async () => {
    const { reg, target } = world();
    const reads = () =>
      reg.calls.filter((c) => c.startsWith('get-blob ')).map((c) => c.slice(c.indexOf('@') + 1));
    const s = newSigner();
    const first = await signImage(reg, target, s, [statement(target.digest)]);
    const known = first.ok ? first.value.layers : {};
    const layerDigests = Object.keys(known);
    reg.calls.length = 0;
    const again = await signImage(reg, target, s, [statement(target.digest)], undefined, { known });
    expect(again.ok && again.value).toMatchObject({
      signature: 'already-signed',
      attestations: [{ predicateType: P, outcome: 'present' }],
      layers: known,
    });
    // The signature is read (its layer digest does not cover the signature), the statement is not.
    expect(reads()).toHaveLength(1);
    expect(reads()).not.toContain(layerDigests[0]);
    // Without the cache the same answer costs reading the statement's blob too.
    reg.calls.length = 0;
    await signImage(reg, target, s, [statement(target.digest)]);
    expect(reads()).toHaveLength(2);
    expect(reads()).toContain(layerDigests[0]);

    // A statement of a predicate type not among the known layers: the others are read, it is added.
    reg.calls.length = 0;
    const more = await signImage(
      reg,
      target,
      s,
      [statement(target.digest), statement(target.digest, { n: 2 }, 'https://example.com/q/v1')],
      undefined,
      { known },
    );
    expect(more.ok && more.value.attestations).toEqual([
      { predicateType: P, outcome: 'present' },
      { predicateType: 'https://example.com/q/v1', outcome: 'added' },
    ]);
    expect(reads()).toHaveLength(1); // the signature's: the only attestation there is a known one

    // Known digests that are no longer there (the tags were replaced): read and signed as before.
    const other = world();
    const stale = await signImage(
      other.reg,
      other.target,
      s,
      [statement(other.target.digest)],
      undefined,
      {
        known,
      },
    );
    expect(stale.ok && stale.value.signature).toBe('signed');
    expect(Object.keys(stale.ok ? stale.value.layers : {})).not.toEqual(layerDigests);
  });

  it('a second key appends its signature; readSignedState tells the keys apart', async () => {
    const { reg, target } = world();
    const a = newSigner();
    const b = newSigner();
    await signImage(reg, target, a, []);
    const byB = await readSignedState(reg, target, b.publicKeyPem);
    expect(byB).toEqual({
      ok: true,
      value: { signature: 'other-key', signatures: 1, attestations: [], rejected: [] },
    });
    const r = await signImage(reg, target, b, []);
    expect(r.ok && r.value.signature).toBe('signed');
    for (const s of [a, b]) {
      const state = await readSignedState(reg, target, s.publicKeyPem);
      expect(state.ok && state.value).toMatchObject({ signature: 'signed', signatures: 2 });
    }
  });

  it('attestations: one per predicate type by default, or per statement with exact', async () => {
    const { reg, target } = world();
    const s = newSigner();
    await signImage(reg, target, s, [statement(target.digest, { run: 1 })]);
    const sameType = await signImage(reg, target, s, [statement(target.digest, { run: 2 })]);
    expect(sameType.ok && sameType.value.attestations).toEqual([
      { predicateType: P, outcome: 'present' },
    ]);
    const exact = await signImage(
      reg,
      target,
      s,
      [statement(target.digest, { run: 2 }), statement(target.digest, { run: 2 })],
      undefined,
      { attestationMatch: 'exact' },
    );
    expect(exact.ok && exact.value.attestations).toEqual([
      { predicateType: P, outcome: 'added' },
      { predicateType: P, outcome: 'present' },
    ]);
    const state = await readSignedState(reg, target, s.publicKeyPem);
    expect(state.ok && state.value.attestations.map((a) => a.statement.predicate)).toEqual([
      { run: 1 },
      { run: 2 },
    ]);
  });

  it('refuses a statement about another digest before writing anything', async () => {
    const { reg, target } = world();
    const other = `sha256:${createHash('sha256').update('x').digest('hex')}` as Digest;
    await expect(signImage(reg, target, newSigner(), [statement(other)])).rejects.toThrow(
      /is not about reg\.test\/kbuild\/base@sha256:/,
    );
    expect(reg.calls).toEqual([]);
  });

  it("fails with the registry: a missing target, a .sig that is not cosign's, a blob that lies, a registry down", async () => {
    const { reg, target } = world();
    const s = newSigner();
    const missing = await signImage(
      reg,
      { ...target, digest: `sha256:${'9'.repeat(64)}` as Digest },
      s,
      [],
    );
    expect(missing.ok || missing.error.reason).toBe('not-found');

    reg.put(
      REPO,
      cosignTag(target.digest, 'sig'),
      'application/vnd.oci.image.index.v1+json',
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
    );
    reg.calls.length = 0;
    const foreign = await signImage(reg, target, s, []);
    expect(foreign.ok || foreign.error).toMatchObject({ reason: 'invalid-response' });
    if (!foreign.ok)
      expect(foreign.error.message).toContain(
        `${REG}/${REPO}:${cosignTag(target.digest, 'sig')}: the manifest is a "application/vnd.oci.image.index.v1+json"`,
      );
    expect(puts(reg.calls)).toEqual([]);

    const fresh = world();
    await signImage(fresh.reg, fresh.target, s, []);
    for (const k of fresh.reg.blobs.keys())
      fresh.reg.blobs.set(k, new TextEncoder().encode('tampered'));
    const lied = await readSignedState(fresh.reg, fresh.target, s.publicKeyPem);
    expect(lied.ok || lied.error.reason).toBe('invalid-response');

    fresh.reg.down = true;
    const down = await readSignedState(fresh.reg, fresh.target, s.publicKeyPem);
    expect(down.ok || down.error.reason).toBe('unreachable');
  });
});
