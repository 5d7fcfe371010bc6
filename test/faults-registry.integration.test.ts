/**
 * Registry faults, for real: the bb family's bb-base ─ bb-lib ─ bb-app3, built once on the real
 * engine, pushed by the compiled CLI to a real Docker Distribution behind a fault proxy
 * (test/helpers/fault-proxy.ts), one fresh registry per case. Each case checks the exit code,
 * the summary (--summary-json), what the registry itself holds (asked directly, not through the
 * proxy) and that the state file is whole and names as pushed to the registry only what the
 * registry holds.
 *
 * Who retries what: dockerd retries a layer upload itself (after 5 s) on a 5xx or a dropped
 * connection; it gives up at once on a 429 and on any failure of the manifest PUT, and kbuild's
 * --push-retries take over (the engine's output does not carry Retry-After: kbuild's backoff,
 * 1 s, 2 s, 4 s, ..., is what waits). dockerd has no response timeout: --push-timeout is the
 * bound on a registry that stops answering. kbuild's own registry client (promote, the shared
 * tags of --publish atomic) retries 5xx, 429 (after its Retry-After) and resets itself; a
 * monolithic blob upload cut midway starts again in a new upload session.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGES, faultWorld, type Pushed, type Target } from './helpers/fault-world.js';
import { requireHost } from './helpers/host.js';

const w = faultWorld();
const { ns, tag } = w;
/** A blob upload's opening POST (not a cross-repository mount, which has a query). */
const UPLOAD_POST = new RegExp(`^/v2/${ns}/[^/]+/blobs/uploads/$`);
const upload = (n: string) => new RegExp(`^/v2/${ns}/${n}/blobs/uploads/[^?]+\\?`);
const manifest = (n: string, reference = '') =>
  new RegExp(`^/v2/${ns}/${n}/manifests/${reference}`);
const TOO_MANY = JSON.stringify({
  errors: [{ code: 'TOOMANYREQUESTS', message: 'rate limit exceeded, try again later' }],
});

/** Every image pushed, each one's shared tag naming its digest in the registry. */
async function expectAllPublished(t: Target, r: Pushed) {
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.summary.ok).toBe(true);
  for (const n of IMAGES) {
    expect(r.images[n]!.status, n).toBe('pushed');
    expect(await w.digest(t, n, tag), n).toBe(r.images[n]!.digest);
  }
  expectStateWhole(t, r);
}

/**
 * The state parses; an image is recorded as pushed to this case's registry exactly when the run
 * pushed it, with the digest the registry holds.
 */
function expectStateWhole(t: Target, r: Pushed) {
  const state = w.state();
  for (const n of IMAGES) {
    const st = state[n];
    const image = r.images[n]!;
    if (image.status === 'pushed') {
      expect(st, n).toMatchObject({ registry: t.proxy.host, digest: image.digest });
    } else {
      expect(st?.registry, n).not.toBe(t.proxy.host);
    }
  }
}

/** Every digest the state records for this case's registry is a manifest the registry has. */
async function expectStateInRegistry(t: Target) {
  for (const [n, st] of Object.entries(w.state())) {
    if (st.registry === t.proxy.host) expect(await w.digest(t, n, st.digest!), n).toBe(st.digest);
  }
}

/** A registry holding the whole family under `tag` (the first case's): promote's source. */
let published: Target | undefined;
async function source(): Promise<Target> {
  if (published) return published;
  const t = await w.target();
  await expectAllPublished(t, await w.push(t));
  return (published = t);
}

const logOf = (r: Pushed, n: string) => r.images[n]!.log ?? '';
const logText = (r: Pushed, n: string) => {
  const log = logOf(r, n);
  return log ? readFileSync(log, 'utf8') : '';
};

beforeAll(async () => {
  requireHost();
  await w.buildOnce();
}, 120_000);
afterAll(() => w.stopAll());

