// The shipped family on the real engine (debian-binary, pushed to 127.0.0.1:5000): the no-op
// re-run, one leaf changed, one mid-level base changed. Needs scripts/setup-host.sh. The first
// run is whatever this host's layer cache makes it (not a cold build: that would wipe the cache).
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const bin = join(here, '..', 'bin', 'kbuild.js');

/** A fresh copy of the shipped project under bench/out/<name>. */
function projectCopy(name) {
  const dir = join(here, 'out', name);
  rmSync(dir, { recursive: true, force: true });
  for (const f of ['kbuild.yaml', 'images', 'profiles'])
    cpSync(join(here, '..', f), join(dir, f), { recursive: true });
  return dir;
}

/** One whole `kbuild` process on `dir`: its wall seconds and its run summary. */
function timedKbuild(dir, args) {
  const summary = join(dir, 'summary.json');
  const t0 = performance.now();
  execFileSync(process.execPath, [bin, ...args, '-q', '--summary-json', summary, '-C', dir], {
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { seconds: (performance.now() - t0) / 1000, s: JSON.parse(readFileSync(summary, 'utf8')) };
}

export function familyBench() {
  const dir = projectCopy('family');
  const run = (label) => {
    const { seconds, s } = timedKbuild(dir, [
      '--profile',
      'debian-binary',
      '--push',
      '--registry',
      '127.0.0.1:5000',
    ]);
    const row = {
      label,
      seconds,
      counts: s.counts,
      pushes: s.images.filter((i) => i.status === 'pushed').length,
    };
    console.log(`family: ${label}: ${row.seconds.toFixed(1)} s, ${JSON.stringify(s.counts)}`);
    return row;
  };
  const rows = [run('first run (warm layer cache)'), run('second run, nothing changed')];
  appendFileSync(
    join(dir, 'images', 'hello-web', 'src', 'hello_web', 'app.py'),
    `\n# bench: a leaf changed ${Date.now()}\n`,
  );
  rows.push(run('one leaf changed (hello-web)'));
  appendFileSync(
    join(dir, 'images', 'prometheus', 'prometheus-base', 'Dockerfile.j2'),
    `\nRUN echo 'bench: a mid-level base changed ${Date.now()}' > /etc/kbuild-bench\n`,
  );
  rows.push(run('one mid-level base changed (prometheus-base, 5 children)'));
  // A new CI host: no local images of the family, no state; the registry has everything.
  const local = execFileSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((r) => r.startsWith('kbuild/'));
  if (local.length) execFileSync('docker', ['rmi', '-f', ...local], { stdio: 'ignore' });
  rmSync(join(dir, '.kbuild'), { recursive: true, force: true });
  rows.push(run('new CI host (local images and state deleted)'));
  return rows;
}

/**
 * Cold builds of the whole family: every image built from scratch (--force --no-cache: no layer
 * cache, every package downloaded again), at each thread count. Not pushed: this measures builds.
 */
export function coldBench(profile, threadCounts) {
  const dir = projectCopy('cold');
  return threadCounts.map((threads) => {
    const { seconds, s } = timedKbuild(dir, [
      '--profile',
      profile,
      '--force',
      '--no-cache',
      '-j',
      String(threads),
    ]);
    const built = s.images.filter((i) => i.status === 'built');
    const work = built.reduce((t, i) => t + (i.buildSeconds ?? 0), 0);
    const row = {
      threads,
      seconds,
      built: built.length,
      work,
      ok: s.ok,
    };
    console.log(`cold ${profile} -j${threads}: ${row.seconds.toFixed(0)} s, ${row.built} built`);
    return row;
  });
}
