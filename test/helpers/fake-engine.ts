/**
 * A fake Engine for scheduler and CLI tests, and the reference the engine contract suite
 * checks the real engines against.
 *
 * It keeps an in-memory image store (tags -> images with labels and a few files) and an
 * in-memory registry, so tag, inspect and push agree with what was built. Ids and digests are
 * sha256 over the inputs, so the same inputs give the same id in every run.
 *
 * When the Dockerfile exists on disk it is read and "run" (fake-dockerfile.ts): FROM, ARG/ENV,
 * COPY, LABEL, ENTRYPOINT, and RUN steps in a small shell of `echo`, `cat`, `sleep`, `exit`, `true`,
 * `false` and `nc` (refused unless the network is `host`). `run` (a container) runs its command
 * through the image's entrypoint (or the request's `entrypoint`), or its `sh -c` script, in that
 * same shell over the image's files, with a `/proc/net/dev` that has only `lo` unless the network
 * is `host`; kbuild's package inventory script is answered from the image's files
 * (fake-dockerfile.ts: a dpkg status file, else no package database).
 *
 * Control: `hold` keeps matching builds open until `release`; `failBuild`/`failPush` inject
 * failures; `scriptRun` scripts a container's output, exit code and duration; `started` waits for
 * a build to start. Timeouts and aborts are honoured with the global timers, so vitest's fake
 * timers drive them too (fake-engine-controls.ts).
 */
import { err, ok, type Digest, type Result } from '../../src/core/model.js';
import { parseReference } from '../../src/core/dockerfile/reference.js';
import type {
  BuildRequest,
  Engine,
  EngineFailure,
  EngineInfo,
  ListedImage,
  LocalImage,
  RunRequest,
} from '../../src/run/ports.js';
import {
  buildMatches,
  refMatches,
  stopper,
  storeKey,
  type BuildMatcher,
  type RefMatcher,
} from './fake-engine-controls.js';
import {
  containerScript,
  inventoryAnswer,
  runDockerfile,
  runShell,
  sha256,
  type DockerfileBases,
  type FakeImage,
} from './fake-dockerfile.js';

export type { BuildMatcher, RefMatcher } from './fake-engine-controls.js';

export interface FakeImageSeed {
  readonly labels?: Readonly<Record<string, string>>;
  /** Files in the image, path -> content. */
  readonly files?: Readonly<Record<string, string>>;
}

export interface FakeEngineOptions {
  /** Images present from the start (external bases), by reference. */
  readonly images?: Readonly<Record<string, FakeImageSeed>>;
  /** Registries (host[:port]) where nothing listens: pushes fail for good, connection refused. */
  readonly unreachableRegistries?: readonly string[];
  /** How long each build takes, in ms, on the global timers (default 0: no timer at all). */
  readonly buildMs?: number;
  /** How long each push takes, in ms (default 0). */
  readonly pushMs?: number;
  /** A FROM of an image not in the store fails (as on a host that cannot pull) instead of "pulling". */
  readonly offline?: boolean;
  /** `info()` fails with engine-unavailable and this message. */
  readonly unavailable?: string;
  /** Overrides of what `info()` answers. */
  readonly info?: Partial<EngineInfo>;
}

interface Held {
  readonly req: BuildRequest;
  readonly release: () => void;
}

