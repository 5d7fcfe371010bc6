/**
 * The ports through which a run talks to the outside world. Adapters implement them
 * (src/adapters), tests use fakes (test/helpers/fake-engine.ts); the scheduler only sees these.
 */
import type { FingerprintRecord } from '../core/plan/fingerprint.js';
import type { Inventory } from '../core/packages/inventory.js';
import type { Digest, Result } from '../core/model.js';

export type EngineKind = 'docker' | 'podman' | 'fake';
/** How the engine builds: buildx, BuildKit built into the client, the legacy builder, podman/buildah. */
export type BuildPath = 'buildx' | 'buildkit' | 'legacy' | 'buildah';

export interface EngineInfo {
  readonly kind: EngineKind;
  /** The client binary used, e.g. /usr/bin/docker. */
  readonly client: string;
  readonly clientVersion: string;
  readonly serverVersion: string;
  readonly buildPath: BuildPath;
  /** Why this build path when it is not the best the client has, e.g. `DOCKER_BUILDKIT=0`. */
  readonly buildPathWhy?: string;
  /** The server's own platform, e.g. linux/amd64. */
  readonly platform: string;
}

/** Expected engine failures. `reason` is what the summary shows. */
export type EngineFailure =
  | { readonly reason: 'engine-exit'; readonly exitCode: number; readonly message: string }
  | { readonly reason: 'timeout'; readonly seconds: number }
  | { readonly reason: 'cancelled' }
  | { readonly reason: 'push-failed'; readonly message: string; readonly transient: boolean }
  | { readonly reason: 'pull-failed'; readonly message: string; readonly transient: boolean }
  | { readonly reason: 'engine-unavailable'; readonly message: string };

export interface OpOptions {
  /** Aborting kills the engine's whole process group. */
  readonly signal: AbortSignal;
  /** Every output line of the engine process, as it comes. */
  readonly log: (line: string) => void;
  /** Kill and fail with `timeout` after this many seconds (0 or undefined: none). */
  readonly timeoutSeconds?: number;
}

export interface BuildRequest {
  /** Directory holding the rendered Dockerfile and the build context. */
  readonly contextDir: string;
  /** Path of the Dockerfile (usually inside contextDir). */
  readonly dockerfile: string;
  /** Local references to tag the result with, e.g. ["kbuild/base:debian-binary"]. */
  readonly tags: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** e.g. linux/amd64; undefined: the engine's own. */
  readonly platform?: string;
  /** Network mode for RUN steps (host, none, default). */
  readonly network: string;
  /** Always try to pull a newer external base. */
  readonly pull: boolean;
  readonly noCache: boolean;
  /**
   * Registry references of earlier builds of the image (its shared tag, its previous fp tag):
   * layer cache sources where the build path can use them (BuildKit: their inline cache metadata;
   * one that does not exist costs a lookup, not the build). Images built with them carry inline
   * cache metadata for the next host.
   */
  readonly cacheFrom?: readonly string[];
  /** Build secrets for `RUN --mount=type=secret` (BuildKit, buildah); their content is never read. */
  readonly secrets?: readonly BuildSecret[];
}

/** A build secret: a file (absolute path) or an environment variable of the engine's client. */
export type BuildSecret =
  { readonly id: string; readonly src: string } | { readonly id: string; readonly env: string };

/** A command run in a new container of an image (a smoke test). */
export interface RunRequest {
  /** The image to run (a local reference or id); never pulled by the run itself. */
  readonly image: string;
  /** argv, run by the image's entrypoint (e.g. tini) like its default command would be. */
  readonly command: readonly string[];
  /** Network mode of the container: `none` for smoke tests. */
  readonly network: string;
  /** Run as this user instead of the image's. */
  readonly user?: string;
  /** Run this program instead of the image's entrypoint (e.g. `sh` for a script of kbuild's). */
  readonly entrypoint?: string;
}

export interface LocalImage {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Its `repository:tag` references, where the engine says. */
  readonly refs?: readonly string[];
}

/** A local image of the repositories asked for (`listImages`). */
export interface ListedImage {
  readonly id: string;
  /** Its `repository:tag` references in those repositories, spelt as the repository was asked. */
  readonly refs: readonly string[];
  /** Bytes, as the engine counts them (layers shared with other images included). */
  readonly size: number;
  /**
   * When it was made here (ISO 8601), to order an image's builds: docker's last tag time (every
   * build tags its image; the image's own Created repeats a cached layer's time under BuildKit),
   * podman's Created.
   */
  readonly madeAt: string;
}

