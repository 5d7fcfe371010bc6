/**
 * `kbuild verify`: for each image, what its shared tag names in the registry now, whether that
 * digest is signed with the key, and which provenance and SBOM the key attested about it; judged
 * by core/signing/verdict.ts against the fingerprint the checkout gives.
 *
 * Several platforms: the tag names a manifest list. The list must be signed and carry every
 * platform's provenance (what `cosign verify-attestation IMAGE:TAG` checks), and each platform's
 * manifest it names must be signed, with a provenance naming the fingerprint the checkout gives
 * for that platform, and an SBOM. With `archTags`, each `<tag>-<arch>` tag is checked instead.
 */
import type { Digest, ImageName } from '../core/model.js';
import {
  isListMediaType,
  listedManifests,
  platformMatches,
} from '../core/registry/manifest-list.js';
import {
  PREDICATE_CYCLONEDX,
  PREDICATE_SLSA_PROVENANCE_V1,
  provenanceFingerprint,
} from '../core/signing/statements.js';
import {
  archTagsRow,
  verdict,
  withPlatforms,
  type SignatureCheck,
  type VerifyObservation,
  type VerifyProblem,
  type VerifyRow,
} from '../core/signing/verdict.js';
import { mapLimited } from './limited.js';
import type { Registry } from './ports.js';
import { archOf } from './publish-platforms.js';
import { readSignedState, type SignedState } from './sign/signed-state.js';

/** What one platform's manifest of an image should be. */
export interface VerifyPlatform {
  readonly platform: string;
  /** The fingerprint the checkout gives for this platform; undefined: not checked. */
  readonly fingerprint?: string;
  /** The digest kbuild last pushed for it on this platform (its state). */
  readonly lastPushed?: string;
}

export interface VerifyImage {
  readonly name: ImageName;
  readonly repository: string;
  /** The fingerprint the checkout gives now; undefined: not checked. */
  readonly fingerprint?: string;
  /** The digest kbuild last pushed for it (its state), to say when the tag moved. */
  readonly lastPushed?: string;
  /**
   * Several platforms: the tag must name a list of these (or, with `archTags`, each its own
   * `<tag>-<arch>` tag). One platform: used when the tag names a list anyway.
   */
  readonly platforms?: readonly VerifyPlatform[];
}

export interface VerifyRequest {
  readonly registry: string;
  readonly tag: string;
  readonly images: readonly VerifyImage[];
  /** PEM SPKI, ECDSA P-256. */
  readonly publicKeyPem: string;
  /** The images were published as `<tag>-<arch>` tags, one per platform (build --arch-tags). */
  readonly archTags?: boolean;
}

/** One row per image, in the order given; registry failures stay with their image. */
export async function verifyImages(
  registry: Registry,
  req: VerifyRequest,
  signal?: AbortSignal,
): Promise<VerifyRow[]> {
  return mapLimited(req.images, 4, (img) => verifyImage(registry, req, img, signal));
}

async function verifyImage(
  registry: Registry,
  req: VerifyRequest,
  img: VerifyImage,
  signal?: AbortSignal,
): Promise<VerifyRow> {
  const ref = `${req.registry}/${img.repository}:${req.tag}`;
  const platforms = img.platforms ?? [];
  const several = platforms.length > 1;
  if (req.archTags && several) {
    const rows = await mapLimited(platforms, 2, (p) =>
      verifyTag(registry, req, img, `${req.tag}-${archOf(p.platform)}`, p, signal),
    );
    return archTagsRow(img.name, ref, rows);
  }
  const base = baseOf(img, ref, { fingerprint: img.fingerprint, lastPushed: img.lastPushed });
  const head = await registry.headManifest(
    { registry: req.registry, repository: img.repository, reference: req.tag },
    signal,
  );
  if (!head.ok) {
    if (head.error.reason !== 'not-found')
      return verdict({ ...base, lookupError: head.error.message });
    const arch = several ? `${req.tag}-${archOf(platforms[0]!.platform)}` : undefined;
    const archTagged =
      arch !== undefined &&
      (
        await registry.headManifest(
          { registry: req.registry, repository: img.repository, reference: arch },
          signal,
        )
      ).ok;
    return verdict({
      ...base,
      ...(archTagged
        ? { hint: `${arch} is there: published with --arch-tags? verify with --arch-tags` }
        : {}),
    });
  }
  const digest: Digest = head.value.digest;
  if (!isListMediaType(head.value.mediaType)) {
    const row = await judgeDigest(registry, req, img.repository, base, digest, signal);
    if (!several) return row;
    const problem: VerifyProblem = {
      reason: 'not-a-list',
      message: `${ref} names one manifest, not a list of ${platforms.map((p) => p.platform).join(', ')} (rebuild with --push; published with --arch-tags? verify with --arch-tags)`,
    };
    return { ...row, ok: false, problems: [problem, ...row.problems] };
  }
  return verifyList(registry, req, img, ref, digest, signal);
}