export interface FakeEngine extends Engine {
  /** What happened, in order: `build <tag>`, `built <tag>`, `build-failed <tag> <reason>`, `push <ref>`, `pushed <ref>`, `push-failed <ref>`, `tag <src> <dst>`, `run <image>`, `ran <image> <exit code or reason>`, `rmi <refs…>`. */
  readonly calls: string[];
  /** Every build request, in the order the builds started. */
  readonly requests: BuildRequest[];
  /** The first tag of each build, in the order the builds started. */
  readonly buildOrder: string[];
  /** Each push's reference, in the order the pushes started. */
  readonly pushOrder: string[];
  /** The most builds that ran at the same time. */
  readonly maxConcurrentBuilds: number;
  /** The most containers (`run`) that ran at the same time. */
  readonly maxConcurrentRuns: number;
  /** `image command…` of each container running now, sorted. */
  containers(): string[];
  /** First tags of the builds running now, sorted. */
  running(): string[];
  /** First tags of the builds held open now, sorted. */
  held(): string[];
  /** From now on, matching builds stay open (after starting) until released. */
  hold(matcher?: BuildMatcher): void;
  /** Lets the held builds that match go on (all when no matcher); the hold rules stay. */
  release(matcher?: BuildMatcher): number;
  /** Drops every hold rule and releases every held build. */
  unhold(): void;
  /** Resolves when a matching build has started (at once if one already has). */
  started(matcher: BuildMatcher): Promise<BuildRequest>;
  /** Matching builds fail with engine-exit (`times` of them; default: all). */
  failBuild(
    matcher: BuildMatcher,
    o?: { exitCode?: number; message?: string; times?: number },
  ): void;
  /** Matching pushes fail (`times` of them; default 1). */
  failPush(
    matcher: RefMatcher,
    o?: { transient?: boolean; message?: string; times?: number },
  ): void;
  /**
   * Matching runs (by image reference) print `output`, take `ms` on the global timers and exit
   * with `exitCode` (default 0) instead of running their command (`times` of them; default: all).
   */
  scriptRun(
    matcher: RefMatcher,
    o?: { exitCode?: number; output?: readonly string[]; ms?: number; times?: number },
  ): void;
  /** A file of a stored image (what `run IMAGE cat PATH` would print), undefined if absent. */
  readFile(ref: string, path: string): string | undefined;
  /** The digest the in-memory registry holds for a reference, undefined if never pushed. */
  registryDigest(ref: string): Digest | undefined;
  /** Removes local tags (like `rmi`); images without tags stay findable by id. */
  remove(refs: readonly string[]): void;
}

