/**
 * The build loop's unit-test world: a small real family written to a temporary project, the fake
 * engine, the Registry port in memory, an injected clock, and the state carried from run to run.
 * A run goes the way `kbuild build` goes (src/cli/build-run.ts): load, observe, runBuild (with the
 * state's known package inventories), stateAfterRun (with those the run read); only the engine,
 * the registry and the clock are fakes.
 *
 *   base ─┬─ lib ── app ─┐        base: FROM busybox:latest; lib has a source (kbuild.yaml)
 *         └─ tools       │        app:  FROM edge AS a first stage, then FROM lib
 *   edge ────────────────┘        edge: FROM alpine:3.20
 *
 * The fake engine keeps what it pushes to itself: here every successful push also lands in the
 * memory registry (as `manifest <image id>`, which gives the digest the fake engine reports), as a
 * real push lands in the registry the run then asks.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeBuildDir } from '../../src/adapters/build-context.js';
import { hashContext } from '../../src/adapters/context-hash.js';
import { loadSelected } from '../../src/cli/commands/shared.js';
import type { ProfileOptions } from '../../src/cli/load.js';
import { imagePath } from '../../src/cli/observe-family.js';
import {
  err,
  imageName,
  ok,
  type Fingerprint,
  type ImageName,
  type Result,
} from '../../src/core/model.js';
import { fingerprintTag } from '../../src/core/naming.js';
import type { ImageFacts } from '../../src/core/plan/plan.js';
import { DOCKER_MANIFEST } from '../../src/core/registry/manifest-list.js';
import type { BuildOptions } from '../../src/run/build/context.js';
import { registryView } from '../../src/run/build/registry-view.js';
import { runBuild } from '../../src/run/build/run-build.js';
import { knownInventories, stateAfterRun } from '../../src/run/build/state-update.js';
import type { Inventory } from '../../src/core/packages/inventory.js';
import type { RunEvent } from '../../src/run/events.js';
import { observe, type Observed } from '../../src/run/observe.js';
import type { LogStore, StateFile } from '../../src/run/ports.js';
import type { SchedulerEvent } from '../../src/run/scheduler.js';
import type { ImageSummary, RunSummary } from '../../src/run/summary.js';
import { createFakeEngine, type FakeEngine, type FakeImageSeed } from './fake-engine.js';
import { memoryRegistry, type MemoryRegistry } from './memory-registry.js';

export const REGISTRY = 'reg.test:5000';
export const IMAGES = ['base', 'lib', 'tools', 'edge', 'app'] as const;
export type Name = (typeof IMAGES)[number];
/** The local shared reference, its registry twin, the repository. */
export const ref = (n: Name) => `kt/${n}:t1`;
export const remote = (n: Name) => `${REGISTRY}/kt/${n}:t1`;
export const repo = (n: Name) => `kt/${n}`;

const FILES: Record<string, string> = {
  'kbuild.yaml':
    'namespace: kt\ntag: t1\nsources:\n  lib:\n    type: local\n    path: vendor/lib\n',
  'profiles/p.yaml':
    'distro: busybox\ndistro_tag: latest\npackage_manager: apt\nbase_image: busybox:latest\nnetwork: none\n',
  'images/base/Dockerfile.j2':
    'FROM {{ base_image }}\nCOPY base.txt /etc/base.txt\nRUN echo "base for {{ profile }}" > /etc/kbuild-base.txt\n',
  'images/base/base.txt': 'the base context\n',
  'images/lib/Dockerfile.j2': "FROM {{ image_ref('base') }}\nCOPY lib.txt /etc/lib.txt\n",
  'images/lib/lib.txt': 'the lib context\n',
  'images/tools/Dockerfile.j2': "FROM {{ image_ref('base') }}\nRUN echo tools > /etc/tools.txt\n",
  'images/edge/Dockerfile.j2': 'FROM alpine:3.20\nRUN echo edge > /etc/edge.txt\n',
  'images/app/Dockerfile.j2':
    "FROM {{ image_ref('edge') }} AS edge\nFROM {{ image_ref('lib') }}\nCOPY app.txt /etc/app.txt\n",
  'images/app/app.txt': 'the app context\n',
};

export const OPTIONS: BuildOptions = {
  threads: 2,
  pushThreads: 2,
  retries: 0,
  pushRetries: 0,
  timeoutSeconds: 0,
  pushTimeoutSeconds: 0,
  failFast: false,
  push: false,
  pull: false,
  noCache: false,
  test: false,
  publish: 'eager',
};

