/**
 * A manifest list's attestations: cosign verifies an image reference by the digest it names, and
 * for a multi-platform tag that is the list's, never a platform's (`cosign verify-attestation
 * IMAGE:TAG` finds nothing on a list with only its platforms attested: checked with cosign 2.5).
 * So each platform's statements are attested about the list too: the same predicate, the list
 * first among the subjects (cosign requires its digest there), the platform's manifest kept
 * beside it so the statement still says which platform it describes. Pure.
 */
import type { Digest } from '../model.js';
import type { InTotoStatement } from './in-toto.js';
import { PREDICATE_SLSA_PROVENANCE_V1 } from './statements.js';

/** `statement` (a platform's) made about the list `list` as well. */
export function aboutList(
  statement: InTotoStatement,
  list: { readonly name: string; readonly digest: Digest },
): InTotoStatement {
  const hex = list.digest.replace(/^sha256:/, '');
  return {
    _type: statement._type,
    subject: [
      { name: list.name, digest: { sha256: hex } },
      ...statement.subject.filter((s) => s.digest.sha256 !== hex),
    ],
    predicateType: statement.predicateType,
    predicate: statement.predicate,
  };
}

/** The platform a kbuild provenance statement names (its external parameters), if any. */
export function provenancePlatform(statement: unknown): string | undefined {
  const s = statement as {
    predicateType?: unknown;
    predicate?: { buildDefinition?: { externalParameters?: { platform?: unknown } } };
  } | null;
  if (s?.predicateType !== PREDICATE_SLSA_PROVENANCE_V1) return undefined;
  const p = s.predicate?.buildDefinition?.externalParameters?.platform;
  return typeof p === 'string' ? p : undefined;
}