describe('a push through a faulty registry', () => {
  it('500 on the first blob upload: retried, every image published (exit 0)', async () => {
    const t = await w.target([
      { method: 'POST', path: UPLOAD_POST, times: 1, fault: { kind: 'status', status: 500 } },
    ]);
    const r = await w.push(t);
    await expectAllPublished(t, r);
    await expectStateInRegistry(t);
    const posts = t.proxy.matching('POST', UPLOAD_POST);
    expect(posts[0]!.fault).toBe('status 500');
    expect(posts.slice(1).every((p) => p.status === 202)).toBe(true);
    published = t;
  });

  it('429 with Retry-After: waits, then pushes (exit 0)', async () => {
    const t = await w.target([
      {
        method: 'POST',
        path: UPLOAD_POST,
        times: 1,
        fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' }, body: TOO_MANY },
      },
    ]);
    // One push at a time: the engine's next ping (GET /v2/) after the 429 is the retry's.
    const r = await w.push(t, '--push-threads', '1');
    await expectAllPublished(t, r);
    const i = t.proxy.seen.findIndex((s) => s.fault === 'status 429');
    const limited = t.proxy.seen[i]!;
    const name = limited.path.split('/')[3]!;
    expect(logText(r, name)).toMatch(/pushing \S+ \(attempt 2\)/);
    const retry = t.proxy.seen.slice(i + 1).find((s) => s.path === '/v2/');
    expect(retry!.at - limited.at).toBeGreaterThanOrEqual(1000);
  });

  it('a connection reset mid-transfer (layer and manifest): retried, every image published (exit 0)', async () => {
    const t = await w.target([
      // busybox's layer (about 1 MB) is the one upload of more than 100 kB.
      {
        method: 'PATCH',
        path: upload('bb-base'),
        times: 1,
        fault: { kind: 'reset', afterBytes: 100_000 },
      },
      { method: 'PUT', path: manifest('bb-base'), times: 1, fault: { kind: 'reset' } },
    ]);
    const r = await w.push(t);
    await expectAllPublished(t, r);
    const patches = t.proxy.matching('PATCH', upload('bb-base'));
    const cut = t.proxy.seen.indexOf(patches.find((p) => p.fault === 'reset after 100000')!);
    expect(t.proxy.seen[cut]!.forwardedBytes).toBe(100_000);
    // dockerd uploaded the layer again, whole, in a new session (of bb-base, or of bb-lib pushed
    // meanwhile, which bb-base's retry then mounts).
    const again = t.proxy.seen.slice(cut + 1).filter((p) => p.method === 'PATCH');
    expect(again.some((p) => p.status === 202 && p.forwardedBytes > 1_000_000)).toBe(true);
    expect(logText(r, 'bb-base')).toMatch(/pushing \S+ \(attempt 2\)/);
  });
});

describe('a registry that stops answering or goes away', () => {
  it('stalls on a layer upload: the push attempt is stopped at --push-timeout, retried, and the run fails with a clear message (exit 1)', async () => {
    const t = await w.target([
      { method: 'PATCH', path: upload('bb-app3'), fault: { kind: 'stall' } },
    ]);
    try {
      const r = await w.push(t, '--push-timeout', '3', '--push-retries', '1');
      expect(r.code, r.stdout + r.stderr).toBe(1);
      // Two attempts of 3 s, the backoff between them, and the rest of the run.
      expect(r.ms).toBeLessThan(25_000);
      expect(r.images['bb-app3']).toMatchObject({ status: 'failed', reason: 'push-failed' });
      expect(r.images['bb-app3']!.message).toMatch(/did not finish within 3 s \(--push-timeout\)/);
      expect(r.stdout).toMatch(/bb-app3\s+failed\s+push-failed/);
      for (const n of ['bb-base', 'bb-lib']) {
        expect(r.images[n]!.status, n).toBe('pushed');
        expect(await w.digest(t, n, tag), n).toBe(r.images[n]!.digest);
      }
      expect(await w.tags(t, 'bb-app3')).toEqual([]);
      expect(t.proxy.seen.filter((s) => s.fault === 'stall').length).toBe(2);
      expectStateWhole(t, r);
      await expectStateInRegistry(t);
    } finally {
      t.proxy.release();
    }
  });

  it('goes away in the middle of a chunked layer upload (PATCH) and comes back: pushed (exit 0)', async () => {
    const t = await w.target([
      {
        method: 'PATCH',
        path: upload('bb-base'),
        times: 1,
        fault: { kind: 'reset', afterBytes: 300_000, downMs: 2000 },
      },
    ]);
    // One push at a time: a push that starts while nothing listens fails at once (a refused
    // connection is not retried); the upload that was cut is retried by dockerd (after 5 s).
    const r = await w.push(t, '--push-threads', '1');
    await expectAllPublished(t, r);
    await expectStateInRegistry(t);
    expect(t.proxy.seen.filter((s) => s.fault === 'reset after 300000').length).toBe(1);
    expect(logText(r, 'bb-base')).not.toMatch(/attempt 2/);
  });
});

