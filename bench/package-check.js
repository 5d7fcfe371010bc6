// The update check's cost (issue 12, item 5): on the shipped family already built and pushed in
// bench/out/before-after (a copy of the project built with
// `kbuild --profile debian-binary --push --registry 127.0.0.1:5000`, as bench/before-after.js
// uses it), the whole-process `kbuild plan` with and without `--check-updates`, alternating so the
// host's noise falls on both alike. Needs scripts/setup-host.sh, the Debian mirror (apt-get update
// inside the images), and `npm run build`.
//
// The check is timed with nothing to update: first the family is brought to its steady state, as a
// nightly finds it after its first run with the check: if `plan --check-updates` would build
// anything, one `build --check-updates --push` runs (its wall time and counts are reported). After
// it the state holds every image's inventory, and updates a rebuild could not apply (the copy's
// templates may predate the base's upgrade step) are recorded as not applied, not rebuilt again.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { inventoryScript, parseInventory } from '../dist/core/packages/inventory.js';
import { aptCheckScript } from '../dist/core/packages/updates.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const bin = join(here, '..', 'bin', 'kbuild.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const REGISTRY = '127.0.0.1:5000';

/** One whole process; its wall milliseconds and output. Fails loudly on a non-zero exit. */
function timed(cmd, args) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

const kbuild = (dir, args) => timed(process.execPath, [bin, ...args, '-C', dir]);

/** `kbuild plan --json` of the shipped family (with the check when asked). */
const planArgs = (check) => [
  'plan',
  '-p',
  'debian-binary',
  '--registry',
  REGISTRY,
  '--json',
  ...(check ? ['--check-updates'] : []),
];

/** The plan's steps (with the check when asked). */
function planSteps(dir, check) {
  const r = kbuild(dir, planArgs(check));
  return { steps: JSON.parse(r.stdout).steps, stderr: r.stderr };
}

/** What the check said on stderr: `package check: N image(s), K apt configuration(s) asked; …` */
function checkLine(stderr) {
  const m = /package check: (\d+) image\(s\), (\d+) apt configuration\(s\) asked/.exec(stderr);
  if (!m) throw new Error(`no package check line in the plan's output:\n${stderr}`);
  return { images: Number(m[1]), configurations: Number(m[2]) };
}

/** Brings the family to its steady state with the check on; what it took (null: nothing). */
function settle(dir) {
  const builds = (steps) => steps.filter((s) => s.action === 'build');
  const before = builds(planSteps(dir, true).steps);
  if (before.length === 0) return null;
  console.log(
    `package-check: settling: the check would build ${before.length} image(s) (${before[0].name}: ${before[0].reason}); one build --check-updates --push first`,
  );
  const summary = join(dir, 'package-check-summary.json');
  const r = kbuild(dir, [
    'build',
    '-p',
    'debian-binary',
    '--push',
    '--registry',
    REGISTRY,
    '--check-updates',
    '-q',
    '--summary-json',
    summary,
  ]);
  const counts = JSON.parse(readFileSync(summary, 'utf8')).counts;
  rmSync(summary, { force: true });
  const after = builds(planSteps(dir, true).steps);
  if (after.length)
    throw new Error(
      `the family does not settle: after a build --check-updates, the check still builds ${after.map((s) => `${s.name} (${s.reason})`).join(', ')}`,
    );
  return { first: `${before[0].name}: ${before[0].reason}`, seconds: r.ms / 1000, counts };
}

/**
 * One apt configuration alone: the check's own script (apt-get update, apt-cache policy, dpkg
 * --compare-versions) for every package of `ref`, in one container of it, as the check runs it.
 */
function oneConfiguration(ref) {
  const docker = (args) => timed('docker', args);
  const inv = parseInventory(
    docker([
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'sh',
      ref,
      '-c',
      inventoryScript(),
    ]).stdout.split('\n'),
  );
  if (!inv.ok) throw new Error(`the inventory of ${ref}: ${inv.error}`);
  const script = aptCheckScript(
    inv.value.packages.map((p) => ({ name: p.name, arch: p.arch, version: p.version })),
  );
  const ms = [];
  for (let i = 0; i < 3; i++)
    ms.push(
      docker([
        'run',
        '--rm',
        '--network',
        'host',
        '--user',
        '0',
        '--entrypoint',
        'sh',
        ref,
        '-c',
        script,
      ]).ms,
    );
  return { packages: inv.value.packages.length, ms: median(ms) };
}

export function packageCheckBench(runs = 5) {
  const dir = join(here, 'out', 'before-after');
  if (!existsSync(join(dir, '.kbuild', 'state')))
    throw new Error(
      `${dir} is not built: copy kbuild.yaml, images/ and profiles/ there and run ` +
        `'kbuild --profile debian-binary --push --registry ${REGISTRY}' in it once`,
    );
  const settled = settle(dir);
  const ms = { plain: [], check: [] };
  let seen;
  for (const check of [false, true]) kbuild(dir, planArgs(check)); // warm-up
  for (let i = 0; i < runs; i++)
    for (const check of i % 2 ? [true, false] : [false, true]) {
      const r = kbuild(dir, planArgs(check));
      const building = JSON.parse(r.stdout).steps.filter((s) => s.action === 'build');
      if (building.length)
        throw new Error(
          `the family is not at rest: ${building.map((s) => `${s.name} (${s.reason})`).join(', ')}`,
        );
      if (check) seen = checkLine(r.stderr);
      ms[check ? 'check' : 'plain'].push(r.ms);
    }
  const base = planSteps(dir, false).steps.find((s) => s.name === 'base');
  const one = oneConfiguration(base.ref);
  const row = {
    runs,
    plain: median(ms.plain),
    check: median(ms.check),
    images: seen.images,
    configurations: seen.configurations,
    one,
    settled,
  };
  console.log(
    `package-check: plan ${(row.plain / 1000).toFixed(1)} s, plan --check-updates ${(row.check / 1000).toFixed(1)} s ` +
      `(${row.images} images, ${row.configurations} apt configurations): +${((row.check - row.plain) / 1000).toFixed(1)} s; ` +
      `one configuration alone (base, ${one.packages} packages) ${(one.ms / 1000).toFixed(1)} s (median of ${runs})`,
  );
  return row;
}
