// Start-up of whole kbuild processes, run through the bin users run, side by side and interleaved
// with `node -e ''` (the floor no Node CLI can go below): `kbuild --version`, `kbuild --help` and
// `kbuild graph` of the large-family shape (187 images, 4 levels, one shared macros file), with
// the compiled templates kept from the run before and (this checkout only) without them.
// Prints medians and each one's ratio to `node -e ''`; writes the 'startup' section of
// bench/RESULTS.md. Not a test: nothing here asserts a time.
//
//   node bench/startup.js [--runs N] [--before PATH/TO/bin/kbuild.js] [--no-write]
//
// --before runs a second checkout's bin in the same rounds (e.g. a worktree of the commit before
// a change, built with `npx tsc -p tsconfig.build.json`), so both see the same host load.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFamily } from './families.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const RUNS = Number(flag('--runs') ?? 21);
const before = flag('--before');
const write = !args.includes('--no-write');

const bins = [['after', join(here, '..', 'bin', 'kbuild.js')]];
if (before) bins.unshift(['before', before]);

// The shape of a real large family (kolla-like), as in the core benchmark (large-187). Each bin
// gets its own copy: the compiled-template cache in .kbuild is keyed by the jinja layer's code,
// so two checkouts sharing one family would rewrite each other's cache and both run cold.
const familyShape = { widths: [1, 28, 54, 102, 2], seed: 11, fanOut: { 2: 29 } };
const dirs = Object.fromEntries(
  bins.map(([which]) => [which, join(here, 'out', `startup-187-${which}`)]),
);
let images = 0;
for (const dir of Object.values(dirs)) images = writeFamily(dir, familyShape);

/** Every command measured: a label and node's arguments. */
const commands = [{ key: 'node', label: "`node -e ''`", argv: ['-e', ''] }];
for (const [which, bin] of bins) {
  const dir = dirs[which];
  const tag = bins.length > 1 ? ` (${which})` : '';
  commands.push(
    { key: `version-${which}`, label: `\`kbuild --version\`${tag}`, argv: [bin, '--version'] },
    { key: `help-${which}`, label: `\`kbuild --help\`${tag}`, argv: [bin, '--help'] },
    {
      key: `graph-${which}`,
      label: `\`kbuild graph\`, ${images} images${tag}`,
      argv: [bin, 'graph', '--profile', 'p', '-C', dir],
    },
  );
  // The compiled templates kept in .kbuild/cache/templates (issue 14) make every graph after the
  // first one "warm"; this one runs with that cache removed first (outside the timing): the first
  // run after a clone or a kbuild upgrade. A checkout without the cache runs cold every time.
  if (which === 'after')
    commands.push({
      key: `graphcold-${which}`,
      label: `\`kbuild graph\`, ${images} images, no template cache${tag}`,
      argv: [bin, 'graph', '--profile', 'p', '-C', dir],
      prepare: () => rmSync(join(dir, '.kbuild', 'cache'), { recursive: true, force: true }),
    });
}

/** Wall milliseconds of one whole process; it must succeed. */
function timed(argv, prepare) {
  prepare?.();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0)
    throw new Error(`node ${argv.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

for (const c of commands) timed(c.argv, c.prepare); // warm the page cache once; not counted
const times = new Map(commands.map((c) => [c.key, []]));
for (let i = 0; i < RUNS; i++) {
  // Rotate the order every round, so no command always runs right after the same one.
  for (let k = 0; k < commands.length; k++) {
    const c = commands[(i + k) % commands.length];
    times.get(c.key).push(timed(c.argv, c.prepare));
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const floor = median(times.get('node'));
const rows = commands.map((c) => {
  const m = median(times.get(c.key));
  return { ...c, median: m, min: Math.min(...times.get(c.key)), ratio: m / floor };
});
const load = loadavg()[0].toFixed(1);
console.log(`start-up, median of ${RUNS} interleaved runs (${cpus().length} cores, load ${load}):`);
for (const r of rows)
  console.log(
    `  ${r.label.replace(/`/g, '').padEnd(44)} ${r.median.toFixed(0).padStart(5)} ms  (min ${r.min.toFixed(0)})  ${r.ratio.toFixed(2)}x node`,
  );

if (write) {
  const goals = { version: 'goal <= 2.5', help: '', graph: 'goal <= 5', graphcold: '' };
  const table = [
    "| process | median | min | ratio to `node -e ''` |",
    '|---|---|---|---|',
    ...rows.map((r) => {
      const goal = goals[r.key.split('-')[0]];
      return `| ${r.label} | ${r.median.toFixed(0)} ms | ${r.min.toFixed(0)} ms | ${r.ratio.toFixed(2)}${goal ? ` (${goal})` : ''} |`;
    }),
  ].join('\n');
  const body =
    `## Start-up (whole processes through bin/kbuild.js; median of ${RUNS} interleaved runs)\n\n` +
    `\`node bench/startup.js${before ? ' --before <worktree>/bin/kbuild.js' : ''}\`: every process started the way users start kbuild, in rotating order within each round, so all see the same host load (${cpus().length} cores, load average ${load} at the end). ` +
    `\`kbuild graph\` renders, parses and links the large-family shape (${images} images, 4 levels, every template importing one shared macros file).\n\n` +
    table;
  const file = join(here, 'RESULTS.md');
  let text = readFileSync(file, 'utf8');
  const block = `<!-- startup:start -->\n${body}\n\n_Measured ${new Date().toISOString().slice(0, 10)}._\n<!-- startup:end -->`;
  const re = /<!-- startup:start -->[\s\S]*<!-- startup:end -->/;
  text = re.test(text) ? text.replace(re, block) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
  console.log(`written to ${file}`);
}
