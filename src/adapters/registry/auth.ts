/**
 * Authentication as the registry asks for it: a request goes anonymously (or with what worked
 * for the same registry, repository and action before), and a 401 is answered by following its
 * WWW-Authenticate challenge: Basic with the user's credentials, or a Bearer token fetched from
 * the realm it names (cached per registry, credentials and scope until it expires).
 * Every secret seen goes to the redactor, so that no failure message quotes it.
 */
import { err, ok, type Result } from '../../core/model.js';
import type { RegistryFailure } from '../../run/ports.js';
import type { CredentialLookup, RegistryCredentials } from './credentials.js';
import {
  describe,
  errorText,
  httpFailure,
  parseJson,
  type Call,
  type Method,
  type Redactor,
  type Reply,
  type Transport,
} from './transport.js';

/** A request with authentication: up-front when known, else after the 401 challenge. */
export type Send = (call: Call) => Promise<Result<Reply, RegistryFailure>>;

export interface AuthOptions {
  readonly transport: Transport;
  /** Reads credentials for a registry host; asked once per registry, on its first 401. */
  readonly credentials: (registry: string) => Promise<CredentialLookup>;
  readonly scheme: (registry: string) => 'http' | 'https';
  readonly secrets: Redactor;
}

interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

interface CachedToken {
  readonly header: string;
  readonly expiresAt: number;
}

/** A token whose lifetime is unknown lives this long (the token spec's default). */
const DEFAULT_TOKEN_SECONDS = 60;

/** What a method needs a token for: calls alike share the token they were last given. */
const ACTION_OF: Readonly<Record<Method, string>> = {
  GET: 'pull',
  HEAD: 'pull',
  PUT: 'push',
  POST: 'push',
  PATCH: 'push',
  DELETE: 'delete',
};

/** The authenticating layer over the transport; it keeps credentials and tokens in memory. */
export function createAuthenticatedSend(o: AuthOptions): Send {
  const { transport, secrets } = o;
  const redact = secrets.redact;
  const credentialCache = new Map<string, Promise<CredentialLookup>>();
  /** Registries that asked for Basic auth: later requests send it up front. */
  const basicRegistries = new Set<string>();
  /** Token cache key last used for (registry, repository, action): sent up front next time. */
  const scopeMemory = new Map<string, string>();
  const tokens = new Map<string, CachedToken>();

  function credentialsFor(registry: string): Promise<CredentialLookup> {
    let found = credentialCache.get(registry);
    if (!found) {
      found = o.credentials(registry).then(
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

  async function send(call: Call): Promise<Result<Reply, RegistryFailure>> {
    const memoryKey = `${call.registry} ${call.repository} ${ACTION_OF[call.method]}`;
    let auth = await upFrontAuth(call.registry, memoryKey);
    let challenged = false;
    let usedCredentials = false;
    let problem: string | undefined;
    for (;;) {
      const r = await transport(call, auth);
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
    if (creds && realm?.startsWith('http:') && o.scheme(call.registry) === 'https') {
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
    const r = await transport(tokenCall, creds ? `Basic ${basicToken(creds)}` : undefined);
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
    if (reply.status !== 200) return err(httpFailure(tokenCall, reply, redact));
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

  return send;
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
