/**
 * The manifest and tag operations of the registry API: HEAD, GET, PUT and DELETE of manifests
 * (any of the four media types, byte for byte), a tag copied inside a repository, and tag lists
 * with their pagination. Each is a function over the shared context (context.ts).
 */
import { createHash } from 'node:crypto';
import { digestProblem } from '../../core/dockerfile/reference.js';
import { err, ok, type Digest, type Result } from '../../core/model.js';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
} from '../../core/registry/manifest-list.js';
import type { DigestRef, Manifest, ManifestRef, RegistryFailure } from '../../run/ports.js';
import {
  checkDigest,
  checkReference,
  checkTag,
  repositoryUrl,
  type RegistryContext,
} from './context.js';
import {
  describe,
  httpFailure,
  parseJson,
  registryErrorCodes,
  type Call,
  type Method,
} from './transport.js';

/** The manifest media types kbuild reads and writes (spelt once, in core/manifest-list). */
export const MEDIA_TYPES = {
  dockerManifest: DOCKER_MANIFEST,
  dockerManifestList: DOCKER_MANIFEST_LIST,
  ociManifest: OCI_MANIFEST,
  ociIndex: OCI_INDEX,
} as const;

const MANIFEST_ACCEPT = [
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
].join(', ');

/** Media types a registry might not accept even when it accepts image manifests. */
const MAY_BE_REFUSED = new Set<string>([MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociIndex]);

const MAX_TAG_PAGES = 10_000;

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}

function manifestCall(
  ctx: RegistryContext,
  method: Method,
  ref: ManifestRef,
  signal: AbortSignal | undefined,
  extra: Partial<Call> = {},
): Call {
  return {
    method,
    registry: ref.registry,
    repository: ref.repository,
    url: `${repositoryUrl(ctx, ref.registry, ref.repository)}/manifests/${checkReference(ref.reference)}`,
    signal,
    ...extra,
  };
}

/** The digest and media type of a manifest, without its body; `not-found` when absent. */
export async function headManifest(
  ctx: RegistryContext,
  ref: ManifestRef,
  signal?: AbortSignal,
): Promise<Result<{ digest: Digest; mediaType: string }, RegistryFailure>> {
  const call = manifestCall(ctx, 'HEAD', ref, signal, { headers: { Accept: MANIFEST_ACCEPT } });
  const r = await ctx.send(call);
  if (!r.ok) return r;
  const reply = r.value;
  if (reply.status !== 200) return err(httpFailure(call, reply, ctx.redact));
  const digest = headerDigest(reply.headers);
  if (!digest) {
    // Some registries leave the digest out of HEAD answers: fall back to the body.
    const m = await getManifest(ctx, ref, signal);
    return m.ok ? ok({ digest: m.value.digest, mediaType: m.value.mediaType }) : m;
  }
  return ok({ digest, mediaType: contentType(reply.headers) });
}

/** A manifest as stored, byte for byte; checked against the digest it was asked by. */
export async function getManifest(
  ctx: RegistryContext,
  ref: ManifestRef,
  signal?: AbortSignal,
): Promise<Result<Manifest, RegistryFailure>> {
  const call = manifestCall(ctx, 'GET', ref, signal, { headers: { Accept: MANIFEST_ACCEPT } });
  const r = await ctx.send(call);
  if (!r.ok) return r;
  const reply = r.value;
  if (reply.status !== 200) return err(httpFailure(call, reply, ctx.redact));
  const body = reply.body;
  const computed = sha256Digest(body);
  if (ref.reference.startsWith('sha256:') && ref.reference !== computed) {
    return err({
      reason: 'invalid-response',
      message: ctx.redact(`${describe(call, reply)}: the body's digest is ${computed}`),
    });
  }
  const mediaType = contentType(reply.headers) || bodyMediaType(body);
  return ok({ digest: headerDigest(reply.headers) ?? computed, mediaType, body });
}

