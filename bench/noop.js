// Incremental builds on the large-family shape (187 images) with a fake engine, each run a whole
// process: the first run builds everything, the second (nothing changed) nothing, and touching
// one context file of an image with k descendants makes exactly k + 1 builds.
import { execFileSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { writeFamily } from './families.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function noopBench(runs = 5) {
  const dir = join(here, 'out', 'noop-187');
  writeFamily(dir, { widths: [1, 28, 54, 102, 2], seed: 11, fanOut: { 2: 29 } });
  const run = () => {
    const t0 = performance.now();
    const out = JSON.parse(
      execFileSync(process.execPath, [join(here, 'noop-run.js'), dir], { encoding: 'utf8' }),
    );
    return { ...out, ms: performance.now() - t0 };
  };
  const first = run();
  const noops = Array.from({ length: runs }, run);
  // l1-img-0 has 29 children on level 2 (the largest fan-out) and their children below.
  writeFileSync(join(dir, 'images', 'group-1', 'l1-img-0', 'extra.txt'), 'changed\n');
  const touched = run();
  const list = execFileSync(
    process.execPath,
    [
      join(here, '..', 'bin', 'kbuild.js'),
      'list',
      '-p',
      'p',
      '--json',
      'l1-img-0',
      '--with-descendants',
      '--skip-parents',
      '-C',
      dir,
    ],
    { encoding: 'utf8' },
  );
  const expected = JSON.parse(list).images.length; // the image and its descendants: k + 1
  appendFileSync(join(dir, 'images', 'group-1', 'l1-img-0', 'extra.txt'), 'again\n');
  return {
    first,
    noopMs: median(noops.map((r) => r.ms)),
    noopBuilds: Math.max(...noops.map((r) => r.builds)),
    touched,
    expected,
  };
}
