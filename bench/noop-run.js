// One whole `kbuild build` process over a synthetic family, with a fake engine whose image store
// persists in a file (so what one run built is fresh for the next). It goes through the same
// observation, run and state update as the CLI; only the engine differs. Prints the counts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readState, writeState } from '../dist/adapters/state.js';
import { loadSelected } from '../dist/cli/commands/shared.js';
import { observeFamily } from '../dist/cli/observe-family.js';
import { runBuild } from '../dist/run/build/run-build.js';
import { stateAfterRun } from '../dist/run/build/state-update.js';

const dir = process.argv[2];
const storeFile = join(dir, '.fake-engine.json');
const store = new Map(existsSync(storeFile) ? JSON.parse(readFileSync(storeFile, 'utf8')) : []);
let builds = 0;
const failure = (reason) => ({
  ok: false,
  error: { reason, message: 'no registry here', transient: false },
});
const info = {
  kind: 'fake',
  client: 'fake',
  clientVersion: '1',
  serverVersion: '1',
  buildPath: 'buildkit',
  platform: 'linux/amd64',
};
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
  push: async () => failure('push-failed'),
  // Containers (the package inventory read after a build) answer as an image without a package
  // database does.
  run: async (_req, op) => {
    op.log('KBI\tos\t\t');
    op.log('KBI\tmanager\tnone\t');
    return { ok: true, value: { exitCode: 0 } };
  },
  pull: async () => failure('pull-failed'),
  // Family images are what this fake built; anything else (the external base) is present.
  inspect: async (refs) =>
    new Map(
      refs
        .filter((r) => store.has(r) || !r.startsWith('bench/'))
        .map((r) => [r, { id: store.get(r) ?? 'sha256:base', labels: {} }]),
    ),
};
const io = { out: () => {}, err: (t) => process.stderr.write(t), cwd: dir, env: {} };
const opts = {
  project: dir,
  profile: 'p',
  var: [],
  buildArg: [],
  templateOverride: [],
  exclude: [],
};
const { family, selection, root } = await loadSelected(io, opts, []);
const state = await readState(root, family.profile.name);
const found = await observeFamily(root, family, selection, state, {
  force: false,
  use: { engine, info },
});
if (!found.ok) throw new Error(found.message);
const { observed } = found.value;
const inventories = new Map();
const summary = await runBuild({
  family,
  plan: observed.plan,
  inventories,
  options: {
    threads: 4,
    pushThreads: 2,
    retries: 0,
    pushRetries: 0,
    timeoutSeconds: 0,
    failFast: false,
    push: false,
    pull: false,
    noCache: false,
    test: false,
    publish: 'eager',
  },
  ports: {
    engine,
    engineInfo: info,
    logs: { dir, open: () => ({ write: () => {}, close: async () => '' }) },
    prepare: async () => ({ ok: true, value: { contextDir: dir, dockerfile: 'Dockerfile' } }),
    now: () => performance.now(),
    sleep: async () => {},
  },
  id: { runId: 'bench', startedAt: new Date().toISOString() },
  signal: new AbortController().signal,
  report: () => {},
});
await writeState(root, stateAfterRun(state, summary, observed.plan, '', inventories));
writeFileSync(storeFile, JSON.stringify([...store]));
process.stdout.write(JSON.stringify({ builds, counts: summary.counts }));
