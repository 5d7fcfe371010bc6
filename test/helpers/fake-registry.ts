/**
 * An in-memory registry on 127.0.0.1 speaking enough of the distribution API v2 for promotion
 * and pruning tests: blobs (HEAD, GET, uploads by POST/PATCH/PUT, cross-repository mounts),
 * manifests (HEAD, GET, PUT by tag or digest, DELETE by digest with its tags), tag lists.
 * `fail` answers chosen requests with an error first (retries, refusals).
 */
import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import {
  reply,
  startScriptedServer,
  type ScriptedServer,
  type SeenRequest,
} from './registry-server.js';

export interface FakeRegistry extends ScriptedServer {
  /** Blobs by repository, then digest. */
  readonly blobs: Map<string, Map<string, Buffer>>;
  /** Manifests by repository, then digest. */
  readonly manifests: Map<string, Map<string, { mediaType: string; body: Buffer }>>;
  /** Tags by repository, then tag -> digest. */
  readonly tags: Map<string, Map<string, string>>;
  /** Answers the next request `match` accepts with `status` (once per call of fail). */
  fail(match: (req: SeenRequest) => boolean, status: number): void;
  /** Stores a blob; answers its digest. */
  putBlob(repository: string, content: Buffer | string): string;
  /** Stores a manifest under its digest and the tags given; answers its digest. */
  putManifest(repository: string, mediaType: string, body: string, ...tags: string[]): string;
}

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (res: ServerResponse, status: number, body: unknown, headers = {}) =>
  reply(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(body));
const error = (res: ServerResponse, status: number, code: string) =>
  json(res, status, { errors: [{ code, message: code.toLowerCase().replace(/_/g, ' ') }] });

