/**
 * What the registry operations (manifests.ts, blobs.ts) share: the authenticated sender, the
 * API's URLs, redaction and limits, and the checks of the names they are handed. Invalid
 * repository names, tags or digests are bugs of the caller (references are validated with the
 * same rules in src/core/dockerfile/reference.ts): they throw a TypeError, never reach the network.
 */
import { digestProblem, repositoryProblem, tagProblem } from '../../core/dockerfile/reference.js';
import type { Send } from './auth.js';
import { apiHost } from './transport.js';

export interface RegistryContext {
  /** A request with retries and authentication; any HTTP answer comes back as is. */
  readonly send: Send;
  /** Scrubs every credential and token seen so far from a message. */
  readonly redact: (text: string) => string;
  readonly scheme: (registry: string) => 'http' | 'https';
  /** `n` asked for on each page of a tag list; undefined: let the registry choose. */
  readonly tagPageSize: number | undefined;
  /** Blob uploads send at most this many bytes per request. */
  readonly chunkBytes: number;
  /** Retries after a transient failure (the client's): also how often an upload starts again. */
  readonly retries: number;
  /** Waits between retries; resolves early when the signal aborts. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** `<scheme>://<api host>/v2/<repository>`, the repository checked. */
export function repositoryUrl(ctx: RegistryContext, registry: string, repository: string): string {
  return `${ctx.scheme(registry)}://${apiHost(registry)}/v2/${checkRepository(repository)}`;
}

export function checkRepository(repository: string): string {
  const problem = repositoryProblem(repository);
  if (problem !== undefined) {
    throw new TypeError(`invalid repository name ${JSON.stringify(repository)}: ${problem}`);
  }
  return repository;
}

/** A tag or a digest. */
export function checkReference(reference: string): string {
  if (tagProblem(reference) !== undefined && digestProblem(reference) !== undefined) {
    throw new TypeError(`invalid tag or digest ${JSON.stringify(reference)}`);
  }
  return reference;
}

export function checkTag(tag: string): string {
  const problem = tagProblem(tag);
  if (problem !== undefined) throw new TypeError(`invalid tag ${JSON.stringify(tag)}: ${problem}`);
  return tag;
}

export function checkDigest(digest: string): string {
  const problem = digestProblem(digest);
  if (problem !== undefined) {
    throw new TypeError(`invalid digest ${JSON.stringify(digest)}: ${problem}`);
  }
  return digest;
}
