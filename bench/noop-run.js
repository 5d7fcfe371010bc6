// One whole `kbuild build` process over a synthetic family with a fake engine whose image store
// persists in a file (so fingerprints found by one run are fresh for the next). Prints the
// counts as JSON. Used by bench/noop.js; the real CLI differs only in the engine it talks to.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashContext } from '../dist/adapters/context-hash.js';
import { readState, writeState } from '../dist/adapters/state.js';
import { loadSelected } from '../dist/cli/commands/shared.js';
import { imageLabels, imageTags, runBuild } from '../dist/run/build.js';
import { observe } from '../dist/run/observe.js';

const dir = process.argv[2];
const storeFile = join(dir, '.fake-engine.json');
const store = new Map(existsSync(storeFile) ? JSON.parse(readFileSync(storeFile, 'utf8')) : []);
let builds = 0;
const engine = {
  kind: 'fake',
  info: async () => ({ ok: true, value: info }),
  build: async (req) => {
    builds++;
    const id = `sha256:${builds}-${Date.now()}`;
    for (const t of req.tags) store.set(t, id);
    return { ok: true, value: { imageId: id } };
  },
  tag: async (src, dst) => (store.set(dst, store.get(src)), { ok: true, value: undefined }),
  push: async () => ({
    ok: false,
    error: { reason: 'push-failed', message: 'no registry', transient: false },
  }),
  pull: async () => ({
    ok: false,
    error: { reason: 'pull-failed', message: 'no registry', transient: false },
  }),
  inspect: async (refs) =>
    new Map(
      refs
        .filter((r) => store.has(r) || !r.startsWith('bench/'))
        .map((r) => [r, { id: store.get(r) ?? 'sha256:base', labels: {} }]),
    ),
};
const info = {
  kind: 'fake',
  client: 'fake',
  clientVersion: '1',
  serverVersion: '1',
  buildPath: 'buildkit',
  platform: 'linux/amd64',
};
const io = { out: () => {}, err: (t) => process.stderr.write(t), cwd: dir, env: {} };
const { family, selection, root } = await loadSelected(
  io,
  { project: dir, profile: 'p', var: [], buildArg: [], templateOverride: [], exclude: [] },
  [],
);
const state = await readState(root, 'p');
const observed = await observe(
  family,
  selection,
  {
    engine,
    engineKind: 'fake',
    hashContext: (n) =>
      hashContext(join(root, family.project.imagesDir, family.images.get(n).spec.dir)),
    stored: (n) => state.images[n]?.record,
    labels: (n) => imageLabels(family, n),
    tags: (n) => imageTags(family, n),
  },
  false,
);
const summary = await runBuild(
  family,
  observed.plan,
  {
    threads: 4,
    pushThreads: 2,
    retries: 0,
    pushRetries: 0,
    timeoutSeconds: 0,
    failFast: false,
    push: false,
    pull: false,
    noCache: false,
  },
  {
    engine,
    engineInfo: info,
    logs: { dir, open: () => ({ write: () => {}, close: async () => '' }) },
    prepare: async () => ({ contextDir: dir, dockerfile: 'Dockerfile' }),
    now: () => performance.now(),
    sleep: async () => {},
  },
  { runId: 'bench', startedAt: new Date().toISOString() },
  {
    fpRef: observed.fpRef,
    fingerprint: (n) => observed.fingerprints.get(n).fingerprint,
    localId: (n) => observed.local.get(observed.fpRef(n))?.id,
    publishedDigest: () => undefined,
    remoteDigest: () => undefined,
  },
  new AbortController().signal,
  () => {},
);
const images = { ...state.images };
for (const i of summary.images) {
  const fp = observed.fingerprints.get(i.name);
  if (fp && i.imageId)
    images[i.name] = { fingerprint: fp.fingerprint, record: fp.record, imageId: i.imageId };
}
await writeState(root, { ...state, images });
writeFileSync(storeFile, JSON.stringify([...store]));
process.stdout.write(JSON.stringify({ builds, counts: summary.counts }));
