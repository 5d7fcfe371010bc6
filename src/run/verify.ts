/**
 * `kbuild verify`: for each image, what its shared tag names in the registry now, whether that
 * digest is signed with the key, and which provenance and SBOM the key attested about it; judged
 * by core/signing/verdict.ts against the fingerprint the checkout gives.
 */
import type { Digest, ImageName } from '../core/model.js';
import {
  PREDICATE_CYCLONEDX,
  PREDICATE_SLSA_PROVENANCE_V1,
  provenanceFingerprint,
} from '../core/signing/statements.js';
import { verdict, type SignatureCheck, type VerifyRow } from '../core/signing/verdict.js';
import { mapLimited } from './limited.js';
import type { Registry } from './ports.js';
import { readSignedState } from './sign/signed-state.js';

export interface VerifyImage {
  readonly name: ImageName;
  readonly repository: string;
  /** The fingerprint the checkout gives now; undefined: not checked. */
  readonly fingerprint?: string;
  /** The digest kbuild last pushed for it (its state), to say when the tag moved. */
  readonly lastPushed?: string;
}

export interface VerifyRequest {
  readonly registry: string;
  readonly tag: string;
  readonly images: readonly VerifyImage[];
  /** PEM SPKI, ECDSA P-256. */
  readonly publicKeyPem: string;
}

/** One row per image, in the order given; registry failures stay with their image. */
export async function verifyImages(
  registry: Registry,
  req: VerifyRequest,
  signal?: AbortSignal,
): Promise<VerifyRow[]> {
  return mapLimited(req.images, 4, async (img): Promise<VerifyRow> => {
    const ref = `${req.registry}/${img.repository}:${req.tag}`;
    const base = {
      name: img.name,
      ref,
      provenance: [],
      sbom: false,
      ...(img.fingerprint !== undefined ? { expectedFingerprint: img.fingerprint } : {}),
      ...(img.lastPushed !== undefined ? { lastPushed: img.lastPushed } : {}),
    };
    const head = await registry.headManifest(
      { registry: req.registry, repository: img.repository, reference: req.tag },
      signal,
    );
    if (!head.ok)
      return verdict(
        head.error.reason === 'not-found' ? base : { ...base, lookupError: head.error.message },
      );
    const digest: Digest = head.value.digest;
    const state = await readSignedState(
      registry,
      { registry: req.registry, repository: img.repository, digest },
      req.publicKeyPem,
      signal,
    );
    if (!state.ok) return verdict({ ...base, digest, lookupError: state.error.message });
    const s = state.value;
    const signature: SignatureCheck =
      s.signature === 'signed'
        ? { kind: 'valid' }
        : s.signature === 'unsigned'
          ? { kind: 'unsigned' }
          : s.signature === 'other-digest'
            ? { kind: 'other-digest', digest: s.signedDigest ?? '' }
            : { kind: 'other-key', count: s.signatures };
    const of = (type: string) => s.attestations.filter((a) => a.predicateType === type);
    return verdict({
      ...base,
      digest,
      signature,
      provenance: of(PREDICATE_SLSA_PROVENANCE_V1).flatMap((a) => {
        const fp = provenanceFingerprint(a.statement);
        return fp === undefined ? [] : [fp];
      }),
      sbom: of(PREDICATE_CYCLONEDX).length > 0,
    });
  });
}