export async function startFakeRegistry(): Promise<FakeRegistry> {
  const blobs = new Map<string, Map<string, Buffer>>();
  const manifests = new Map<string, Map<string, { mediaType: string; body: Buffer }>>();
  const tags = new Map<string, Map<string, string>>();
  const uploads = new Map<string, { repository: string; data: Buffer }>();
  const failures: { match: (req: SeenRequest) => boolean; status: number }[] = [];
  let nextUpload = 0;
  const of = <V>(m: Map<string, Map<string, V>>, repo: string) => {
    let inner = m.get(repo);
    if (!inner) m.set(repo, (inner = new Map<string, V>()));
    return inner;
  };

  const server = await startScriptedServer((req, res) => {
    const i = failures.findIndex((f) => f.match(req));
    if (i >= 0) {
      const [f] = failures.splice(i, 1);
      return error(res, f!.status, f!.status >= 500 ? 'UNAVAILABLE' : 'DENIED');
    }
    const url = new URL(req.url, 'http://x');
    const m = /^\/v2\/(.+?)\/(blobs\/uploads\/?(.*)|blobs\/(.+)|manifests\/(.+)|tags\/list)$/.exec(
      url.pathname,
    );
    if (!m) return error(res, 404, 'NOT_FOUND');
    const repo = m[1]!;
    if (m[2]!.startsWith('blobs/uploads')) {
      const id = m[3] ?? '';
      if (req.method === 'POST' && id === '') {
        const mount = url.searchParams.get('mount');
        const from = url.searchParams.get('from');
        const found = mount && from ? blobs.get(from)?.get(mount) : undefined;
        if (found) {
          of(blobs, repo).set(mount!, found);
          return reply(res, 201, { Location: `/v2/${repo}/blobs/${mount}` });
        }
        const session = `u${nextUpload++}`;
        uploads.set(session, { repository: repo, data: Buffer.alloc(0) });
        return reply(res, 202, { Location: `/v2/${repo}/blobs/uploads/${session}?_state=s0` });
      }
      const up = uploads.get(id);
      if (!up || up.repository !== repo) return error(res, 404, 'BLOB_UPLOAD_UNKNOWN');
      if (req.method === 'DELETE') {
        uploads.delete(id);
        return reply(res, 204);
      }
      if (req.method === 'PATCH') {
        const range = /^(\d+)-(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
        if (range && Number(range[1]) !== up.data.length) return reply(res, 416);
        up.data = Buffer.concat([up.data, req.body]);
        return reply(res, 202, {
          Location: `/v2/${repo}/blobs/uploads/${id}?_state=s${up.data.length}`,
          Range: `0-${up.data.length - 1}`,
        });
      }
      if (req.method === 'PUT') {
        const data = Buffer.concat([up.data, req.body]);
        const digest = url.searchParams.get('digest');
        if (digest !== digestOf(data)) return error(res, 400, 'DIGEST_INVALID');
        uploads.delete(id);
        of(blobs, repo).set(digest, data);
        return reply(res, 201, {
          Location: `/v2/${repo}/blobs/${digest}`,
          'Docker-Content-Digest': digest,
        });
      }
      return error(res, 405, 'UNSUPPORTED');
    }
    if (m[4] !== undefined) {
      const blob = blobs.get(repo)?.get(m[4]);
      if (!blob) return error(res, 404, 'BLOB_UNKNOWN');
      if (req.method === 'HEAD') return reply(res, 200, { 'Content-Length': String(blob.length) });
      res.writeHead(200, { 'Content-Length': String(blob.length), 'Docker-Content-Digest': m[4] });
      return void res.end(blob);
    }
    if (m[5] !== undefined) {
      const ref = m[5];
      const digest = ref.includes(':') ? ref : tags.get(repo)?.get(ref);
      const found = digest ? manifests.get(repo)?.get(digest) : undefined;
      if (req.method === 'PUT') {
        const doc = JSON.parse(req.body.toString()) as {
          config?: { digest: string };
          layers?: { digest: string }[];
          manifests?: { digest: string }[];
        };
        const missing = [
          ...[doc.config, ...(doc.layers ?? [])].filter(
            (b) => b && !blobs.get(repo)?.has(b.digest),
          ),
          ...(doc.manifests ?? []).filter((c) => !manifests.get(repo)?.has(c.digest)),
        ];
        if (missing.length) return error(res, 400, 'MANIFEST_BLOB_UNKNOWN');
        const d = digestOf(req.body);
        if (ref.includes(':') && ref !== d) return error(res, 400, 'DIGEST_INVALID');
        of(manifests, repo).set(d, {
          mediaType: String(req.headers['content-type']),
          body: req.body,
        });
        if (!ref.includes(':')) of(tags, repo).set(ref, d);
        return reply(res, 201, { 'Docker-Content-Digest': d });
      }
      if (req.method === 'DELETE') {
        if (!ref.includes(':')) return error(res, 405, 'UNSUPPORTED');
        if (!found) return error(res, 404, 'MANIFEST_UNKNOWN');
        manifests.get(repo)!.delete(ref);
        for (const [t, d] of tags.get(repo) ?? []) if (d === ref) tags.get(repo)!.delete(t);
        return reply(res, 202);
      }
      if (!found) return error(res, 404, 'MANIFEST_UNKNOWN');
      const headers = {
        'Content-Type': found.mediaType,
        'Content-Length': String(found.body.length),
        'Docker-Content-Digest': digest!,
      };
      if (req.method === 'HEAD') return reply(res, 200, headers);
      res.writeHead(200, headers);
      return void res.end(found.body);
    }
    const list = tags.get(repo);
    if (!list) return error(res, 404, 'NAME_UNKNOWN');
    return json(res, 200, { name: repo, tags: [...list.keys()] });
  });

  return {
    ...server,
    blobs,
    manifests,
    tags,
    fail: (match, status) => void failures.push({ match, status }),
    putBlob(repository, content) {
      const b = Buffer.from(content);
      const d = digestOf(b);
      of(blobs, repository).set(d, b);
      return d;
    },
    putManifest(repository, mediaType, body, ...names) {
      const b = Buffer.from(body);
      const d = digestOf(b);
      of(manifests, repository).set(d, { mediaType, body: b });
      for (const t of names) of(tags, repository).set(t, d);
      return d;
    },
  };
}
