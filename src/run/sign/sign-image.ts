/**
 * Signs an image by digest in cosign's format, through the Registry port (no cosign at run
 * time): a simple-signing signature appended to its `sha256-<hex>.sig` manifest and each in-toto
 * statement, in a DSSE envelope, appended to its `sha256-<hex>.att` manifest. What other signers
 * put there is kept; what this key already signed is not signed again.
 *
 * Ordering: the blobs and the config first, then the manifest (a registry refuses a manifest
 * whose blobs it lacks). The attestations this key put there in an earlier run (`known`, by layer
 * digest) are recognised without reading their blobs: a re-run with nothing to sign does not
 * download the statements again (an SBOM can be megabytes). A DSSE envelope holds its signature,
 * so its digest names it whole; a signature layer does not (cosign keeps the signature in an
 * annotation), so that one, a few hundred bytes, is always read and checked. Two signers writing the same tag at once can lose one's layer (the registry
 * API has no compare-and-swap); kbuild signs each digest from one run.
 */
import type { KeyObject } from 'node:crypto';
import { ok, type Result } from '../../core/model.js';
import {
  attestationLayer,
  cosignImage,
  cosignTag,
  signatureLayer,
  type AttachmentSuffix,
  type CosignLayer,
  type NewLayer,
} from '../../core/signing/cosign-manifest.js';
import { IN_TOTO_PAYLOAD_TYPE, pae, serializeEnvelope } from '../../core/signing/dsse.js';
import { parsePublicKey } from '../../core/signing/ecdsa.js';
import {
  serializeStatement,
  statementIsAbout,
  type InTotoStatement,
} from '../../core/signing/in-toto.js';
import { simpleSigningPayload } from '../../core/signing/simple-signing.js';
import {
  checkAttestation,
  checkSignature,
  isAttestationLayer,
  isSignatureLayer,
} from '../../core/signing/verify.js';
import type { Registry, RegistryFailure } from '../ports.js';
import type { Signer } from '../signing-ports.js';
import { ensureBlob, readAttached, readBlob, targetName, type SignTarget } from './attached.js';

export interface SignOutcome {
  /** `already-signed`: a signature by this key for this digest was there; none was added. */
  readonly signature: 'signed' | 'already-signed';
  /** One entry per statement given, in order. */
  readonly attestations: readonly {
    readonly predicateType: string;
    readonly outcome: 'added' | 'present';
  }[];
  /**
   * This key's attestations about this digest, found valid or added: layer digest -> the
   * statement's predicate type. What a later run gives back as `known`.
   */
  readonly layers: Readonly<Record<string, string>>;
}

export interface SignImageOptions {
  /**
   * When an attestation counts as already there: `predicate-type` (default), one by this key
   * about this digest with the same predicate type (a provenance is not attested twice for one
   * digest, even when its build times differ); `exact`, one with the same statement bytes.
   */
  readonly attestationMatch?: 'predicate-type' | 'exact';
  /**
   * `SignOutcome.layers` of an earlier run for this target and key: a layer there with one of
   * these digests is this key's (a digest names its bytes) and is not read again. With `exact`,
   * attestations are still read (their bytes are what is compared).
   */
  readonly known?: Readonly<Record<string, string>>;
}

/**
 * Signs `target` with `signer` and attests each of `statements` about it. The target must exist
 * (HEAD by digest; `not-found` otherwise). Every statement must name the target's digest among
 * its subjects: one that does not is the caller's bug (a TypeError, before anything is written).
 */
export async function signImage(
  registry: Registry,
  target: SignTarget,
  signer: Signer,
  statements: readonly InTotoStatement[],
  signal?: AbortSignal,
  opts: SignImageOptions = {},
): Promise<Result<SignOutcome, RegistryFailure>> {
  for (const s of statements) {
    if (!statementIsAbout(s, target.digest)) {
      throw new TypeError(
        `signImage: the ${s.predicateType} statement is not about ${targetName(target)}`,
      );
    }
  }
  const key = parsePublicKey(signer.publicKeyPem);
  if (!key.ok) throw new TypeError(`signImage: the signer's public key: ${key.error}`);
  const head = await registry.headManifest(
    { registry: target.registry, repository: target.repository, reference: target.digest },
    signal,
  );
  if (!head.ok) return head;

  // The .sig and .att manifests are independent: written side by side.
  const [sig, att] = await Promise.all([
    signOnce(registry, target, signer, key.value, signal),
    attestOnce(registry, target, signer, key.value, statements, opts, signal),
  ]);
  if (!sig.ok) return sig;
  if (!att.ok) return att;
  return ok({ signature: sig.value, attestations: att.value.outcomes, layers: att.value.layers });
}