/** One finished run: its plan, summary, events, per-image log lines, and what the fakes saw. */
export interface Ran {
  readonly observed: Observed;
  readonly summary: RunSummary;
  readonly events: RunEvent[];
  readonly logs: ReadonlyMap<string, readonly string[]>;
  /** The fake engine's calls during this run (observe's included). */
  readonly calls: string[];
  /** The memory registry's calls during this run (observe's included). */
  readonly registryCalls: string[];
  readonly image: (n: Name) => ImageSummary;
  /** The plan step's facts of an image, and its fp tag (`fp-…`). */
  readonly facts: (n: Name) => ImageFacts;
  readonly fpTag: (n: Name) => string;
  /** The scheduler events of one type. */
  readonly scheduler: <T extends SchedulerEvent['type']>(
    type: T,
  ) => Extract<SchedulerEvent, { type: T }>[];
}

export interface BuildWorld {
  readonly root: string;
  readonly engine: FakeEngine;
  readonly registry: MemoryRegistry;
  /** What the command line adds to the family's loading (extra tags, --set), for every run. */
  load: Partial<ProfileOptions>;
  /** The stored state; each run ends with stateAfterRun, as `kbuild build` does. */
  state: StateFile;
  /** What the run's `sleep` was asked for, in order (it advances the clock, never waits). */
  readonly sleeps: number[];
  /** Called on each sleep with how many there were so far. */
  onSleep: (count: number) => void;
  /** Build seconds per image on the injected clock (default 1). */
  readonly buildSeconds: Partial<Record<Name, number>>;
  /** What observe's sourceIdentity answers for lib. */
  source: Result<string, string>;
  observe(force?: boolean): Promise<Observed>;
  run(
    options?: Partial<BuildOptions>,
    more?: { signal?: AbortSignal; onEvent?: (e: RunEvent) => void; observed?: Observed },
  ): Promise<Ran>;
  /** Writes a file of the project (a context change). */
  write(path: string, text: string): void;
  /** Forgets every local reference of the family (the images stay findable by id): a new host. */
  forgetLocal(): Promise<void>;
  remove(): void;
}

/** Log files in memory: image -> lines. */
function memoryLogs() {
  const files = new Map<string, string[]>();
  const store: LogStore = {
    dir: '/logs',
    open: (image) => {
      const lines: string[] = [];
      files.set(image, lines);
      return {
        write: (l) => void lines.push(l),
        close: (failed) => Promise.resolve(`/logs/${image}${failed ? '.FAILED' : ''}.log`),
      };
    },
  };
  return { store, files };
}

/** An image's facts in an observed plan. */
export const factsOf = (observed: Observed, n: Name): ImageFacts =>
  observed.plan.steps.find((s) => s.name === imageName(n))!.facts!;

/** `reg.test:5000/kt/lib:fp-…` -> [kt/lib, fp-…]. */
function registryPlace(reference: string): [string, string] {
  const path = reference.slice(REGISTRY.length + 1);
  const colon = path.lastIndexOf(':');
  return [path.slice(0, colon), path.slice(colon + 1)];
}

