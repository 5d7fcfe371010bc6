import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cycloneDxErrors } from '../../../test/helpers/cyclonedx.js';
import { slsaPredicateErrors, slsaStatementErrors } from '../../../test/helpers/slsa-provenance.js';
import type { Digest } from '../model.js';
import type { Inventory } from '../packages/inventory.js';
import { cycloneDx } from '../packages/sbom.js';
import {
  canonicalJson,
  FINGERPRINT_SCHEMA,
  fingerprintOf,
  sha256,
  type FingerprintRecord,
} from '../plan/fingerprint.js';
import {
  parseStatement,
  serializeStatement,
  statementIsAbout,
  type InTotoStatement,
} from './in-toto.js';
import {
  COSIGN_TYPES,
  gitRemoteUri,
  imageStatements,
  imageUri,
  inTotoStatement,
  IN_TOTO_STATEMENT_V1,
  KBUILD_BUILDER_ID,
  KBUILD_BUILD_TYPE,
  PREDICATE_CYCLONEDX,
  PREDICATE_SLSA_PROVENANCE_V1,
  provenanceFingerprint,
  statementJson,
  timeAfter,
  type ImageStatementsInput,
} from './statements.js';

const hex = (c: string) => c.repeat(64);
const baseId = `sha256:${hex('b')}`;
const parentDigest = `sha256:${hex('d')}`;
const pushed = `sha256:${hex('e')}`;
const commit = 'c'.repeat(40);

const record = (over: Partial<FingerprintRecord> = {}): FingerprintRecord => ({
  schema: FINGERPRINT_SCHEMA,
  dockerfile: hex('1'),
  context: { 'files/run.sh': `${hex('2')}+x`, 'Dockerfile.j2': hex('3') },
  buildArgs: { HTTP_PROXY: 'http://proxy:3128', VERSION: '1.2' },
  labels: { 'io.kbuild.image': 'hello', 'io.kbuild.profile': 'debian' },
  platform: 'linux/amd64',
  engine: 'docker',
  parents: { base: hex('f') },
  bases: { 'debian:bookworm': baseId, 'busybox:musl': '' },
  source: `git:${commit}`,
  ...over,
});

const inventory: Inventory = {
  manager: 'dpkg',
  distro: 'debian',
  distroVersion: '12',
  config: 'c0ffee',
  packages: [{ name: 'apt', arch: 'amd64', version: '2.6.1', source: 'apt' }],
};

const input = (over: Partial<ImageStatementsInput> = {}): ImageStatementsInput => {
  const r = over.record ?? record();
  return {
    image: {
      name: 'hello',
      registry: '127.0.0.1:5000',
      repository: 'kbuild/hello',
      tag: 'debian',
      digest: pushed,
      imageId: `sha256:${hex('a')}`,
    },
    profile: 'debian',
    template: 'images/hello/Dockerfile.j2',
    platform: 'linux/amd64',
    selection: ['hello'],
    fingerprint: fingerprintOf(r),
    record: r,
    parents: { base: { ref: '127.0.0.1:5000/kbuild/base:debian', digest: parentDigest } },
    secrets: [{ id: 'npmrc' }],
    git: { commit, dirty: true, remote: 'https://github.com/acme/family.git' },
    run: {
      id: '20261129-081700-ab12',
      startedOn: '2026-11-29T08:17:01.250Z',
      finishedOn: '2026-11-29T09:17:05+01:00',
    },
    action: 'build',
    reason: 'context-changed (files/run.sh)',
    engine: {
      kind: 'docker',
      clientVersion: '20.10.24',
      serverVersion: '20.10.24',
      buildPath: 'buildkit',
    },
    network: 'host',
    tool: { name: 'kbuild', version: '0.1.0' },
    inventory,
    ...over,
  };
};

describe('inTotoStatement', () => {
  it('is an in-toto Statement v1 whose subject digest is the bare sha256 hex cosign matches', () => {
    const s = inTotoStatement({ name: 'r/x', digest: pushed }, 'https://example.com/p/v1', {
      a: 1,
    });
    expect(s).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'r/x', digest: { sha256: hex('e') } }],
      predicateType: 'https://example.com/p/v1',
      predicate: { a: 1 },
    });
    expect(JSON.parse(statementJson(s))).toEqual(s);
  });

  it('refuses a subject digest that is not sha256:<64 hex> (a wiring bug)', () => {
    expect(() => inTotoStatement({ name: 'x', digest: hex('e') }, 'u:x', {})).toThrow(/sha256/);
    expect(() => inTotoStatement({ name: 'x', digest: 'sha256:ABC' }, 'u:x', {})).toThrow();
  });

  it("uses the predicate types cosign's --type cyclonedx and --type slsaprovenance1 resolve to", () => {
    // cmd/cosign/cli/options/predicate.go PredicateTypeMap (cosign 2.5 and 3.x).
    expect(COSIGN_TYPES).toEqual({ sbom: 'cyclonedx', provenance: 'slsaprovenance1' });
    expect(PREDICATE_CYCLONEDX).toBe('https://cyclonedx.org/bom');
    expect(PREDICATE_SLSA_PROVENANCE_V1).toBe('https://slsa.dev/provenance/v1');
    expect(IN_TOTO_STATEMENT_V1).toBe('https://in-toto.io/Statement/v1');
  });
});

