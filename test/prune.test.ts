/**
 * `prune --registry` through the real registry client against an in-memory registry, and
 * `prune --local` against the fake engine: what is decided, deleted, kept and checked.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryClient } from '../src/adapters/registry/index.js';
import { parseProject } from '../src/core/config/config.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST } from '../src/core/registry/manifest-list.js';
import { imageName } from '../src/core/model.js';
import { attachmentTag } from '../src/core/registry/attachments.js';
import type { RetentionRule } from '../src/core/registry/retention.js';
import type { Registry } from '../src/run/ports.js';
import { pruneLocal } from '../src/run/prune-local.js';
import { pruneRegistry, type PruneRegistryRequest } from '../src/run/prune-registry.js';
import { createFakeEngine } from './helpers/fake-engine.js';
import { startFakeRegistry, type FakeRegistry } from './helpers/fake-registry.js';

const NOW = Date.UTC(2026, 10, 28, 12);
const RULES: RetentionRule[] = (() => {
  const r = parseProject(
    'retention:\n  - tags: "master-*"\n    keep_days: 30\n  - tags: "/^v\\\\d+\\\\.\\\\d+\\\\.\\\\d+$/"\n    keep_newest: 1\n',
    'kbuild.yaml',
  );
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return [...r.value.retention];
})();
const fp = (c: string) => `fp-${c.repeat(24)}`;

describe('pruneRegistry', () => {
  let reg: FakeRegistry;
  const client = createRegistryClient();
  beforeEach(async () => (reg = await startFakeRegistry()));
  afterEach(() => reg.close());

  /** A tiny image manifest; `n` makes it unique. */
  const manifest = (n: string, ...tags: string[]) =>
    reg.putManifest(
      'ns/app',
      DOCKER_MANIFEST,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: { mediaType: 'c', size: 1, digest: reg.putBlob('ns/app', `config ${n}`) },
        layers: [],
      }),
      ...tags,
    );
  const request = (apply: boolean): PruneRegistryRequest => ({
    registry: reg.host,
    images: [
      { name: imageName('app'), repository: 'ns/app' },
      { name: imageName('never'), repository: 'ns/never-pushed' },
    ],
    rules: RULES,
    now: NOW,
    apply,
  });

  /** Four manifests: a fresh one, an old one with its fp tag, a release, and an index. */
  function seed() {
    const fresh = manifest('fresh', 'master-20261120', fp('a'));
    const old = manifest('old', 'master-20260101', fp('b'));
    const v1 = manifest('v1', 'v1.0.0');
    const v2 = manifest('v2', 'v2.0.0');
    // An old tag naming an index whose child an old tag also names: both go, with the index's other child.
    const child1 = manifest('child1', 'master-20260102-amd64');
    const child2 = manifest('child2');
    const list = reg.putManifest(
      'ns/app',
      DOCKER_MANIFEST_LIST,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST_LIST,
        manifests: [child1, child2].map((digest) => ({
          mediaType: DOCKER_MANIFEST,
          size: 1,
          digest,
        })),
      }),
      'master-20260102',
    );
    return { fresh, old, v1, v2, child1, child2, list };
  }

  it('a dry run decides per tag and deletes nothing', async () => {
    const s = seed();
    const [app, never] = await pruneRegistry(client, request(false));
    expect(app!.decisions.map((d) => [d.tag, d.keep])).toEqual([
      ['master-20261120', true],
      [fp('a'), true],
      ['master-20260101', false],
      [fp('b'), false],
      ['v1.0.0', false],
      ['v2.0.0', true],
      ['master-20260102-amd64', false],
      ['master-20260102', false],
    ]);
    expect(app!.deleteDigests).toEqual([s.list, s.child1, s.child2, s.old, s.v1]);
    expect(app!).toMatchObject({ deleted: [], problems: [], verified: 0 });
    expect(never).toMatchObject({ decisions: [], problems: [] });
    expect(reg.seen.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it('--yes deletes exactly the doomed manifests by digest; every kept tag still resolves', async () => {
    const s = seed();
    const [app] = await pruneRegistry(client, request(true));
    expect(app!.problems).toEqual([]);
    expect(app!.deleted).toEqual([s.list, s.child1, s.child2, s.old, s.v1]);
    expect(reg.seen.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual(
      app!.deleted.map((d) => `/v2/ns/app/manifests/${d}`),
    );
    expect([...reg.tags.get('ns/app')!.keys()].sort()).toEqual([
      fp('a'),
      'master-20261120',
      'v2.0.0',
    ]);
    expect(app!.verified).toBe(3);
    expect(app!.unresolved).toEqual([]);
    expect(reg.manifests.get('ns/app')!.has(s.fresh)).toBe(true);
  });

  it('a kept index keeps the manifests it names, even one an old tag names', async () => {
    const child = manifest('c', 'master-20260101-arm64');
    const list = reg.putManifest(
      'ns/app',
      DOCKER_MANIFEST_LIST,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST_LIST,
        manifests: [{ mediaType: DOCKER_MANIFEST, size: 1, digest: child }],
      }),
      'master-20261127',
    );
    const [app] = await pruneRegistry(client, request(true));
    expect(app!.decisions.map((d) => [d.tag, d.keep])).toEqual([
      ['master-20260101-arm64', true],
      ['master-20261127', true],
    ]);
    expect(app!.deleted).toEqual([]);
    expect(
      reg.manifests.get('ns/app')!.has(child) && reg.tags.get('ns/app')!.get('master-20261127'),
    ).toBe(list);
  });

  it('tags that change between the listing and the deletes: nothing is deleted, run again', async () => {
    seed();
    let lists = 0;
    const racing: Registry = {
      ...client,
      listTags: async (r, repo, signal) => {
        if (repo === 'ns/app' && ++lists === 2) manifest('new', 'master-20261128');
        return client.listTags(r, repo, signal);
      },
    };
    const [app] = await pruneRegistry(racing, request(true));
    expect(app!.problems).toEqual([
      'its tags changed while kbuild looked at them; run prune again',
    ]);
    expect(app!.deleted).toEqual([]);
    expect(reg.seen.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it('a registry refusing a delete: reported; what that index names stays; kept tags still resolve', async () => {
    const s = seed();
    reg.fail((r) => r.method === 'DELETE', 405);
    const [app] = await pruneRegistry(client, request(true));
    expect(app!.problems).toHaveLength(1);
    expect(app!.problems[0]).toMatch(
      /405 Method Not Allowed: DENIED denied \(deletes are disabled on this registry/,
    );
    // The index could not go: the manifests it names stay with it; the others go.
    expect(app!.deleted).toEqual([s.old, s.v1]);
    expect(app!.unresolved).toEqual([]);
  });

  it("cosign's signatures and attestations follow their image: kept with it, deleted after it, kept when its delete failed", async () => {
    const s = seed();
    const sigOf = (d: string, kind: 'sig' | 'att') =>
      manifest(`${kind} of ${d}`, attachmentTag(d, kind));
    const keptSig = sigOf(s.fresh, 'sig');
    const oldSig = sigOf(s.old, 'sig');
    const oldAtt = sigOf(s.old, 'att');
    const v1Sig = sigOf(s.v1, 'sig');
    // The first delete of v1 (after the index, its children and old) is refused.
    let deletes = 0;
    const refusing: Registry = {
      ...client,
      deleteManifest: async (ref, signal) =>
        ref.reference === s.v1 && ++deletes === 1
          ? { ok: false, error: { reason: 'unsupported', message: 'refused' } }
          : client.deleteManifest(ref, signal),
    };
    const [app] = await pruneRegistry(refusing, request(true));
    expect(app!.problems).toEqual(['refused']);
    const decided = new Map(app!.decisions.map((d) => [d.tag, d.keep]));
    expect(decided.get(attachmentTag(s.fresh, 'sig'))).toBe(true);
    expect(decided.get(attachmentTag(s.old, 'att'))).toBe(false);
    expect(app!.deleted).toEqual([s.list, s.child1, s.child2, s.old, oldSig, oldAtt]);
    // v1 could not be deleted: its signature stays with it.
    const left = reg.tags.get('ns/app')!;
    expect(left.get(attachmentTag(s.fresh, 'sig'))).toBe(keptSig);
    expect(left.get(attachmentTag(s.v1, 'sig'))).toBe(v1Sig);
    expect(left.has(attachmentTag(s.old, 'sig'))).toBe(false);
  });
});

describe('pruneLocal', () => {
  /** app has four builds (fp tags, made in this order), the last current; base one. */
  function engine() {
    const e = createFakeEngine({
      images: {
        'kbuild/app:fp-1': { files: { '/a': 'x'.repeat(10) } },
        'kbuild/app:fp-2': { files: { '/a': 'x'.repeat(20) } },
        'kbuild/app:fp-3': { files: { '/a': 'x'.repeat(30) } },
        'kbuild/app:fp-4': { files: { '/a': 'x'.repeat(40) } },
        'kbuild/base:fp-9': { files: { '/b': 'y' } },
        'busybox:latest': { files: { '/bin/sh': 'sh' } },
      },
    });
    return e;
  }
  const idOf = async (e: ReturnType<typeof engine>, ref: string) =>
    (await e.inspect([ref])).get(ref)!.id;

  it('dry run: says what would go and how much space that frees; removes nothing', async () => {
    const e = engine();
    await e.tag('kbuild/app:fp-4', 'kbuild/app:latest');
    await e.tag('kbuild/app:fp-4', '127.0.0.1:5000/kbuild/app:latest');
    const r = await pruneLocal(e, {
      images: [
        {
          name: imageName('app'),
          repositories: ['kbuild/app', '127.0.0.1:5000/kbuild/app'],
          current: new Set([await idOf(e, 'kbuild/app:fp-4')]),
        },
        { name: imageName('base'), repositories: ['kbuild/base'], current: new Set() },
      ],
      keep: 1,
      apply: false,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.decisions.map((d) => [d.name, d.refs, d.keep, d.size])).toEqual([
      [
        'app',
        ['127.0.0.1:5000/kbuild/app:latest', 'kbuild/app:fp-4', 'kbuild/app:latest'],
        true,
        40,
      ],
      ['app', ['kbuild/app:fp-3'], true, 30],
      ['app', ['kbuild/app:fp-2'], false, 20],
      ['app', ['kbuild/app:fp-1'], false, 10],
      ['base', ['kbuild/base:fp-9'], true, 1],
    ]);
    expect(r.value.freedBytes).toBe(30);
    expect(e.calls.filter((c) => c.startsWith('rmi'))).toEqual([]);
  });

  it('--yes removes them, keeps the current and newest builds, and counts what went', async () => {
    const e = engine();
    // fp-1 is also tagged outside the family: untagging it frees nothing.
    await e.tag('kbuild/app:fp-1', 'someone/else:keep');
    const r = await pruneLocal(e, {
      images: [
        {
          name: imageName('app'),
          repositories: ['kbuild/app'],
          current: new Set([await idOf(e, 'kbuild/app:fp-4')]),
        },
      ],
      keep: 0,
      apply: true,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.decisions.map((d) => [d.refs[0], d.keep, d.outcome])).toEqual([
      ['kbuild/app:fp-4', true, undefined],
      ['kbuild/app:fp-3', false, 'removed'],
      ['kbuild/app:fp-2', false, 'removed'],
      ['kbuild/app:fp-1', false, 'untagged'],
    ]);
    expect(r.value.freedBytes).toBe(50);
    const left = await e.listImages(['kbuild/app', 'someone/else']);
    expect(left.ok && left.value.flatMap((i) => i.refs).sort()).toEqual([
      'kbuild/app:fp-4',
      'someone/else:keep',
    ]);
  });
});