/** A manifest list: its own signature and statements, then each platform's manifest. */
async function verifyList(
  registry: Registry,
  req: VerifyRequest,
  img: VerifyImage,
  ref: string,
  digest: Digest,
  signal?: AbortSignal,
): Promise<VerifyRow> {
  const base = baseOf(img, ref, {});
  const list = await registry.getManifest(
    { registry: req.registry, repository: img.repository, reference: digest },
    signal,
  );
  if (!list.ok) return verdict({ ...base, digest, lookupError: list.error.message });
  const entries = listEntries(new TextDecoder().decode(list.value.body));
  const expected = img.platforms ?? [];
  const problems: VerifyProblem[] = [];
  const rows: Promise<VerifyRow>[] = [];
  for (const p of expected) {
    const entry = entries.find((e) => platformMatches(p.platform, e.platform));
    if (!entry) {
      problems.push({
        reason: 'platform-missing',
        message: `${ref}@${digest.replace(/^sha256:/, '').slice(0, 12)} lists ${entries.map((e) => e.platform).join(', ') || 'no platform'}, not ${p.platform}`,
      });
      continue;
    }
    rows.push(
      judgeDigest(registry, req, img.repository, baseOf(img, ref, p), entry.digest, signal),
    );
  }
  // Whatever else the list names is served under the tag too: it must be signed as well.
  for (const e of entries)
    if (!expected.some((p) => platformMatches(p.platform, e.platform)))
      rows.push(
        judgeDigest(
          registry,
          req,
          img.repository,
          baseOf(img, ref, { platform: e.platform }),
          e.digest,
          signal,
        ),
      );
  // The list's provenance is held to the platforms it names (a missing one is said above).
  const fingerprints = expected.flatMap((p) =>
    p.fingerprint !== undefined && entries.some((e) => platformMatches(p.platform, e.platform))
      ? [{ platform: p.platform, fingerprint: p.fingerprint }]
      : [],
  );
  const own = await judgeDigest(
    registry,
    req,
    img.repository,
    { ...base, problems, ...(fingerprints.length ? { expectedFingerprints: fingerprints } : {}) },
    digest,
    signal,
  );
  return withPlatforms(own, await Promise.all(rows));
}

/** One platform's `<tag>-<arch>` tag (--arch-tags). */
async function verifyTag(
  registry: Registry,
  req: VerifyRequest,
  img: VerifyImage,
  tag: string,
  p: VerifyPlatform,
  signal?: AbortSignal,
): Promise<VerifyRow> {
  const base = baseOf(img, `${req.registry}/${img.repository}:${tag}`, p);
  const head = await registry.headManifest(
    { registry: req.registry, repository: img.repository, reference: tag },
    signal,
  );
  if (!head.ok)
    return verdict(
      head.error.reason === 'not-found' ? base : { ...base, lookupError: head.error.message },
    );
  return judgeDigest(registry, req, img.repository, base, head.value.digest, signal);
}

function baseOf(
  img: VerifyImage,
  ref: string,
  p: { platform?: string; fingerprint?: string | undefined; lastPushed?: string | undefined },
): VerifyObservation {
  return {
    name: img.name,
    ref,
    provenance: [],
    sbom: false,
    ...(p.platform !== undefined ? { platform: p.platform } : {}),
    ...(p.fingerprint !== undefined ? { expectedFingerprint: p.fingerprint } : {}),
    ...(p.lastPushed !== undefined ? { lastPushed: p.lastPushed } : {}),
  };
}

/** What the key signed and attested about `digest`, judged. */
async function judgeDigest(
  registry: Registry,
  req: VerifyRequest,
  repository: string,
  base: VerifyObservation,
  digest: Digest,
  signal?: AbortSignal,
): Promise<VerifyRow> {
  const state = await readSignedState(
    registry,
    { registry: req.registry, repository, digest },
    req.publicKeyPem,
    signal,
  );
  if (!state.ok) return verdict({ ...base, digest, lookupError: state.error.message });
  return verdict({ ...base, digest, ...observed(state.value) });
}

function observed(s: SignedState): Pick<VerifyObservation, 'signature' | 'provenance' | 'sbom'> {
  const signature: SignatureCheck =
    s.signature === 'signed'
      ? { kind: 'valid' }
      : s.signature === 'unsigned'
        ? { kind: 'unsigned' }
        : s.signature === 'other-digest'
          ? { kind: 'other-digest', digest: s.signedDigest ?? '' }
          : { kind: 'other-key', count: s.signatures };
  const of = (type: string) => s.attestations.filter((a) => a.predicateType === type);
  return {
    signature,
    provenance: of(PREDICATE_SLSA_PROVENANCE_V1).flatMap((a) => {
      const fp = provenanceFingerprint(a.statement);
      return fp === undefined ? [] : [fp];
    }),
    sbom: of(PREDICATE_CYCLONEDX).length > 0,
  };
}

/** The platform manifests a list names (attestation entries, `unknown/unknown`, left out). */
const listEntries = (body: string): { platform: string; digest: Digest }[] =>
  listedManifests(body).flatMap(({ platform, digest }) =>
    digest !== undefined && !platform.startsWith('unknown/')
      ? [{ platform, digest: digest as Digest }]
      : [],
  );
