/**
 * Golden bytes: what cosign 2.5 (Debian trixie's build) wrote to a registry for
 * `cosign sign --key` and `cosign attest --key --type https://kbuild.dev/test/v1` of one digest,
 * byte for byte. kbuild's writers must produce the same bytes, and its readers must accept
 * cosign's (signatures made by cosign's key below).
 */
import { generateKeyPairSync, createPublicKey, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Digest } from '../model.js';
import {
  attestationLayer,
  cosignImage,
  cosignTag,
  parseCosignManifest,
  sha256Of,
  signatureLayer,
} from './cosign-manifest.js';
import { base64, IN_TOTO_PAYLOAD_TYPE, pae, parseEnvelope, serializeEnvelope } from './dsse.js';
import { parsePublicKey, verifyP256 } from './ecdsa.js';
import { parseStatement, serializeStatement, statementIsAbout } from './in-toto.js';
import { parseSimpleSigningPayload, simpleSigningPayload } from './simple-signing.js';
import { checkAttestation, checkSignature } from './verify.js';

const DIGEST = 'sha256:c532b56da32985e650ddefc96a09dfa2c267b2f385968292eaf3378788a19c3b' as Digest;
const OTHER = `sha256:${'1'.repeat(64)}` as Digest;
const REPO = '127.0.0.1:5000/kbuild-test/cosx';
const COSIGN_PUB = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE4TNPdxSivDChMBivNN1ZvECN6a/O
TVTB6guEPvzfXWtsuUsCu2juHoJlcnVu/Ok+hwgDgxxecXdvYeEHcjKp8Q==
-----END PUBLIC KEY-----
`;
const SIG_PAYLOAD =
  '{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/kbuild-test/cosx"},"image":{"docker-manifest-digest":"sha256:c532b56da32985e650ddefc96a09dfa2c267b2f385968292eaf3378788a19c3b"},"type":"cosign container image signature"},"optional":null}';
const SIG_B64 =
  'MEUCIEparcH9ltEd1yXOzjbGbenTeQ2D6k52tI8CuPyuv/RyAiEAxSqm+it3hijsxGQ5MfLHUE3pw9RgH4toO3N0dQf3aPI=';
const SIG_MANIFEST =
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:832aad08d984fe2694b0ff790bcb602bf0d347ed76d7dfaa1dd481fdcb3d313a"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":247,"digest":"sha256:f834d5c9f140d97502ef4f29d50e7c83a6371aa542f294498e86e77fbb8699e6","annotations":{"dev.cosignproject.cosign/signature":"MEUCIEparcH9ltEd1yXOzjbGbenTeQ2D6k52tI8CuPyuv/RyAiEAxSqm+it3hijsxGQ5MfLHUE3pw9RgH4toO3N0dQf3aPI="}}]}';
const SIG_CONFIG =
  '{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:f834d5c9f140d97502ef4f29d50e7c83a6371aa542f294498e86e77fbb8699e6"]},"config":{}}';
const ATT_ENVELOPE =
  '{"payloadType":"application/vnd.in-toto+json","payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjAuMSIsInByZWRpY2F0ZVR5cGUiOiJodHRwczovL2tidWlsZC5kZXYvdGVzdC92MSIsInN1YmplY3QiOlt7Im5hbWUiOiIxMjcuMC4wLjE6NTAwMC9rYnVpbGQtdGVzdC9jb3N4IiwiZGlnZXN0Ijp7InNoYTI1NiI6ImM1MzJiNTZkYTMyOTg1ZTY1MGRkZWZjOTZhMDlkZmEyYzI2N2IyZjM4NTk2ODI5MmVhZjMzNzg3ODhhMTljM2IifX1dLCJwcmVkaWNhdGUiOnsiaGVsbG8iOiJ3b3JsZCJ9fQ==","signatures":[{"keyid":"","sig":"MEYCIQCZADskcS+MGPl5TvUHFPbxNXy1aFzkZKOvZLYD2T8AWQIhAM0nV5MLECkMTi53uPM7bkWBCfG6EeXOCsvBlh7334BH"}]}';
const ATT_MANIFEST =
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:03befe00ad0005c3441556756d0556f3779ecb89a81fc0ce317702b0c9890540"},"layers":[{"mediaType":"application/vnd.dsse.envelope.v1+json","size":544,"digest":"sha256:df26984673bcb34af0123beadb5b48c975b224303212bc52f28726abdf675079","annotations":{"dev.cosignproject.cosign/signature":"","predicateType":"https://kbuild.dev/test/v1"}}]}';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const cosignKey = () => {
  const k = parsePublicKey(COSIGN_PUB);
  if (!k.ok) throw new Error(k.error);
  return k.value;
};
const otherKeyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('simple signing payload', () => {
  it("is cosign's payload byte for byte", () => {
    expect(text(simpleSigningPayload(REPO, DIGEST))).toBe(SIG_PAYLOAD);
  });

  it("reads cosign's payload, and refuses other types", () => {
    expect(parseSimpleSigningPayload(bytes(SIG_PAYLOAD))).toEqual({
      ok: true,
      value: { dockerReference: REPO, digest: DIGEST },
    });
    const atomic = SIG_PAYLOAD.replace(
      'cosign container image signature',
      'atomic container signature',
    );
    expect(parseSimpleSigningPayload(bytes(atomic)).ok).toBe(false);
    expect(parseSimpleSigningPayload(bytes('not json')).ok).toBe(false);
  });
});

describe('signature manifest', () => {
  it('tags a digest as cosign does', () => {
    expect(cosignTag(DIGEST, 'sig')).toBe(`sha256-${DIGEST.slice(7)}.sig`);
    expect(cosignTag(DIGEST, 'att')).toBe(`sha256-${DIGEST.slice(7)}.att`);
    expect(() => cosignTag('latest' as Digest, 'sig')).toThrow(TypeError);
  });

  it("writes cosign's manifest and config byte for byte from the same payload and signature", () => {
    const layer = signatureLayer(bytes(SIG_PAYLOAD), base64(SIG_B64)!);
    const image = cosignImage([], [layer.descriptor]);
    expect(text(image.manifest.body)).toBe(SIG_MANIFEST);
    expect(text(image.config.blob)).toBe(SIG_CONFIG);
    expect(image.config.digest).toBe(
      'sha256:832aad08d984fe2694b0ff790bcb602bf0d347ed76d7dfaa1dd481fdcb3d313a',
    );
  });

  it("reads cosign's manifest and appends after its layer, keeping it verbatim", () => {
    const layers = parseCosignManifest(bytes(SIG_MANIFEST));
    if (!layers.ok) throw new Error(layers.error);
    expect(layers.value).toHaveLength(1);
    const mine = signatureLayer(bytes('{"x":1}'), new Uint8Array([1, 2, 3]));
    const image = cosignImage(layers.value, [mine.descriptor]);
    const doc = JSON.parse(text(image.manifest.body));
    expect(JSON.stringify(doc.layers[0])).toBe(JSON.stringify(JSON.parse(SIG_MANIFEST).layers[0]));
    expect(doc.layers[1]).toEqual({
      mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      size: 7,
      digest: sha256Of(bytes('{"x":1}')),
      annotations: { 'dev.cosignproject.cosign/signature': 'AQID' },
    });
    expect(JSON.parse(text(image.config.blob)).rootfs.diff_ids).toEqual([
      layers.value[0]!.descriptor.digest,
      mine.descriptor.digest,
    ]);
  });

  it('refuses what is not an image manifest', () => {
    expect(
      parseCosignManifest(
        bytes(
          '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
        ),
      ).ok,
    ).toBe(false);
    expect(parseCosignManifest(bytes('{"schemaVersion":2,"layers":[{"digest":"x"}]}')).ok).toBe(
      false,
    );
  });
});

describe("checking cosign's signature", () => {
  const [layer] = (() => {
    const l = parseCosignManifest(bytes(SIG_MANIFEST));
    if (!l.ok) throw new Error(l.error);
    return l.value;
  })();

  it('is valid with its key for its digest', () => {
    expect(checkSignature(layer!, bytes(SIG_PAYLOAD), cosignKey(), DIGEST)).toEqual({
      kind: 'valid',
    });
  });

  it('names the digest when it is about another one', () => {
    expect(checkSignature(layer!, bytes(SIG_PAYLOAD), cosignKey(), OTHER)).toEqual({
      kind: 'other-digest',
      digest: DIGEST,
    });
  });

  it('is another key for another key, and for a changed payload', () => {
    const other = createPublicKey(otherKeyPair().privateKey);
    expect(checkSignature(layer!, bytes(SIG_PAYLOAD), other, DIGEST).kind).toBe('other-key');
    const changed = SIG_PAYLOAD.replace('kbuild-test/cosx', 'kbuild-test/cosy');
    expect(checkSignature(layer!, bytes(changed), cosignKey(), DIGEST).kind).toBe('other-key');
  });

  it("verifies kbuild's own signature the same way", () => {
    const { privateKey, publicKey } = otherKeyPair();
    const payload = simpleSigningPayload(REPO, DIGEST);
    const mine = signatureLayer(
      payload,
      sign('sha256', payload, { key: privateKey, dsaEncoding: 'der' }),
    );
    const parsed = parseCosignManifest(cosignImage([], [mine.descriptor]).manifest.body);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(checkSignature(parsed.value[0]!, payload, publicKey, DIGEST)).toEqual({ kind: 'valid' });
  });
});

describe('DSSE and in-toto', () => {
  it('encodes PAE as the DSSE protocol says', () => {
    expect(text(pae('http://example.com/HelloWorld', bytes('hello world')))).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    expect(text(pae(IN_TOTO_PAYLOAD_TYPE, bytes('')))).toBe(
      'DSSEv1 28 application/vnd.in-toto+json 0 ',
    );
  });

  it("round-trips cosign's envelope byte for byte", () => {
    const env = parseEnvelope(bytes(ATT_ENVELOPE));
    if (!env.ok) throw new Error(env.error);
    expect(text(serializeEnvelope(env.value))).toBe(ATT_ENVELOPE);
  });

  it("verifies cosign's attestation with its key, about its digest only", () => {
    const check = checkAttestation(bytes(ATT_ENVELOPE), cosignKey(), DIGEST);
    expect(check.kind).toBe('valid');
    if (check.kind !== 'valid') return;
    expect(check.statement.predicateType).toBe('https://kbuild.dev/test/v1');
    expect(check.statement.predicate).toEqual({ hello: 'world' });
    expect(checkAttestation(bytes(ATT_ENVELOPE), cosignKey(), OTHER).kind).toBe('other-subject');
    const other = createPublicKey(otherKeyPair().privateKey);
    expect(checkAttestation(bytes(ATT_ENVELOPE), other, DIGEST).kind).toBe('other-key');
  });

  it("writes cosign's attestation layer and manifest from the same envelope", () => {
    const layer = attestationLayer(bytes(ATT_ENVELOPE), 'https://kbuild.dev/test/v1');
    expect(text(cosignImage([], [layer.descriptor]).manifest.body)).toBe(ATT_MANIFEST);
  });

  it('signs a statement kbuild makes so that it verifies, and refuses another payload type', () => {
    const { privateKey, publicKey } = otherKeyPair();
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: REPO, digest: { sha256: DIGEST.slice(7) } }],
      predicateType: 'https://example.com/p/v1',
      predicate: { a: '<&>' },
    };
    const body = serializeStatement(statement);
    expect(text(body)).toBe(
      `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"${REPO}","digest":{"sha256":"${DIGEST.slice(7)}"}}],"predicateType":"https://example.com/p/v1","predicate":{"a":"\\u003c\\u0026\\u003e"}}`,
    );
    expect(parseStatement(body)).toEqual({ ok: true, value: statement });
    expect(statementIsAbout(statement, DIGEST)).toBe(true);
    expect(statementIsAbout(statement, OTHER)).toBe(false);
    const sig = sign('sha256', pae(IN_TOTO_PAYLOAD_TYPE, body), {
      key: privateKey,
      dsaEncoding: 'der',
    });
    const env = serializeEnvelope({
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: body,
      signatures: [{ keyid: '', sig }],
    });
    expect(checkAttestation(env, publicKey, DIGEST).kind).toBe('valid');
    const wrongType = serializeEnvelope({
      payloadType: 'application/json',
      payload: body,
      signatures: [{ keyid: '', sig }],
    });
    expect(checkAttestation(wrongType, publicKey, DIGEST).kind).toBe('invalid');
  });

  it('reads URL-safe base64 and refuses what is not base64', () => {
    expect(base64('-_8=')).toEqual(new Uint8Array([0xfb, 0xff]));
    expect(base64('a b')).toBeUndefined();
    expect(verifyP256(cosignKey(), bytes('x'), new Uint8Array([1]))).toBe(false);
  });
});
