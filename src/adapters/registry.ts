/**
 * A registry client over the OCI distribution API v2 (Docker Distribution, Harbor, GHCR, ...):
 * manifests, blob existence and cross-repository mounts, tags, and blobs streamed from one
 * registry to another (promotion). Only what kbuild needs to check freshness, retag, publish
 * manifest lists and promote; the layers of a build are pushed by the engine.
 *
 * Failures are values (`RegistryFailure`). Transient ones (5xx, 429, connection resets,
 * timeouts) are retried before they are reported. Authentication follows the registry's
 * challenge: Basic, or a Bearer token from the realm it names (cached per registry and scope).
 * Credentials and tokens never appear in a failure message: every message is redacted.
 *
 * Invalid repository names, tags or digests are bugs of the caller (references are validated
 * in src/core/reference.ts) and throw a TypeError rather than reaching the network.
 */
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
} from '../core/registry/manifest-list.js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { err, ok, type Digest, type Result } from '../core/model.js';
import type { ManifestRef, Registry, RegistryFailure } from '../run/ports.js';

// ---------------------------------------------------------------------------
// Public types.

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * What a credential lookup found: credentials, nothing (`undefined`: go anonymous), or a
 * `problem` saying why it could not tell (a credential helper that is not installed, an
 * unreadable config file). A problem is not fatal: the request goes on anonymously, and the
 * problem is quoted if the registry then answers 401.
 */
export type CredentialLookup = RegistryCredentials | { readonly problem: string } | undefined;

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
  /** Default: `http` for loopback hosts (127.x, localhost, [::1]), `https` otherwise. */
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

// ---------------------------------------------------------------------------
// Media types and names.

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

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}

function checkRepository(repository: string): string {
  if (!REPOSITORY_RE.test(repository) || repository.length > 255) {
    throw new TypeError(`invalid repository name ${JSON.stringify(repository)}`);
  }
  return repository;
}

function checkReference(reference: string): string {
  if (!TAG_RE.test(reference) && !DIGEST_RE.test(reference)) {
    throw new TypeError(`invalid tag or digest ${JSON.stringify(reference)}`);
  }
  return reference;
}

function checkDigest(digest: string): string {
  if (!DIGEST_RE.test(digest)) throw new TypeError(`invalid digest ${JSON.stringify(digest)}`);
  return digest;
}

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Host:port the API is served on (Docker Hub's API is not on docker.io itself). */
function apiHost(registry: string): string {
  return DOCKER_HUB_ALIASES.has(registry) ? 'registry-1.docker.io' : registry;
}

/** True for localhost, 127.0.0.0/8 and [::1], with or without a port. */
export function isLoopback(registry: string): boolean {
  const host = registry.startsWith('[')
    ? registry.slice(0, registry.indexOf(']') + 1)
    : registry.replace(/:\d+$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127(?:\.\d{1,3}){3}$/.test(host) ||
    host === '[::1]' ||
    host === '::1'
  );
}

const defaultScheme = (registry: string): 'http' | 'https' =>
  isLoopback(registry) ? 'http' : 'https';

// ---------------------------------------------------------------------------
// Client.

/** Retry-After values above this are not waited for: the failure is reported instead. */
const MAX_RETRY_AFTER_MS = 60_000;
const BACKOFF_BASE_MS = 500;
/** A token whose lifetime is unknown lives this long (the token spec's default). */
const DEFAULT_TOKEN_SECONDS = 60;
const MAX_TAG_PAGES = 10_000;
const MAX_DETAIL = 300;

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
/** What a method needs a token for: calls alike share the token they were last given. */
const ACTION_OF: Readonly<Record<Method, string>> = {
  GET: 'pull',
  HEAD: 'pull',
  PUT: 'push',
  POST: 'push',
  PATCH: 'push',
  DELETE: 'delete',
};

interface Call {
  readonly method: Method;
  /** The registry as the caller named it (key of credentials and caches). */
  readonly registry: string;
  /** The repository the call is about (key of the remembered auth scope). */
  readonly repository: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** Scopes asked for in addition to the challenge's (a mount's source repository). */
  readonly extraScopes?: readonly string[];
  readonly signal?: AbortSignal | undefined;
  /** Leave a successful answer's body unread, as `Reply.stream` (blob downloads). */
  readonly stream?: boolean;
}

