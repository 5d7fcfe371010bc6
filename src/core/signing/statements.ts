/**
 * The two in-toto statements (https://in-toto.io/Statement/v1) every pushed image gets as cosign
 * attestations: its CycloneDX SBOM (the package inventory, src/core/packages/sbom.ts as is) and a
 * SLSA provenance v1 statement (https://slsa.dev/provenance/v1) of how kbuild made it. Pure: the
 * run hands in what it knows (see ImageStatementsInput), this only arranges it.
 *
 * The predicate types are the ones cosign's `verify-attestation --type` names resolve to
 * (cmd/cosign/cli/options/predicate.go PredicateTypeMap, the same in cosign 2.5 and 3.x):
 * `cyclonedx` -> in-toto-golang's PredicateCycloneDX, `slsaprovenance1` -> slsa1's
 * PredicateSLSAProvenance. `--type slsaprovenance` means SLSA v0.2 there, not this statement.
 * cosign matches a statement to the image by `subject[].digest.sha256` (hex, no `sha256:`).
 *
 * What the provenance never holds (the rule of issue 16): a build arg's value (kbuild has no
 * notion of a secret build arg, so no value at all: names only), a build secret's content, file
 * or environment variable (its id only), an environment variable's value, the command line
 * (`--build-arg K=V` is in it), credentials of a git remote, a host name or a host path. It is
 * built from a whitelist: a field added to the fingerprint record later stays out until it is
 * added here on purpose.
 *
 * ## The build type: https://kbuild.dev/build/v1 (KBUILD_BUILD_TYPE)
 * One image of a family built (or found fresh) by `kbuild build` for one profile and platform.
 * - externalParameters: `profile` (name), `template` (the image's Dockerfile.j2, relative to the
 *   project root), `image` (its name in the family), `platform` (os/arch), `tag` (the shared
 *   tag), `selection` (the image patterns given, when any), `buildArgs` (the names of the build
 *   args it was built with, sorted; never values), `secrets` (the ids of the build secrets it
 *   mounts, sorted; never contents).
 * - internalParameters: `registry` and `repository` it was pushed to, `fingerprintSchema`, and
 *   when known `action` and `reason` (the plan's), `engine` {kind, clientVersion, serverVersion,
 *   buildPath}, `network`, `noCache`.
 * - resolvedDependencies: the project's git commit (name `project`, digest gitCommit, uri
 *   `git+<remote>` only when a remote is given: no `git+file` (it would name a host path),
 *   annotation `kbuild_dirty`: the working tree had uncommitted changes, so the commit alone
 *   does not describe what was built); the image's source archive (name `source`); each external
 *   base (name = its reference as written, uri a `pkg:docker` purl, digest = the image id the
 *   fingerprint used, annotation `kbuild_digestKind: image-id`: the sha256 of the image config,
 *   not a registry manifest digest); each family parent (name = its reference, digest = its
 *   pushed manifest digest when known, annotations `kbuild_image` and `kbuild_fingerprint`).
 * - byproducts: `fingerprint` (digest sha256 = the fingerprint, which is the sha256 of the
 *   canonical fingerprint record; annotation `kbuild_record`: that record without build arg
 *   values and with the build context as one digest), `Dockerfile` (sha256 of the rendered
 *   Dockerfile with family parents' references replaced, as fingerprinted), `context` (sha256 of
 *   the canonical JSON of the context's path -> file hash map, annotation `kbuild_files`).
 *
 * ## The builder: https://kbuild.dev/builder/v1 (KBUILD_BUILDER_ID)
 * kbuild run by whoever holds the signing key, on a host it does not name: the trust is the key's
 * (SLSA Build L1 at most: the provenance is made by the build itself). builder.version names
 * kbuild's version and the engine's (`<kind>` server, `<kind>-client`).
 */
import type { Inventory } from '../packages/inventory.js';
import { cycloneDx, purlEncode, type CycloneDxBom, type SbomTool } from '../packages/sbom.js';
import { canonicalJson, sha256, type FingerprintRecord } from '../plan/fingerprint.js';
import { parseReference } from '../dockerfile/reference.js';

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** What `cosign verify-attestation --type cyclonedx` looks for. */
export const PREDICATE_CYCLONEDX = 'https://cyclonedx.org/bom';
/** What `cosign verify-attestation --type slsaprovenance1` looks for. */
export const PREDICATE_SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** cosign's `--type` names of the two statements. */
export const COSIGN_TYPES = {
  sbom: 'cyclonedx',
  provenance: 'slsaprovenance1',
} as const;
export const KBUILD_BUILD_TYPE = 'https://kbuild.dev/build/v1';
export const KBUILD_BUILDER_ID = 'https://kbuild.dev/builder/v1';