describe('a registry that keeps failing', () => {
  const persistent500 = () => [
    { method: 'PUT', path: manifest('bb-app3'), fault: { kind: 'status' as const, status: 500 } },
  ];
  const DENIED = JSON.stringify({
    errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }],
  });

  it('eager: an image whose push keeps getting 500 fails after its retries, one refused (403) after one attempt; the other is published (exit 1)', async () => {
    const t = await w.target([
      ...persistent500(),
      {
        method: 'PUT',
        path: manifest('bb-lib'),
        fault: { kind: 'status', status: 403, body: DENIED },
      },
    ]);
    const r = await w.push(t, '--push-retries', '1');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.summary.ok).toBe(false);
    expect(r.images['bb-app3']).toMatchObject({ status: 'failed', reason: 'push-failed' });
    expect(r.images['bb-app3']!.message).toMatch(/500 Internal Server Error/);
    expect(t.proxy.matching('PUT', manifest('bb-app3')).length).toBe(2);
    expect(r.images['bb-lib']).toMatchObject({ status: 'failed', reason: 'push-failed' });
    expect(r.images['bb-lib']!.message).toMatch(/denied/);
    expect(t.proxy.matching('PUT', manifest('bb-lib')).length).toBe(1);
    expect(r.stdout).toMatch(/bb-app3\s+failed\s+push-failed: .*500 Internal Server Error/);
    expect(r.images['bb-base']!.status).toBe('pushed');
    expect(await w.tags(t, 'bb-base')).toContain(tag);
    expect(await w.digest(t, 'bb-base', tag)).toBe(r.images['bb-base']!.digest);
    for (const n of ['bb-lib', 'bb-app3']) expect(await w.tags(t, n), n).toEqual([]);
    expectStateWhole(t, r);
    await expectStateInRegistry(t);
  });

  it('atomic: nothing published, no shared tag in the registry; what did push is there under its fp tag (exit 1)', async () => {
    const t = await w.target(persistent500());
    const r = await w.push(t, '--push-retries', '1', '--publish', 'atomic');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.images['bb-app3']).toMatchObject({ status: 'failed', reason: 'push-failed' });
    expect(r.summary.publish).toMatchObject({ published: false, moved: [] });
    for (const n of IMAGES) expect(await w.tags(t, n), n).not.toContain(tag);
    for (const n of ['bb-base', 'bb-lib']) {
      const tags = await w.tags(t, n);
      expect(tags, n).toHaveLength(1);
      expect(tags[0], n).toMatch(/^fp-/);
      expect(await w.digest(t, n, tags[0]!), n).toBe(r.images[n]!.digest);
    }
    expect(await w.tags(t, 'bb-app3')).toEqual([]);
    expectStateWhole(t, r);
    await expectStateInRegistry(t);
  });
});

describe("kbuild's own registry client", () => {
  it('atomic: a 429 with Retry-After on a shared tag move is waited out, then the set is published (exit 0)', async () => {
    const t = await w.target([
      {
        method: 'PUT',
        path: manifest('bb-base', `${tag}$`),
        times: 1,
        fault: { kind: 'status', status: 429, headers: { 'Retry-After': '2' }, body: TOO_MANY },
      },
    ]);
    const r = await w.push(t, '--publish', 'atomic');
    await expectAllPublished(t, r);
    expect(r.summary.publish).toMatchObject({ published: true });
    const puts = t.proxy.matching('PUT', manifest('bb-base', `${tag}$`));
    expect(puts.map((p) => p.fault ?? p.status)).toEqual(['status 429', 201]);
    expect(puts[1]!.at - puts[0]!.at).toBeGreaterThanOrEqual(2000);
  });

  const promote = (from: Target, to: Target) =>
    w.run([
      'promote',
      '-p',
      'bb',
      'bb-app3',
      '--namespace',
      ns,
      '--registry',
      from.registry.host,
      '--from',
      tag,
      '--to',
      'promoted',
      '--to-registry',
      to.proxy.host,
      '--json',
    ]);

  it('promote: the registry goes away in the middle of a monolithic blob upload (PUT) once: the blob is uploaded again, every image promoted (exit 0)', async () => {
    const from = await source();
    const t = await w.target([
      {
        method: 'PUT',
        path: upload('bb-base'),
        times: 1,
        fault: { kind: 'reset', afterBytes: 100_000 },
      },
    ]);
    const r = await promote(from, t);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
    for (const n of IMAGES) {
      expect(await w.digest(t, n, 'promoted'), n).toBe(await w.digest(from, n, tag));
    }
    expect(t.proxy.seen.filter((s) => s.fault === 'reset after 100000').length).toBe(1);
  });

  it('promote: a registry that cuts every monolithic upload of one image: that image fails with the upload named (exit 1), after a new session per attempt', async () => {
    const t = await w.target([
      { method: 'PUT', path: upload('bb-base'), fault: { kind: 'reset', afterBytes: 100_000 } },
    ]);
    const r = await promote(await source(), t);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      failed: { name: string; message: string }[];
    };
    expect(out).toMatchObject({ ok: false, reason: 'copy-failed' });
    expect(out.failed.map((f) => f.name)).toEqual(['bb-base']);
    expect(out.failed[0]!.message).toMatch(
      /^PUT http:\/\/\S+\/bb-base\/blobs\/uploads\/\S+: .*\(uploaded 4 times, each in a new session\)$/,
    );
    expect(await w.tags(t, 'bb-base')).toEqual([]);
    // The other images do not wait for it (a second run skips what is there).
    for (const n of ['bb-lib', 'bb-app3']) expect(await w.tags(t, n), n).toEqual(['promoted']);
    const cuts = t.proxy.seen.filter((s) => s.fault === 'reset after 100000');
    expect(cuts).toHaveLength(4);
    expect(new Set(cuts.map((c) => c.path.split('?')[0])).size).toBe(4);
  });
});