interface Reply {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
  /** The unread body of a successful `stream` call (`body` is then empty). */
  readonly stream?: ReadableStream<Uint8Array>;
}

/** One HTTP attempt's outcome: an answer, or why there was none. */
type Attempt =
  | { readonly reply: Reply }
  | { readonly aborted: true }
  | { readonly failure: { message: string; transient: boolean } };

interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

interface CachedToken {
  readonly header: string;
  readonly expiresAt: number;
}

/** Creates a registry client. It keeps credentials and tokens in memory, per registry. */
export function createRegistryClient(opts: RegistryClientOptions = {}): Registry {
  const fetchImpl = opts.fetch ?? fetch;
  const retries = Math.max(0, opts.retries ?? 3);
  const sleep = opts.sleep ?? defaultSleep;
  const schemeOf = opts.scheme ?? defaultScheme;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const chunkBytes = Math.max(1, opts.blobChunkBytes ?? 16 * 1024 * 1024);
  const readCredentials = opts.credentials ?? credentialsFromConfigFiles();

  /** Every secret seen (passwords, basic tokens, bearer tokens): scrubbed from messages. */
  const secrets = new Set<string>();
  const credentialCache = new Map<string, Promise<CredentialLookup>>();
  /** Registries that asked for Basic auth: later requests send it up front. */
  const basicRegistries = new Set<string>();
  /** Token cache key last used for (registry, repository, action): sent up front next time. */
  const scopeMemory = new Map<string, string>();
  const tokens = new Map<string, CachedToken>();

  const redact = (text: string): string => {
    let out = text.replace(/(\w+:\/\/)[^/@\s]+@/g, '$1***@');
    for (const s of secrets) if (s.length >= 3) out = out.split(s).join('***');
    return out;
  };

  const base = (registry: string) => `${schemeOf(registry)}://${apiHost(registry)}/v2/`;
  const repoUrl = (registry: string, repository: string) =>
    `${base(registry)}${checkRepository(repository)}`;

  function credentialsFor(registry: string): Promise<CredentialLookup> {
    let found = credentialCache.get(registry);
    if (!found) {
      found = readCredentials(registry).then(
        (c) => {
          if (c && 'username' in c) {
            secrets.add(c.password);
            secrets.add(basicToken(c));
          }
          return c;
        },
        (e: unknown) => ({ problem: `reading credentials failed: ${errorText(e)}` }),
      );
      credentialCache.set(registry, found);
    }
    return found;
  }

  async function attempt(call: Call, auth: string | undefined): Promise<Attempt> {
    if (call.signal?.aborted) return { aborted: true };
    const timeout = idleTimeout(timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout.signal]) : timeout.signal;
    const headers: Record<string, string> = { 'User-Agent': 'kbuild', ...call.headers };
    if (auth) headers['Authorization'] = auth;
    try {
      const res = await fetchImpl(call.url, {
        method: call.method,
        headers,
        ...(call.body ? { body: call.body } : {}),
        signal,
      });
      if (call.stream && res.ok && res.body) {
        const stream = timeout.watch(res.body);
        const reply = { status: res.status, statusText: res.statusText, headers: res.headers };
        return { reply: { ...reply, body: new Uint8Array(), stream } };
      }
      // Always read (or drop) the body: an unread body holds the connection.
      const body =
        call.method === 'HEAD'
          ? (await res.body?.cancel(), new Uint8Array())
          : new Uint8Array(await res.arrayBuffer());
      timeout.clear();
      return {
        reply: { status: res.status, statusText: res.statusText, headers: res.headers, body },
      };
    } catch (e) {
      timeout.clear();
      if (call.signal?.aborted) return { aborted: true };
      if (timeout.signal.aborted) {
        return { failure: { message: `no answer within ${timeoutMs} ms`, transient: true } };
      }
      return { failure: networkFailure(e) };
    }
  }

  /** One request with retries of transient failures; any HTTP answer is returned as is. */
  async function withRetries(
    call: Call,
    auth: string | undefined,
  ): Promise<Result<Reply, RegistryFailure>> {
    for (let n = 0; ; n++) {
      const a = await attempt(call, auth);
      if ('aborted' in a) return err(aborted(call));
      let wait: number;
      if ('failure' in a) {
        if (!a.failure.transient || n >= retries) {
          const tries = n > 0 ? ` (after ${n + 1} attempts)` : '';
          return err({
            reason: 'unreachable',
            message: redact(`${call.method} ${call.url}: ${a.failure.message}${tries}`),
            transient: a.failure.transient,
          });
        }
        wait = backoff(n);
      } else {
        const { status, headers } = a.reply;
        if (!isTransientStatus(status) || n >= retries) return ok(a.reply);
        const after = retryAfterMs(headers.get('retry-after'), Date.now());
        if (after !== undefined && after > MAX_RETRY_AFTER_MS) return ok(a.reply);
        wait = after ?? backoff(n);
      }
      await sleep(wait, call.signal);
      if (call.signal?.aborted) return err(aborted(call));
    }
  }

  /** A request with authentication: up-front when known, else after the 401 challenge. */
  async function send(call: Call): Promise<Result<Reply, RegistryFailure>> {
    const memoryKey = `${call.registry} ${call.repository} ${ACTION_OF[call.method]}`;
    let auth = await upFrontAuth(call.registry, memoryKey);
    let challenged = false;
    let usedCredentials = false;
    let problem: string | undefined;
    for (;;) {
      const r = await withRetries(call, auth);
      if (!r.ok) return r;
      const reply = r.value;
      if (reply.status === 401 && !challenged) {
        challenged = true;
        const a = await authenticate(call, reply.headers.get('www-authenticate'), memoryKey, auth);
        if (!a.ok) return a;
        ({ header: auth, usedCredentials, problem } = a.value);
        // Basic auth and nothing to send: asking again would only get the same 401.
        if (auth !== undefined) continue;
      }
      if (reply.status === 401) {
        const why = usedCredentials
          ? `the registry refused the credentials for ${call.registry}: check them with \`docker login ${call.registry}\``
          : noCredentialsText(call.registry, problem);
        return err({
          reason: 'unauthorized',
          message: redact(`${describe(call, reply)}: ${why}`),
        });
      }
      if (reply.status === 403) {
        return err({
          reason: 'unauthorized',
          message: redact(
            `${describe(call, reply)}: access denied to ${call.repository} on ${call.registry}`,
          ),
        });
      }
      return ok(reply);
    }
  }

  async function upFrontAuth(registry: string, memoryKey: string): Promise<string | undefined> {
    if (basicRegistries.has(registry)) {
      const c = await credentialsFor(registry);
      return c && 'username' in c ? `Basic ${basicToken(c)}` : undefined;
    }
    const key = scopeMemory.get(memoryKey);
    const cached = key === undefined ? undefined : tokens.get(key);
    return cached && cached.expiresAt > Date.now() ? cached.header : undefined;
  }

  async function authenticate(
    call: Call,
    header: string | null,
    memoryKey: string,
    refused: string | undefined,
  ): Promise<
    Result<
      { header: string | undefined; usedCredentials: boolean; problem: string | undefined },
      RegistryFailure
    >
  > {
    const challenges = parseChallenges(header ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    const found = await credentialsFor(call.registry);
    let creds = found && 'username' in found ? found : undefined;
    let problem = found && 'problem' in found ? found.problem : undefined;
    const realm = bearer?.params['realm'];
    if (creds && realm?.startsWith('http:') && schemeOf(call.registry) === 'https') {
      // An https registry naming a plain-http token service: do not send the password in clear.
      creds = undefined;
      problem = `credentials are not sent to the plain-http token service ${realm}`;
    }
    if (bearer) {
      return fetchToken(call, bearer, creds, memoryKey, refused).then((t) =>
        t.ok ? ok({ header: t.value, usedCredentials: creds !== undefined, problem }) : t,
      );
    }
    if (basic) {
      basicRegistries.add(call.registry);
      return ok({
        header: creds ? `Basic ${basicToken(creds)}` : undefined,
        usedCredentials: creds !== undefined,
        problem,
      });
    }
    return err({
      reason: 'unauthorized',
      message: redact(
        `${call.method} ${call.url}: 401 with ${header ? `an unsupported challenge (${header})` : 'no WWW-Authenticate challenge'}`,
      ),
    });
  }

  async function fetchToken(
    call: Call,
    challenge: Challenge,
    creds: RegistryCredentials | undefined,
    memoryKey: string,
    refused: string | undefined,
  ): Promise<Result<string, RegistryFailure>> {
    const realm = challenge.params['realm'];
    if (!realm) {
      return err({
        reason: 'unauthorized',
        message: `${call.method} ${call.url}: Bearer challenge without a realm`,
      });
    }
    const scopes = [
      ...(challenge.params['scope'] ? [challenge.params['scope']] : []),
      ...(call.extraScopes ?? []),
    ];
    const service = challenge.params['service'];
    const key = `${call.registry} ${creds ? 'user' : 'anonymous'} ${realm} ${service ?? ''} ${scopes.join(' ')}`;
    scopeMemory.set(memoryKey, key);
    const cached = tokens.get(key);
    if (cached && cached.expiresAt > Date.now() && cached.header !== refused) {
      return ok(cached.header);
    }

    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      return err({
        reason: 'invalid-response',
        message: redact(`${call.url}: the Bearer realm ${JSON.stringify(realm)} is not a URL`),
      });
    }
    if (service) url.searchParams.set('service', service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const tokenCall: Call = {
      method: 'GET',
      registry: call.registry,
      repository: call.repository,
      url: url.toString(),
      signal: call.signal,
    };
    const r = await withRetries(tokenCall, creds ? `Basic ${basicToken(creds)}` : undefined);
    if (!r.ok) return r;
    const reply = r.value;
    if (reply.status === 401 || reply.status === 403) {
      return err({
        reason: 'unauthorized',
        message: redact(
          `${describe(tokenCall, reply)}: the token service refused ${creds ? `the credentials for ${call.registry}: check them with \`docker login ${call.registry}\`` : `anonymous access: ${noCredentialsText(call.registry, undefined)}`}`,
        ),
      });
    }
    if (reply.status !== 200) return err(httpFailure(tokenCall, reply));
    const json = parseJson(reply.body) as {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
    } | null;
    const token =
      typeof json?.token === 'string'
        ? json.token
        : typeof json?.access_token === 'string'
          ? json.access_token
          : undefined;
    if (!token) {
      return err({
        reason: 'invalid-response',
        message: redact(`${describe(tokenCall, reply)}: the answer holds no token`),
      });
    }
    secrets.add(token);
    const seconds =
      typeof json?.expires_in === 'number' && json.expires_in > 0
        ? json.expires_in
        : DEFAULT_TOKEN_SECONDS;
    // Renew a little early so that a token does not expire between the check and its use.
    const header = `Bearer ${token}`;
    tokens.set(key, { header, expiresAt: Date.now() + Math.max(seconds - 10, seconds / 2) * 1000 });
    return ok(header);
  }

  function describe(call: Call, reply: Reply): string {
    return `${call.method} ${call.url}: ${reply.status}${reply.statusText ? ` ${reply.statusText}` : ''}`;
  }

  /** The failure an unexpected answer stands for. */
  function httpFailure(call: Call, reply: Reply): RegistryFailure {
    const detail = registryErrorText(reply.body);
    const message = redact(`${describe(call, reply)}${detail ? `: ${detail}` : ''}`);
    const { status } = reply;
    if (status === 404) return { reason: 'not-found', message };
    if (status === 405 || status === 415 || status === 501) {
      return { reason: 'unsupported', message };
    }
    return { reason: 'http-error', status, message, transient: isTransientStatus(status) };
  }

  function aborted(call: Call): RegistryFailure {
    return { reason: 'aborted', message: redact(`${call.method} ${call.url}: aborted`) };
  }

  function manifestCall(
    method: Method,
    ref: ManifestRef,
    signal: AbortSignal | undefined,
    extra: Partial<Call> = {},
  ): Call {
    return {
      method,
      registry: ref.registry,
      repository: ref.repository,
      url: `${repoUrl(ref.registry, ref.repository)}/manifests/${checkReference(ref.reference)}`,
      signal,
      ...extra,
    };
  }

  const client: Registry = {
    async headManifest(ref, signal) {
      const call = manifestCall('HEAD', ref, signal, { headers: { Accept: MANIFEST_ACCEPT } });
      const r = await send(call);
      if (!r.ok) return r;
      const reply = r.value;
      if (reply.status !== 200) return err(httpFailure(call, reply));
      const digest = headerDigest(reply.headers);
      if (!digest) {
        // Some registries leave the digest out of HEAD answers: fall back to the body.
        const m = await client.getManifest(ref, signal);
        return m.ok ? ok({ digest: m.value.digest, mediaType: m.value.mediaType }) : m;
      }
      return ok({ digest, mediaType: contentType(reply.headers) });
    },

    async getManifest(ref, signal) {
      const call = manifestCall('GET', ref, signal, { headers: { Accept: MANIFEST_ACCEPT } });
      const r = await send(call);
      if (!r.ok) return r;
      const reply = r.value;
      if (reply.status !== 200) return err(httpFailure(call, reply));
      const body = reply.body;
      const computed = sha256Digest(body);
      if (ref.reference.startsWith('sha256:') && ref.reference !== computed) {
        return err({
          reason: 'invalid-response',
          message: redact(`${describe(call, reply)}: the body's digest is ${computed}`),
        });
      }
      const mediaType = contentType(reply.headers) || bodyMediaType(body);
      return ok({ digest: headerDigest(reply.headers) ?? computed, mediaType, body });
    },

    async putManifest(ref, manifest, signal) {
      const call = manifestCall('PUT', ref, signal, {
        headers: { 'Content-Type': manifest.mediaType },
        body: manifest.body,
      });
      const r = await send(call);
      if (!r.ok) return r;
      const reply = r.value;
      if (reply.status < 200 || reply.status > 299) {
        const failure = httpFailure(call, reply);
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
    },

    async copyTag(from, toTag, signal) {
      if (!TAG_RE.test(toTag)) throw new TypeError(`invalid tag ${JSON.stringify(toTag)}`);
      const m = await client.getManifest(from, signal);
      if (!m.ok) return m;
      return client.putManifest({ ...from, reference: toTag }, m.value, signal);
    },

    async blobExists(registry, repository, digest, signal) {
      const call: Call = {
        method: 'HEAD',
        registry,
        repository,
        url: `${repoUrl(registry, repository)}/blobs/${checkDigest(digest)}`,
        signal,
      };
      const r = await send(call);
      if (!r.ok) return r;
      if (r.value.status === 200) return ok(true);
      if (r.value.status === 404) return ok(false);
      return err(httpFailure(call, r.value));
    },

    async mountBlob(registry, repository, digest, fromRepository, signal) {
      const query = new URLSearchParams({
        mount: checkDigest(digest),
        from: checkRepository(fromRepository),
      });
      const call: Call = {
        method: 'POST',
        registry,
        repository,
        url: `${repoUrl(registry, repository)}/blobs/uploads/?${query.toString()}`,
        extraScopes: [`repository:${fromRepository}:pull`],
        signal,
      };
      const r = await send(call);
      if (!r.ok) return r;
      const reply = r.value;
      if (reply.status === 201) return ok(true);
      if (reply.status === 202) {
        // An upload session was opened instead: close it so that it does not linger.
        // Best effort: a registry purges abandoned uploads on its own eventually.
        const location = reply.headers.get('location');
        if (location) {
          await send({
            method: 'DELETE',
            registry,
            repository,
            url: new URL(location, call.url).toString(),
            signal,
          });
        }
        return ok(false);
      }
      return err(httpFailure(call, reply));
    },

    async deleteManifest(ref, signal) {
      checkDigest(ref.reference);
      const call = manifestCall('DELETE', ref, signal);
      const r = await send(call);
      if (!r.ok) return r;
      const reply = r.value;
      if (reply.status >= 200 && reply.status <= 299) return ok(undefined);
      const failure = httpFailure(call, reply);
      if (failure.reason === 'unsupported') {
        return err({
          ...failure,
          message: `${failure.message} (deletes are disabled on this registry; Docker Distribution needs storage.delete.enabled: true)`,
        });
      }
      return err(failure);
    },

    async listTags(registry, repository, signal) {
      const query = opts.tagPageSize ? `?n=${opts.tagPageSize}` : '';
      let url: string | undefined = `${repoUrl(registry, repository)}/tags/list${query}`;
      const seen = new Set<string>();
      const tags: string[] = [];
      while (url !== undefined && !seen.has(url) && seen.size < MAX_TAG_PAGES) {
        seen.add(url);
        const call: Call = { method: 'GET', registry, repository, url, signal };
        const r = await send(call);
        if (!r.ok) return r;
        const reply = r.value;
        if (reply.status !== 200) return err(httpFailure(call, reply));
        const json = parseJson(reply.body) as { tags?: unknown } | null;
        const page = json?.tags ?? [];
        if (!Array.isArray(page) || !page.every((t) => typeof t === 'string')) {
          return err({
            reason: 'invalid-response',
            message: redact(`${describe(call, reply)}: "tags" is not a list of strings`),
          });
        }
        tags.push(...page);
        const next = nextLink(reply.headers.get('link'));
        url = next === undefined ? undefined : new URL(next, url).toString();
      }
      return ok(tags);
    },

    async getBlob(registry, repository, digest, signal) {
      const call: Call = {
        method: 'GET',
        registry,
        repository,
        url: `${repoUrl(registry, repository)}/blobs/${checkDigest(digest)}`,
        stream: true,
        signal,
      };
      const r = await send(call);
      if (!r.ok) return r;
      const reply = r.value;
      if (reply.status !== 200 || !reply.stream) return err(httpFailure(call, reply));
      const length = reply.headers.get('content-length');
      return ok({ stream: reply.stream, ...(length ? { size: Number(length) } : {}) });
    },

    async uploadBlob(registry, repository, digest, content, signal) {
      checkDigest(digest);
      const open: Call = {
        method: 'POST',
        registry,
        repository,
        url: `${repoUrl(registry, repository)}/blobs/uploads/`,
        signal,
      };
      const opened = await send(open);
      const first = opened.ok ? nextLocation(open, opened.value, 202) : opened;
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
        await send({ method: 'DELETE', registry, repository, url: location, signal });
        return err(failure);
      };
      const hash = digest.startsWith('sha256:') ? createHash('sha256') : undefined;
      let offset = 0;
      // One chunk is held back: the last goes in the closing PUT (the only one: monolithic).
      let held: Uint8Array | undefined;
      try {
        for await (const chunk of inChunks(content, chunkBytes)) {
          hash?.update(chunk);
          if (held) {
            const range = `${offset}-${offset + held.length - 1}`;
            const patch = call('PATCH', location, held, { 'Content-Range': range });
            const r = await send(patch);
            const next = r.ok ? nextLocation(patch, r.value, 202) : r;
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
          message: redact(
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
      const url = new URL(location);
      url.searchParams.set('digest', digest);
      const put = call('PUT', url.toString(), held ?? new Uint8Array());
      const r = await send(put);
      if (!r.ok) return abandon(r.error);
      if (r.value.status !== 201) return abandon(httpFailure(put, r.value));
      return ok({ bytes });
    },
  };

  /** The upload URL an answer names (absolute), when it has the expected status. */
  function nextLocation(call: Call, reply: Reply, status: number): Result<string, RegistryFailure> {
    if (reply.status !== status) return err(httpFailure(call, reply));
    const location = reply.headers.get('location');
    if (!location) {
      return err({
        reason: 'invalid-response',
        message: redact(`${describe(call, reply)}: no Location to upload to`),
      });
    }
    return ok(new URL(location, call.url).toString());
  }
  return client;
}

// ---------------------------------------------------------------------------
// HTTP details.

function isTransientStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

/** 500 ms, 1 s, 2 s, ... capped at 10 s. */
function backoff(retry: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** retry, 10_000);
}

/** Milliseconds asked for by a Retry-After header (delay-seconds or an HTTP date). */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * A time limit that a streamed body renews with every chunk: an attempt fails when the answer,
 * or any pause in its body, takes longer than `ms`. Its timer never keeps the process alive.
 */
function idleTimeout(ms: number) {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), ms).unref();
  const clear = () => clearTimeout(timer);
  return {
    signal: controller.signal,
    clear,
    watch(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
      return body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, out) {
            clear();
            timer = setTimeout(() => controller.abort(), ms).unref();
            out.enqueue(chunk);
          },
          flush: clear,
        }),
      );
    },
  };
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

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch {
    // Aborted: the caller checks its signal.
  }
}