/** An in-toto v1 ResourceDescriptor (at least one of uri, digest). */
export interface ResourceDescriptor {
  readonly name?: string;
  readonly uri?: string;
  readonly digest?: Readonly<Record<string, string>>;
  readonly mediaType?: string;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface Statement<P> {
  readonly _type: typeof IN_TOTO_STATEMENT_V1;
  readonly subject: readonly { readonly name: string; readonly digest: { sha256: string } }[];
  readonly predicateType: string;
  readonly predicate: P;
}

/** The SLSA provenance v1 predicate, as much of it as kbuild writes. */
export interface SlsaProvenance {
  readonly buildDefinition: {
    readonly buildType: string;
    readonly externalParameters: Readonly<Record<string, unknown>>;
    readonly internalParameters: Readonly<Record<string, unknown>>;
    readonly resolvedDependencies: readonly ResourceDescriptor[];
  };
  readonly runDetails: {
    readonly builder: { readonly id: string; readonly version: Readonly<Record<string, string>> };
    readonly metadata: {
      readonly invocationId: string;
      readonly startedOn?: string;
      readonly finishedOn?: string;
    };
    readonly byproducts: readonly ResourceDescriptor[];
  };
}

const SHA256_DIGEST = /^sha256:([0-9a-f]{64})$/;
/** The hex of `sha256:<hex>`, undefined for anything else (an unknown digest is ''). */
const sha256Hex = (digest: string | undefined) =>
  digest === undefined ? undefined : SHA256_DIGEST.exec(digest)?.[1];

/**
 * An in-toto Statement v1 about one artifact. `subject.digest` is `sha256:<hex>` (a manifest
 * digest as registries print it); anything else is a bug of the caller (thrown).
 */
export function inTotoStatement<P>(
  subject: { readonly name: string; readonly digest: string },
  predicateType: string,
  predicate: P,
): Statement<P> {
  const hex = sha256Hex(subject.digest);
  if (!hex) throw new Error(`not a sha256 digest: ${JSON.stringify(subject.digest)}`);
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: subject.name, digest: { sha256: hex } }],
    predicateType,
    predicate,
  };
}

/**
 * The statement as compact JSON (for reading and comparing). The bytes to sign are in-toto.ts's
 * serializeStatement of the same object: a Statement here is an InTotoStatement there.
 */
export const statementJson = (s: Statement<unknown>): string => JSON.stringify(s);

/** The engine, as far as the provenance names it (a subset of run/ports EngineInfo). */
export interface EngineFacts {
  readonly kind: string;
  readonly clientVersion?: string;
  readonly serverVersion?: string;
  readonly buildPath?: string;
}

/** Everything the two statements of one pushed image are made of. */
export interface ImageStatementsInput {
  /** The pushed image: its name in the family, where it is, the manifest digest pushed. */
  readonly image: {
    readonly name: string;
    /** Registry host[:port][/path], '' for none. */
    readonly registry: string;
    /** `namespace/prefix+name`. */
    readonly repository: string;
    /** The shared tag. */
    readonly tag: string;
    /** The manifest digest in the registry, `sha256:<hex>`: the statements' subject. */
    readonly digest: string;
    readonly imageId?: string;
  };
  readonly profile: string;
  /** The image's Dockerfile.j2, relative to the project root (posix). */
  readonly template: string;
  readonly platform: string;
  /** The image patterns of the command line, when any. */
  readonly selection?: readonly string[];
  readonly fingerprint: string;
  /** The image's fingerprint record, whole: build arg values in it are left out here. */
  readonly record: FingerprintRecord;
  /** Every family parent of the record: its reference and, when known, its pushed digest. */
  readonly parents?: Readonly<Record<string, { readonly ref: string; readonly digest?: string }>>;
  /** Build secrets the image mounts: only their ids are read (never `src`, `env`, contents). */
  readonly secrets?: readonly (string | { readonly id: string })[];
  /** The project's git state (null or absent: not in git). `remote` must not name a local path. */
  readonly git?: {
    readonly commit: string;
    readonly dirty: boolean;
    readonly remote?: string;
  } | null;
  readonly run: {
    readonly id: string;
    /** When the image's build started and its push ended (RFC 3339); absent when not built here. */
    readonly startedOn?: string;
    readonly finishedOn?: string;
  };
  /** What the plan did with the image and why (plan step action and reason). */
  readonly action?: string;
  readonly reason?: string;
  readonly engine?: EngineFacts;
  readonly network?: string;
  readonly noCache?: boolean;
  /** kbuild's name and version (as the SBOMs name it). */
  readonly tool: SbomTool;
  /** The image's package inventory for this fingerprint; absent: no SBOM statement. */
  readonly inventory?: Inventory;
}

