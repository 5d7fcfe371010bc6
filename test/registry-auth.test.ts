/**
 * The registry client against a scripted server, for what a reference registry does not do on
 * demand: 5xx, 429 and connection resets retried, attempts timed out, Basic and Bearer
 * authentication with no secret in any message, Link pagination, a missing digest header. And
 * the credentials read from docker's and podman's files, and the headers parsed. The client
 * against the real registry on 127.0.0.1:5000 is in registry-manifests.test.ts.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../src/core/model.js';
import {
  createRegistryClient,
  credentialsFromConfigFiles,
  MEDIA_TYPES,
  parseChallenges,
  retryAfterMs,
  sha256Digest,
} from '../src/adapters/registry/index.js';
import type { RegistryFailure } from '../src/run/ports.js';
import { reply, startScriptedServer, type ScriptedServer } from './helpers/registry-server.js';
import { bytes, failure, fakeSleep, urlOf, value } from './helpers/registry-calls.js';

describe('retries and authentication (scripted server)', () => {
  const user = 'alice';
  const password = 'pa55-Secret!';
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const token = 'tok-9f8e7d6c5b4a';
  const manifestBody =
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}';
  const digest = sha256Digest(bytes(manifestBody));
  const secretTexts = [password, basic.slice(6), token];
  const counts = new Map<string, number>();
  let server: ScriptedServer;
  let tokenAnswer = (auth: string | undefined) =>
    auth === basic || auth === undefined
      ? { status: 200, body: JSON.stringify({ token, expires_in: 300 }) }
      : { status: 401, body: `{"details":"bad credentials ${auth}"}` };

  const manifestOk = (
    res: Parameters<Parameters<typeof startScriptedServer>[0]>[1],
    method: string,
  ) =>
    reply(
      res,
      200,
      {
        'Content-Type': MEDIA_TYPES.ociIndex,
        'Docker-Content-Digest': digest,
        ...(method === 'HEAD' ? { 'Content-Length': String(manifestBody.length) } : {}),
      },
      method === 'HEAD' ? undefined : manifestBody,
    );

  beforeAll(async () => {
    server = await startScriptedServer((req, res, raw) => {
      const path = req.url.split('?')[0]!;
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const repo = /^\/v2\/([^/]+)\//.exec(path)?.[1];
      const challengeBearer = () =>
        reply(
          res,
          401,
          {
            'WWW-Authenticate': `Bearer realm="http://${server.host}/token",service="scripted",scope="repository:${repo}/img:pull"`,
            'Content-Type': 'application/json',
          },
          JSON.stringify({
            errors: [
              { code: 'UNAUTHORIZED', message: `you sent ${req.authorization ?? 'nothing'}` },
            ],
          }),
        );
      switch (repo ?? '') {
        case 'flaky':
          return n <= 2 ? reply(res, 503, {}, 'try later') : manifestOk(res, req.method);
        case 'down':
          return reply(
            res,
            503,
            { 'Content-Type': 'application/json' },
            '{"errors":[{"code":"UNAVAILABLE","message":"maintenance"}]}',
          );
        case 'busy':
          return n === 1 ? reply(res, 429, { 'Retry-After': '1' }) : manifestOk(res, req.method);
        case 'busydate':
          return n === 1
            ? reply(res, 429, { 'Retry-After': new Date(Date.now() + 3000).toUTCString() })
            : manifestOk(res, req.method);
        case 'busylong':
          return reply(res, 429, { 'Retry-After': '3600' });
        case 'reset':
          if (n === 1) return void raw.socket.destroy();
          return manifestOk(res, req.method);
        case 'slow':
          return; // never answers
        case 'basic':
          if (req.authorization === basic) return manifestOk(res, req.method);
          return reply(
            res,
            401,
            { 'WWW-Authenticate': 'Basic realm="scripted"' },
            `{"errors":[{"code":"UNAUTHORIZED","message":"bad ${req.authorization ?? 'none'}"}]}`,
          );
        case 'bearer':
        case 'bearer2':
          if (req.authorization === `Bearer ${token}`) {
            if (req.method === 'POST') return reply(res, 201, { Location: '/v2/x' });
            return manifestOk(res, req.method);
          }
          return challengeBearer();
        case 'stingy': // a token never suffices
          return challengeBearer();
        case 'paged': {
          // Pages of two, as registries that honour n= do; the first Link is relative,
          // the second absolute.
          const all = ['a', 'b', 'c', 'd', 'e'];
          const q = new URL(req.url, 'http://x').searchParams;
          const from = q.has('last') ? all.indexOf(q.get('last')!) + 1 : 0;
          const page = all.slice(from, from + Number(q.get('n') ?? 100));
          const last = page.at(-1);
          const next =
            from + page.length >= all.length
              ? undefined
              : from === 0
                ? `</v2/paged/img/tags/list?n=2&last=${last}>; rel="next"`
                : `<http://${server.host}/v2/paged/img/tags/list?n=2&last=${last}>; rel="next"`;
          return reply(
            res,
            200,
            { 'Content-Type': 'application/json', ...(next ? { Link: next } : {}) },
            JSON.stringify({ name: 'paged/img', tags: page }),
          );
        }
        case 'nodigest':
          return reply(
            res,
            200,
            { 'Content-Type': MEDIA_TYPES.ociIndex },
            req.method === 'HEAD' ? undefined : manifestBody,
          );
        default:
          if (path === '/token') {
            const a = tokenAnswer(req.authorization);
            return reply(res, a.status, { 'Content-Type': 'application/json' }, a.body);
          }
          return reply(res, 404);
      }
    });
  });
  afterAll(() => server.close());

  const ref = (repository: string) => ({
    registry: server.host,
    repository: `${repository}/img`,
    reference: 'latest',
  });
  const noSecrets = (f: RegistryFailure) => {
    for (const s of secretTexts) expect(f.message).not.toContain(s);
  };

  it('503 twice, then 200: retried with backoff', async () => {
    const { sleeps, sleep } = fakeSleep();
    const c = createRegistryClient({ sleep });
    expect(value(await c.headManifest(ref('flaky')))).toEqual({
      digest,
      mediaType: MEDIA_TYPES.ociIndex,
    });
    expect(counts.get('/v2/flaky/img/manifests/latest')).toBe(3);
    expect(sleeps).toEqual([500, 1000]);
  });

  it('503 every time: a transient http-error after 1 + retries attempts', async () => {
    const { sleeps, sleep } = fakeSleep();
    const c = createRegistryClient({ sleep, retries: 3 });
    expect(failure(await c.getManifest(ref('down')))).toEqual({
      reason: 'http-error',
      status: 503,
      transient: true,
      message: `GET http://${server.host}/v2/down/img/manifests/latest: 503 Service Unavailable: UNAVAILABLE maintenance`,
    });
    expect(counts.get('/v2/down/img/manifests/latest')).toBe(4);
    expect(sleeps).toEqual([500, 1000, 2000]);
  });

  it('429 with Retry-After: 1 waits 1000 ms; an HTTP date is honoured too', async () => {
    const { sleeps, sleep } = fakeSleep();
    const c = createRegistryClient({ sleep });
    expect(value(await c.getManifest(ref('busy'))).digest).toBe(digest);
    expect(sleeps).toEqual([1000]);
    expect(value(await c.getManifest(ref('busydate'))).digest).toBe(digest);
    expect(sleeps[1]).toBeGreaterThan(1000);
    expect(sleeps[1]).toBeLessThanOrEqual(3000);
  });

  it('429 asking for an hour is reported, not waited for', async () => {
    const { sleeps, sleep } = fakeSleep();
    const c = createRegistryClient({ sleep });
    expect(failure(await c.headManifest(ref('busylong')))).toMatchObject({
      reason: 'http-error',
      status: 429,
      transient: true,
    });
    expect(sleeps).toEqual([]);
  });

  it('a connection reset once, then 200: retried', async () => {
    const { sleeps, sleep } = fakeSleep();
    const c = createRegistryClient({ sleep });
    expect(value(await c.getManifest(ref('reset'))).digest).toBe(digest);
    expect(counts.get('/v2/reset/img/manifests/latest')).toBe(2);
    expect(sleeps).toEqual([500]);
  });

  it('an attempt that gets no answer in time is retried, then unreachable', async () => {
    const { sleeps, sleep } = fakeSleep();
    const c = createRegistryClient({ sleep, retries: 1, timeoutMs: 150 });
    expect(failure(await c.headManifest(ref('slow')))).toEqual({
      reason: 'unreachable',
      transient: true,
      message: `HEAD http://${server.host}/v2/slow/img/manifests/latest: no answer within 150 ms (after 2 attempts)`,
    });
    expect(sleeps).toEqual([500]);
  });

  it("the caller's signal stops a retry loop: aborted", async () => {
    const controller = new AbortController();
    const c = createRegistryClient({
      sleep: () => (controller.abort(), Promise.resolve()),
    });
    expect(failure(await c.getManifest(ref('down'), controller.signal))).toEqual({
      reason: 'aborted',
      message: `GET http://${server.host}/v2/down/img/manifests/latest: aborted`,
    });
  });

  it('Basic challenge: retried with the credentials, then sent up front', async () => {
    const asked: string[] = [];
    const c = createRegistryClient({
      credentials: (r) => (asked.push(r), Promise.resolve({ username: user, password })),
    });
    const before = server.seen.length;
    expect(value(await c.headManifest(ref('basic'))).digest).toBe(digest);
    expect(value(await c.getManifest(ref('basic'))).digest).toBe(digest);
    expect(server.seen.slice(before).map((s) => [s.method, s.authorization])).toEqual([
      ['HEAD', undefined],
      ['HEAD', basic],
      ['GET', basic],
    ]);
    expect(asked).toEqual([server.host]);
  });

  it('Basic challenge: refused or missing credentials are unauthorized, with no secret in the message', async () => {
    const wrong = createRegistryClient({
      credentials: () => Promise.resolve({ username: user, password: `${password}x` }),
    });
    const f = failure(await wrong.getManifest(ref('basic')));
    expect(f).toEqual({
      reason: 'unauthorized',
      message: `GET http://${server.host}/v2/basic/img/manifests/latest: 401 Unauthorized: the registry refused the credentials for ${server.host}: check them with \`docker login ${server.host}\``,
    });
    noSecrets(f);

    const none = createRegistryClient({
      credentials: () =>
        Promise.resolve({
          problem: 'credential helper docker-credential-pass is not installed (not on PATH)',
        }),
    });
    const before = server.seen.length;
    const g = failure(await none.headManifest(ref('basic')));
    expect(g).toEqual({
      reason: 'unauthorized',
      message: `HEAD http://${server.host}/v2/basic/img/manifests/latest: 401 Unauthorized: no credentials for ${server.host} (credential helper docker-credential-pass is not installed (not on PATH)): run \`docker login ${server.host}\` or \`podman login ${server.host}\``,
    });
    expect(server.seen.length - before).toBe(1);
  });

  it('Bearer challenge: a token from the realm (with basic credentials), cached per scope', async () => {
    const c = createRegistryClient({
      credentials: () => Promise.resolve({ username: user, password }),
    });
    const before = server.seen.length;
    expect(value(await c.getManifest(ref('bearer'))).digest).toBe(digest);
    expect(value(await c.getManifest(ref('bearer'))).digest).toBe(digest);
    expect(value(await c.headManifest(ref('bearer'))).digest).toBe(digest);
    expect(
      server.seen.slice(before).map((s) => `${s.method} ${s.url} ${s.authorization ?? '-'}`),
    ).toEqual([
      'GET /v2/bearer/img/manifests/latest -',
      `GET /token?service=scripted&scope=repository%3Abearer%2Fimg%3Apull ${basic}`,
      `GET /v2/bearer/img/manifests/latest Bearer ${token}`,
      `GET /v2/bearer/img/manifests/latest Bearer ${token}`,
      `HEAD /v2/bearer/img/manifests/latest Bearer ${token}`,
    ]);
  });

  it('Bearer: an https registry naming a plain-http realm gets no password in clear', async () => {
    const c = createRegistryClient({
      credentials: () => Promise.resolve({ username: user, password }),
      scheme: () => 'https',
      // The scripted server speaks http only: the registry's https URLs are rewritten.
      fetch: (input, init) => fetch(urlOf(input).replace(/^https:/, 'http:'), init),
    });
    const before = server.seen.length;
    expect(value(await c.getManifest(ref('bearer'))).digest).toBe(digest);
    expect(server.seen.slice(before).map((s) => s.authorization ?? '-')).toEqual([
      '-',
      '-',
      `Bearer ${token}`,
    ]);
  });

  it('Bearer: anonymous token when there are no credentials; a mount asks for the source scope too', async () => {
    const c = createRegistryClient({ credentials: () => Promise.resolve(undefined) });
    const before = server.seen.length;
    const layer = `sha256:${'3'.repeat(64)}` as Digest;
    expect(value(await c.mountBlob(server.host, 'bearer2/img', layer, 'base/img'))).toBe(true);
    expect(
      server.seen.slice(before).map((s) => `${s.method} ${s.url} ${s.authorization ?? '-'}`),
    ).toEqual([
      `POST /v2/bearer2/img/blobs/uploads/?mount=${encodeURIComponent(layer)}&from=base%2Fimg -`,
      'GET /token?service=scripted&scope=repository%3Abearer2%2Fimg%3Apull&scope=repository%3Abase%2Fimg%3Apull -',
      `POST /v2/bearer2/img/blobs/uploads/?mount=${encodeURIComponent(layer)}&from=base%2Fimg Bearer ${token}`,
    ]);
  });

  it('Bearer: a refused token request or an insufficient token is unauthorized, secrets redacted', async () => {
    const saved = tokenAnswer;
    tokenAnswer = (auth) => ({ status: 401, body: `{"details":"bad credentials ${auth}"}` });
    try {
      const c = createRegistryClient({
        credentials: () => Promise.resolve({ username: user, password }),
      });
      const f = failure(await c.getManifest(ref('bearer')));
      expect(f).toEqual({
        reason: 'unauthorized',
        message: `GET http://${server.host}/token?service=scripted&scope=repository%3Abearer%2Fimg%3Apull: 401 Unauthorized: the token service refused the credentials for ${server.host}: check them with \`docker login ${server.host}\``,
      });
      noSecrets(f);
    } finally {
      tokenAnswer = saved;
    }
    // The registry echoes the bearer token in its error body: redacted.
    const c = createRegistryClient({
      credentials: () => Promise.resolve({ username: user, password }),
    });
    const f = failure(
      await c.putManifest(ref('stingy'), {
        mediaType: MEDIA_TYPES.ociIndex,
        body: bytes(manifestBody),
      }),
    );
    expect(f.reason).toBe('unauthorized');
    expect(f.message).toBe(
      `PUT http://${server.host}/v2/stingy/img/manifests/latest: 401 Unauthorized: the registry refused the credentials for ${server.host}: check them with \`docker login ${server.host}\``,
    );
    noSecrets(f);
  });

  it('listTags follows Link rel="next" pagination (relative and absolute links)', async () => {
    const c = createRegistryClient({ tagPageSize: 2 });
    const before = server.seen.length;
    expect(value(await c.listTags(server.host, 'paged/img'))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(server.seen.slice(before).map((s) => s.url)).toEqual([
      '/v2/paged/img/tags/list?n=2',
      '/v2/paged/img/tags/list?n=2&last=b',
      '/v2/paged/img/tags/list?n=2&last=d',
    ]);
  });

  it('without Docker-Content-Digest, the digest is the sha256 of the body (HEAD falls back to GET)', async () => {
    const c = createRegistryClient();
    const before = server.seen.length;
    expect(value(await c.headManifest(ref('nodigest')))).toEqual({
      digest,
      mediaType: MEDIA_TYPES.ociIndex,
    });
    expect(server.seen.slice(before).map((s) => s.method)).toEqual(['HEAD', 'GET']);
  });
});

// ---------------------------------------------------------------------------

describe('credentials from docker and podman files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kbuild-regcreds-'));
  const auth = (u: string, p: string) => Buffer.from(`${u}:${p}`).toString('base64');
  const write = (path: string, json: unknown) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, JSON.stringify(json));
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('docker config.json auths (any key form), then podman auth.json', async () => {
    const home = join(dir, 'home1');
    const xdg = join(dir, 'run1');
    write(join(home, '.docker', 'config.json'), {
      auths: {
        'https://reg.example:5000/v1/': { auth: auth('d', 'docker-pw') },
        'https://index.docker.io/v1/': { auth: auth('hub', 'hub:pw') },
        'other.example/team': { auth: auth('x', 'namespaced') },
      },
    });
    write(join(xdg, 'containers', 'auth.json'), {
      auths: { 'other.example': { auth: auth('p', 'podman-pw') } },
    });
    const read = credentialsFromConfigFiles({ env: { XDG_RUNTIME_DIR: xdg }, home });
    expect(await read('reg.example:5000')).toEqual({ username: 'd', password: 'docker-pw' });
    expect(await read('docker.io')).toEqual({ username: 'hub', password: 'hub:pw' });
    expect(await read('other.example')).toEqual({ username: 'p', password: 'podman-pw' });
    expect(await read('nowhere.example')).toBeUndefined();
  });

  it('a credential helper (credsStore) is run; a missing one is a problem, not an error', async () => {
    const home = join(dir, 'home2');
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-kbtest');
    writeFileSync(
      helper,
      '#!/bin/sh\nread host\nif [ "$1" = get ] && [ "$host" = reg.example ]; then\n' +
        '  echo \'{"ServerURL":"reg.example","Username":"h","Secret":"helper-pw"}\'\n' +
        'else\n  echo "credentials not found in native keychain"; exit 1\nfi\n',
    );
    chmodSync(helper, 0o755);
    const config = join(dir, 'dockercfg');
    write(join(config, 'config.json'), { auths: { 'reg.example': {} }, credsStore: 'kbtest' });
    const read = credentialsFromConfigFiles({
      env: { DOCKER_CONFIG: config, PATH: `${bin}:/usr/bin:/bin` },
      home,
    });
    expect(await read('reg.example')).toEqual({ username: 'h', password: 'helper-pw' });
    expect(await read('elsewhere.example')).toBeUndefined();

    write(join(config, 'config.json'), { credHelpers: { 'reg.example': 'nosuch' } });
    expect(await read('reg.example')).toEqual({
      problem: `credential helper docker-credential-nosuch is not installed (not on PATH) (configured in ${join(config, 'config.json')})`,
    });
  });
});

describe('header parsing', () => {
  it('parses WWW-Authenticate challenges, quoted commas included', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example/token',
          service: 'reg',
          scope: 'repository:a/b:pull,push',
        },
      },
    ]);
    expect(parseChallenges('Basic realm="x y", Bearer realm=http://t/ ')).toEqual([
      { scheme: 'basic', params: { realm: 'x y' } },
      { scheme: 'bearer', params: { realm: 'http://t/' } },
    ]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});