/** TLS and protocol errors do not go away by retrying. */
const PERMANENT_CODES =
  /^(?:ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(?:VERIFY|GET)_|ERR_INVALID_URL|ENOTFOUND$)/;

function networkFailure(e: unknown): { message: string; transient: boolean } {
  // undici wraps the socket error: TypeError('fetch failed', { cause: Error & { code } }).
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const code =
    cause instanceof Error && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  let message = errorText(cause);
  if (code && !message.includes(code)) message = `${code}: ${message}`;
  const permanent = code !== undefined && PERMANENT_CODES.test(code);
  if (code === 'EPROTO' || code?.startsWith('ERR_SSL_')) {
    message += ' (is it a plain-http registry? loopback hosts use http, others https)';
  }
  return { message, transient: !permanent };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body)) as unknown;
  } catch {
    return null;
  }
}

interface RegistryError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
}

function registryErrors(body: Uint8Array): RegistryError[] {
  const json = parseJson(body) as { errors?: unknown } | null;
  return Array.isArray(json?.errors) ? (json.errors as RegistryError[]) : [];
}

function registryErrorCodes(body: Uint8Array): string[] {
  return registryErrors(body).map((e) => String(e.code));
}

/** `CODE message (detail)` per error of an API error body, else the body's start. */
function registryErrorText(body: Uint8Array): string {
  const errors = registryErrors(body);
  if (errors.length > 0) {
    return errors
      .map((e) => {
        const detail =
          e.detail === undefined ||
          e.detail === null ||
          (typeof e.detail === 'object' && Object.keys(e.detail).length === 0)
            ? ''
            : ` (${(typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail)).slice(0, MAX_DETAIL)})`;
        return `${String(e.code)} ${String(e.message)}${detail}`;
      })
      .join('; ');
  }
  return new TextDecoder().decode(body).replace(/\s+/g, ' ').trim().slice(0, MAX_DETAIL);
}

