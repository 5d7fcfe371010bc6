/**
 * A registry client over the OCI distribution API v2 (Docker Distribution, Harbor, GHCR, ...):
 * the `Registry` port of src/run/ports.ts. Manifests, blob existence and cross-repository
 * mounts, tags, and blobs streamed from one registry to another (promotion): only what kbuild
 * needs to check freshness, retag, publish manifest lists and promote; the layers of a build
 * are pushed by the engine.
 *
 * Layers, each in its own file: transport.ts (HTTP, retries, time limits, error bodies) under
 * auth.ts (challenges, Basic, Bearer tokens) with credentials.ts (docker's and podman's files),
 * and the operations over them in manifests.ts and blobs.ts, sharing context.ts.
 *
 * Failures are values (`RegistryFailure`). Transient ones (5xx, 429, connection resets,
 * timeouts) are retried before they are reported. Credentials and tokens never appear in a
 * failure message: every message is redacted.
 */
import { isLoopbackHost } from '../../core/dockerfile/reference.js';
import type { Registry } from '../../run/ports.js';
import { createAuthenticatedSend } from './auth.js';
import * as blobs from './blobs.js';
import type { RegistryContext } from './context.js';
import { credentialsFromConfigFiles, type CredentialLookup } from './credentials.js';
import * as manifests from './manifests.js';
import { createRedactor, createTransport, defaultSleep } from './transport.js';

export { parseChallenges } from './auth.js';
export { inChunks } from './blobs.js';
export {
  credentialsFromConfigFiles,
  type ConfigFileCredentialOptions,
  type CredentialLookup,
  type RegistryCredentials,
} from './credentials.js';
export { MEDIA_TYPES, nextLink, sha256Digest } from './manifests.js';
export { retryAfterMs } from './transport.js';

export interface RegistryClientOptions {
  /**
   * Reads credentials for a registry host (as given to the client, e.g. `127.0.0.1:5000`).
   * Default: `credentialsFromConfigFiles()` (docker config.json with credential helpers, then
   * podman's auth.json). Asked only when a registry answers 401, once per registry.
   */
  readonly credentials?: (registry: string) => Promise<CredentialLookup>;
  /** Retries after a transient failure (5xx, 429, connection reset, timeout). Default 3. */
  readonly retries?: number;
  /** Waits between retries; resolves early when the signal aborts. Injectable for tests. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly fetch?: typeof fetch;
  /** Default: `http` for loopback hosts (127.0.0.0/8, localhost, [::1]), `https` otherwise. */
  readonly scheme?: (registry: string) => 'http' | 'https';
  /** Time limit of one HTTP attempt, body included. Default 30 000 ms. */
  readonly timeoutMs?: number;
  /** `n` asked for on each page of a tag list; default: let the registry choose. */
  readonly tagPageSize?: number;
  /**
   * Blob uploads send at most this many bytes per request (and hold at most twice this in
   * memory): a blob no larger goes in one PUT, a larger one in PATCHes. Default 16 MiB.
   */
  readonly blobChunkBytes?: number;
}

const defaultScheme = (registry: string): 'http' | 'https' =>
  isLoopbackHost(registry) ? 'http' : 'https';

/** Creates a registry client. It keeps credentials and tokens in memory, per registry. */
export function createRegistryClient(opts: RegistryClientOptions = {}): Registry {
  const scheme = opts.scheme ?? defaultScheme;
  const secrets = createRedactor();
  const retries = Math.max(0, opts.retries ?? 3);
  const sleep = opts.sleep ?? defaultSleep;
  const transport = createTransport({
    fetch: opts.fetch ?? fetch,
    retries,
    sleep,
    timeoutMs: opts.timeoutMs ?? 30_000,
    redact: secrets.redact,
  });
  const send = createAuthenticatedSend({
    transport,
    credentials: opts.credentials ?? credentialsFromConfigFiles(),
    scheme,
    secrets,
  });
  const ctx: RegistryContext = {
    send,
    redact: secrets.redact,
    scheme,
    tagPageSize: opts.tagPageSize,
    chunkBytes: Math.max(1, opts.blobChunkBytes ?? 16 * 1024 * 1024),
    retries,
    sleep,
  };
  return {
    headManifest: (ref, signal) => manifests.headManifest(ctx, ref, signal),
    getManifest: (ref, signal) => manifests.getManifest(ctx, ref, signal),
    putManifest: (ref, manifest, signal) => manifests.putManifest(ctx, ref, manifest, signal),
    copyTag: (from, toTag, signal) => manifests.copyTag(ctx, from, toTag, signal),
    deleteManifest: (ref, signal) => manifests.deleteManifest(ctx, ref, signal),
    listTags: (registry, repository, signal) =>
      manifests.listTags(ctx, registry, repository, signal),
    blobExists: (registry, repository, digest, signal) =>
      blobs.blobExists(ctx, registry, repository, digest, signal),
    mountBlob: (registry, repository, digest, from, signal) =>
      blobs.mountBlob(ctx, registry, repository, digest, from, signal),
    getBlob: (registry, repository, digest, signal) =>
      blobs.getBlob(ctx, registry, repository, digest, signal),
    uploadBlob: (registry, repository, digest, content, signal) =>
      blobs.uploadBlob(ctx, registry, repository, digest, content, signal),
  };
}