/** Creates a fake engine; see the module comment for what it simulates. */
export function createFakeEngine(opts: FakeEngineOptions = {}): FakeEngine {
  const images = new Map<string, FakeImage>();
  const tags = new Map<string, string>(); // storeKey(ref) -> id
  const registry = new Map<string, Digest>();
  /** What the in-memory registry serves: reference -> image id (for pulls). */
  const registryImages = new Map<string, string>();
  const calls: string[] = [];
  const requests: BuildRequest[] = [];
  const buildOrder: string[] = [];
  const pushOrder: string[] = [];
  const runningBuilds = new Map<number, BuildRequest>();
  const heldBuilds = new Map<number, Held>();
  const holdRules: BuildMatcher[] = [];
  const buildFailures: { m: BuildMatcher; exitCode: number; message: string; left: number }[] = [];
  const pushFailures: { m: RefMatcher; transient: boolean; message: string; left: number }[] = [];
  const runScripts: {
    m: RefMatcher;
    exitCode: number;
    output: readonly string[];
    ms: number;
    left: number;
  }[] = [];
  const waiters: { m: BuildMatcher; resolve: (r: BuildRequest) => void }[] = [];
  const runningContainers = new Map<number, RunRequest>();
  let maxConcurrent = 0;
  let maxConcurrentRuns = 0;
  let nextBuild = 0;
  let nextRun = 0;

  /** Image id -> the order it was first made in (its "creation time" for listImages). */
  const made = new Map<string, number>();
  const store = (seed: FakeImageSeed, idInput: string): FakeImage => {
    const img: FakeImage = {
      id: `sha256:${sha256(idInput)}`,
      labels: { ...seed.labels },
      files: new Map(Object.entries(seed.files ?? {})),
    };
    images.set(img.id, img);
    if (!made.has(img.id)) made.set(img.id, made.size);
    return img;
  };
  for (const [ref, seed] of Object.entries(opts.images ?? {})) {
    tags.set(storeKey(ref), store(seed, `seed ${storeKey(ref)} ${JSON.stringify(seed)}`).id);
  }

  const lookup = (ref: string): FakeImage | undefined => {
    const id = tags.get(storeKey(ref));
    if (id) return images.get(id);
    const hex = ref.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{12,64}$/.test(hex)) return undefined;
    return [...images.values()].find((i) => i.id.slice('sha256:'.length).startsWith(hex));
  };

  const first = (req: BuildRequest) => req.tags[0] ?? '<untagged>';

  /** Where FROM in a Dockerfile finds images; an image not in the store is "pulled" empty. */
  const bases: DockerfileBases = {
    lookup,
    offline: opts.offline,
    pull: (ref) => {
      const img = store({}, `pulled ${storeKey(ref)}`);
      tags.set(storeKey(ref), img.id);
      return img;
    },
  };

  const engine: FakeEngine = {
    kind: 'fake',
    calls,
    requests,
    buildOrder,
    pushOrder,
    get maxConcurrentBuilds() {
      return maxConcurrent;
    },
    get maxConcurrentRuns() {
      return maxConcurrentRuns;
    },

    info() {
      if (opts.unavailable) {
        return Promise.resolve(
          err({ reason: 'engine-unavailable', message: opts.unavailable } as const),
        );
      }
      return Promise.resolve(
        ok({
          kind: 'fake' as const,
          client: 'fake',
          clientVersion: '1.0.0',
          serverVersion: '1.0.0',
          buildPath: 'buildkit' as const,
          platform: 'linux/amd64',
          ...opts.info,
        }),
      );
    },

    async build(req, op) {
      const n = nextBuild++;
      const s = stopper(op);
      if (s.stop) {
        s.dispose();
        calls.push(`build-failed ${first(req)} cancelled`);
        return err(s.stop);
      }
      requests.push(req);
      buildOrder.push(first(req));
      calls.push(`build ${first(req)}`);
      runningBuilds.set(n, req);
      maxConcurrent = Math.max(maxConcurrent, runningBuilds.size);
      for (const w of waiters.filter((w) => buildMatches(w.m, req))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(req);
      }
      op.log('kbuild: building with the fake engine');
      const work = async (): Promise<Result<{ readonly imageId: string }, EngineFailure>> => {
        if (holdRules.some((m) => buildMatches(m, req))) {
          await new Promise<void>((release) => heldBuilds.set(n, { req, release }));
        }
        if (opts.buildMs) await s.sleep(opts.buildMs);
        if (s.stop) return err(s.stop);
        const failure = buildFailures.find((f) => f.left > 0 && buildMatches(f.m, req));
        if (failure) {
          failure.left--;
          op.log(`ERROR: ${failure.message}`);
          return err({
            reason: 'engine-exit',
            exitCode: failure.exitCode,
            message: failure.message,
          });
        }
        const sim = await runDockerfile(
          req,
          (l) => {
            if (!s.stop) op.log(l);
          },
          (ms) => s.sleep(ms),
          bases,
        );
        if (s.stop) return err(s.stop);
        if (!sim.ok) return sim;
        const labels = { ...sim.value.labels, ...req.labels };
        const id = `sha256:${sha256(
          JSON.stringify({
            trace: sim.value.trace,
            args: Object.entries(req.buildArgs).sort(),
            labels: Object.entries(labels).sort(),
            platform: req.platform ?? '',
            files: [...sim.value.files].sort(),
          }),
        )}`;
        const { entrypoint } = sim.value;
        images.set(id, {
          id,
          labels,
          files: sim.value.files,
          ...(entrypoint ? { entrypoint } : {}),
        });
        for (const t of req.tags) tags.set(storeKey(t), id);
        return ok({ imageId: id });
      };
      try {
        const r = await s.race(work());
        const result = 'stop' in r ? err(r.stop) : r.value;
        calls.push(
          result.ok ? `built ${first(req)}` : `build-failed ${first(req)} ${result.error.reason}`,
        );
        return result;
      } finally {
        s.dispose();
        runningBuilds.delete(n);
        heldBuilds.delete(n);
      }
    },

    tag(source, target) {
      const img = lookup(source);
      if (!img) {
        return Promise.resolve(
          err({
            reason: 'engine-exit',
            exitCode: 1,
            message: `Error response from daemon: No such image: ${source}`,
          } as const),
        );
      }
      tags.set(storeKey(target), img.id);
      calls.push(`tag ${source} ${target}`);
      return Promise.resolve(ok(undefined));
    },

    async push(ref, op) {
      pushOrder.push(ref);
      calls.push(`push ${ref}`);
      const s = stopper(op);
      try {
        op.log(`The push refers to repository [${ref.replace(/:[^:/]*$/, '')}]`);
        const work = async (): Promise<Result<{ readonly digest: Digest }, EngineFailure>> => {
          if (opts.pushMs) await s.sleep(opts.pushMs);
          const failure = pushFailures.find((f) => f.left > 0 && refMatches(f.m, ref));
          if (failure) {
            failure.left--;
            return err({
              reason: 'push-failed',
              message: failure.message,
              transient: failure.transient,
            });
          }
          const parsed = parseReference(ref);
          const domain = parsed.ok ? (parsed.value.domain ?? 'docker.io') : '';
          if (opts.unreachableRegistries?.includes(domain)) {
            const message = `Get "http://${domain}/v2/": dial tcp ${domain}: connect: connection refused`;
            return err({ reason: 'push-failed', message, transient: false });
          }
          const img = lookup(ref);
          if (!img || !parsed.ok) {
            const message = `An image does not exist locally with the tag: ${ref.replace(/:[^:/]*$/, '')}`;
            return err({ reason: 'push-failed', message, transient: false });
          }
          const digest = `sha256:${sha256(`manifest ${img.id}`)}` as Digest;
          registry.set(storeKey(ref), digest);
          registryImages.set(storeKey(ref), img.id);
          op.log(`${parsed.value.tag ?? 'latest'}: digest: ${digest} size: 527`);
          return ok({ digest });
        };
        const r = await s.race(work());
        const result = 'stop' in r ? err(r.stop) : r.value;
        calls.push(result.ok ? `pushed ${ref}` : `push-failed ${ref}`);
        return result;
      } finally {
        s.dispose();
      }
    },

    pull(ref, op) {
      calls.push(`pull ${ref}`);
      const id = registryImages.get(storeKey(ref));
      if (!id) {
        return Promise.resolve(
          err({
            reason: 'pull-failed',
            message: `manifest for ${ref} not found`,
            transient: false,
          } as const),
        );
      }
      tags.set(storeKey(ref), id);
      op.log(`Pulled ${ref}`);
      return Promise.resolve(ok({ imageId: id }));
    },

    async run(req, op) {
      calls.push(`run ${req.image}`);
      const img = lookup(req.image);
      if (!img) {
        const message = `Error response from daemon: No such image: ${req.image}`;
        op.log(message);
        return err({ reason: 'engine-exit', exitCode: 125, message });
      }
      const n = nextRun++;
      runningContainers.set(n, req);
      maxConcurrentRuns = Math.max(maxConcurrentRuns, runningContainers.size);
      const s = stopper(op);
      const work = async (): Promise<number> => {
        const scripted = runScripts.find((r) => r.left > 0 && refMatches(r.m, req.image));
        if (scripted) {
          scripted.left--;
          scripted.output.forEach((l) => op.log(l));
          if (scripted.ms) await s.sleep(scripted.ms);
          return scripted.exitCode;
        }
        const cmd = containerScript(req, img);
        const inventory = inventoryAnswer(cmd, img.files);
        if (inventory) {
          inventory.forEach((l) => op.log(l));
          return 0;
        }
        const files = new Map(img.files);
        const lo = '    lo:       0       0    0    0    0     0          0         0';
        files.set('/proc/net/dev', req.network === 'host' ? `${lo}\n  eth0: 0 0\n` : `${lo}\n`);
        return runShell(
          cmd,
          new Map(),
          files,
          (l) => {
            if (!s.stop) op.log(l);
          },
          (ms) => s.sleep(ms),
          req.network,
        );
      };
      try {
        const r = await s.race(work());
        const result = 'stop' in r ? err(r.stop) : ok({ exitCode: r.value });
        calls.push(`ran ${req.image} ${result.ok ? result.value.exitCode : result.error.reason}`);
        return result;
      } finally {
        s.dispose();
        runningContainers.delete(n);
      }
    },

    inspect(refs) {
      const out = new Map<string, LocalImage>();
      for (const ref of refs) {
        const img = lookup(ref);
        if (img) out.set(ref, { id: img.id, labels: { ...img.labels } });
      }
      return Promise.resolve(out);
    },

    listImages(repositories) {
      // Size: the bytes of the image's files; madeAt: one second per image made, from 2026-01-01.
      const listed = new Map<string, ListedImage & { refs: string[] }>();
      for (const [k, id] of tags) {
        const r = parseReference(k);
        const asked = repositories.find((a) => r.ok && storeKey(`${a}:${r.value.tag}`) === k);
        const img = images.get(id);
        if (!r.ok || asked === undefined || !img) continue;
        const entry = listed.get(id) ?? {
          id,
          refs: [],
          size: [...img.files.values()].reduce((n, f) => n + f.length, 0),
          madeAt: new Date(Date.UTC(2026, 0, 1) + (made.get(id) ?? 0) * 1000).toISOString(),
        };
        entry.refs.push(`${asked}:${r.value.tag}`);
        listed.set(id, entry);
      }
      return Promise.resolve(ok([...listed.values()].map((e) => ({ ...e, refs: e.refs.sort() }))));
    },

    removeImages(refs) {
      calls.push(`rmi ${refs.join(' ')}`);
      const unknown = refs.find((r) => !tags.has(storeKey(r)));
      if (unknown) {
        return Promise.resolve(
          err({
            reason: 'engine-exit',
            exitCode: 1,
            message: `No such image: ${unknown}`,
          } as const),
        );
      }
      const ids = new Set(refs.map((r) => tags.get(storeKey(r))!));
      for (const r of refs) tags.delete(storeKey(r));
      // An image goes with its last tag, as with `docker rmi`.
      for (const id of ids) if (![...tags.values()].includes(id)) images.delete(id);
      return Promise.resolve(ok(undefined));
    },

    running: () => [...runningBuilds.values()].map(first).sort(),
    containers: () =>
      [...runningContainers.values()].map((r) => [r.image, ...r.command].join(' ')).sort(),
    held: () => [...heldBuilds.values()].map((h) => first(h.req)).sort(),
    hold(matcher = () => true) {
      holdRules.push(matcher);
    },
    release(matcher) {
      let n = 0;
      for (const [id, h] of heldBuilds) {
        if (matcher && !buildMatches(matcher, h.req)) continue;
        heldBuilds.delete(id);
        h.release();
        n++;
      }
      return n;
    },
    unhold() {
      holdRules.length = 0;
      engine.release();
    },
    started(matcher) {
      const already = requests.find((r) => buildMatches(matcher, r));
      if (already) return Promise.resolve(already);
      return new Promise((resolve) => waiters.push({ m: matcher, resolve }));
    },
    failBuild(matcher, o = {}) {
      buildFailures.push({
        m: matcher,
        exitCode: o.exitCode ?? 1,
        message: o.message ?? 'injected build failure',
        left: o.times ?? Number.POSITIVE_INFINITY,
      });
    },
    failPush(matcher, o = {}) {
      const transient = o.transient ?? true;
      pushFailures.push({
        m: matcher,
        transient,
        message:
          o.message ??
          (transient
            ? 'received unexpected HTTP status: 503 Service Unavailable'
            : 'denied: requested access to the resource is denied'),
        left: o.times ?? 1,
      });
    },
    scriptRun(matcher, o = {}) {
      runScripts.push({
        m: matcher,
        exitCode: o.exitCode ?? 0,
        output: o.output ?? [],
        ms: o.ms ?? 0,
        left: o.times ?? Number.POSITIVE_INFINITY,
      });
    },
    readFile(ref, path) {
      return lookup(ref)?.files.get(path);
    },
    registryDigest(ref) {
      return registry.get(storeKey(ref));
    },
    remove(refs) {
      for (const r of refs) tags.delete(storeKey(r));
    },
  };
  return engine;
}
