/**
 * HTTP for the registry client: one request with its time limit (renewed by every chunk of a
 * streamed body), retries of transient failures with backoff or the registry's Retry-After,
 * and the failure an unexpected answer stands for (with the API's error body, redacted).
 * Authentication is not done here (auth.ts): a call goes with the Authorization it is given.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { err, ok, type Result } from '../../core/model.js';
import type { RegistryFailure } from '../../run/ports.js';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface Call {
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
  /**
   * Retries of this call instead of the client's (0: one attempt). A request that sends part of
   * a blob into an upload session is not worth repeating there: after a failure midway the
   * session holds part of its body, and Distribution then cancels it (BLOB_UPLOAD_INVALID).
   */
  readonly retries?: number;
}

export interface Reply {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
  /** The unread body of a successful `stream` call (`body` is then empty). */
  readonly stream?: ReadableStream<Uint8Array>;
}

/** One request with retries of transient failures; any HTTP answer is returned as is. */
export type Transport = (
  call: Call,
  auth: string | undefined,
) => Promise<Result<Reply, RegistryFailure>>;

/** Every secret seen (passwords, basic tokens, bearer tokens): scrubbed from messages. */
export interface Redactor {
  readonly add: (secret: string) => void;
  readonly redact: (text: string) => string;
}

/** A redactor that also hides the user info of any URL (`https://user:pw@host`). */
export function createRedactor(): Redactor {
  const secrets = new Set<string>();
  return {
    add: (secret) => void secrets.add(secret),
    redact: (text) => {
      let out = text.replace(/(\w+:\/\/)[^/@\s]+@/g, '$1***@');
      for (const s of secrets) if (s.length >= 3) out = out.split(s).join('***');
      return out;
    },
  };
}

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Whether a registry name is Docker Hub (it has three). */
export function isDockerHub(registry: string): boolean {
  return DOCKER_HUB_ALIASES.has(registry);
}

/** Host:port the API is served on (Docker Hub's API is not on docker.io itself). */
export function apiHost(registry: string): string {
  return isDockerHub(registry) ? 'registry-1.docker.io' : registry;
}

/** Retry-After values above this are not waited for: the failure is reported instead. */
const MAX_RETRY_AFTER_MS = 60_000;
const BACKOFF_BASE_MS = 500;
/** The longest quote of an error body or a tool's output in a message. */
export const MAX_DETAIL = 300;

/** One HTTP attempt's outcome: an answer, or why there was none. */
type Attempt =
  | { readonly reply: Reply }
  | { readonly aborted: true }
  | { readonly failure: { message: string; transient: boolean } };

export interface TransportOptions {
  readonly fetch: typeof fetch;
  /** Retries after a transient failure. */
  readonly retries: number;
  /** Waits between retries; resolves early when the signal aborts. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Time limit of one attempt, and of each pause in a streamed body. */
  readonly timeoutMs: number;
  readonly redact: (text: string) => string;
}

/** The retrying HTTP layer every registry call goes through. */
export function createTransport(o: TransportOptions): Transport {
  async function attempt(call: Call, auth: string | undefined): Promise<Attempt> {
    if (call.signal?.aborted) return { aborted: true };
    const timeout = idleTimeout(o.timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout.signal]) : timeout.signal;
    const headers: Record<string, string> = { 'User-Agent': 'kbuild', ...call.headers };
    if (auth) headers['Authorization'] = auth;
    try {
      const res = await o.fetch(call.url, {
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
        return { failure: { message: `no answer within ${o.timeoutMs} ms`, transient: true } };
      }
      return { failure: networkFailure(e) };
    }
  }

  return async function withRetries(call, auth) {
    const retries = call.retries ?? o.retries;
    for (let n = 0; ; n++) {
      const a = await attempt(call, auth);
      if ('aborted' in a) return err(aborted(call, o.redact));
      let wait: number;
      if ('failure' in a) {
        if (!a.failure.transient || n >= retries) {
          const tries = n > 0 ? ` (after ${n + 1} attempts)` : '';
          return err({
            reason: 'unreachable',
            message: o.redact(`${call.method} ${call.url}: ${a.failure.message}${tries}`),
            transient: a.failure.transient,
          });
        }
        wait = backoff(n);
      } else {
        const { status, headers } = a.reply;
        if (!isTransientStatus(status) || n >= retries) return ok(a.reply);
        const after = retryWaitMs(headers, n);
        if (after === undefined) return ok(a.reply);
        wait = after;
      }
      await o.sleep(wait, call.signal);
      if (call.signal?.aborted) return err(aborted(call, o.redact));
    }
  };
}

/** `METHOD url: status text`, the start of every message about an answer. */
export function describe(call: Call, reply: Reply): string {
  return `${call.method} ${call.url}: ${reply.status}${reply.statusText ? ` ${reply.statusText}` : ''}`;
}

/** The failure an unexpected answer stands for. */
export function httpFailure(
  call: Call,
  reply: Reply,
  redact: (text: string) => string,
): RegistryFailure {
  const detail = registryErrorText(reply.body);
  const message = redact(`${describe(call, reply)}${detail ? `: ${detail}` : ''}`);
  const { status } = reply;
  if (status === 404) return { reason: 'not-found', message };
  if (status === 405 || status === 415 || status === 501) {
    return { reason: 'unsupported', message };
  }
  return { reason: 'http-error', status, message, transient: isTransientStatus(status) };
}

function aborted(call: Call, redact: (text: string) => string): RegistryFailure {
  return { reason: 'aborted', message: redact(`${call.method} ${call.url}: aborted`) };
}

/**
 * How long to wait before retry `retry + 1` after a transient answer: its Retry-After, else the
 * backoff; undefined when the registry asks for more than a minute (the failure is reported).
 */
export function retryWaitMs(headers: Headers, retry: number): number | undefined {
  const after = retryAfterMs(headers.get('retry-after'), Date.now());
  if (after !== undefined && after > MAX_RETRY_AFTER_MS) return undefined;
  return after ?? backoff(retry);
}

export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

/** 500 ms, 1 s, 2 s, ... capped at 10 s. */
export function backoff(retry: number): number {
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

/** The default `sleep`: a timer that an abort ends early. */
export async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch {
    // Aborted: the caller checks its signal.
  }
}

/**
 * TLS and protocol errors do not go away by retrying, nor does a registry nobody answers for
 * (nothing listens, no route): only resets and timeouts of a connection made are transient.
 */
const PERMANENT_CODES =
  /^(?:ECONNREFUSED$|EHOSTUNREACH$|ENETUNREACH$|ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(?:VERIFY|GET)_|ERR_INVALID_URL|ENOTFOUND$)/;

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

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A JSON body, or null when it is not JSON. */
export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body)) as unknown;
  } catch {
    return null;
  }
}

/** One entry of the API's error body (`{"errors": [{code, message, detail}]}`). */
interface ApiError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
}

function registryErrors(body: Uint8Array): ApiError[] {
  const json = parseJson(body) as { errors?: unknown } | null;
  return Array.isArray(json?.errors) ? (json.errors as ApiError[]) : [];
}

/** The `code` of each error of an API error body, e.g. `MANIFEST_INVALID`. */
export function registryErrorCodes(body: Uint8Array): string[] {
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