/** `<seconds>` after `<run start>` as RFC 3339 UTC (the summary's times are run-relative). */
export function timeAfter(start: string, seconds: number): string {
  return new Date(Date.parse(start) + Math.round(seconds * 1000)).toISOString();
}

const utc = (t: string) => new Date(t).toISOString();

/** `pkg:docker/<path>@<tag|digest>?platform=…&repository_url=<host>`; undefined if unparsable. */
export function imageUri(ref: string, platform?: string): string | undefined {
  const r = parseReference(ref);
  if (!r.ok) return undefined;
  const { domain, path, tag, digest } = r.value;
  const q = [
    ...(platform ? [`platform=${purlEncode(platform)}`] : []),
    ...(domain ? [`repository_url=${purlEncode(domain)}`] : []),
  ];
  const at = purlEncode(digest ?? tag ?? 'latest');
  const p = path.split('/').map(purlEncode).join('/');
  return `pkg:docker/${p}@${at}${q.length ? `?${q.join('&')}` : ''}`;
}

/**
 * A git remote as a `git+<scheme>://host/path` ResourceURI with no credentials, query or
 * fragment (`https://user:token@host/x.git` -> `git+https://host/x.git`; scp-like
 * `git@host:org/x.git` -> `git+ssh://host/org/x.git`). Undefined for a local path or `file:`
 * URL (a host path), and for what is no URL.
 */
export function gitRemoteUri(remote: string): string | undefined {
  const scp = /^(?:[^@/\s]+@)?([A-Za-z0-9.-]+):(?!\/\/)([^\\\s]+)$/.exec(remote);
  let url: URL;
  try {
    url = new URL(scp ? `ssh://${scp[1]}/${scp[2]!.replace(/^\/+/, '')}` : remote);
  } catch {
    return undefined;
  }
  const scheme = url.protocol.replace(/^git\+/, '').replace(/:$/, '');
  if (!['https', 'http', 'ssh', 'git'].includes(scheme) || !url.hostname) return undefined;
  return `git+${scheme}://${url.host.toLowerCase()}${url.pathname}`;
}

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
const secretIds = (s: ImageStatementsInput['secrets']) =>
  sorted((s ?? []).map((x) => (typeof x === 'string' ? x : x.id)));

/** The record without anything that may be secret: build arg names only, the context as a digest. */
function publicRecord(r: FingerprintRecord, secrets: readonly string[]) {
  return {
    schema: r.schema,
    dockerfile: r.dockerfile,
    context: sha256(canonicalJson(r.context)),
    buildArgs: sorted(Object.keys(r.buildArgs)),
    ...(secrets.length ? { secrets } : {}),
    labels: { ...r.labels },
    platform: r.platform,
    engine: r.engine,
    parents: { ...r.parents },
    bases: { ...r.bases },
    ...(r.source !== undefined ? { source: r.source } : {}),
  };
}

/** The project, the source archive, the bases and the parents, each by digest where known. */
function dependencies(input: ImageStatementsInput): ResourceDescriptor[] {
  const { record, git } = input;
  const out: ResourceDescriptor[] = [];
  if (git) {
    const uri = git.remote ? gitRemoteUri(git.remote) : undefined;
    out.push({
      name: 'project',
      ...(uri ? { uri } : {}),
      digest: { gitCommit: git.commit },
      annotations: { kbuild_dirty: git.dirty },
    });
  }
  const source = record.source && /^(sha256|git):([0-9a-f]{40,64})$/.exec(record.source);
  if (source)
    out.push({
      name: 'source',
      digest: { [source[1] === 'git' ? 'gitCommit' : 'sha256']: source[2]! },
    });
  for (const [ref, id] of Object.entries(record.bases).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const hex = sha256Hex(id);
    const uri = imageUri(ref, record.platform);
    if (!hex && !uri) continue;
    out.push({
      name: ref,
      ...(uri ? { uri } : {}),
      ...(hex ? { digest: { sha256: hex }, annotations: { kbuild_digestKind: 'image-id' } } : {}),
    });
  }
  for (const [name, fp] of Object.entries(record.parents).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const parent = input.parents?.[name];
    if (!parent) throw new Error(`parent ${name} of ${input.image.name} not given`);
    const hex = sha256Hex(parent.digest);
    const uri = imageUri(parent.ref, record.platform);
    out.push({
      name: parent.ref,
      ...(uri ? { uri } : {}),
      ...(hex ? { digest: { sha256: hex } } : {}),
      annotations: { kbuild_image: name, kbuild_fingerprint: fp },
    });
  }
  return out;
}

