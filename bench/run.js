// kbuild benchmarks: prints figures and writes them to bench/RESULTS.md. Not tests: nothing here
// asserts a time. Run with `npm run bench` (builds dist first).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { writeFamily } from './families.js';
import { loadProfileFamily, loadWorkspace } from '../dist/cli/load.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(here, 'out');
const bin = join(here, '..', 'bin', 'kbuild.js');
const RUNS = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`;

const io = (cwd) => ({ out: () => {}, err: (t) => process.stderr.write(t), cwd, env: {} });

/** One in-process load: read + compile (workspace), then render + parse + graph (family). */
async function inProcess(dir) {
  const t0 = performance.now();
  const ws = await loadWorkspace(io(dir), { project: dir, templateOverride: [] });
  if (!ws.ok) throw new Error(JSON.stringify(ws.failures));
  const t1 = performance.now();
  const fam = loadProfileFamily(
    io(dir),
    ws.value,
    { var: [], buildArg: [], templateOverride: [] },
    'p',
  );
  if (!fam.ok) throw new Error(JSON.stringify(fam.failures));
  const t2 = performance.now();
  return {
    read: t1 - t0,
    core: t2 - t1,
    total: t2 - t0,
    images: fam.value.images.size,
    depth: Math.max(...[...fam.value.graph.nodes.values()].map((n) => n.depth)),
  };
}

function wholeProcess(dir) {
  const t0 = performance.now();
  execFileSync(process.execPath, [bin, 'graph', '--profile', 'p', '--format', 'json', '-C', dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return performance.now() - t0;
}

async function measure(name, spec) {
  const dir = join(out, name);
  const count = writeFamily(dir, spec);
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await inProcess(dir));
  const procs = [];
  for (let i = 0; i < RUNS; i++) procs.push(wholeProcess(dir));
  const row = {
    name,
    images: count,
    depth: runs[0].depth,
    read: median(runs.map((r) => r.read)),
    core: median(runs.map((r) => r.core)),
    total: median(runs.map((r) => r.total)),
    process: median(procs),
  };
  console.log(
    `${name}: ${count} images, depth ${row.depth}; read ${ms(row.read)}, render+parse+graph ${ms(row.core)}, in-process total ${ms(row.total)}, 'kbuild graph' process ${ms(row.process)} (median of ${RUNS})`,
  );
  return row;
}

const which = process.argv[2] ?? 'all';
const sections = [];

if (which === 'all' || which === 'core') {
  const rows = [
    await measure('synthetic-1000', { widths: [1, 9, 90, 900], seed: 7 }),
    // The shape of a real large family (kolla-like): level widths 1/28/54/102/2, largest fan-out 29.
    await measure('large-187', { widths: [1, 28, 54, 102, 2], seed: 11, fanOut: { 2: 29 } }),
  ];
  sections.push([
    'core',
    `## Core: render, parse, graph (median of ${RUNS} runs)\n\n` +
      [
        '| family | images | depth | read files + compile | render + parse + graph | in-process total | `kbuild graph` whole process |',
        '|---|---|---|---|---|---|---|',
        ...rows.map(
          (r) =>
            `| ${r.name} | ${r.images} | ${r.depth} | ${ms(r.read)} | ${ms(r.core)} | ${ms(r.total)} | ${ms(r.process)} |`,
        ),
      ].join('\n') +
      '\n\nGoal: 1000 images under 1 s in-process.',
  ]);
}

