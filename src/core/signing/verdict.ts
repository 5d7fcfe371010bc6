/**
 * `kbuild verify`: what was found in the registry for one image, judged. Pure: the observation
 * (what the shared tag names now, the signatures and statements verified for that digest, the
 * fingerprint kbuild computes from the checkout) in; one row with its problems out.
 */
import type { ImageName } from '../model.js';

/** The signatures of a digest, checked with the key given. */
export type SignatureCheck =
  | { readonly kind: 'valid' }
  /** No signature at all for this digest. */
  | { readonly kind: 'unsigned' }
  /** Signatures, none of them by this key. */
  | { readonly kind: 'other-key'; readonly count: number }
  /** The key signed another digest: a signature copied beside other content. */
  | { readonly kind: 'other-digest'; readonly digest: string };

export interface VerifyObservation {
  readonly name: ImageName;
  /** registry/repository:tag asked. */
  readonly ref: string;
  /** One platform's manifest of a list (or its `<tag>-<arch>` tag): named in every message. */
  readonly platform?: string;
  /** Said after a `missing` tag's message (e.g. the tags were published with --arch-tags). */
  readonly hint?: string;
  /**
   * A manifest list: the fingerprint each platform's checkout gives; the list's provenance
   * statements must name every one (`expectedFingerprint` is then unused).
   */
  readonly expectedFingerprints?: readonly {
    readonly platform: string;
    readonly fingerprint: string;
  }[];
  /** Problems found before judging (a list naming no manifest of a platform, ...). */
  readonly problems?: readonly VerifyProblem[];
  /** What the tag names now; undefined when it names nothing. */
  readonly digest?: string;
  /** Why the registry could not be asked (then nothing else is known). */
  readonly lookupError?: string;
  readonly signature?: SignatureCheck;
  /** The fingerprints the verified provenance statements for this digest name. */
  readonly provenance: readonly string[];
  /** A verified CycloneDX statement for this digest is there. */
  readonly sbom: boolean;
  /** The fingerprint of the checkout now; undefined: not checked (--no-source-check). */
  readonly expectedFingerprint?: string;
  /** The digest kbuild last pushed for the image here (its state), to say the tag moved. */
  readonly lastPushed?: string;
}

export type VerifyProblemReason =
  | 'unreachable'
  | 'missing'
  | 'unsigned'
  | 'other-key'
  | 'other-digest'
  | 'no-provenance'
  | 'provenance-mismatch'
  | 'no-sbom'
  /** Several platforms: the tag names one manifest, not a list. */
  | 'not-a-list'
  /** Several platforms: the list names no manifest of one of them. */
  | 'platform-missing';

export interface VerifyProblem {
  readonly reason: VerifyProblemReason;
  readonly message: string;
}

export interface VerifyRow {
  readonly name: ImageName;
  readonly ref: string;
  /** One platform's manifest (a row of `platforms`). */
  readonly platform?: string;
  readonly digest: string | null;
  /** `-`: nothing of the kind to check (arch tags: no list). */
  readonly signed: 'yes' | 'no' | 'other key' | 'other image' | '?' | '-';
  readonly provenance: 'matches' | 'other fingerprint' | 'missing' | 'present' | '?' | '-';
  readonly sbom: 'yes' | 'no' | '?' | '-';
  /** This row's own checks and every platform's. */
  readonly ok: boolean;
  /** This row's own problems (each platform's are in its row). */
  readonly problems: readonly VerifyProblem[];
  /** Several platforms: one row per platform's manifest. */
  readonly platforms?: readonly VerifyRow[];
}

const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