function headerDigest(headers: Headers): Digest | undefined {
  const d = headers.get('docker-content-digest')?.trim();
  return d && DIGEST_RE.test(d) ? (d as Digest) : undefined;
}

function contentType(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]!.trim();
}

function bodyMediaType(body: Uint8Array): string {
  const json = parseJson(body) as { mediaType?: unknown } | null;
  return typeof json?.mediaType === 'string' ? json.mediaType : '';
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

/**
 * The challenges of a WWW-Authenticate header: `Bearer realm="...",service="...",scope="..."`,
 * `Basic realm="..."`. Scheme names are lower-cased; quoted values may hold commas.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let current: { scheme: string; params: Record<string, string> } | undefined;
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header[i]!)) i++;
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const start = i;
    skip(/[^\s,=]/);
    const name = header.slice(start, i);
    if (name === '') {
      i++;
      continue;
    }
    skip(/\s/);
    if (header[i] !== '=') {
      current = { scheme: name.toLowerCase(), params: {} };
      challenges.push(current);
      continue;
    }
    i++;
    skip(/\s/);
    let value = '';
    if (header[i] === '"') {
      for (i++; i < header.length && header[i] !== '"'; i++) {
        if (header[i] === '\\') i++;
        value += header[i] ?? '';
      }
      i++;
    } else {
      const from = i;
      skip(/[^\s,]/);
      value = header.slice(from, i);
    }
    if (current) current.params[name.toLowerCase()] = value;
  }
  return challenges;
}

function basicToken(c: RegistryCredentials): string {
  return Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

function noCredentialsText(registry: string, problem: string | undefined): string {
  return `no credentials for ${registry}${problem ? ` (${problem})` : ''}: run \`docker login ${registry}\` or \`podman login ${registry}\``;
}

// ---------------------------------------------------------------------------
// Credentials from docker's and podman's files.

export interface ConfigFileCredentialOptions {
  /** Default: process.env (DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, PATH). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: os.homedir(). */
  readonly home?: string;
  /** Time limit of a credential helper. Default 30 000 ms. */
  readonly helperTimeoutMs?: number;
}

