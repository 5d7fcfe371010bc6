/**
 * `promote --require-signed`: which of the digests about to be promoted do not carry a valid
 * signature by the key (for a manifest list: the list's own signature, which is what
 * `cosign verify` checks for the list's digest). Read before anything is written, so a refusal
 * leaves the destination untouched.
 */
import type { Digest, ImageName } from '../../core/model.js';
import { mapLimited } from '../limited.js';
import type { Registry } from '../ports.js';
import { readSignature, type SignatureStatus } from './signed-state.js';

/** An image to be promoted, at the digest its source tag names. */
export interface SignedSource {
  readonly name: ImageName;
  /** The source reference, e.g. `127.0.0.1:5000/ns/base:nightly` (for messages). */
  readonly ref: string;
  readonly registry: string;
  readonly repository: string;
  readonly digest: Digest;
}

/** Why an image's digest does not pass `--require-signed`. */
export interface NotSignedImage {
  readonly name: ImageName;
  readonly ref: string;
  readonly digest: Digest;
  /**
   * `unsigned`: no signature at all; `other-key`: signatures, none by the key; `other-digest`: the
   * key signed another digest (a `.sig` copied over); `unreadable`: the signatures could not be read.
   */
  readonly why: Exclude<SignatureStatus, 'signed'> | 'unreadable';
  /** For `other-digest`: the digest the key's signature names. */
  readonly signedDigest?: Digest;
  /** For `other-key`: how many signatures (by other keys) there are. */
  readonly signatures?: number;
  /** For `unreadable`: the registry's answer. */
  readonly message?: string;
}

/** The sources whose digest the key (PEM SPKI, P-256) did not sign, in the order given. */
export async function notSignedBy(
  registry: Registry,
  sources: readonly SignedSource[],
  publicKeyPem: string,
  signal?: AbortSignal,
): Promise<NotSignedImage[]> {
  const found = await mapLimited(sources, 4, async (s): Promise<NotSignedImage | undefined> => {
    const base = { name: s.name, ref: s.ref, digest: s.digest };
    // The signature alone: the statements (an SBOM among them) are not what is required here.
    const state = await readSignature(
      registry,
      { registry: s.registry, repository: s.repository, digest: s.digest },
      publicKeyPem,
      signal,
    );
    if (!state.ok) return { ...base, why: 'unreadable', message: state.error.message };
    const st = state.value;
    switch (st.signature) {
      case 'signed':
        return undefined;
      case 'unsigned':
        return { ...base, why: 'unsigned' };
      case 'other-key':
        return { ...base, why: 'other-key', signatures: st.signatures };
      case 'other-digest':
        return {
          ...base,
          why: 'other-digest',
          ...(st.signedDigest ? { signedDigest: st.signedDigest } : {}),
        };
    }
  });
  return found.filter((f): f is NotSignedImage => f !== undefined);
}

/** One line for people: why `image` is refused. */
export function notSignedMessage(n: NotSignedImage): string {
  const at = `${n.ref} (${n.digest})`;
  switch (n.why) {
    case 'unsigned':
      return `${at} is not signed`;
    case 'other-key':
      return `${at} is signed, but not by the key (${n.signatures ?? 0} signature(s) by other keys)`;
    case 'other-digest':
      return `${at} carries the key's signature of another digest (${n.signedDigest ?? 'unknown'}): a signature copied over, not one of this image`;
    case 'unreadable':
      return `${at}: its signatures cannot be read: ${n.message ?? 'unknown error'}`;
  }
}