/** Appends a signature by `signer` to the `.sig` manifest unless one by its key is there. */
async function signOnce(
  registry: Registry,
  target: SignTarget,
  signer: Signer,
  key: KeyObject,
  signal: AbortSignal | undefined,
): Promise<Result<SignOutcome['signature'], RegistryFailure>> {
  const layers = await readAttached(registry, target, 'sig', signal);
  if (!layers.ok) return layers;
  for (const layer of layers.value.filter(isSignatureLayer)) {
    const blob = await readBlob(registry, target, layer.descriptor.digest, signal);
    if (!blob.ok) return blob;
    if (checkSignature(layer, blob.value, key, target.digest).kind === 'valid') {
      return ok('already-signed');
    }
  }
  const payload = simpleSigningPayload(`${target.registry}/${target.repository}`, target.digest);
  const layer = signatureLayer(payload, signer.sign(payload));
  const put = await appendLayers(registry, target, 'sig', layers.value, [layer], signal);
  return put.ok ? ok('signed') : put;
}

/** Appends to the `.att` manifest each statement not attested by `signer`'s key already. */
async function attestOnce(
  registry: Registry,
  target: SignTarget,
  signer: Signer,
  key: KeyObject,
  statements: readonly InTotoStatement[],
  opts: SignImageOptions,
  signal: AbortSignal | undefined,
): Promise<
  Result<{ outcomes: SignOutcome['attestations']; layers: Record<string, string> }, RegistryFailure>
> {
  if (statements.length === 0) return ok({ outcomes: [], layers: {} });
  const layers = await readAttached(registry, target, 'att', signal);
  if (!layers.ok) return layers;
  const match = opts.attestationMatch ?? 'predicate-type';
  const present: { predicateType: string; payload: string }[] = [];
  const mine: Record<string, string> = {};
  const attestations = layers.value.filter(isAttestationLayer);
  // This key's layers of an earlier run count by their digest (their predicate type as recorded);
  // the others are read only when those leave a statement's predicate type missing.
  const recognised = new Set<string>();
  if (match === 'predicate-type') {
    for (const layer of attestations) {
      const type = opts.known?.[layer.descriptor.digest];
      if (type === undefined) continue;
      recognised.add(layer.descriptor.digest);
      present.push({ predicateType: type, payload: '' });
      mine[layer.descriptor.digest] = type;
    }
  }
  const missing = statements.some(
    (st) => !present.some((p) => p.predicateType === st.predicateType),
  );
  for (const layer of missing ? attestations : []) {
    if (recognised.has(layer.descriptor.digest)) continue;
    const blob = await readBlob(registry, target, layer.descriptor.digest, signal);
    if (!blob.ok) return blob;
    const check = checkAttestation(blob.value, key, target.digest);
    if (check.kind === 'valid') {
      present.push({
        predicateType: check.statement.predicateType,
        payload: Buffer.from(check.payload).toString('base64'),
      });
      mine[layer.descriptor.digest] = check.statement.predicateType;
    }
  }
  const added: NewLayer[] = [];
  const outcomes: SignOutcome['attestations'][number][] = [];
  for (const statement of statements) {
    const bytes = serializeStatement(statement);
    const b64 = Buffer.from(bytes).toString('base64');
    const there = present.some((p) =>
      match === 'exact' ? p.payload === b64 : p.predicateType === statement.predicateType,
    );
    outcomes.push({ predicateType: statement.predicateType, outcome: there ? 'present' : 'added' });
    if (there) continue;
    const envelope = serializeEnvelope({
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: bytes,
      signatures: [{ keyid: '', sig: signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, bytes)) }],
    });
    const layer = attestationLayer(envelope, statement.predicateType);
    added.push(layer);
    present.push({ predicateType: statement.predicateType, payload: b64 });
    mine[layer.descriptor.digest] = statement.predicateType;
  }
  if (added.length > 0) {
    const put = await appendLayers(registry, target, 'att', layers.value, added, signal);
    if (!put.ok) return put;
  }
  return ok({ outcomes, layers: mine });
}

/** Uploads the new layers' blobs and the config, then PUTs the manifest under the cosign tag. */
async function appendLayers(
  registry: Registry,
  target: SignTarget,
  suffix: AttachmentSuffix,
  existing: readonly CosignLayer[],
  added: readonly NewLayer[],
  signal: AbortSignal | undefined,
): Promise<Result<void, RegistryFailure>> {
  const image = cosignImage(
    existing,
    added.map((l) => l.descriptor),
  );
  const blobs = [
    ...added.map((l) => ({ digest: l.descriptor.digest, bytes: l.blob })),
    { digest: image.config.digest, bytes: image.config.blob },
  ];
  const uploads = await Promise.all(
    blobs.map((b) => ensureBlob(registry, target, b.digest, b.bytes, signal)),
  );
  const failed = uploads.find((u) => !u.ok);
  if (failed && !failed.ok) return failed;
  const put = await registry.putManifest(
    {
      registry: target.registry,
      repository: target.repository,
      reference: cosignTag(target.digest, suffix),
    },
    image.manifest,
    signal,
  );
  return put.ok ? ok(undefined) : put;
}
