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

const rows = [
  await measure('synthetic-1000', { widths: [1, 9, 90, 900], seed: 7 }),
  // The shape of a real large family (kolla-like): level widths 1/28/54/102/2, largest fan-out 29.
  await measure('large-187', { widths: [1, 28, 54, 102, 2], seed: 11, fanOut: { 2: 29 } }),
];

const table = [
  '| family | images | depth | read files + compile | render + parse + graph | in-process total | `kbuild graph` whole process |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.images} | ${r.depth} | ${ms(r.read)} | ${ms(r.core)} | ${ms(r.total)} | ${ms(r.process)} |`,
  ),
].join('\n');

const resultsFile = join(here, 'RESULTS.md');
const section = `<!-- core:start -->\n## Core: render, parse, graph (median of ${RUNS} runs; ${new Date().toISOString().slice(0, 10)}, 2 cores)\n\n${table}\n\nGoal: 1000 images under 1 s in-process.\n<!-- core:end -->`;
let text;
try {
  text = readFileSync(resultsFile, 'utf8');
} catch {
  text =
    '# kbuild benchmark results\n\nWritten by `npm run bench`. Each section is replaced by the run that measures it.\n\n';
}
text = text.includes('<!-- core:start -->')
  ? text.replace(/<!-- core:start -->[\s\S]*<!-- core:end -->/, section)
  : `${text}${section}\n`;
writeFileSync(resultsFile, text);
console.log(`\nwritten to ${resultsFile}`);