export interface Engine {
  readonly kind: EngineKind;
  /** What the engine is and how it builds; fails when it does not answer. */
  info(): Promise<Result<EngineInfo, EngineFailure>>;
  /** Builds an image; the id comes from --iidfile (or the engine's equivalent), never from output. */
  build(
    req: BuildRequest,
    op: OpOptions,
  ): Promise<Result<{ readonly imageId: string }, EngineFailure>>;
  /** Adds a tag to an existing local image. */
  tag(source: string, target: string): Promise<Result<void, EngineFailure>>;
  /** Pushes a reference; answers the digest the registry stored. */
  push(ref: string, op: OpOptions): Promise<Result<{ readonly digest: Digest }, EngineFailure>>;
  /** Pulls a reference from its registry into the engine; answers the local image id. */
  pull(ref: string, op: OpOptions): Promise<Result<{ readonly imageId: string }, EngineFailure>>;
  /**
   * Runs a command in a new container of a local image, removed afterwards (also when killed on
   * timeout or abort). Answers the command's exit code, whatever it is; a failure is the
   * engine's own (no such image, no daemon, timeout, cancelled).
   */
  run(
    req: RunRequest,
    op: OpOptions,
  ): Promise<Result<{ readonly exitCode: number }, EngineFailure>>;
  /** Looks up many local references at once (one engine call); missing ones are absent. */
  inspect(refs: readonly string[]): Promise<Map<string, LocalImage>>;
  /** Every local image with a tag in one of `repositories` (e.g. `kbuild/base`, `127.0.0.1:5000/kbuild/base`). */
  listImages(repositories: readonly string[]): Promise<Result<ListedImage[], EngineFailure>>;
  /**
   * Removes local references, never forced: an image goes when its last reference does, and one
   * a container uses stays (the failure says so).
   */
  removeImages(refs: readonly string[]): Promise<Result<void, EngineFailure>>;
}

/** Where each image's full log goes (one file per image per run). */
export interface LogStore {
  /** The run's log directory. */
  readonly dir: string;
  open(image: string): ImageLog;
}

export interface ImageLog {
  write(line: string): void;
  /** Closes the log; a failed image's file is renamed to say so. Resolves to the final path. */
  close(failed: boolean): Promise<string>;
}

/**
 * Writes an image's rendered Dockerfile and build context where the engine can read them, with
 * its source archive fetched into it; the error says why the source could not be had.
 */
export type PrepareContext = (
  image: string,
  dockerfile: string,
  op: Pick<OpOptions, 'signal' | 'log'>,
) => Promise<Result<{ contextDir: string; dockerfile: string }, string>>;

/** .kbuild/state/<profile>.json: per image, its fingerprint and record as of its last success. */
export interface ImageState {
  readonly fingerprint: string;
  readonly record: FingerprintRecord;
  readonly imageId: string;
  /** Registry it was last pushed to, and the digest there. */
  readonly registry?: string;
  readonly digest?: string;
  /** Build seconds of the last build (for priorities and ETAs). */
  readonly seconds?: number;
  /** This fingerprint passed its smoke test (`build --test` need not run it again). */
  readonly testPassed?: boolean;
  /**
   * The image's package inventory, read after its build (or when an update check first needed
   * it), for the image `imageId` names.
   */
  readonly packages?: Inventory;
  /**
   * Package updates a rebuild did not apply (the template never upgrades them): package name ->
   * the candidate version that was not applied, so the same candidate does not rebuild it again.
   */
  readonly notApplied?: Readonly<Record<string, string>>;
}

export interface StateFile {
  readonly schema: number;
  readonly profile: string;
  readonly images: Readonly<Record<string, ImageState>>;
}

/**
 * Why a registry call failed. Transient ones (5xx, 429, resets, timeouts) have been retried by
 * the adapter before they are reported; no message holds a credential or token.
 */
