/**
 * The blob operations of the registry API: existence, cross-repository mounts, downloads as a
 * stream, and uploads from a stream (monolithic, or chunked by PATCH) checked against their
 * digest before they are committed. Each is a function over the shared context (context.ts).
 */
import { createHash } from 'node:crypto';
import { err, ok, type Digest, type Result } from '../../core/model.js';
import type { RegistryFailure } from '../../run/ports.js';
import { checkDigest, checkRepository, repositoryUrl, type RegistryContext } from './context.js';
import {
  backoff,
  describe,
  errorText,
  httpFailure,
  retryWaitMs,
  type Call,
  type Method,
  type Reply,
} from './transport.js';

/** Whether a repository holds a blob (HEAD: 200 or 404). */
export async function blobExists(
  ctx: RegistryContext,
  registry: string,
  repository: string,
  digest: Digest,
  signal?: AbortSignal,
): Promise<Result<boolean, RegistryFailure>> {
  const call: Call = {
    method: 'HEAD',
    registry,
    repository,
    url: `${repositoryUrl(ctx, registry, repository)}/blobs/${checkDigest(digest)}`,
    signal,
  };
  const r = await ctx.send(call);
  if (!r.ok) return r;
  if (r.value.status === 200) return ok(true);
  if (r.value.status === 404) return ok(false);
  return err(httpFailure(call, r.value, ctx.redact));
}

/** A mount from `fromRepository`: true when mounted (201), false when an upload opened instead. */
export async function mountBlob(
  ctx: RegistryContext,
  registry: string,
  repository: string,
  digest: Digest,
  fromRepository: string,
  signal?: AbortSignal,
): Promise<Result<boolean, RegistryFailure>> {
  const query = new URLSearchParams({
    mount: checkDigest(digest),
    from: checkRepository(fromRepository),
  });
  const call: Call = {
    method: 'POST',
    registry,
    repository,
    url: `${repositoryUrl(ctx, registry, repository)}/blobs/uploads/?${query.toString()}`,
    extraScopes: [`repository:${fromRepository}:pull`],
    signal,
  };
  const r = await ctx.send(call);
  if (!r.ok) return r;
  const reply = r.value;
  if (reply.status === 201) return ok(true);
  if (reply.status === 202) {
    // An upload session was opened instead: close it so that it does not linger.
    // Best effort: a registry purges abandoned uploads on its own eventually.
    const location = reply.headers.get('location');
    if (location) {
      await ctx.send({
        method: 'DELETE',
        registry,
        repository,
        url: new URL(location, call.url).toString(),
        signal,
      });
    }
    return ok(false);
  }
  return err(httpFailure(call, reply, ctx.redact));
}

/** A blob's bytes as a stream (never held whole), with its size when the registry says it. */
export async function getBlob(
  ctx: RegistryContext,
  registry: string,
  repository: string,
  digest: Digest,
  signal?: AbortSignal,
): Promise<Result<{ stream: ReadableStream<Uint8Array>; size?: number }, RegistryFailure>> {
  const call: Call = {
    method: 'GET',
    registry,
    repository,
    url: `${repositoryUrl(ctx, registry, repository)}/blobs/${checkDigest(digest)}`,
    stream: true,
    signal,
  };
  const r = await ctx.send(call);
  if (!r.ok) return r;
  const reply = r.value;
  if (reply.status !== 200 || !reply.stream) return err(httpFailure(call, reply, ctx.redact));
  const length = reply.headers.get('content-length');
  return ok({ stream: reply.stream, ...(length ? { size: Number(length) } : {}) });
}

/**
 * Uploads a blob from a stream (consumed, or cancelled on failure): POST, then a PATCH per full
 * chunk but the last, then the closing PUT with the last one (the only one: monolithic). An
 * upload that fails midway is cancelled (DELETE of its session).
 *
 * A monolithic PUT that fails transiently (a reset or a timeout midway, 5xx, 429) is not sent
 * again into its session: the registry may hold part of its body there, and Distribution then
 * refuses the session (404 BLOB_UPLOAD_INVALID). The whole blob is in hand, so the upload starts
 * again in a new session instead (as often as the client retries). The PATCHes of a chunked
 * upload are retried where they are (the stream read so far cannot be read again).
 */