if (which === 'all' || which === 'scheduler') {
  const { schedulerBench } = await import('./scheduler.js');
  const r = await schedulerBench();
  const ratio = (x, m) => (m / x.bound).toFixed(3);
  for (const x of r.rows) {
    console.log(
      `scheduler ${x.threads} threads: bound ${x.bound.toFixed(0)} s; last times ${x.lastTimes.toFixed(0)} s (${ratio(x, x.lastTimes)}), no times ${x.noTimes.toFixed(0)} s (${ratio(x, x.noTimes)}), exact ${x.exact.toFixed(0)} s (${ratio(x, x.exact)}); level by level ${x.byLevel.toFixed(0)} s (${(x.byLevel / x.lastTimes).toFixed(2)}x)`,
    );
  }
  sections.push([
    'scheduler',
    '## Scheduler quality (fake engine, virtual clock, the real run path)\n\n' +
      `Large-family shape, 187 images, written and loaded as a project, observed against a state file, built by runBuild with a fake engine on a virtual clock. Seeded lognormal true durations (median 60 s): total work ${r.total.toFixed(0)} s, critical path ${r.critical.toFixed(0)} s. ` +
      'The scheduler weighs each image by the expected seconds the plan carries: the last build time in the state (here the true time with lognormal noise, σ 0.3), the mean of known times for new images, 1 s when none is known.\n' +
      'Lower bound = max(critical path, total work / threads); ratio = makespan / bound. "No times" is an empty state: every weight equal, which is what every run did before weights came from the state. Level by level = every image waits for the whole previous level (a CI matrix per level).\n\n' +
      [
        '| threads | lower bound | last times (ratio, goal <= 1.05) | no times (ratio) | exact times (ratio) | level by level / last times |',
        '|---|---|---|---|---|---|',
        ...r.rows.map(
          (x) =>
            `| ${x.threads} | ${x.bound.toFixed(0)} s | ${x.lastTimes.toFixed(0)} s (${ratio(x, x.lastTimes)}) | ${x.noTimes.toFixed(0)} s (${ratio(x, x.noTimes)}) | ${x.exact.toFixed(0)} s (${ratio(x, x.exact)}) | ${(x.byLevel / x.lastTimes).toFixed(2)} |`,
        ),
      ].join('\n'),
  ]);
}

if (which === 'all' || which === 'overhead') {
  const { overheadBench } = await import('./overhead.js');
  const r = overheadBench();
  console.log(
    `overhead: ${r.images} cached images: shell loop ${ms(r.shell)}, kbuild -j1 ${ms(r.kbuild1)} (${(r.kbuild1 / r.shell).toFixed(2)}x), kbuild -j4 ${ms(r.kbuild4)} (${(r.kbuild4 / r.shell).toFixed(2)}x)`,
  );
  sections.push([
    'overhead',
    '## kbuild overhead on the real engine (docker, BuildKit; median of 5)\n\n' +
      `The busybox test family (${r.images} images), fully cached: the engine called directly by a shell loop in the same order, vs \`kbuild build --force\` (whole process: load, render, hash contexts, schedule, logs, summary, state).\n\n` +
      [
        '| run | time | ratio to the loop |',
        '|---|---|---|',
        `| shell loop (sequential) | ${ms(r.shell)} | 1.00 |`,
        `| kbuild build -j1 | ${ms(r.kbuild1)} | ${(r.kbuild1 / r.shell).toFixed(2)} (goal <= 1.10) |`,
        `| kbuild build -j4 | ${ms(r.kbuild4)} | ${(r.kbuild4 / r.shell).toFixed(2)} |`,
        `| kbuild build, nothing changed (no --force: 0 engine builds) | ${ms(r.noop)} | ${(r.noop / r.shell).toFixed(2)} |`,
      ].join('\n'),
  ]);
}

if (which === 'all' || which === 'noop') {
  const { noopBench } = await import('./noop.js');
  const r = noopBench();
  console.log(
    `noop-187: first run ${r.first.builds} builds in ${ms(r.first.ms)}; nothing changed: ${r.noopBuilds} builds, ${ms(r.noopMs)} (median); one context file of an image with ${r.expected - 1} descendants: ${r.touched.builds} builds (k+1 = ${r.expected})`,
  );
  sections.push([
    'noop',
    '## Incremental builds on the large-family shape (187 images, fake engine, whole process)\n\n' +
      'Each run is a whole `node` process: load, render, hash every build context, fingerprint, ask the (fake) engine, plan, schedule, write state.\n\n' +
      [
        '| run | builds | wall |',
        '|---|---|---|',
        `| first run | ${r.first.builds} | ${ms(r.first.ms)} |`,
        `| nothing changed (median of 5) | ${r.noopBuilds} | ${ms(r.noopMs)} (goal < 1.5 s) |`,
        `| one context file of l1-img-0 changed (it has 29 children, each with children) | ${r.touched.builds} (k + 1 = ${r.expected}) | ${ms(r.touched.ms)} |`,
      ].join('\n'),
  ]);
}

