/**
 * The Engine port's contract, run against the fake engine and every real engine this host
 * should have (docker and podman, set up by scripts/setup-host.sh). A missing engine fails its
 * suite with what to do; nothing is skipped silently.
 *
 * Images are tiny (FROM busybox:latest), tags are unique per run, and everything made here is
 * removed at the end (local images and the registry's manifests). How commands are stopped
 * (runCommand) and the fake engine's own controls are in engine-controls.test.ts.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../src/adapters/docker.js';
import { detectEngine } from '../src/adapters/engines.js';
import { createPodmanEngine } from '../src/adapters/podman.js';
import type { BuildRequest, Engine, OpOptions } from '../src/run/ports.js';
import { createFakeEngine } from './helpers/fake-engine.js';

const REGISTRY = '127.0.0.1:5000';
const NOBODY_LISTENS = '127.0.0.1:5999';
const SETUP_HINT =
  'Run `sudo scripts/setup-host.sh` to install and start the engines and the registry.';

/** What the contract needs besides the port: ways to look at the results from outside. */
interface Subject {
  readonly engine: Engine;
  /** Runs a command in a new container of an image (no network); its stdout. */
  run(image: string, cmd: readonly string[]): Promise<string>;
  /** The digest the registry holds for a pushed reference. */
  registryDigest(ref: string): Promise<string | undefined>;
  /** Processes whose command line contains the marker, as `pid cmdline`. */
  leftovers(marker: string): Promise<string[]>;
  /** Containers (running or stopped) whose command contains the marker. */
  containers(marker: string): Promise<string[]>;
  /** Removes local images (and pushed manifests) made by the suite. */
  remove(refs: readonly string[]): Promise<void>;
  /** Removes local references only (the registry keeps what was pushed). */
  forget(refs: readonly string[]): Promise<void>;
}

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** `host/repo:tag` -> the registry's manifest URL. */
function manifestUrl(ref: string, reference?: string): string {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(ref);
  if (!m) throw new Error(`not a registry reference with a tag: ${ref}`);
  return `http://${m[1]!}/v2/${m[2]!}/manifests/${reference ?? m[3]!}`;
}

