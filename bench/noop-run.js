// One whole `kbuild build` process over a synthetic family, with a fake engine whose image store
// persists in a file (so what one run built is fresh for the next). It goes through the same
// observation, run and state update as the CLI; only the engine differs. Prints the counts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOptions, FAKE_INFO, quietPorts, runWithoutPackages } from './fake-run.js';
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
const info = FAKE_INFO;
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
  run: runWithoutPackages,
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
  options: buildOptions(4),
  ports: quietPorts(dir, engine, () => performance.now()),
  id: { runId: 'bench', startedAt: new Date().toISOString() },
  signal: new AbortController().signal,
  report: () => {},
});
await writeState(root, stateAfterRun(state, summary, observed.plan, '', inventories));
writeFileSync(storeFile, JSON.stringify([...store]));
process.stdout.write(JSON.stringify({ builds, counts: summary.counts }));