if (which === 'family') {
  const { familyBench } = await import('./family.js');
  const rows = familyBench();
  const fmt = (c) =>
    Object.entries(c)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
  sections.push([
    'family',
    '## The shipped family on the real engine (debian-binary, 24 images, pushed to 127.0.0.1:5000)\n\n' +
      [
        '| run | wall (whole process) | images |',
        '|---|---|---|',
        ...rows.map((r) => `| ${r.label} | ${r.seconds.toFixed(1)} s | ${fmt(r.counts)} |`),
      ].join('\n') +
      "\n\nEdits are unique per run (a new file content, a new RUN line), so rebuilt images really rebuild; the first run finds this host's earlier images (fresh, or retagged in the registry). Goal: the second `kbuild build --push` makes 0 builds and pushes nothing, under 5 s; a new CI host builds 0 images.",
  ]);
}

if (which === 'cold') {
  // The cold builds need an engine of their own (they prune its builder cache): see bench/cold.js.
  console.error(
    'cold builds: run `node bench/cold.js` (its header says how); it writes the cold section',
  );
  process.exit(2);
}

if (which === 'package-check') {
  const { packageCheckBench } = await import('./package-check.js');
  const r = packageCheckBench(RUNS);
  const s = (x) => `${(x / 1000).toFixed(1)} s`;
  const fmt = (c) =>
    Object.entries(c)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
  sections.push([
    'package-check',
    `## The update check's cost (shipped family, debian-binary, nothing to update; median of ${r.runs})\n\n` +
      "`kbuild plan -p debian-binary --registry 127.0.0.1:5000` with and without `--check-updates`, whole process, alternating, on `bench/out/before-after` (the shipped family built and pushed to 127.0.0.1:5000; every image fresh). With the check, kbuild reads each image's package inventory from the state and asks apt once per distinct apt configuration (`apt-get update` against the Debian mirror, one `apt-cache policy`), in containers of the family's images, in parallel.\n\n" +
      [
        '| run | wall (whole process) |',
        '|---|---|',
        `| plan | ${s(r.plain)} |`,
        `| plan --check-updates (${r.images} images checked, ${r.configurations} apt configurations) | ${s(r.check)} |`,
        `| difference | +${s(r.check - r.plain)} (goal <= 15 s) |`,
        `| one apt configuration alone: the check's script for base's ${r.one.packages} packages in one container | ${s(r.one.ms)} |`,
      ].join('\n') +
      '\n\nAn extra apt configuration costs about the last row (one more `apt-get update` of its sources), run beside the others (two at a time).' +
      (r.settled
        ? ` Before timing, the family was brought to rest with one \`build --check-updates --push\` (${s(r.settled.seconds * 1000)}: ${fmt(r.settled.counts)}; the check had found ${r.settled.first}).`
        : ''),
  ]);
}

if (which === 'engine-overhead') {
  // ENGINE_OVERHEAD_BEFORE=path/to/an/older/bin/kbuild.js adds its rows (a worktree of the commit
  // to compare with, built with `npx tsc -p .`).
  const { engineOverheadBench, engineOverheadTable } = await import('./engine-overhead.js');
  const rounds = Number(process.env.ENGINE_OVERHEAD_ROUNDS ?? 5);
  const before = process.env.ENGINE_OVERHEAD_BEFORE;
  const rows = [
    ...(before
      ? engineOverheadBench({ rounds, bin: before }).map((r) => ({ ...r, who: 'before' }))
      : []),
    ...engineOverheadBench({ rounds }).map((r) => ({ ...r, who: before ? 'after' : 'kbuild' })),
  ];
  sections.push(['engine-overhead', engineOverheadTable(rows)]);
}

const resultsFile = join(here, 'RESULTS.md');
let text;
try {
  text = readFileSync(resultsFile, 'utf8');
} catch {
  text =
    "# kbuild benchmark results\n\nWritten by `npm run bench` on this project's build host (2 cores). Each section is replaced by the run that measures it.\n\n";
}
for (const [name, body] of sections) {
  const block = `<!-- ${name}:start -->\n${body}\n\n_Measured ${new Date().toISOString().slice(0, 10)}._\n<!-- ${name}:end -->`;
  const re = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  text = re.test(text) ? text.replace(re, block) : `${text}${block}\n\n`;
}
writeFileSync(resultsFile, text);
console.log(`\nwritten to ${resultsFile}`);