/** The entries with a value ('' and undefined left out). */
const defined = <V>(o: Readonly<Record<string, V | undefined>>): Record<string, V> =>
  Object.fromEntries(
    Object.entries(o).filter((e): e is [string, V] => e[1] !== undefined && e[1] !== ''),
  );

/** The SLSA provenance v1 predicate of one image (see the build type above). */
export function provenancePredicate(input: ImageStatementsInput): SlsaProvenance {
  const { record, engine } = input;
  const secrets = secretIds(input.secrets);
  const engineFacts = engine
    ? defined({
        kind: engine.kind,
        clientVersion: engine.clientVersion,
        serverVersion: engine.serverVersion,
        buildPath: engine.buildPath,
      })
    : undefined;
  return {
    buildDefinition: {
      buildType: KBUILD_BUILD_TYPE,
      externalParameters: {
        profile: input.profile,
        template: input.template,
        image: input.image.name,
        platform: input.platform,
        tag: input.image.tag,
        ...(input.selection?.length ? { selection: [...input.selection] } : {}),
        buildArgs: sorted(Object.keys(record.buildArgs)),
        secrets,
      },
      internalParameters: defined({
        registry: input.image.registry,
        repository: input.image.repository,
        fingerprintSchema: record.schema,
        action: input.action,
        reason: input.reason,
        engine: engineFacts,
        network: input.network,
        noCache: input.noCache,
      }),
      resolvedDependencies: dependencies(input),
    },
    runDetails: {
      builder: {
        id: KBUILD_BUILDER_ID,
        version: defined({
          [input.tool.name]: input.tool.version,
          ...(engine
            ? {
                [engine.kind]: engine.serverVersion,
                [`${engine.kind}-client`]: engine.clientVersion,
              }
            : {}),
        }),
      },
      metadata: {
        invocationId: input.run.id,
        ...(input.run.startedOn ? { startedOn: utc(input.run.startedOn) } : {}),
        ...(input.run.finishedOn ? { finishedOn: utc(input.run.finishedOn) } : {}),
      },
      byproducts: [
        {
          name: 'fingerprint',
          digest: { sha256: input.fingerprint },
          mediaType: 'application/vnd.kbuild.fingerprint-record+json',
          annotations: { kbuild_record: publicRecord(record, secrets) },
        },
        { name: 'Dockerfile', digest: { sha256: record.dockerfile } },
        {
          name: 'context',
          digest: { sha256: sha256(canonicalJson(record.context)) },
          annotations: { kbuild_files: Object.keys(record.context).length },
        },
      ],
    },
  };
}

/** The subject of both statements: the repository in the registry (as cosign names it), the digest. */
const subjectOf = (image: ImageStatementsInput['image']) => ({
  name: image.registry ? `${image.registry}/${image.repository}` : image.repository,
  digest: image.digest,
});

/**
 * The statements of one pushed image: its SBOM (when its inventory is known) and its provenance.
 * Each is signed into a DSSE envelope and pushed as an attestation of `image.digest`.
 */
export function imageStatements(input: ImageStatementsInput): {
  sbom?: Statement<CycloneDxBom>;
  provenance: Statement<SlsaProvenance>;
} {
  const subject = subjectOf(input.image);
  const provenance = inTotoStatement(
    subject,
    PREDICATE_SLSA_PROVENANCE_V1,
    provenancePredicate(input),
  );
  if (!input.inventory) return { provenance };
  const { image } = input;
  const bom = cycloneDx(
    {
      repository: image.repository,
      tag: image.tag,
      ...(image.registry ? { registry: image.registry } : {}),
      digest: image.digest,
      fingerprint: input.fingerprint,
      ...(image.imageId ? { imageId: image.imageId } : {}),
      profile: input.profile,
    },
    input.inventory,
    input.tool,
  );
  return { sbom: inTotoStatement(subject, PREDICATE_CYCLONEDX, bom), provenance };
}

/**
 * The fingerprint a provenance statement names (its `fingerprint` byproduct), for `kbuild verify`;
 * undefined when the document is not kbuild's provenance.
 */
export function provenanceFingerprint(statement: unknown): string | undefined {
  const s = statement as Partial<Statement<Partial<SlsaProvenance>>> | null;
  if (s?.predicateType !== PREDICATE_SLSA_PROVENANCE_V1) return undefined;
  if (s.predicate?.buildDefinition?.buildType !== KBUILD_BUILD_TYPE) return undefined;
  const byproducts: unknown = s.predicate.runDetails?.byproducts;
  if (!Array.isArray(byproducts)) return undefined;
  const found = (byproducts as readonly (ResourceDescriptor | null)[]).find(
    (b) => b?.name === 'fingerprint',
  );
  const fp = found?.digest?.['sha256'];
  return typeof fp === 'string' ? fp : undefined;
}
