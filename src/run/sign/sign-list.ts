/**
 * Signs a manifest list (several platforms under one tag) and attests about it every statement
 * the key attested about its platforms' manifests (core/signing/list-statements.ts), so that
 * `cosign verify` and `cosign verify-attestation` succeed on the tag as users type it. The
 * platforms' statements are read back from the registry (verified with the signer's own key):
 * a platform found fresh and signed in an earlier run has them there too. Re-run on the same list,
 * the same statements are found and nothing is written.
 */
import type { Digest, Result } from '../../core/model.js';
import type { InTotoStatement } from '../../core/signing/in-toto.js';
import { aboutList } from '../../core/signing/list-statements.js';
import type { Registry, RegistryFailure } from '../ports.js';
import type { Signer } from '../signing-ports.js';
import type { SignTarget } from './attached.js';
import { signImage, type SignOutcome } from './sign-image.js';
import { readAttestations } from './signed-state.js';

export async function signList(
  registry: Registry,
  list: SignTarget,
  platforms: readonly { readonly platform: string; readonly digest: Digest }[],
  signer: Signer,
  signal?: AbortSignal,
): Promise<Result<SignOutcome, RegistryFailure>> {
  const statements: InTotoStatement[] = [];
  const name = `${list.registry}/${list.repository}`;
  // The platforms are read side by side (each is several registry round trips), kept in order.
  const states = await Promise.all(
    platforms.map((p) =>
      readAttestations(registry, { ...list, digest: p.digest }, signer.publicKeyPem, signal),
    ),
  );
  for (const state of states) {
    if (!state.ok) return state;
    for (const a of state.value.attestations)
      statements.push(aboutList(a.statement, { name, digest: list.digest }));
  }
  // Several platforms' provenances share a predicate type: one is told from another by its bytes.
  return signImage(registry, list, signer, statements, signal, { attestationMatch: 'exact' });
}
