/**
 * A second Docker engine on this host for scale-out tests: its own data root, exec root and
 * socket, sharing the first engine's containerd under namespaces of its own (two containerds
 * would fight over one state directory). `stop` ends it and removes its directories.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const CONTAINERD = '/var/run/docker/containerd/containerd.sock';

export interface SecondEngine {
  /** DOCKER_HOST for the docker client. */
  readonly dockerHost: string;
  stop(): Promise<void>;
  /** Stops the daemon (SIGTERM, as a service manager does) and starts it again on its data. */
  restart(): Promise<void>;
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
  const args = [
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
  ];
  const docker = (...a: string[]) =>
    execFileSync('/usr/bin/docker', ['-H', dockerHost, ...a], {
      stdio: 'pipe',
      timeout: 120_000,
    });
  let log = '';
  let child: ChildProcess;
  let exited: Promise<void>;
  const running = () => child.exitCode === null && child.signalCode === null;
  const halt = async () => {
    if (running()) {
      child.kill('SIGTERM');
      await Promise.race([exited, delay(20_000)]);
      if (running()) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  };
  const stop = async () => {
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };
  /** Starts dockerd on the directory and waits until it answers. */
  const launch = async () => {
    child = spawn('dockerd', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const c = child;
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    for (let i = 0; ; i++) {
      try {
        docker('info');
        return;
      } catch {
        if (i > 60 || !running()) {
          await stop();
          throw new Error(
            `a second dockerd did not start: ${log.split('\n').slice(-5).join('\n')}`,
          );
        }
        await delay(500);
      }
    }
  };
  await launch();
  for (const image of images) {
    const saved = execFileSync('/usr/bin/docker', ['save', image], { maxBuffer: 1 << 30 });
    execFileSync('/usr/bin/docker', ['-H', dockerHost, 'load'], {
      input: saved,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
  }
  return {
    dockerHost,
    stop,
    restart: async () => {
      await halt();
      await launch();
    },
  };
}