/** Stores a manifest under a tag or digest; answers the digest the registry computed. */
export async function putManifest(
  ctx: RegistryContext,
  ref: ManifestRef,
  manifest: { readonly mediaType: string; readonly body: Uint8Array },
  signal?: AbortSignal,
): Promise<Result<{ digest: Digest }, RegistryFailure>> {
  const call = manifestCall(ctx, 'PUT', ref, signal, {
    headers: { 'Content-Type': manifest.mediaType },
    body: manifest.body,
  });
  const r = await ctx.send(call);
  if (!r.ok) return r;
  const reply = r.value;
  if (reply.status < 200 || reply.status > 299) {
    const failure = httpFailure(call, reply, ctx.redact);
    // Registries say "manifest invalid" for a media type they do not take (Docker
    // Distribution does for any type it does not know); a list or index can be
    // well-formed and still refused, which the caller may want to work around.
    if (
      failure.reason === 'http-error' &&
      reply.status === 400 &&
      registryErrorCodes(reply.body).includes('MANIFEST_INVALID') &&
      (MAY_BE_REFUSED.has(manifest.mediaType) ||
        !Object.values<string>(MEDIA_TYPES).includes(manifest.mediaType))
    ) {
      return err({
        reason: 'unsupported',
        message: `${failure.message} (the registry may not accept ${manifest.mediaType})`,
      });
    }
    return err(failure);
  }
  return ok({ digest: headerDigest(reply.headers) ?? sha256Digest(manifest.body) });
}

/** GET a manifest, PUT the same bytes under `toTag` of the same repository (same digest). */
export async function copyTag(
  ctx: RegistryContext,
  from: ManifestRef,
  toTag: string,
  signal?: AbortSignal,
): Promise<Result<{ digest: Digest }, RegistryFailure>> {
  checkTag(toTag);
  const m = await getManifest(ctx, from, signal);
  if (!m.ok) return m;
  return putManifest(ctx, { ...from, reference: toTag }, m.value, signal);
}

/** Deletes a manifest by digest; `unsupported` says how to enable deletes. */
export async function deleteManifest(
  ctx: RegistryContext,
  ref: DigestRef,
  signal?: AbortSignal,
): Promise<Result<void, RegistryFailure>> {
  checkDigest(ref.reference);
  const call = manifestCall(ctx, 'DELETE', ref, signal);
  const r = await ctx.send(call);
  if (!r.ok) return r;
  const reply = r.value;
  if (reply.status >= 200 && reply.status <= 299) return ok(undefined);
  const failure = httpFailure(call, reply, ctx.redact);
  if (failure.reason === 'unsupported') {
    return err({
      ...failure,
      message: `${failure.message} (deletes are disabled on this registry; Docker Distribution needs storage.delete.enabled: true)`,
    });
  }
  return err(failure);
}

/** Every tag of a repository, page after page (a page seen twice ends the walk). */
export async function listTags(
  ctx: RegistryContext,
  registry: string,
  repository: string,
  signal?: AbortSignal,
): Promise<Result<string[], RegistryFailure>> {
  const query = ctx.tagPageSize ? `?n=${ctx.tagPageSize}` : '';
  let url: string | undefined = `${repositoryUrl(ctx, registry, repository)}/tags/list${query}`;
  const seen = new Set<string>();
  const tags: string[] = [];
  while (url !== undefined && !seen.has(url) && seen.size < MAX_TAG_PAGES) {
    seen.add(url);
    const call: Call = { method: 'GET', registry, repository, url, signal };
    const r = await ctx.send(call);
    if (!r.ok) return r;
    const reply = r.value;
    if (reply.status !== 200) return err(httpFailure(call, reply, ctx.redact));
    const json = parseJson(reply.body) as { tags?: unknown } | null;
    const page = json?.tags ?? [];
    if (!Array.isArray(page) || !page.every((t) => typeof t === 'string')) {
      return err({
        reason: 'invalid-response',
        message: ctx.redact(`${describe(call, reply)}: "tags" is not a list of strings`),
      });
    }
    tags.push(...page);
    const next = nextLink(reply.headers.get('link'));
    url = next === undefined ? undefined : new URL(next, url).toString();
  }
  return ok(tags);
}

/** The `rel="next"` target of a Link header. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?next"?/i.test(m[2]!)) return m[1];
  }
  return undefined;
}

function headerDigest(headers: Headers): Digest | undefined {
  const d = headers.get('docker-content-digest')?.trim();
  return d && digestProblem(d) === undefined ? (d as Digest) : undefined;
}

function contentType(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]!.trim();
}

function bodyMediaType(body: Uint8Array): string {
  const json = parseJson(body) as { mediaType?: unknown } | null;
  return typeof json?.mediaType === 'string' ? json.mediaType : '';
}
