/**
 * The family's registry as a run uses it: one host, manifests by repository and tag. A thin face
 * over the Registry port that keeps its failure values: "not there" is an answer
 * (`ok(undefined)`), unreachable or unauthorized are failures, never mistaken for "not there".
 */
import type { Digest, Result } from '../../core/model.js';
import type { Manifest, Registry, RegistryFailure } from '../ports.js';

export interface RegistryView {
  /** host[:port] of the family's registry. */
  readonly host: string;
  /** The port it is a face of, for what needs the whole API (signing). */
  readonly client: Registry;
  /** The digest under repository:reference; undefined when the registry has none. */
  digest(
    repository: string,
    reference: string,
    signal: AbortSignal,
  ): Promise<Result<Digest | undefined, RegistryFailure>>;
  /** Tags the manifest under `fromTag` as `toTag` too: a copy inside the registry, no layer moves. */
  alias(
    repository: string,
    fromTag: string,
    toTag: string,
    signal: AbortSignal,
  ): Promise<Result<{ digest: Digest }, RegistryFailure>>;
  /** A manifest (or list) with its bytes. */
  manifest(
    repository: string,
    reference: string,
    signal: AbortSignal,
  ): Promise<Result<Manifest, RegistryFailure>>;
  /** Stores a manifest (or list) under a tag; the digest the registry computed. */
  put(
    repository: string,
    tag: string,
    manifest: { readonly mediaType: string; readonly body: Uint8Array },
    signal: AbortSignal,
  ): Promise<Result<{ digest: Digest }, RegistryFailure>>;
}

export function registryView(registry: Registry, host: string): RegistryView {
  const at = (repository: string, reference: string) => ({ registry: host, repository, reference });
  return {
    host,
    client: registry,
    digest: async (repository, reference, signal) => {
      const r = await registry.headManifest(at(repository, reference), signal);
      if (r.ok) return { ok: true, value: r.value.digest };
      return r.error.reason === 'not-found' ? { ok: true, value: undefined } : r;
    },
    alias: (repository, fromTag, toTag, signal) =>
      registry.copyTag(at(repository, fromTag), toTag, signal),
    manifest: (repository, reference, signal) =>
      registry.getManifest(at(repository, reference), signal),
    put: (repository, tag, manifest, signal) =>
      registry.putManifest(at(repository, tag), manifest, signal),
  };
}