export type RegistryFailure =
  | { readonly reason: 'not-found'; readonly message: string }
  | { readonly reason: 'unauthorized'; readonly message: string }
  /** The registry refuses the operation or the media type (manifest lists, deletes disabled). */
  | { readonly reason: 'unsupported'; readonly message: string }
  /** No HTTP answer: refused or reset connection, DNS, timeout, TLS. */
  | { readonly reason: 'unreachable'; readonly message: string; readonly transient: boolean }
  | {
      readonly reason: 'http-error';
      readonly status: number;
      readonly message: string;
      readonly transient: boolean;
    }
  /** An answer kbuild cannot use: a body that is not what the API promises, a digest mismatch. */
  | { readonly reason: 'invalid-response'; readonly message: string }
  /** The caller's signal aborted the operation. */
  | { readonly reason: 'aborted'; readonly message: string };

/** A manifest in a registry; `reference` is a tag or a digest. */
export interface ManifestRef {
  /** Host and optional port, e.g. `127.0.0.1:5000`, `ghcr.io`. */
  readonly registry: string;
  /** Repository path without the registry, e.g. `kbuild/base`. */
  readonly repository: string;
  readonly reference: string;
}

/** A manifest named by its digest (deleting by tag is not part of the API). */
export interface DigestRef extends ManifestRef {
  readonly reference: Digest;
}

export interface Manifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly body: Uint8Array;
}

/**
 * The registry API (OCI distribution v2) that promote, prune and publishing use; the adapter
 * (src/adapters/registry) implements it. Invalid repository names, tags or digests are bugs of
 * the caller: they throw a TypeError rather than reaching the network.
 */
export interface Registry {
  /** The digest and media type of a manifest, without its body; `not-found` when absent. */
  headManifest(
    ref: ManifestRef,
    signal?: AbortSignal,
  ): Promise<Result<{ digest: Digest; mediaType: string }, RegistryFailure>>;
  /** A manifest as stored, byte for byte (any of the four manifest media types). */
  getManifest(ref: ManifestRef, signal?: AbortSignal): Promise<Result<Manifest, RegistryFailure>>;
  /** Stores a manifest under a tag or digest; answers the digest the registry computed. */
  putManifest(
    ref: ManifestRef,
    manifest: { readonly mediaType: string; readonly body: Uint8Array },
    signal?: AbortSignal,
  ): Promise<Result<{ digest: Digest }, RegistryFailure>>;
  /**
   * Tags an existing manifest under another tag of the same repository, with no layer
   * transfer: GET the manifest, PUT the same bytes under `toTag` (so the digest is the same).
   */
  copyTag(
    from: ManifestRef,
    toTag: string,
    signal?: AbortSignal,
  ): Promise<Result<{ digest: Digest }, RegistryFailure>>;
  blobExists(
    registry: string,
    repository: string,
    digest: Digest,
    signal?: AbortSignal,
  ): Promise<Result<boolean, RegistryFailure>>;
  /**
   * Cross-repository blob mount: true when mounted (201); false when the registry started an
   * upload instead (202: the blob is not in `fromRepository`, or mounts are not allowed), in
   * which case that upload is cancelled.
   */
  mountBlob(
    registry: string,
    repository: string,
    digest: Digest,
    fromRepository: string,
    signal?: AbortSignal,
  ): Promise<Result<boolean, RegistryFailure>>;
  /**
   * Deletes a manifest by digest, and with it every tag pointing at it; `unsupported` when
   * deletes are disabled.
   */
  deleteManifest(ref: DigestRef, signal?: AbortSignal): Promise<Result<void, RegistryFailure>>;
  /** Every tag of a repository, following `Link: <...>; rel="next"` pagination. */
  listTags(
    registry: string,
    repository: string,
    signal?: AbortSignal,
  ): Promise<Result<string[], RegistryFailure>>;
  /**
   * A blob's bytes as a stream, never held whole (`size` from Content-Length when given). The
   * caller reads or cancels it. The attempt's time limit applies to each pause in the stream.
   */
  getBlob(
    registry: string,
    repository: string,
    digest: Digest,
    signal?: AbortSignal,
  ): Promise<Result<{ stream: ReadableStream<Uint8Array>; size?: number }, RegistryFailure>>;
  /**
   * Uploads a blob from a stream (which it consumes, or cancels on failure): POST, then one PUT
   * when it fits one chunk (a monolithic upload), else a PATCH per chunk and a closing PUT. The
   * bytes are checked against `digest` before the upload is committed.
   */
  uploadBlob(
    registry: string,
    repository: string,
    digest: Digest,
    content: ReadableStream<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<Result<{ bytes: number }, RegistryFailure>>;
}
