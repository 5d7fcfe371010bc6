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
  | 'no-sbom';

export interface VerifyProblem {
  readonly reason: VerifyProblemReason;
  readonly message: string;
}

export interface VerifyRow {
  readonly name: ImageName;
  readonly ref: string;
  readonly digest: string | null;
  readonly signed: 'yes' | 'no' | 'other key' | 'other image' | '?';
  readonly provenance: 'matches' | 'other fingerprint' | 'missing' | 'present' | '?';
  readonly sbom: 'yes' | 'no' | '?';
  readonly ok: boolean;
  readonly problems: readonly VerifyProblem[];
}

const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

/** Judges one image; every reason it fails, each said in words. */
export function verdict(o: VerifyObservation): VerifyRow {
  const row = { name: o.name, ref: o.ref, digest: o.digest ?? null };
  if (o.lookupError !== undefined || o.digest === undefined) {
    const problem: VerifyProblem =
      o.lookupError !== undefined
        ? { reason: 'unreachable', message: `${o.ref} could not be read: ${o.lookupError}` }
        : { reason: 'missing', message: `${o.ref} does not exist in the registry` };
    return { ...row, signed: '?', provenance: '?', sbom: '?', ok: false, problems: [problem] };
  }
  const problems: VerifyProblem[] = [];
  // A tag that names other content than kbuild pushed: said once, with the first problem.
  const moved =
    o.lastPushed !== undefined && o.lastPushed !== o.digest
      ? ` (the tag was moved: kbuild last pushed ${short(o.lastPushed)} here, it now names ${short(o.digest)})`
      : '';
  const sig = o.signature ?? { kind: 'unsigned' };
  if (sig.kind === 'unsigned')
    problems.push({
      reason: 'unsigned',
      message: `${o.ref}@${short(o.digest)} has no signature${moved}`,
    });
  else if (sig.kind === 'other-key')
    problems.push({
      reason: 'other-key',
      message: `${o.ref}@${short(o.digest)} is signed ${sig.count} time(s), never with this key${moved}`,
    });
  else if (sig.kind === 'other-digest')
    problems.push({
      reason: 'other-digest',
      message: `${o.ref}@${short(o.digest)} carries this key's signature of another image, ${short(sig.digest)}${moved}`,
    });
  let provenance: VerifyRow['provenance'];
  if (o.provenance.length === 0) {
    provenance = 'missing';
    problems.push({
      reason: 'no-provenance',
      message: `${o.ref}@${short(o.digest)} has no provenance verified by this key`,
    });
  } else if (o.expectedFingerprint === undefined) provenance = 'present';
  else if (o.provenance.includes(o.expectedFingerprint)) provenance = 'matches';
  else {
    provenance = 'other fingerprint';
    problems.push({
      reason: 'provenance-mismatch',
      message: `${o.ref}@${short(o.digest)} was built from other inputs: its provenance names fingerprint ${o.provenance.join(', ')}, the checkout gives ${o.expectedFingerprint} ('kbuild explain ${o.name}' shows the inputs)`,
    });
  }
  if (!o.sbom)
    problems.push({
      reason: 'no-sbom',
      message: `${o.ref}@${short(o.digest)} has no SBOM verified by this key`,
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