export async function uploadBlob(
  ctx: RegistryContext,
  registry: string,
  repository: string,
  digest: Digest,
  content: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): Promise<Result<{ bytes: number }, RegistryFailure>> {
  checkDigest(digest);
  const open: Call = {
    method: 'POST',
    registry,
    repository,
    url: `${repositoryUrl(ctx, registry, repository)}/blobs/uploads/`,
    signal,
  };
  const opened = await ctx.send(open);
  const first = opened.ok ? nextLocation(ctx, open, opened.value, 202) : opened;
  if (!first.ok) {
    await content.cancel().catch(() => undefined);
    return first;
  }
  let location = first.value;
  const call = (method: Method, url: string, body: Uint8Array, headers = {}): Call => ({
    method,
    registry,
    repository,
    url,
    body,
    headers: { 'Content-Type': 'application/octet-stream', ...headers },
    signal,
  });
  const abandon = async (failure: RegistryFailure) => {
    await content.cancel().catch(() => undefined);
    // Best effort: a registry purges abandoned uploads on its own eventually.
    await ctx.send({ method: 'DELETE', registry, repository, url: location, signal });
    return err(failure);
  };
  const hash = digest.startsWith('sha256:') ? createHash('sha256') : undefined;
  let offset = 0;
  // One chunk is held back: the last goes in the closing PUT (the only one: monolithic).
  let held: Uint8Array | undefined;
  try {
    for await (const chunk of inChunks(content, ctx.chunkBytes)) {
      hash?.update(chunk);
      if (held) {
        const range = `${offset}-${offset + held.length - 1}`;
        const patch = call('PATCH', location, held, { 'Content-Range': range });
        const r = await ctx.send(patch);
        const next = r.ok ? nextLocation(ctx, patch, r.value, 202) : r;
        if (!next.ok) return await abandon(next.error);
        location = next.value;
        offset += held.length;
      }
      held = chunk;
    }
  } catch (e) {
    if (signal?.aborted)
      return abandon({ reason: 'aborted', message: `upload of ${digest}: aborted` });
    return abandon({
      reason: 'unreachable',
      message: ctx.redact(
        `reading ${digest} for its upload to ${registry}/${repository} failed: ${errorText(e)}`,
      ),
      transient: true,
    });
  }
  const bytes = offset + (held?.length ?? 0);
  const computed = hash ? `sha256:${hash.digest('hex')}` : digest;
  if (computed !== digest) {
    return abandon({
      reason: 'invalid-response',
      message: `the ${bytes} bytes read for ${digest} hash to ${computed}: not uploaded to ${registry}/${repository}`,
    });
  }
  const closing = (at: string): Call => {
    const url = new URL(at);
    url.searchParams.set('digest', digest);
    return call('PUT', url.toString(), held ?? new Uint8Array());
  };
  if (offset > 0) {
    const put = closing(location);
    const r = await ctx.send(put);
    if (!r.ok) return abandon(r.error);
    if (r.value.status !== 201) return abandon(httpFailure(put, r.value, ctx.redact));
    return ok({ bytes });
  }
  for (let n = 0; ; n++) {
    const put = { ...closing(location), retries: 0 };
    const r = await ctx.send(put);
    if (r.ok && r.value.status === 201) return ok({ bytes });
    const failure = r.ok ? httpFailure(put, r.value, ctx.redact) : r.error;
    const wait = !r.ok ? backoff(n) : retryWaitMs(r.value.headers, n);
    const transient = 'transient' in failure && failure.transient;
    if (!transient || wait === undefined || n >= ctx.retries || signal?.aborted) {
      const tries = n > 0 ? ` (uploaded ${n + 1} times, each in a new session)` : '';
      return abandon({ ...failure, message: `${failure.message}${tries}` });
    }
    // Best effort: a registry purges abandoned uploads on its own eventually.
    await ctx.send({ method: 'DELETE', registry, repository, url: location, signal });
    await ctx.sleep(wait, signal);
    const again = await ctx.send(open);
    const next = again.ok ? nextLocation(ctx, open, again.value, 202) : again;
    if (!next.ok) return err(next.error);
    location = next.value;
  }
}

/** The upload URL an answer names (absolute), when it has the expected status. */
function nextLocation(
  ctx: RegistryContext,
  call: Call,
  reply: Reply,
  status: number,
): Result<string, RegistryFailure> {
  if (reply.status !== status) return err(httpFailure(call, reply, ctx.redact));
  const location = reply.headers.get('location');
  if (!location) {
    return err({
      reason: 'invalid-response',
      message: ctx.redact(`${describe(call, reply)}: no Location to upload to`),
    });
  }
  return ok(new URL(location, call.url).toString());
}

/** Pieces of exactly `size` bytes (the last one may be shorter) of a stream of any pieces. */
export async function* inChunks(
  source: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let length = 0;
  const take = () => {
    const out = new Uint8Array(length);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    parts = [];
    length = 0;
    return out;
  };
  for await (const piece of source) {
    let rest = piece;
    while (length + rest.length >= size) {
      const n = size - length;
      parts.push(rest.subarray(0, n));
      length += n;
      yield take();
      rest = rest.subarray(n);
    }
    if (rest.length) {
      parts.push(rest);
      length += rest.length;
    }
  }
  if (length > 0) yield take();
}
