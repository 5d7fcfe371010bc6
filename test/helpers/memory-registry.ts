/**
 * The Registry port in memory, for run-level unit tests (publishing, the build loop, signing):
 * manifests by repository and tag or digest, and blobs by repository and digest. `refuse` makes chosen manifest PUTs fail as a
 * registry would; `down` makes every call fail as unreachable.
 */
import { createHash } from 'node:crypto';
import type { Digest } from '../../src/core/model.js';
import type { ManifestRef, Registry, RegistryFailure } from '../../src/run/ports.js';

export interface MemoryRegistry extends Registry {
  /** `repo:tag` and `repo@digest` -> manifest. */
  readonly store: Map<string, { mediaType: string; body: string; digest: Digest }>;
  /** `repo@digest` -> blob bytes (what uploadBlob stored; a test may change them: tampering). */
  readonly blobs: Map<string, Uint8Array>;
  /** Every call, as `op repo ref` (`upload` and `get-blob` for blobs). */
  readonly calls: string[];
  /** Stores a manifest under a tag (and its digest); answers the digest. */
  put(repository: string, tag: string, mediaType: string, body: string): Digest;
  /** The digest under `repo:tag`, if any. */
  digestOf(repository: string, tag: string): Digest | undefined;
  /** PUTs of manifests this answers for are refused (`unsupported`, HTTP 400 text). */
  refuse: (ref: ManifestRef, mediaType: string) => boolean;
  /** When true, every call fails as `unreachable`. */
  down: boolean;
}

const unsupported = (message: string): { ok: false; error: RegistryFailure } => ({
  ok: false,
  error: { reason: 'unsupported', message },
});

export function memoryRegistry(): MemoryRegistry {
  const store = new Map<string, { mediaType: string; body: string; digest: Digest }>();
  const blobs = new Map<string, Uint8Array>();
  const calls: string[] = [];
  const key = (r: ManifestRef) =>
    r.reference.startsWith('sha256:')
      ? `${r.repository}@${r.reference}`
      : `${r.repository}:${r.reference}`;
  const put = (repository: string, tag: string, mediaType: string, body: string) => {
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}` as Digest;
    const m = { mediaType, body, digest };
    store.set(`${repository}:${tag}`, m);
    store.set(`${repository}@${digest}`, m);
    return digest;
  };
  const unreachable = (): { ok: false; error: RegistryFailure } => ({
    ok: false,
    error: { reason: 'unreachable', message: 'connection refused', transient: true },
  });
  const notFound = (r: ManifestRef): { ok: false; error: RegistryFailure } => ({
    ok: false,
    error: { reason: 'not-found', message: `${key(r)}: manifest unknown` },
  });
  const reg: MemoryRegistry = {
    store,
    blobs,
    calls,
    put,
    digestOf: (repo, tag) => store.get(`${repo}:${tag}`)?.digest,
    refuse: () => false,
    down: false,
    headManifest(ref) {
      calls.push(`head ${key(ref)}`);
      if (reg.down) return Promise.resolve(unreachable());
      const m = store.get(key(ref));
      return Promise.resolve(
        m ? { ok: true, value: { digest: m.digest, mediaType: m.mediaType } } : notFound(ref),
      );
    },
    getManifest(ref) {
      calls.push(`get ${key(ref)}`);
      if (reg.down) return Promise.resolve(unreachable());
      const m = store.get(key(ref));
      return Promise.resolve(
        m
          ? {
              ok: true,
              value: { digest: m.digest, mediaType: m.mediaType, body: Buffer.from(m.body) },
            }
          : notFound(ref),
      );
    },
    putManifest(ref, manifest) {
      calls.push(`put ${key(ref)}`);
      if (reg.down) return Promise.resolve(unreachable());
      if (reg.refuse(ref, manifest.mediaType))
        return Promise.resolve(unsupported('HTTP 400 manifest invalid'));
      const body = Buffer.from(manifest.body).toString();
      return Promise.resolve({
        ok: true,
        value: { digest: put(ref.repository, ref.reference, manifest.mediaType, body) },
      });
    },
    copyTag(from, toTag) {
      calls.push(`copy ${key(from)} ${toTag}`);
      if (reg.down) return Promise.resolve(unreachable());
      const m = store.get(key(from));
      if (!m) return Promise.resolve(notFound(from));
      return Promise.resolve({
        ok: true,
        value: { digest: put(from.repository, toTag, m.mediaType, m.body) },
      });
    },
    blobExists: (_r, repo, digest) =>
      Promise.resolve({ ok: true, value: blobs.has(`${repo}@${digest}`) }),
    async uploadBlob(_r, repo, digest, content) {
      calls.push(`upload ${repo}@${digest}`);
      const chunks: Uint8Array[] = [];
      for await (const c of content) chunks.push(c);
      const bytes = Buffer.concat(chunks);
      blobs.set(`${repo}@${digest}`, bytes);
      return { ok: true, value: { bytes: bytes.length } };
    },
    getBlob(_r, repo, digest) {
      calls.push(`get-blob ${repo}@${digest}`);
      if (reg.down) return Promise.resolve(unreachable());
      const b = blobs.get(`${repo}@${digest}`);
      return Promise.resolve(
        b
          ? { ok: true, value: { stream: new Blob([b]).stream(), size: b.length } }
          : { ok: false, error: { reason: 'not-found', message: 'blob unknown' } },
      );
    },
    mountBlob: () => Promise.resolve(unsupported('not in memory')),
    deleteManifest: () => Promise.resolve(unsupported('not in memory')),
    listTags: () => Promise.resolve(unsupported('not in memory')),
  };
  return reg;
}
