// kbuild's own overhead on a real engine: the busybox fixture family, fully cached, built by
// `kbuild build` and by a shell loop calling the engine directly in the same order.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const bin = join(here, '..', 'bin', 'kbuild.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(fn, runs) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return median(out);
}

export function overheadBench(runs = 5) {
  const dir = join(here, 'out', 'overhead');
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(here, '..', 'test', 'fixtures', 'bb'), dir, { recursive: true });
  const env = { ...process.env, CI: 'true' };
  const kb = (...args) =>
    execFileSync(process.execPath, [bin, ...args, '-C', dir], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    }).toString();
  kb('build', '-p', 'bb', '--tag', 'bench', '-q'); // warm the cache
  const order = JSON.parse(kb('list', '-p', 'bb', '--json', '--tag', 'bench')).images.map(
    (i) => i.name,
  );
  const work = join(dir, '.kbuild', 'bench-render');
  kb('render', '-p', 'bb', '--tag', 'bench', '--work-dir', work);
  const client = execFileSync('sh', ['-c', 'command -v /usr/bin/docker || command -v docker'])
    .toString()
    .trim();
  const loop = () => {
    for (const name of order) {
      execFileSync(
        client,
        ['build', '-q', '--network', 'none', '-t', `kbuild-test/${name}:bench`, join(work, name)],
        {
          env: { ...env, DOCKER_BUILDKIT: '1' },
          stdio: 'ignore',
        },
      );
    }
  };
  const shell = time(loop, runs);
  // --force: every image goes through the engine, as in the loop (without it kbuild sees that
  // nothing changed and calls the engine for nothing: that is the no-op figure).
  const kb1 = () => kb('build', '-p', 'bb', '--tag', 'bench', '-q', '--threads', '1', '--force');
  const kb4 = () => kb('build', '-p', 'bb', '--tag', 'bench', '-q', '--threads', '4', '--force');
  const kbuild1 = time(kb1, runs);
  const kbuild4 = time(kb4, runs);
  const noop = time(() => kb('build', '-p', 'bb', '--tag', 'bench', '-q'), runs);
  return { images: order.length, shell, kbuild1, kbuild4, noop };
}