interface AuthFile {
  auths?: Record<
    string,
    { auth?: unknown; username?: unknown; password?: unknown; identitytoken?: unknown }
  >;
  credHelpers?: Record<string, unknown>;
  credsStore?: unknown;
}

/**
 * Reads credentials the way `docker login` and `podman login` leave them, first found wins:
 * `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), then `$REGISTRY_AUTH_FILE`,
 * `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json`. In each file a
 * credential helper (`credHelpers[host]`, else `credsStore`) is asked first (it runs
 * `docker-credential-<name> get`), then the inline `auths[host].auth`. Not supported:
 * identity tokens (OAuth refresh tokens, e.g. `az acr login`) and podman's per-repository
 * entries (`host/namespace`): they are reported as a problem or ignored.
 */
export function credentialsFromConfigFiles(
  options: ConfigFileCredentialOptions = {},
): (registry: string) => Promise<CredentialLookup> {
  const env = options.env ?? process.env;
  const home = options.home ?? homedir();
  const files = [
    join(env['DOCKER_CONFIG'] ?? join(home, '.docker'), 'config.json'),
    ...(env['REGISTRY_AUTH_FILE'] ? [env['REGISTRY_AUTH_FILE']] : []),
    ...(env['XDG_RUNTIME_DIR'] ? [join(env['XDG_RUNTIME_DIR'], 'containers', 'auth.json')] : []),
    join(home, '.config', 'containers', 'auth.json'),
  ];
  return async (registry) => {
    const host = DOCKER_HUB_ALIASES.has(registry) ? 'index.docker.io' : registry;
    const serverUrl = host === 'index.docker.io' ? 'https://index.docker.io/v1/' : host;
    const problems: string[] = [];
    for (const file of files) {
      let config: AuthFile;
      try {
        config = JSON.parse(await readFile(file, 'utf8')) as AuthFile;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          problems.push(`cannot read ${file}: ${errorText(e)}`);
        }
        continue;
      }
      const helper = config.credHelpers?.[host] ?? config.credsStore;
      if (typeof helper === 'string' && helper !== '') {
        const r = await runCredentialHelper(helper, serverUrl, env, options.helperTimeoutMs);
        if (r && 'username' in r) return r;
        if (r) problems.push(`${r.problem} (configured in ${file})`);
      }
      const entry = Object.entries(config.auths ?? {}).find(([k]) => authKeyHost(k) === host)?.[1];
      if (!entry) continue;
      if (typeof entry.auth === 'string' && entry.auth !== '') {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) {
          return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
        }
        problems.push(`the "auth" of ${host} in ${file} is not base64 of user:password`);
      } else if (typeof entry.username === 'string' && typeof entry.password === 'string') {
        return { username: entry.username, password: entry.password };
      } else if (typeof entry.identitytoken === 'string') {
        problems.push(`${file} holds an identity token for ${host}, which kbuild does not support`);
      }
    }
    return problems.length > 0 ? { problem: problems.join('; ') } : undefined;
  };
}

