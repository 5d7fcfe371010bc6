// Before vs after, side by side in one run: the same whole-process work done by another checkout
// of kbuild (built: its dist/ present) and by this one, alternating A/B so the host's noise falls
// on both alike. Prints medians and the ratio after / before.
//   node bench/before-after.js /path/to/other-checkout [runs]
// 1. noop-187: the large-family shape (187 images) with the fake engine, nothing changed (each
//    checkout's own bench/noop-run.js, which drives its own observation, run and state update).
// 2. shipped family, nothing changed, on the real engine: `kbuild --profile debian-binary --push`
//    (needs scripts/setup-host.sh and one build of bench/out/before-after first; both checkouts
//    read and write the same state there, so both see every image fresh).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { writeFamily } from './families.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const before = resolve(process.argv[2] ?? '');
const runs = Number(process.argv[3] ?? 7);
if (!existsSync(join(before, 'dist', 'cli', 'main.js'))) {
  console.error(
    'usage: node bench/before-after.js OTHER-CHECKOUT [runs] (build it first: npx tsc -p tsconfig.build.json)',
  );
  process.exit(2);
}
const after = join(here, '..');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = (argv, cwd) => {
  const t0 = performance.now();
  const out = execFileSync(process.execPath, argv, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { ms: performance.now() - t0, out };
};

/** Alternates the two commands `runs` times each (after one warm-up each). */
function compare(name, argvOf, cwd, check) {
  const ms = { before: [], after: [] };
  for (const side of ['before', 'after']) timed(argvOf(side), cwd); // warm-up (the first may build)
  for (let i = 0; i < runs; i++)
    for (const side of i % 2 ? ['after', 'before'] : ['before', 'after']) {
      const r = timed(argvOf(side), cwd);
      check(r.out, side);
      ms[side].push(r.ms);
    }
  const row = { name, before: median(ms.before), after: median(ms.after) };
  console.log(
    `${name}: before ${row.before.toFixed(0)} ms, after ${row.after.toFixed(0)} ms, after/before ${(row.after / row.before).toFixed(2)}`,
  );
  return row;
}

const rows = [];
const noopDir = join(here, 'out', 'before-after-187');
writeFamily(noopDir, { widths: [1, 28, 54, 102, 2], seed: 11, fanOut: { 2: 29 } });
// Each checkout's fake engine store and state: built once, then every run is a no-op.
rows.push(
  compare(
    'noop-187 (fake engine, nothing changed)',
    (side) => [join(side === 'before' ? before : after, 'bench', 'noop-run.js'), noopDir],
    noopDir,
    (out, side) => {
      const r = JSON.parse(out);
      if (r.builds !== 0) throw new Error(`${side}: a no-op run built ${r.builds} images`);
    },
  ),
);
const familyDir = join(here, 'out', 'before-after');
if (existsSync(join(familyDir, '.kbuild', 'state'))) {
  rows.push(
    compare(
      'shipped family, nothing changed (real engine, --push)',
      (side) => [
        join(side === 'before' ? before : after, 'bin', 'kbuild.js'),
        '--profile',
        'debian-binary',
        '--push',
        '--registry',
        '127.0.0.1:5000',
        '-q',
        '-C',
        familyDir,
      ],
      familyDir,
      () => undefined,
    ),
  );
}
console.log(JSON.stringify(rows));