export function buildWorld(
  o: {
    bases?: readonly string[];
    /** What some bases hold (e.g. an os-release and a dpkg status file). */
    seeds?: Readonly<Record<string, FakeImageSeed>>;
  } = {},
): BuildWorld {
  const root = mkdtempSync(join(tmpdir(), 'kbuild-run-build-'));
  for (const [path, text] of Object.entries(FILES)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const bases = o.bases ?? ['busybox:latest', 'alpine:3.20'];
  const fake = createFakeEngine({
    images: { ...Object.fromEntries(bases.map((b) => [b, {}])), ...o.seeds },
  });
  const registry = memoryRegistry();
  let clock = 0;
  // The fake's own methods with two wrapped (its getters are copied as values: not for use here).
  const engine: FakeEngine = {
    ...fake,
    async build(req, op) {
      const name = req.tags[0]!.replace(/^kt\/|:.*$/g, '') as Name;
      clock += (world.buildSeconds[name] ?? 1) * 1000;
      return fake.build(req, op);
    },
    async push(reference, op) {
      const r = await fake.push(reference, op);
      if (r.ok) {
        const id = (await fake.inspect([reference])).get(reference)!.id;
        const [repository, tag] = registryPlace(reference);
        const digest = registry.put(repository, tag, DOCKER_MANIFEST, `manifest ${id}`);
        if (digest !== r.value.digest) throw new Error('build-world: the two digests disagree');
      }
      return r;
    },
  };
  const selected = () =>
    loadSelected(
      { out: () => undefined, err: () => undefined, cwd: root, env: {} },
      {
        project: root,
        profile: 'p',
        registry: REGISTRY,
        var: [],
        buildArg: [],
        templateOverride: [],
        exclude: [],
        ...world.load,
      },
      [],
    );
  const signalForever = new AbortController().signal;
  const world: BuildWorld = {
    root,
    engine,
    registry,
    state: { schema: 1, profile: 'p', images: {} },
    load: {},
    sleeps: [],
    onSleep: () => undefined,
    buildSeconds: {},
    source: ok('local vendor/lib #1'),
    async observe(force = false) {
      const { family, selection } = await selected();
      return observe(
        family,
        selection,
        {
          engine,
          engineKind: 'fake',
          hashContext: (n) => hashContext(imagePath(root, family, n)),
          state: world.state,
          remote: (repository, tag) =>
            registryView(registry, REGISTRY).digest(repository, tag, signalForever),
          sourceIdentity: () => Promise.resolve(world.source),
        },
        force,
      );
    },
    async run(options = {}, more = {}) {
      const { family } = await selected();
      const callsBefore = engine.calls.length;
      const registryBefore = registry.calls.length;
      const observed = more.observed ?? (await world.observe());
      const info = await engine.info();
      if (!info.ok) throw new Error('the fake engine did not answer info()');
      const logs = memoryLogs();
      const events: RunEvent[] = [];
      const inventories = new Map<ImageName, Inventory>();
      const summary = await runBuild({
        family,
        plan: observed.plan,
        options: { ...OPTIONS, ...options },
        inventories,
        knownInventories: knownInventories(world.state, observed.plan),
        ports: {
          engine,
          engineInfo: info.value,
          logs: logs.store,
          prepare: async (name, dockerfile) => {
            const dir = join(root, '.kbuild', 'build', name);
            await writeBuildDir(dir, dockerfile, imagePath(root, family, name as ImageName));
            return ok({ contextDir: dir, dockerfile: join(dir, 'Dockerfile') });
          },
          now: () => clock,
          sleep: (ms) => {
            clock += ms;
            world.sleeps.push(ms);
            world.onSleep(world.sleeps.length);
            return Promise.resolve();
          },
          registry: registryView(registry, REGISTRY),
        },
        id: { runId: 'r1', startedAt: '2026-01-01T00:00:00.000Z' },
        signal: more.signal ?? new AbortController().signal,
        report: (e) => {
          events.push(e);
          more.onEvent?.(e);
        },
      });
      world.state = stateAfterRun(world.state, summary, observed.plan, REGISTRY, inventories);
      return {
        observed,
        summary,
        events,
        logs: logs.files,
        calls: engine.calls.slice(callsBefore),
        registryCalls: registry.calls.slice(registryBefore),
        image: (n) => summary.images.find((i) => i.name === imageName(n))!,
        facts: (n) => factsOf(observed, n),
        fpTag: (n) => fingerprintTag(factsOf(observed, n).fingerprint),
        scheduler: (type) =>
          events.flatMap((e) =>
            e.type === 'scheduler' && e.event.type === type ? [e.event as never] : [],
          ),
      };
    },
    write: (path, text) => writeFileSync(join(root, path), text),
    async forgetLocal() {
      const { family } = await selected();
      const refs = [...family.images.keys()].flatMap((n) => {
        const fp = world.state.images[n]?.fingerprint as Fingerprint | undefined;
        const fpRef = fp ? family.naming.fpRef(n, fp) : undefined;
        return [...family.naming.tags(n), ...(fpRef ? [fpRef, `${REGISTRY}/${fpRef}`] : [])];
      });
      engine.remove(refs);
      // Their ids, which the fake engine still finds (kept for its registry), name nothing here.
      world.state = {
        ...world.state,
        images: Object.fromEntries(
          Object.entries(world.state.images).map(([n, st]) => [n, { ...st, imageId: '' }]),
        ),
      };
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  return world;
}

/** A failure value for observe's sourceIdentity. */
export const sourceFailure = (message: string): Result<string, string> => err(message);