/** Judges one image; every reason it fails, each said in words. */
export function verdict(o: VerifyObservation): VerifyRow {
  const row = {
    name: o.name,
    ref: o.ref,
    ...(o.platform !== undefined ? { platform: o.platform } : {}),
    digest: o.digest ?? null,
  };
  const on = o.platform !== undefined ? ` (${o.platform})` : '';
  if (o.lookupError !== undefined || o.digest === undefined) {
    const problem: VerifyProblem =
      o.lookupError !== undefined
        ? { reason: 'unreachable', message: `${o.ref}${on} could not be read: ${o.lookupError}` }
        : {
            reason: 'missing',
            message: `${o.ref}${on} does not exist in the registry${o.hint ? ` (${o.hint})` : ''}`,
          };
    const problems = [...(o.problems ?? []), problem];
    return { ...row, signed: '?', provenance: '?', sbom: '?', ok: false, problems };
  }
  const problems: VerifyProblem[] = [...(o.problems ?? [])];
  const at = `${o.ref}${on}@${short(o.digest)}`;
  // A tag that names other content than kbuild pushed: said once, with the first problem.
  const moved =
    o.lastPushed !== undefined && o.lastPushed !== o.digest
      ? ` (the tag was moved: kbuild last pushed ${short(o.lastPushed)} here, it now names ${short(o.digest)})`
      : '';
  const sig = o.signature ?? { kind: 'unsigned' };
  if (sig.kind === 'unsigned')
    problems.push({
      reason: 'unsigned',
      message: `${at} has no signature${moved}`,
    });
  else if (sig.kind === 'other-key')
    problems.push({
      reason: 'other-key',
      message: `${at} is signed ${sig.count} time(s), never with this key${moved}`,
    });
  else if (sig.kind === 'other-digest')
    problems.push({
      reason: 'other-digest',
      message: `${at} carries this key's signature of another image, ${short(sig.digest)}${moved}`,
    });
  let provenance: VerifyRow['provenance'];
  if (o.provenance.length === 0) {
    provenance = 'missing';
    problems.push({
      reason: 'no-provenance',
      message: `${at} has no provenance verified by this key`,
    });
  } else if (o.expectedFingerprints !== undefined) {
    const absent = o.expectedFingerprints.filter((e) => !o.provenance.includes(e.fingerprint));
    if (absent.length === 0) provenance = 'matches';
    else {
      provenance = 'other fingerprint';
      problems.push({
        reason: 'provenance-mismatch',
        message: `${at}: its provenance names fingerprint(s) ${o.provenance.join(', ')}, not ${absent.map((e) => `${e.fingerprint} (${e.platform})`).join(', ')} that the checkout gives ('kbuild explain ${o.name}' shows the inputs)`,
      });
    }
  } else if (o.expectedFingerprint === undefined) provenance = 'present';
  else if (o.provenance.includes(o.expectedFingerprint)) provenance = 'matches';
  else {
    provenance = 'other fingerprint';
    problems.push({
      reason: 'provenance-mismatch',
      message: `${at} was built from other inputs: its provenance names fingerprint ${o.provenance.join(', ')}, the checkout gives ${o.expectedFingerprint} ('kbuild explain ${o.name}' shows the inputs)`,
    });
  }
  if (!o.sbom)
    problems.push({
      reason: 'no-sbom',
      message: `${at} has no SBOM verified by this key`,
    });
  return {
    ...row,
    signed:
      sig.kind === 'valid'
        ? 'yes'
        : sig.kind === 'other-key'
          ? 'other key'
          : sig.kind === 'other-digest'
            ? 'other image'
            : 'no',
    provenance,
    sbom: o.sbom ? 'yes' : 'no',
    ok: problems.length === 0,
    problems,
  };
}

/** An image of several platforms: its own row (the list's, or none with arch tags) and its platforms'. */
export function withPlatforms(own: VerifyRow, platforms: readonly VerifyRow[]): VerifyRow {
  return { ...own, platforms, ok: own.ok && platforms.every((p) => p.ok) };
}

/** The row of an image published as `<tag>-<arch>` tags: no list of its own to check. */
export function archTagsRow(
  name: ImageName,
  ref: string,
  platforms: readonly VerifyRow[],
): VerifyRow {
  return withPlatforms(
    { name, ref, digest: null, signed: '-', provenance: '-', sbom: '-', ok: true, problems: [] },
    platforms,
  );
}
