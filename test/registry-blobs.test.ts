/**
 * The registry client's blob transfer (getBlob, uploadBlob) against an in-memory registry:
 * monolithic and chunked uploads, retries, a digest that does not match, a source that breaks.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../src/core/model.js';
import { createRegistryClient, inChunks } from '../src/adapters/registry/index.js';
import type { RegistryFailure } from '../src/run/ports.js';
import { startFakeRegistry, type FakeRegistry } from './helpers/fake-registry.js';

const digestOf = (b: Buffer | string) =>
  `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

function streamOf(...pieces: (string | Error)[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      const p = pieces[i++];
      if (p === undefined) c.close();
      else if (p instanceof Error) c.error(p);
      else c.enqueue(new TextEncoder().encode(p));
    },
  });
}

function value<T>(r: { ok: true; value: T } | { ok: false; error: RegistryFailure }): T {
  if (!r.ok) throw new Error(`expected success, got ${JSON.stringify(r.error)}`);
  return r.value;
}

let a: FakeRegistry;
let b: FakeRegistry;
beforeAll(async () => {
  a = await startFakeRegistry();
  b = await startFakeRegistry();
});
afterAll(async () => {
  await a.close();
  await b.close();
});

const since = (r: FakeRegistry, n: number) =>
  r.seen.slice(n).map((s) => `${s.method} ${s.url.replace(/\?.*/, '')}`);

describe('inChunks', () => {
  it('cuts any pieces into pieces of exactly the size asked, the last one shorter', async () => {
    const out: string[] = [];
    for await (const c of inChunks(streamOf('ab', 'cdefg', '', 'h', 'ijklmnopq'), 4)) {
      out.push(new TextDecoder().decode(c));
    }
    expect(out).toEqual(['abcd', 'efgh', 'ijkl', 'mnop', 'q']);
    const none: Uint8Array[] = [];
    for await (const c of inChunks(streamOf(), 4)) none.push(c);
    expect(none).toEqual([]);
  });
});

describe('getBlob and uploadBlob', () => {
  it('getBlob streams a blob with its size; a missing one is not-found', async () => {
    const d = a.putBlob('src/img', 'hello blob');
    const client = createRegistryClient();
    const got = value(await client.getBlob(a.host, 'src/img', d as Digest));
    expect(got.size).toBe(10);
    expect(await new Response(got.stream).text()).toBe('hello blob');
    const missing = await client.getBlob(a.host, 'src/img', digestOf('nope'));
    expect(missing.ok || missing.error.reason).toBe('not-found');
  });

  it('a blob that fits one chunk is a monolithic upload: POST, then PUT with the bytes', async () => {
    const client = createRegistryClient({ blobChunkBytes: 64 });
    const n = b.seen.length;
    const up = value(
      await client.uploadBlob(b.host, 'dst/img', digestOf('small'), streamOf('sm', 'all')),
    );
    expect(up).toEqual({ bytes: 5 });
    expect(since(b, n)).toEqual([
      'POST /v2/dst/img/blobs/uploads/',
      'PUT /v2/dst/img/blobs/uploads/u0',
    ]);
    expect(b.seen.at(-1)!.url).toContain(`digest=${encodeURIComponent(digestOf('small'))}`);
    expect(b.seen.at(-1)!.url).toContain('_state=s0');
    expect(b.blobs.get('dst/img')?.get(digestOf('small'))?.toString()).toBe('small');
  });

  it('a larger blob goes in PATCHes with Content-Range, the last chunk in the closing PUT', async () => {
    const client = createRegistryClient({ blobChunkBytes: 4 });
    const content = '0123456789';
    const n = b.seen.length;
    value(
      await client.uploadBlob(b.host, 'dst/img', digestOf(content), streamOf('012', '3456789')),
    );
    const seen = b.seen.slice(n);
    expect(
      seen.map(
        (s) => `${s.method} ${String(s.headers['content-range'] ?? '')} ${s.body.toString()}`,
      ),
    ).toEqual(['POST  ', 'PATCH 0-3 0123', 'PATCH 4-7 4567', 'PUT  89']);
    // Each request goes to the Location the previous answer gave.
    expect(seen.map((s) => new URL(s.url, 'http://x').searchParams.get('_state'))).toEqual([
      null,
      's0',
      's4',
      's8',
    ]);
    expect(b.blobs.get('dst/img')?.get(digestOf(content))?.toString()).toBe(content);
  });

  it('a PATCH answered 503 is retried', async () => {
    const client = createRegistryClient({ blobChunkBytes: 2, sleep: () => Promise.resolve() });
    b.fail((r) => r.method === 'PATCH', 503);
    const n = b.seen.length;
    value(await client.uploadBlob(b.host, 'dst/img', digestOf('abcde'), streamOf('abcde')));
    expect(since(b, n).map((s) => s.split(' ')[0])).toEqual([
      'POST',
      'PATCH',
      'PATCH',
      'PATCH',
      'PUT',
    ]);
    expect(b.blobs.get('dst/img')?.get(digestOf('abcde'))?.toString()).toBe('abcde');
  });

  it('a monolithic PUT that fails transiently starts again in a new session, not in the old one', async () => {
    const client = createRegistryClient({ sleep: () => Promise.resolve() });
    b.fail((r) => r.method === 'PUT', 503);
    const n = b.seen.length;
    value(await client.uploadBlob(b.host, 'dst/img', digestOf('whole'), streamOf('whole')));
    expect(since(b, n).map((s) => s.split(' ')[0])).toEqual([
      'POST',
      'PUT',
      'DELETE',
      'POST',
      'PUT',
    ]);
    const [first, second] = b.seen.slice(n).filter((s) => s.method === 'PUT');
    expect(new URL(second!.url, 'http://x').pathname).not.toBe(
      new URL(first!.url, 'http://x').pathname,
    );
    expect(b.blobs.get('dst/img')?.get(digestOf('whole'))?.toString()).toBe('whole');
  });

  it('bytes that do not hash to the digest are not committed; the upload is cancelled', async () => {
    const client = createRegistryClient({ blobChunkBytes: 64 });
    const claimed = digestOf('something else');
    const n = b.seen.length;
    const r = await client.uploadBlob(b.host, 'dst/img', claimed, streamOf('the bytes'));
    expect(r).toEqual({
      ok: false,
      error: {
        reason: 'invalid-response',
        message: `the 9 bytes read for ${claimed} hash to ${digestOf('the bytes')}: not uploaded to ${b.host}/dst/img`,
      },
    });
    expect(since(b, n).map((s) => s.split(' ')[0])).toEqual(['POST', 'DELETE']);
    expect(b.blobs.get('dst/img')?.has(claimed)).toBe(false);
  });

  it('a source that breaks mid-way fails the upload (transient) and cancels it', async () => {
    const client = createRegistryClient({ blobChunkBytes: 2 });
    const n = b.seen.length;
    const r = await client.uploadBlob(
      b.host,
      'dst/img',
      digestOf('abcdef'),
      streamOf('abcd', new Error('connection reset by peer')),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ reason: 'unreachable', transient: true });
    expect(r.error.message).toContain('connection reset by peer');
    expect(since(b, n).map((s) => s.split(' ')[0])).toEqual(['POST', 'PATCH', 'DELETE']);
  });

  it('a refused upload cancels the source stream', async () => {
    const client = createRegistryClient();
    b.fail((r) => r.method === 'POST', 403);
    let cancelled = false;
    const source = new ReadableStream<Uint8Array>({
      cancel: () => void (cancelled = true),
    });
    const r = await client.uploadBlob(b.host, 'dst/img', digestOf('x'), source);
    expect(r.ok || r.error.reason).toBe('unauthorized');
    expect(cancelled).toBe(true);
  });

  it('getBlob into uploadBlob copies a blob from one registry to another, in chunks', async () => {
    const content = Buffer.alloc(100_000, 7);
    const d = a.putBlob('src/img', content) as Digest;
    const client = createRegistryClient({ blobChunkBytes: 32 * 1024 });
    const got = value(await client.getBlob(a.host, 'src/img', d));
    expect(value(await client.uploadBlob(b.host, 'dst/img', d, got.stream))).toEqual({
      bytes: 100_000,
    });
    expect(b.blobs.get('dst/img')?.get(d)?.equals(content)).toBe(true);
  });
});
