// Scheduler quality on the large-family shape (187 images, level widths 1/28/54/102/2, largest
// fan-out 29), through the path real runs take: the family is written and loaded, observed with a
// fake engine against a state file holding the last build times, and run by runBuild (plan steps'
// expected seconds -> the scheduler's weights) on a virtual clock. Each build takes its true
// duration (seeded lognormal, median 60 s); the state's last times are the true ones with noise,
// as real last times are. Compared, on the same family and durations:
//   last times: the state holds every image's last build time (a nightly's usual case)
//   no times:   an empty state (a first run: every weight the same, which was every run before)
//   exact:      the state holds the true durations (perfect knowledge)
//   level by level: every image waits for the whole previous level (a CI matrix per level)
// Ratio = makespan / lower bound, lower bound = max(critical path, total work / threads).
import { setImmediate as tick } from 'node:timers/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOptions, FAKE_INFO, quietPorts, runWithoutPackages } from './fake-run.js';
import { rng, writeFamily } from './families.js';
import { loadSelected } from '../dist/cli/commands/shared.js';
import { observeFamily } from '../dist/cli/observe-family.js';
import { runBuild } from '../dist/run/build/run-build.js';
import { remainingPath } from '../dist/run/scheduler.js';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'out', 'scheduler-187');
const info = FAKE_INFO;

/** Seeded true durations per image, and last times = true times with lognormal noise (σ 0.3). */
function durations(names, seed = 11) {
  const random = rng(seed);
  const normal = () =>
    Math.sqrt(-2 * Math.log(random() || 1e-9)) * Math.cos(2 * Math.PI * random());
  const truth = new Map(names.map((n) => [n, Math.exp(Math.log(60) + 0.8 * normal())]));
  const last = new Map(names.map((n) => [n, truth.get(n) * Math.exp(0.3 * normal())]));
  return { truth, last };
}

/** One `kbuild build -j threads` of the family on a virtual clock; the makespan in seconds. */
async function simulate(loaded, stateSeconds, truth, threads, parentsOf) {
  const { family, selection, root } = loaded;
  const state = {
    schema: 1,
    profile: family.profile.name,
    images: Object.fromEntries(
      [...stateSeconds].map(([n, s]) => [
        n,
        { fingerprint: '', record: {}, imageId: '', seconds: s },
      ]),
    ),
  };
  let now = 0;
  const timers = [];
  const engine = {
    kind: 'fake',
    info: async () => ({ ok: true, value: info }),
    build: (req) =>
      new Promise((resolve) =>
        timers.push({
          at: now + truth.get(req.tags[0].split('/')[1].split(':')[0]) * 1000,
          resolve: () => resolve({ ok: true, value: { imageId: req.tags[0] } }),
        }),
      ),
    tag: async () => ({ ok: true, value: undefined }),
    run: runWithoutPackages,
    // Nothing of the family is here; the external base is.
    inspect: async (refs) =>
      new Map(
        refs.filter((r) => !r.startsWith('bench/')).map((r) => [r, { id: 'base', labels: {} }]),
      ),
  };
  const found = await observeFamily(root, family, selection, state, {
    force: false,
    use: { engine, info },
  });
  if (!found.ok) throw new Error(found.message);
  let plan = found.value.observed.plan;
  // Level by level: each image also waits for every image of the level above.
  if (parentsOf)
    plan = { ...plan, steps: plan.steps.map((s) => ({ ...s, parents: parentsOf(s) })) };
  let finished = false;
  const run = runBuild({
    family,
    plan,
    options: { ...buildOptions(threads), pushThreads: 1 },
    ports: quietPorts(dir, engine, () => now),
    id: { runId: 'bench', startedAt: '' },
    signal: new AbortController().signal,
    report: () => {},
  }).then((summary) => {
    finished = true;
    return summary;
  });
  while (!finished) {
    await tick();
    if (finished || timers.length === 0) continue;
    timers.sort((a, b) => a.at - b.at);
    const t = timers.shift();
    now = t.at;
    t.resolve();
  }
  const summary = await run;
  if (summary.counts.built !== plan.steps.length) throw new Error('not every image was built');
  return now / 1000;
}

export async function schedulerBench() {
  writeFamily(dir, { widths: [1, 28, 54, 102, 2], seed: 11, fanOut: { 2: 29 } });
  const io = { out: () => {}, err: (t) => process.stderr.write(t), cwd: dir, env: {} };
  const loaded = await loadSelected(
    io,
    { project: dir, profile: 'p', var: [], buildArg: [], templateOverride: [], exclude: [] },
    [],
  );
  const { graph } = loaded.family;
  const names = graph.order;
  const { truth, last } = durations(names);
  const jobs = names.map((n) => ({
    name: n,
    parents: graph.nodes.get(n).parents,
    weight: truth.get(n),
  }));
  const total = jobs.reduce((s, j) => s + j.weight, 0);
  const critical = Math.max(...remainingPath(jobs).values());
  const byDepth = new Map();
  for (const n of names) {
    const d = graph.nodes.get(n).depth;
    byDepth.set(d, [...(byDepth.get(d) ?? []), n]);
  }
  const levelParents = (s) => byDepth.get(graph.nodes.get(s.name).depth - 1) ?? [];
  const rows = [];
  for (const threads of [4, 8, 16]) {
    const bound = Math.max(critical, total / threads);
    const lastTimes = await simulate(loaded, last, truth, threads);
    const noTimes = await simulate(loaded, new Map(), truth, threads);
    const exact = await simulate(loaded, truth, truth, threads);
    const byLevel = await simulate(loaded, last, truth, threads, levelParents);
    rows.push({ threads, bound, lastTimes, noTimes, exact, byLevel });
  }
  return { total, critical, rows };
}