/** The host of an `auths` key: `https://host/v1/` and `host` are the host; `host/ns` is not. */
function authKeyHost(key: string): string | undefined {
  const m = /^(?:https?:\/\/)?([^/]+)(\/.*)?$/.exec(key);
  if (!m) return undefined;
  // A path without a scheme is podman's per-namespace entry: not for the whole host.
  if (m[2] && m[2] !== '/' && !/^https?:\/\//.test(key)) return undefined;
  return m[1];
}

/** `docker-credential-<name> get` with the server URL on stdin (the docker helper protocol). */
function runCredentialHelper(
  name: string,
  serverUrl: string,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs = 30_000,
): Promise<CredentialLookup> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(program, ['get'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.on('error', (e: NodeJS.ErrnoException) =>
      resolve({
        problem:
          e.code === 'ENOENT'
            ? `credential helper ${program} is not installed (not on PATH)`
            : `credential helper ${program} failed to start: ${e.message}`,
      }),
    );
    child.on('close', (code, signal) => {
      if (code === 0) {
        const json = (() => {
          try {
            return JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
          } catch {
            return null;
          }
        })();
        if (typeof json?.Username !== 'string' || typeof json.Secret !== 'string') {
          resolve({ problem: `credential helper ${program} printed no credentials` });
        } else if (json.Username === '<token>') {
          resolve({
            problem: `credential helper ${program} gave an identity token, which kbuild does not support`,
          });
        } else {
          resolve({ username: json.Username, password: json.Secret });
        }
        return;
      }
      const said = `${stdout} ${stderr}`.replace(/\s+/g, ' ').trim();
      if (/credentials not found/i.test(said)) resolve(undefined);
      else
        resolve({
          problem: `credential helper ${program} failed (${signal ?? `exit ${code}`})${said ? `: ${said.slice(0, MAX_DETAIL)}` : ''}`,
        });
    });
    child.stdin.end(serverUrl);
  });
}
