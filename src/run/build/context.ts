/**
 * What one build run is given (family, plan, options, ports) and what its actions share while it
 * runs: one context object, every piece of shared state declared here, before any action uses it.
 */
import type { Family } from '../../core/family.js';
import type { ImageName } from '../../core/model.js';
import type { Inventory } from '../../core/packages/inventory.js';
import type { ImageFacts, Plan, PlanStep } from '../../core/plan/plan.js';
import type { Reporter } from '../events.js';
import type { ImageLogs } from '../image-logs.js';
import type { BuildSecret, Engine, EngineInfo, LogStore, PrepareContext } from '../ports.js';
import type { Outcome } from '../scheduler.js';
import type { ImageTestStatus, PublishSummary } from '../summary.js';
import type { RegistryView } from './registry-view.js';
import type { SbomTool } from '../../core/packages/sbom.js';
import type { SignedLayers, Signer } from '../signing-ports.js';

export interface BuildOptions {
  readonly threads: number;
  readonly pushThreads: number;
  readonly retries: number;
  readonly pushRetries: number;
  /** Per image; 0: none. */
  readonly timeoutSeconds: number;
  /**
   * Per push attempt (the engine's push is killed after it); 0: none. The engine's own client
   * has no such limit: a registry that accepts a connection and never answers would hold the
   * push, and the run, forever.
   */
  readonly pushTimeoutSeconds: number;
  readonly failFast: boolean;
  readonly push: boolean;
  readonly pull: boolean;
  readonly noCache: boolean;
  /**
   * Builds take layers of the registry's earlier builds of an image as cache (not with
   * --no-registry-cache; absent: yes).
   */
  readonly registryLayers?: boolean;
  /** Smoke-test each image after its build, before its push (fresh ones too); a failure fails it. */
  readonly test: boolean;
  /**
   * With push: `eager` moves each image's shared tag as soon as it is pushed; `atomic` pushes
   * images under their fp tags only and moves every shared tag at the end, only when the whole
   * selection succeeded (so the shared tag always names one complete set); `deferred` pushes
   * under fp tags only and leaves the shared tags to the caller (one platform of several).
   */
  readonly publish: 'eager' | 'atomic' | 'deferred';
  /**
   * CI fan-out (--shard): images another job builds, with who builds them. They are waited for in
   * the registry (by fp tag, up to `shardWaitSeconds`), pulled where a child builds on them here,
   * and never pushed or tagged by this run.
   */
  readonly foreign?: ReadonlyMap<ImageName, string>;
  readonly shardWaitSeconds?: number;
  /** Build secrets (`--secret`), given to every build as `docker build --secret` gives them. */
  readonly secrets?: readonly BuildSecret[];
}

export interface BuildPorts {
  readonly engine: Engine;
  readonly engineInfo: EngineInfo;
  readonly logs: LogStore;
  readonly prepare: PrepareContext;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The family's registry; without it every image is pushed through the engine. */
  readonly registry?: RegistryView;
}

export interface RunIdentity {
  readonly runId: string;
  /** ISO time the run started (for the summary only: never baked into an image). */
  readonly startedAt: string;
}

/** Everything a build run is given. */
export interface BuildRun {
  readonly family: Family;
  /** The observed plan: every step to work on carries its facts. */
  readonly plan: Plan;
  readonly options: BuildOptions;
  readonly ports: BuildPorts;
  readonly id: RunIdentity;
  readonly signal: AbortSignal;
  readonly report: Reporter;
  /**
   * Where the run puts the package inventory of each image it builds (`RunState.inventories` is
   * this map), for the caller's stateAfterRun and SBOMs; absent: a map of the run's own.
   */
  readonly inventories?: Map<ImageName, Inventory>;
  /**
   * Inventories of images the run does not build, as the state has them for their current
   * fingerprints (`knownInventories`): an image's log says how many packages it added over them.
   */
  readonly knownInventories?: ReadonlyMap<ImageName, Inventory>;
  /**
   * Whether each image built is then asked for its packages (a container of it, on the image's
   * critical path: its children wait). Only worth it when something reads them (the update check,
   * SBOMs); an inventory missing from the state is read when asked for (the update check, explain).
   * Default: true.
   */
  readonly readPackages?: boolean;
  /** With a signing key: every image pushed (or found pushed) is signed and attested. */
  readonly signing?: SigningSettings;
}

/** What a run signs with and what its provenance says about the run. */
export interface SigningSettings {
  readonly signer: Signer;
  /** kbuild's name and version (the builder, and the SBOM's tool). */
  readonly tool: SbomTool;
  /** The project's git state; null: not a git checkout. */
  readonly git: { readonly commit: string; readonly dirty: boolean } | null;
  /** The image patterns of the command line. */
  readonly selection: readonly string[];
  /** What the key put into the registry in earlier runs (read and added to by the sign step). */
  readonly signed?: SignedLayers;
}

/** What the run's actions share while it runs. */
export interface RunState {
  readonly logs: ImageLogs;
  /** Registry-only images something builds on here: they are pulled. */
  readonly neededHere: ReadonlySet<ImageName>;
  /** Digests of other shards' images, as found in the registry. */
  readonly waitedFor: Map<ImageName, string>;
  /** Unchanged images the registry already holds under the shared tag, with their digest. */
  readonly published: Map<ImageName, string>;
  /** Registry-only images whose shared tag this run moved (a manifest copy in the registry). */
  readonly moved: Set<ImageName>;
  /**
   * Under --publish atomic: what each local shared tag named before this run moved it (undefined:
   * nothing), to put it back when the set is not published.
   */
  readonly heldTags: Map<string, { name: ImageName; id: string | undefined }>;
  /** Smoke tests run (or not) with --test. */
  readonly tested: Map<ImageName, { status: ImageTestStatus; seconds: number | null }>;
  /** Package inventories read from the images built in this run (after their smoke test). */
  readonly inventories: Map<ImageName, Inventory>;
  /** `ports.now()` when the run started, and when each image's build started. */
  readonly startedMs: number;
  readonly buildStarted: Map<ImageName, number>;
  /** The digest each image pushed in this run has in the registry. */
  readonly pushed: Map<ImageName, string>;
}

export interface BuildContext extends BuildRun {
  readonly state: RunState;
  readonly publish: PublishMode;
  readonly step: (name: ImageName) => PlanStep;
  readonly facts: (name: ImageName) => ImageFacts;
}

/**
 * How pushed images become the family's shared tag (eager, atomic, deferred: see publish.ts).
 */
export interface PublishMode {
  readonly mode: 'eager' | 'atomic' | 'deferred';
  /**
   * The registry holds the image's fingerprint as `digest`: eager points the shared tag at it
   * now; the others leave the shared tag alone. The error text when the registry refused.
   */
  adopt(
    ctx: BuildContext,
    name: ImageName,
    digest: string,
    log: (line: string) => void,
    signal: AbortSignal,
  ): Promise<string | undefined>;
  /** The registry reference an image is pushed as. */
  pushRef(ctx: BuildContext, name: ImageName): string;
  /** After the push: eager adds the fp tag beside the shared one (so other hosts find it). */
  afterPush(
    ctx: BuildContext,
    name: ImageName,
    log: (line: string) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** When every image is done: atomic moves every shared tag, or none. */
  finish(
    ctx: BuildContext,
    outcomes: ReadonlyMap<ImageName, Outcome>,
  ): Promise<PublishSummary | undefined>;
}
