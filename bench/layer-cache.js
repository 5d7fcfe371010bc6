// Layers across hosts (issue 14): a fresh CI host rebuilds an image whose last instruction changed,
// with and without the registry's earlier build as a layer cache source. One image: a 4 s step
// that writes 30 MB, then a one-line step that changes every round. The host's engine builds and
// pushes it once to a registry of the bench's own (127.0.0.1, a free port); then, round by round,
// a fresh second dockerd (its own data root and socket, nothing cached) builds the changed image
// with `kbuild build --push` (the real CLI, whole process), alternately with and without
// `--no-registry-cache`. Prints medians and the ratio. Not a test: nothing here asserts a time.
//
//   node bench/layer-cache.js [--rounds N] [--bin PATH/TO/kbuild.js]
//
// Needs root, dockerd, docker-registry, the host's engine up and a local busybox:latest.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const DOCKER = '/usr/bin/docker';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const rounds = Number(arg('--rounds', '3'));
const bin = arg('--bin', join(here, '..', 'bin', 'kbuild.js'));

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitFor(check, what) {
  for (let i = 0; i < 120; i++) {
    try {
      check();
      return;
    } catch {
      await delay(250);
    }
  }
  throw new Error(`${what} did not start`);
}

/** The bench's registry: its own storage, on a free loopback port. */
async function startRegistry(dir) {
  const host = `127.0.0.1:${await freePort()}`;
  const config = join(dir, 'registry.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'registry')}}}\nhttp: {addr: ${host}}\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  await waitFor(() => execFileSync('curl', ['-sf', `http://${host}/v2/`]), 'the registry');
  return { host, stop: () => child.kill('SIGTERM') };
}

/** A fresh dockerd sharing the host's containerd under a namespace of its own (see test/helpers/second-dockerd.ts). */
async function startEngine() {
  const dir = mkdtempSync('/tmp/kbuild-lc-');
  const sock = `unix://${join(dir, 'docker.sock')}`;
  writeFileSync(
    join(dir, 'daemon.json'),
    JSON.stringify({ bridge: 'none', iptables: false, 'ip-forward': false, 'ip-masq': false }),
  );
  const ns = `kbuild-lc-${dir.slice(-6)}`;
  const child = spawn(
    'dockerd',
    [
      ...['--config-file', join(dir, 'daemon.json'), '--data-root', join(dir, 'data')],
      ...['--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid'), '-H', sock],
      ...['--containerd', '/var/run/docker/containerd/containerd.sock'],
      ...['--containerd-namespace', ns, '--containerd-plugins-namespace', `${ns}-p`],
    ],
    { stdio: 'ignore', detached: true },
  );
  await waitFor(() => execFileSync(DOCKER, ['-H', sock, 'info'], { stdio: 'ignore' }), 'dockerd');
  execFileSync(DOCKER, ['-H', sock, 'load'], {
    input: execFileSync(DOCKER, ['save', 'busybox:latest'], { maxBuffer: 1 << 30 }),
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  return {
    sock,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'kbuild-lcb-'));
const project = join(dir, 'project');
const file = (p, text) => {
  mkdirSync(join(project, p, '..'), { recursive: true });
  writeFileSync(join(project, p), text);
};
file('kbuild.yaml', 'namespace: kbuild-lcb\ntag: lc\n');
file(
  'profiles/p.yaml',
  'distro: busybox\ndistro_tag: latest\nbase_image: busybox:latest\nnetwork: none\npackage_manager: apt\n',
);
file(
  'images/big/Dockerfile.j2',
  'FROM {{ base_image }}\nRUN sleep 4 && head -c 30000000 /dev/urandom > /blob\nRUN echo {{ version }} > /version\n',
);

const registry = await startRegistry(dir);
const kbuild = (version, env, extra = []) => {
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    [bin, 'build', '-p', 'p', '--push', '--registry', registry.host, '-q'].concat(
      ['--var', `version=${version}`],
      extra,
    ),
    {
      cwd: project,
      env: { ...process.env, CI: 'true', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return performance.now() - t0;
};
try {
  kbuild('v0', {});
  const times = { with: [], without: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? ['without', 'with'] : ['with', 'without']) {
      const engine = await startEngine();
      try {
        const ms = kbuild(
          `v${r + 1}-${mode}`,
          { DOCKER_HOST: engine.sock },
          mode === 'without' ? ['--no-registry-cache'] : [],
        );
        times[mode].push(ms);
        console.log(`round ${r + 1} ${mode.padEnd(7)} ${(ms / 1000).toFixed(2)} s`);
      } finally {
        await engine.stop();
      }
    }
  }
  const w = median(times.with);
  const wo = median(times.without);
  console.log(
    `\nfresh host, last instruction changed (median of ${rounds}): with the registry's layers ${(w / 1000).toFixed(2)} s, ` +
      `without ${(wo / 1000).toFixed(2)} s; with ÷ without = ${(w / wo).toFixed(2)}`,
  );
} finally {
  registry.stop();
  execFileSync('sh', [
    '-c',
    `${DOCKER} images -q 'kbuild-lcb/*' | xargs -r ${DOCKER} rmi -f >/dev/null 2>&1 || true`,
  ]);
  rmSync(dir, { recursive: true, force: true });
}