describe('imageStatements: the SBOM', () => {
  it("is sbom.ts's CycloneDX document of the pushed image, valid against the official 1.5 schema", () => {
    const { sbom } = imageStatements(input());
    expect(sbom?.predicateType).toBe(PREDICATE_CYCLONEDX);
    expect(sbom?.subject).toEqual([
      { name: '127.0.0.1:5000/kbuild/hello', digest: { sha256: hex('e') } },
    ]);
    const i = input();
    expect(sbom?.predicate).toEqual(
      cycloneDx(
        {
          repository: 'kbuild/hello',
          tag: 'debian',
          registry: '127.0.0.1:5000',
          digest: pushed,
          fingerprint: i.fingerprint,
          imageId: `sha256:${hex('a')}`,
          profile: 'debian',
        },
        inventory,
        i.tool,
      ),
    );
    expect(cycloneDxErrors(sbom!.predicate)).toEqual([]);
  });

  it('is absent when the inventory is not known', () => {
    const s = imageStatements(input({ inventory: undefined }));
    expect(s.sbom).toBeUndefined();
    expect(s.provenance.predicateType).toBe(PREDICATE_SLSA_PROVENANCE_V1);
  });
});

describe('imageStatements: the provenance', () => {
  const { provenance } = imageStatements(input());
  const p = provenance.predicate;

  it('is valid against the SLSA provenance v1 schema (statement and predicate)', () => {
    expect(slsaStatementErrors(provenance)).toEqual([]);
    expect(slsaPredicateErrors(p)).toEqual([]);
    expect(provenance.subject).toEqual([
      { name: '127.0.0.1:5000/kbuild/hello', digest: { sha256: hex('e') } },
    ]);
  });

  it('the schema rejects what the spec forbids (so the check above can fail)', () => {
    type Node = Record<string | number, unknown>;
    /** The statement's errors once the value at `path` is replaced (undefined: removed). */
    const bad = (path: readonly (string | number)[], value?: unknown) => {
      const copy = JSON.parse(statementJson(provenance)) as Node;
      let at = copy;
      for (const k of path.slice(0, -1)) at = at[k] as Node;
      const last = path.at(-1)!;
      if (value === undefined) delete at[last];
      else at[last] = value;
      return slsaStatementErrors(copy);
    };
    expect(bad(['predicate', 'runDetails', 'builder', 'id'])).not.toEqual([]);
    expect(bad(['predicate', 'buildDefintion'], {})).not.toEqual([]);
    const started = ['predicate', 'runDetails', 'metadata', 'startedOn'];
    expect(bad(started, '2026-11-29 08:00')).not.toEqual([]);
    expect(bad(started, '2026-11-29T09:00:00+01:00')).not.toEqual([]);
    expect(bad(['subject', 0, 'digest'], {})).not.toEqual([]);
    expect(bad(['subject', 0, 'digest', 'sha256'], 'ABC')).not.toEqual([]);
    const deps = ['predicate', 'buildDefinition', 'resolvedDependencies'];
    expect(bad([...deps, 0], { name: 'x' })).not.toEqual([]);
    expect(bad(['predicateType'], 'https://slsa.dev/provenance/v0.2')).not.toEqual([]);
    expect(bad(['predicate', 'buildDefinition', 'buildType'], 'HTTPS://Kbuild.dev/x')).not.toEqual(
      [],
    );
  });

  it("names kbuild's build type and builder, no host, and kbuild's and the engine's versions", () => {
    expect(p.buildDefinition.buildType).toBe(KBUILD_BUILD_TYPE);
    expect(p.runDetails.builder).toEqual({
      id: KBUILD_BUILDER_ID,
      version: { kbuild: '0.1.0', docker: '20.10.24', 'docker-client': '20.10.24' },
    });
  });

  it('takes the profile, template, image, platform, tag, selection, build arg names and secret ids as parameters', () => {
    expect(p.buildDefinition.externalParameters).toEqual({
      profile: 'debian',
      template: 'images/hello/Dockerfile.j2',
      image: 'hello',
      platform: 'linux/amd64',
      tag: 'debian',
      selection: ['hello'],
      buildArgs: ['HTTP_PROXY', 'VERSION'],
      secrets: ['npmrc'],
    });
    expect(p.buildDefinition.internalParameters).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'kbuild/hello',
      fingerprintSchema: FINGERPRINT_SCHEMA,
      action: 'build',
      reason: 'context-changed (files/run.sh)',
      engine: {
        kind: 'docker',
        clientVersion: '20.10.24',
        serverVersion: '20.10.24',
        buildPath: 'buildkit',
      },
      network: 'host',
    });
    // The spec: the same field name SHOULD NOT be in both.
    const ext = Object.keys(p.buildDefinition.externalParameters);
    expect(
      Object.keys(p.buildDefinition.internalParameters).filter((k) => ext.includes(k)),
    ).toEqual([]);
  });

  it('resolves the project commit (dirty), the source, the bases and the parents by digest', () => {
    expect(p.buildDefinition.resolvedDependencies).toEqual([
      {
        name: 'project',
        uri: 'git+https://github.com/acme/family.git',
        digest: { gitCommit: commit },
        annotations: { kbuild_dirty: true },
      },
      { name: 'source', digest: { gitCommit: commit } },
      { name: 'busybox:musl', uri: 'pkg:docker/busybox@musl?platform=linux%2Famd64' },
      {
        name: 'debian:bookworm',
        uri: 'pkg:docker/debian@bookworm?platform=linux%2Famd64',
        digest: { sha256: hex('b') },
        annotations: { kbuild_digestKind: 'image-id' },
      },
      {
        name: '127.0.0.1:5000/kbuild/base:debian',
        uri: 'pkg:docker/kbuild/base@debian?platform=linux%2Famd64&repository_url=127.0.0.1%3A5000',
        digest: { sha256: hex('d') },
        annotations: { kbuild_image: 'base', kbuild_fingerprint: hex('f') },
      },
    ]);
  });

  it('has the fingerprint, the rendered Dockerfile and context digests as byproducts, and the run times in UTC', () => {
    const i = input();
    const [fp, dockerfile, context] = p.runDetails.byproducts;
    expect(fp?.digest).toEqual({ sha256: i.fingerprint });
    expect(fp?.annotations?.['kbuild_record']).toEqual({
      schema: FINGERPRINT_SCHEMA,
      dockerfile: hex('1'),
      context: sha256(canonicalJson(i.record.context)),
      buildArgs: ['HTTP_PROXY', 'VERSION'],
      secrets: ['npmrc'],
      labels: i.record.labels,
      platform: 'linux/amd64',
      engine: 'docker',
      parents: { base: hex('f') },
      bases: i.record.bases,
      source: `git:${commit}`,
    });
    expect(dockerfile).toEqual({ name: 'Dockerfile', digest: { sha256: hex('1') } });
    expect(context).toEqual({
      name: 'context',
      digest: { sha256: sha256(canonicalJson(i.record.context)) },
      annotations: { kbuild_files: 2 },
    });
    expect(p.runDetails.metadata).toEqual({
      invocationId: '20261129-081700-ab12',
      startedOn: '2026-11-29T08:17:01.250Z',
      finishedOn: '2026-11-29T08:17:05.000Z',
    });
  });

  it("is what in-toto.ts signs and reads back (the signer's serializeStatement and parseStatement)", () => {
    const signed: InTotoStatement = provenance;
    const back = parseStatement(serializeStatement(signed));
    expect(back.ok && back.value).toEqual(JSON.parse(statementJson(provenance)));
    expect(back.ok && statementIsAbout(back.value, pushed as Digest)).toBe(true);
  });

  it('gives its fingerprint back to kbuild verify, from the JSON as pushed', () => {
    const json = JSON.parse(statementJson(provenance)) as unknown;
    expect(provenanceFingerprint(json)).toBe(input().fingerprint);
    expect(provenanceFingerprint(JSON.parse(statementJson(imageStatements(input()).sbom!)))).toBe(
      undefined,
    );
    expect(provenanceFingerprint(null)).toBeUndefined();
  });

  it('without git, times, engine or parents it is still valid (an image with no family parent)', () => {
    const r = record({ parents: {}, source: undefined });
    const min = imageStatements(
      input({
        record: r,
        fingerprint: fingerprintOf(r),
        parents: undefined,
        git: null,
        run: { id: 'r1' },
        engine: undefined,
        selection: undefined,
        secrets: undefined,
        action: undefined,
        reason: undefined,
        network: undefined,
      }),
    ).provenance;
    expect(slsaStatementErrors(min)).toEqual([]);
    expect(min.predicate.runDetails.metadata).toEqual({ invocationId: 'r1' });
    expect(min.predicate.buildDefinition.resolvedDependencies.map((d) => d.name)).toEqual([
      'busybox:musl',
      'debian:bookworm',
    ]);
  });

  it('refuses a record naming a parent the caller did not describe (a wiring bug)', () => {
    expect(() => imageStatements(input({ parents: {} }))).toThrow(/parent base of hello/);
  });
});

