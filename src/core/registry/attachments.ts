/**
 * Cosign's attachments: what signs or describes a manifest is stored in the same repository
 * under a tag made from the manifest's digest, `sha256-<hex>.sig` (signatures), `.att`
 * (attestations) and `.sbom`. They follow their subject: promoting an image takes them along,
 * pruning keeps them while the subject is kept and deletes them with it. Pure.
 */
import type { Digest } from '../model.js';

export const ATTACHMENT_KINDS = ['sig', 'att', 'sbom'] as const;
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number];

const ATTACHMENT_TAG = /^sha256-([0-9a-f]{64})\.(sig|att|sbom)$/;

/** The tag under which `digest`'s attachment of that kind is stored: `sha256-<hex>.sig`. */
export function attachmentTag(digest: string, kind: AttachmentKind): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new TypeError(`not a sha256 digest: ${digest}`);
  return `sha256-${m[1]}.${kind}`;
}

/** The manifest an attachment tag belongs to, and the kind; undefined for any other tag. */
export function attachmentSubject(
  tag: string,
): { readonly digest: Digest; readonly kind: AttachmentKind } | undefined {
  const m = ATTACHMENT_TAG.exec(tag);
  return m ? { digest: `sha256:${m[1]}` as Digest, kind: m[2] as AttachmentKind } : undefined;
}