async function registryHead(ref: string): Promise<string | undefined> {
  const res = await fetch(manifestUrl(ref), {
    method: 'HEAD',
    headers: { Accept: MANIFEST_TYPES },
  });
  return res.ok ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

async function realSubject(
  kind: 'docker' | 'podman',
  clientPath?: string,
  dockerOptions: { legacyBuilder?: boolean } = {},
): Promise<Subject> {
  const engine =
    kind === 'docker'
      ? createDockerEngine({ ...(clientPath ? { client: clientPath } : {}), ...dockerOptions })
      : createPodmanEngine();
  const info = await engine.info();
  if (!info.ok) {
    const why = 'message' in info.error ? info.error.message : info.error.reason;
    throw new Error(`${kind} is not available on this host: ${why}. ${SETUP_HINT}`);
  }
  const base = await engine.inspect(['busybox:latest']);
  if (!base.has('busybox:latest')) {
    throw new Error(`${kind} has no busybox:latest image (the contract's base). ${SETUP_HINT}`);
  }
  const client = info.value.client;
  return {
    engine,
    run: async (image, cmd) =>
      (await execa(client, ['run', '--rm', '--network', 'none', image, ...cmd])).stdout,
    registryDigest: registryHead,
    leftovers: async (marker) => {
      const r = await execa('pgrep', ['-af', marker], { reject: false });
      return r.stdout.split('\n').filter(Boolean);
    },
    containers: async (marker) => {
      const r = await execa(client, [
        'ps',
        '--all',
        '--no-trunc',
        '--format',
        '{{.Names}} {{.Command}}',
      ]);
      return r.stdout.split('\n').filter((l) => l.includes(marker));
    },
    remove: async (refs) => {
      for (const ref of refs.filter((r) => r.startsWith(`${REGISTRY}/`))) {
        const digest = await registryHead(ref).catch(() => undefined);
        if (digest)
          await fetch(manifestUrl(ref, digest), { method: 'DELETE' }).catch(() => undefined);
      }
      if (refs.length) await execa(client, ['rmi', '-f', ...refs], { reject: false });
    },
    forget: async (refs) => {
      await execa(client, ['rmi', ...refs], { reject: false });
    },
  };
}

function fakeSubject(): Subject {
  const engine = createFakeEngine({
    images: { 'busybox:latest': { files: { '/etc/hostname': 'busybox\n' } } },
    unreachableRegistries: [NOBODY_LISTENS],
  });
  return {
    engine,
    run: (image, cmd) => {
      if (cmd[0] !== 'cat' || !cmd[1])
        throw new Error(`the fake can only cat a file, not ${cmd.join(' ')}`);
      const text = engine.readFile(image, cmd[1]);
      if (text === undefined) throw new Error(`${image} has no ${cmd[1]}`);
      return Promise.resolve(text.replace(/\n$/, ''));
    },
    registryDigest: (ref) => Promise.resolve(engine.registryDigest(ref)),
    leftovers: (marker) => Promise.resolve(engine.running().filter((t) => t.includes(marker))),
    containers: (marker) => Promise.resolve(engine.containers().filter((c) => c.includes(marker))),
    remove: (refs) => {
      engine.remove(refs);
      return Promise.resolve();
    },
    forget: (refs) => {
      engine.remove(refs);
      return Promise.resolve();
    },
  };
}

/** Polls until `check` holds or the time is up; answers the last value. */
async function eventually<T>(
  get: () => Promise<T>,
  check: (v: T) => boolean,
  ms: number,
): Promise<T> {
  const until = Date.now() + ms;
  let v = await get();
  while (!check(v) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    v = await get();
  }
  return v;
}

/** The contract every Engine keeps; `setup` makes the engine under test (and may fail the suite). */
function engineContract(name: string, setup: () => Promise<Subject>): void {
  describe(`Engine contract: ${name}`, () => {
    const id = randomBytes(4).toString('hex');
    const marker = `kbct${id}`;
    const repo = `kbuild-contract/${name}-${id}`;
    const created = new Set<string>();
    let subject: Subject | undefined;
    let work = '';

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), `kbuild-contract-${name}-`));
      subject = await setup();
    });
    afterAll(async () => {
      await subject?.remove([...created]);
      if (work) await rm(work, { recursive: true, force: true });
    });

    const s = (): Subject => {
      if (!subject) throw new Error(`${name}: the engine was not set up`);
      return subject;
    };
    const tagged = (t: string) => {
      created.add(t);
      return t;
    };
    async function context(dir: string, dockerfile: string, files: Record<string, string> = {}) {
      const contextDir = join(work, dir);
      await mkdir(contextDir, { recursive: true });
      await writeFile(join(contextDir, 'Dockerfile'), dockerfile);
      for (const [f, text] of Object.entries(files)) await writeFile(join(contextDir, f), text);
      return { contextDir, dockerfile: join(contextDir, 'Dockerfile') };
    }
    const request = (
      ctx: { contextDir: string; dockerfile: string },
      tags: string[],
      more: Partial<BuildRequest> = {},
    ): BuildRequest => ({
      ...ctx,
      tags: tags.map(tagged),
      buildArgs: {},
      labels: {},
      network: 'none',
      pull: false,
      noCache: false,
      ...more,
    });
    const op = (more: Partial<OpOptions> = {}) => {
      const lines: string[] = [];
      return {
        lines,
        op: { signal: new AbortController().signal, log: (l: string) => lines.push(l), ...more },
      };
    };

    // One image, built once, that several cases look at.
    const mainTag = `${repo}:main`;
    const argValue = `arg-${id}`;
    let main: Promise<{ imageId: string; lines: string[] }> | undefined;
    const built = () => {
      main ??= (async () => {
        const ctx = await context(
          'main',
          [
            'FROM busybox:latest',
            'ARG X=unset',
            'COPY hello.txt /hello.txt',
            'RUN echo "$X" > /x && cat /hello.txt',
            '',
          ].join('\n'),
          { 'hello.txt': `hello ${id}\n` },
        );
        const { lines, op: o } = op();
        const r = await s().engine.build(
          request(ctx, [mainTag], {
            buildArgs: { X: argValue },
            labels: { 'io.kbuild.contract': id, 'io.kbuild.other': 'b c' },
          }),
          o,
        );
        if (!r.ok) throw new Error(`build failed: ${JSON.stringify(r.error)}\n${lines.join('\n')}`);
        return { imageId: r.value.imageId, lines };
      })();
      return main;
    };

    it('info() says what the engine is and how it builds', async () => {
      const r = await s().engine.info();
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.kind).toBe(s().engine.kind);
      expect(['buildx', 'buildkit', 'legacy', 'buildah']).toContain(r.value.buildPath);
      expect(r.value.clientVersion).toMatch(/\d/);
      expect(r.value.serverVersion).toMatch(/\d/);
      expect(r.value.platform).toMatch(/^[a-z0-9]+\/[a-z0-9]+/);
      expect(r.value.client).not.toBe('');
    });

    it('build answers the image id that inspect of its tag answers, with the labels passed', async () => {
      const { imageId, lines } = await built();
      expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(lines[0]).toMatch(/^kbuild: building with /);
      // The RUN step's output (cat of the copied file) is in the log.
      expect(lines.some((l) => l.includes(`hello ${id}`))).toBe(true);
      const found = await s().engine.inspect([mainTag]);
      expect(found.get(mainTag)?.id).toBe(imageId);
      expect(found.get(mainTag)?.labels).toMatchObject({
        'io.kbuild.contract': id,
        'io.kbuild.other': 'b c',
      });
    });

    it('build args reach RUN and context files reach COPY', async () => {
      await built();
      expect(await s().run(mainTag, ['cat', '/x'])).toBe(argValue);
      expect(await s().run(mainTag, ['cat', '/hello.txt'])).toBe(`hello ${id}`);
    });

    it('a failing RUN is engine-exit with a non-zero code, and the log has its output', async () => {
      const ctx = await context(
        'fail',
        'FROM busybox:latest\nARG M\nRUN echo "out-$M" && exit 3\n',
      );
      const { lines, op: o } = op();
      const r = await s().engine.build(
        request(ctx, [`${repo}:fail`], { buildArgs: { M: `failing-${id}` } }),
        o,
      );
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error).toMatchObject({ reason: 'engine-exit' });
      expect(r.error.reason === 'engine-exit' && r.error.exitCode).not.toBe(0);
      // The echoed text, not the command line (which has "$M" unexpanded).
      expect(lines.some((l) => l.includes(`out-failing-${id}`))).toBe(true);
    });

    it('a build over its time limit fails with timeout, and leaves no process behind', async () => {
      const m = `${marker}t`;
      const ctx = await context('timeout', `FROM busybox:latest\nARG M\nRUN sleep 60; echo ${m}\n`);
      const { lines, op: o } = op({ timeoutSeconds: 2 });
      const r = await s().engine.build(
        request(ctx, [`${repo}-${m}:t`], { buildArgs: { M: m } }),
        o,
      );
      expect(r).toEqual({ ok: false, error: { reason: 'timeout', seconds: 2 } });
      // RUN sleep 60 did not run to its end: its echo never printed (only the command line has it).
      expect(lines.filter((l) => l.includes(m) && !l.includes('sleep 60'))).toEqual([]);
      // The client (its command line has the marker in tag and build arg) is gone at once.
      const clients = (await s().leftovers(m)).filter((p) => !p.includes('/bin/sh -c'));
      expect(clients, lines.slice(-5).join('\n')).toEqual([]);
      // The RUN step's shell (inside the engine's container) goes away too.
      expect(
        await eventually(
          () => s().leftovers(m),
          (l) => l.length === 0,
          15_000,
        ),
      ).toEqual([]);
    });

    it('aborting a build cancels it and leaves no process behind', async () => {
      const m = `${marker}a`;
      const ctx = await context('abort', `FROM busybox:latest\nARG M\nRUN sleep 60; echo ${m}\n`);
      const controller = new AbortController();
      let seen = false;
      const log = (l: string) => {
        if (!seen && l.includes('sleep 60')) {
          seen = true; // the RUN step started: abort while it runs
          setTimeout(() => controller.abort(), 500);
        }
      };
      const fallback = setTimeout(() => controller.abort(), 10_000);
      const r = await s().engine.build(request(ctx, [`${repo}-${m}:t`], { buildArgs: { M: m } }), {
        signal: controller.signal,
        log,
      });
      clearTimeout(fallback);
      expect(seen).toBe(true);
      expect(r).toEqual({ ok: false, error: { reason: 'cancelled' } });
      const clients = (await s().leftovers(m)).filter((p) => !p.includes('/bin/sh -c'));
      expect(clients).toEqual([]);
      expect(
        await eventually(
          () => s().leftovers(m),
          (l) => l.length === 0,
          15_000,
        ),
      ).toEqual([]);
    });

    it('tag adds references, and one inspect call answers many, some missing', async () => {
      const { imageId } = await built();
      const a = tagged(`${repo}:alias-a`);
      const b = tagged(`${repo}-other:alias-b`);
      expect(await s().engine.tag(mainTag, a)).toEqual({ ok: true, value: undefined });
      expect(await s().engine.tag(mainTag, b)).toEqual({ ok: true, value: undefined });
      const missing1 = `${repo}:missing`;
      const missing2 = `${repo}-absent:x`;
      const found = await s().engine.inspect([
        missing1,
        a,
        mainTag,
        missing2,
        b,
        'busybox:latest',
        a,
      ]);
      expect([...found.keys()].sort()).toEqual([a, b, 'busybox:latest', mainTag].sort());
      for (const ref of [a, b, mainTag]) expect(found.get(ref)?.id).toBe(imageId);
      expect(found.get(a)?.labels['io.kbuild.contract']).toBe(id);
      expect(found.get('busybox:latest')?.id).not.toBe(imageId);
      expect((await s().engine.inspect([missing1, missing2])).size).toBe(0);
      expect((await s().engine.inspect([])).size).toBe(0);
      const bad = await s().engine.tag(`${repo}:missing`, `${repo}:never`);
      expect(bad.ok || bad.error.reason).toBe('engine-exit');
    });

    it('listImages answers the images tagged in the repositories asked, with size and when made', async () => {
      const { imageId } = await built();
      const listRepo = `${repo}-list`;
      const x = tagged(`${listRepo}:x`);
      const y = tagged(`${listRepo}:y`);
      await s().engine.tag(mainTag, y);
      await s().engine.tag(mainTag, x);
      const listed = await s().engine.listImages([listRepo, `${repo}-absent`]);
      expect(listed.ok).toBe(true);
      if (!listed.ok) return;
      expect(listed.value.map((i) => [i.id, i.refs])).toEqual([[imageId, [x, y]]]);
      expect(listed.value[0]!.size).toBeGreaterThan(0);
      expect(Date.parse(listed.value[0]!.madeAt)).toBeGreaterThan(0);
      expect(await s().engine.listImages([`${repo}-absent`])).toEqual({ ok: true, value: [] });
    });

    it('removeImages untags; an image goes with its last tag; an unknown reference fails', async () => {
      const { imageId } = await built();
      const keep = tagged(`${repo}-rm:keep`);
      await s().engine.tag(mainTag, keep);
      expect(await s().engine.removeImages([keep])).toEqual({ ok: true, value: undefined });
      expect((await s().engine.inspect([keep])).size).toBe(0);
      expect((await s().engine.inspect([mainTag])).get(mainTag)?.id).toBe(imageId);

      const ctx = await context('rm', `FROM busybox:latest\nRUN echo ${id} > /only\n`);
      const { op: o } = op();
      const only = await s().engine.build(request(ctx, [`${repo}-rm:only`]), o);
      if (!only.ok) throw new Error(`build failed: ${JSON.stringify(only.error)}`);
      expect(await s().engine.removeImages([`${repo}-rm:only`])).toEqual({
        ok: true,
        value: undefined,
      });
      expect((await s().engine.inspect([only.value.imageId])).size).toBe(0);

      const bad = await s().engine.removeImages([`${repo}-rm:never`]);
      expect(bad.ok || bad.error.reason).toBe('engine-exit');
    });

    it('push answers the digest the registry stores', async () => {
      await built();
      const ref = tagged(`${REGISTRY}/${repo}:pushed`);
      expect((await s().engine.tag(mainTag, ref)).ok).toBe(true);
      const { lines, op: o } = op();
      const r = await s().engine.push(ref, o);
      if (!r.ok)
        throw new Error(
          `push failed: ${JSON.stringify(r.error)}\n${lines.join('\n')}\n${SETUP_HINT}`,
        );
      expect(r.value.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await s().registryDigest(ref)).toBe(r.value.digest);
    });

    it('pull brings a pushed image back under its reference, with the same id', async () => {
      await built();
      const ref = tagged(`${REGISTRY}/${repo}:pulled`);
      expect((await s().engine.tag(mainTag, ref)).ok).toBe(true);
      const before = (await s().engine.inspect([ref])).get(ref)!.id;
      expect((await s().engine.push(ref, op().op)).ok).toBe(true);
      await s().forget([ref]);
      expect((await s().engine.inspect([ref])).has(ref)).toBe(false);
      const { lines, op: o } = op();
      const r = await s().engine.pull(ref, o);
      if (!r.ok)
        throw new Error(
          `pull failed: ${JSON.stringify(r.error)}\n${lines.join('\n')}\n${SETUP_HINT}`,
        );
      expect(r.value.imageId).toBe(before);
      expect((await s().engine.inspect([ref])).get(ref)?.id).toBe(before);
    });

    it('pull of a reference the registry does not have fails', async () => {
      const r = await s().engine.pull(`${REGISTRY}/${repo}:never-pushed`, op().op);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.reason).toBe('pull-failed');
    });

    it('run answers the exit code of a command in the image: 0, and any other', async () => {
      await built();
      const { lines, op: o } = op();
      expect(
        await s().engine.run({ image: mainTag, command: ['cat', '/x'], network: 'none' }, o),
      ).toEqual({ ok: true, value: { exitCode: 0 } });
      expect(lines).toContain(argValue);
      const failing = await s().engine.run(
        { image: mainTag, command: ['sh', '-c', 'cat /hello.txt && exit 3'], network: 'none' },
        op().op,
      );
      expect(failing).toEqual({ ok: true, value: { exitCode: 3 } });
    });

    it("run sends the command's output lines to the log, in order", async () => {
      await built();
      const { lines, op: o } = op();
      const r = await s().engine.run(
        {
          image: mainTag,
          command: ['sh', '-c', `echo first-${id}; echo second-${id}`],
          network: 'none',
        },
        o,
      );
      expect(r).toEqual({ ok: true, value: { exitCode: 0 } });
      expect(lines.filter((l) => l.endsWith(`-${id}`))).toEqual([`first-${id}`, `second-${id}`]);
    });

    it("run with an entrypoint runs the command with that program instead of the image's entrypoint", async () => {
      const ctx = await context('entrypoint', 'FROM busybox:latest\nENTRYPOINT ["false"]\n');
      const tag = `${repo}:entrypoint`;
      const b = await s().engine.build(request(ctx, [tag]), op().op);
      expect(b.ok).toBe(true);
      const script = ['-c', `echo via-sh-${id}; exit 4`];
      // The image's own entrypoint (false) ignores the command.
      const { lines: own, op: o1 } = op();
      const r1 = await s().engine.run({ image: tag, command: script, network: 'none' }, o1);
      expect(r1).toEqual({ ok: true, value: { exitCode: 1 } });
      expect(own).not.toContain(`via-sh-${id}`);
      const { lines, op: o2 } = op();
      const r2 = await s().engine.run(
        { image: tag, entrypoint: 'sh', command: script, network: 'none', user: '0' },
        o2,
      );
      expect(r2).toEqual({ ok: true, value: { exitCode: 4 } });
      expect(lines).toContain(`via-sh-${id}`);
    });

    it("run with network none: only lo, and the host's registry cannot be reached", async () => {
      await built();
      const { lines, op: o } = op();
      const dev = await s().engine.run(
        { image: mainTag, command: ['cat', '/proc/net/dev'], network: 'none' },
        o,
      );
      expect(dev).toEqual({ ok: true, value: { exitCode: 0 } });
      const interfaces = lines.map((l) => /^\s*([\w.@-]+):/.exec(l)?.[1]).filter(Boolean);
      expect(interfaces).toEqual(['lo']);
      const [host, port] = REGISTRY.split(':');
      const reach = await s().engine.run(
        { image: mainTag, command: ['nc', '-w', '3', host!, port!], network: 'none' },
        op().op,
      );
      expect(reach.ok && reach.value.exitCode).not.toBe(0);
    });

    it('run of an image the engine does not have fails (it is never pulled)', async () => {
      const r = await s().engine.run(
        { image: `${REGISTRY}/${repo}:never-built`, command: ['true'], network: 'none' },
        op().op,
      );
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.reason).toBe('engine-exit');
    });

    it('run over its time limit fails with timeout, and removes its container', async () => {
      await built();
      const m = `${marker}r`;
      const r = await s().engine.run(
        { image: mainTag, command: ['sh', '-c', `sleep 60; echo ${m}`], network: 'none' },
        op({ timeoutSeconds: 2 }).op,
      );
      expect(r).toEqual({ ok: false, error: { reason: 'timeout', seconds: 2 } });
      expect(await s().containers(m)).toEqual([]);
      expect(
        await eventually(
          () => s().leftovers(m),
          (l) => l.length === 0,
          15_000,
        ),
      ).toEqual([]);
    });

    it('aborting a run cancels it and removes its container', async () => {
      await built();
      const m = `${marker}c`;
      const controller = new AbortController();
      const r = s().engine.run(
        {
          image: mainTag,
          command: ['sh', '-c', `echo started; sleep 60; echo ${m}`],
          network: 'none',
        },
        {
          signal: controller.signal,
          log: (l) => {
            if (l === 'started') setTimeout(() => controller.abort(), 200);
          },
        },
      );
      const fallback = setTimeout(() => controller.abort(), 10_000);
      expect(await r).toEqual({ ok: false, error: { reason: 'cancelled' } });
      clearTimeout(fallback);
      expect(await s().containers(m)).toEqual([]);
    });

    it('push to a registry where nothing listens fails for good (connection refused is not transient)', async () => {
      await built();
      const ref = tagged(`${NOBODY_LISTENS}/${repo}:refused`);
      expect((await s().engine.tag(mainTag, ref)).ok).toBe(true);
      const r = await s().engine.push(ref, op().op);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error).toMatchObject({ reason: 'push-failed', transient: false });
      expect(r.error.reason === 'push-failed' && r.error.message).toMatch(/connection refused/);
    });

    it('push of a reference the engine does not have fails for good', async () => {
      const r = await s().engine.push(`${REGISTRY}/${repo}:not-built`, op().op);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error).toMatchObject({ reason: 'push-failed', transient: false });
    });
  });
}

engineContract('fake', () => Promise.resolve(fakeSubject()));
engineContract('docker', () => realSubject('docker'));
engineContract('podman', () => realSubject('podman'));

// The legacy builder is a path of its own: forced on whichever docker client is here.
engineContract('docker-legacy', () => realSubject('docker', undefined, { legacyBuilder: true }));

describe('detectEngine', () => {
  it('finds docker first, and says how to set the host up when an engine is missing', async () => {
    const d = await detectEngine();
    if (!d.ok) throw new Error(`${d.error.message}`);
    expect(d.value.info.kind).toBe('docker');
    const none = await detectEngine('podman', { client: '/nonexistent/podman' });
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.error.message).toMatch(/setup-host\.sh/);
  });
});