describe('no secret in any statement', () => {
  const everywhere = (marker: string): ImageStatementsInput => {
    // The record's secret ids (issue 16's --secret), spread: the field may be newer than this test.
    const ids = { secrets: ['npmrc'] };
    const r = record({
      buildArgs: { TOKEN: marker, HTTP_PROXY: `http://u:${marker}@proxy:3128`, PLAIN: 'x' },
      ...ids,
    });
    // What the run may hold beside the facts: secrets' sources and environment, the engine's
    // client path, a remote with credentials.
    const secret = { id: 'npmrc', src: `/home/me/${marker}`, env: marker, value: marker };
    const engine = {
      kind: 'docker',
      client: `/home/${marker}/bin/docker`,
      clientVersion: '20.10.24',
      serverVersion: '20.10.24',
      buildPath: 'buildkit',
      env: { NPM_TOKEN: marker },
    };
    return input({
      record: r,
      fingerprint: fingerprintOf(r),
      secrets: [secret, 'netrc'],
      engine,
      git: { commit, dirty: false, remote: `https://ci:${marker}@git.example.com/acme/family.git` },
    });
  };

  it('build arg values, secret sources and env, credentials and the engine client path stay out', () => {
    const marker = 'KBUILD-SECRET-MARKER-7f3a';
    const i = everywhere(marker);
    const { sbom, provenance } = imageStatements(i);
    const text = statementJson(provenance) + statementJson(sbom!);
    expect(text).not.toContain(marker);
    expect(text).not.toContain('/home/');
    // The names and ids are there, and the record's fingerprint (over the values) too.
    expect(provenance.predicate.buildDefinition.externalParameters).toMatchObject({
      buildArgs: ['HTTP_PROXY', 'PLAIN', 'TOKEN'],
      secrets: ['netrc', 'npmrc'],
    });
    expect(provenanceFingerprint(provenance)).toBe(i.fingerprint);
    expect(provenance.predicate.buildDefinition.resolvedDependencies[0]?.uri).toBe(
      'git+https://git.example.com/acme/family.git',
    );
  });

  it('for any secret value (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9+/=_-]{6,40}$/),
        fc.constantFrom('TOKEN', 'HTTP_PROXY', 'PLAIN'),
        (tail, arg) => {
          const marker = `S3CR3T${tail}`;
          const base = everywhere(marker);
          const i = {
            ...base,
            record: { ...base.record, buildArgs: { ...base.record.buildArgs, [arg]: marker } },
          };
          const { sbom, provenance } = imageStatements(i);
          return !`${statementJson(provenance)}${statementJson(sbom!)}`.includes(marker);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('helpers', () => {
  it('gitRemoteUri: a git+ URI without credentials, query or fragment; none for local paths', () => {
    expect(gitRemoteUri('https://user:tok@GitHub.com/acme/x.git?a=1#f')).toBe(
      'git+https://github.com/acme/x.git',
    );
    expect(gitRemoteUri('git@github.com:acme/x.git')).toBe('git+ssh://github.com/acme/x.git');
    expect(gitRemoteUri('ssh://git@host:2222/acme/x')).toBe('git+ssh://host:2222/acme/x');
    expect(gitRemoteUri('/srv/git/x.git')).toBeUndefined();
    expect(gitRemoteUri('file:///srv/git/x.git')).toBeUndefined();
    expect(gitRemoteUri('../x')).toBeUndefined();
  });

  it('imageUri: a pkg:docker purl of a reference', () => {
    expect(imageUri('debian:bookworm')).toBe('pkg:docker/debian@bookworm');
    expect(imageUri('quay.io/a/b')).toBe('pkg:docker/a/b@latest?repository_url=quay.io');
    expect(imageUri(`x@sha256:${hex('0')}`)).toBe(`pkg:docker/x@sha256%3A${hex('0')}`);
    expect(imageUri('Not A Ref')).toBeUndefined();
  });

  it('timeAfter: seconds after the run start, as RFC 3339 UTC', () => {
    expect(timeAfter('2026-11-29T08:17:00.000Z', 1.5)).toBe('2026-11-29T08:17:01.500Z');
  });
});
