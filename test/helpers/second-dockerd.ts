/**
 * A second Docker engine on this host for scale-out tests: its own data root, exec root and
 * socket, sharing the first engine's containerd under namespaces of its own (two containerds
 * would fight over one state directory). `stop` ends it and removes its directories.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const CONTAINERD = '/var/run/docker/containerd/containerd.sock';

export interface SecondEngine {
  /** DOCKER_HOST for the docker client. */
  readonly dockerHost: string;
  stop(): Promise<void>;
}

export async function startSecondDockerd(images: readonly string[]): Promise<SecondEngine> {
  // Short: a unix socket path has a 108-byte limit.
  const dir = mkdtempSync('/tmp/kbuild-d2-');
  const dockerHost = `unix://${join(dir, 'docker.sock')}`;
  writeFileSync(
    join(dir, 'daemon.json'),
    JSON.stringify({
      bridge: 'none',
      iptables: false,
      'ip-forward': false,
      'ip-masq': false,
      'insecure-registries': ['127.0.0.1:5000'],
    }),
  );
  const child = spawn(
    'dockerd',
    [
      '--config-file',
      join(dir, 'daemon.json'),
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'docker.pid'),
      '-H',
      dockerHost,
      '--containerd',
      CONTAINERD,
      '--containerd-namespace',
      `kbuild-test-${dir.slice(-6)}`,
      '--containerd-plugins-namespace',
      `kbuild-test-plugins-${dir.slice(-6)}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const docker = (...args: string[]) =>
    execFileSync('/usr/bin/docker', ['-H', dockerHost, ...args], {
      stdio: 'pipe',
      timeout: 120_000,
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, delay(20_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      docker('info');
      break;
    } catch {
      if (i > 60 || child.exitCode !== null) {
        await stop();
        throw new Error(`a second dockerd did not start: ${log.split('\n').slice(-5).join('\n')}`);
      }
      await delay(500);
    }
  }
  for (const image of images) {
    const saved = execFileSync('/usr/bin/docker', ['save', image], { maxBuffer: 1 << 30 });
    execFileSync('/usr/bin/docker', ['-H', dockerHost, 'load'], {
      input: saved,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
  }
  return { dockerHost, stop };
}
