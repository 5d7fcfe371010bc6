/**
 * A second Docker Distribution registry for tests (promotion between registries): its own
 * temporary storage, deletes enabled, listening on a free 127.0.0.1 port; `stop` ends it (by its
 * pid) and removes its storage.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { closedPort } from './registry-server.js';

export interface ExtraRegistry {
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  stop(): Promise<void>;
}

export async function startExtraRegistry(): Promise<ExtraRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'kbuild-registry-'));
  const host = `127.0.0.1:${await closedPort()}`;
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let failed = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (e) => {
      failed = true;
      stderr += String(e);
      resolve();
    });
  });
  const stop = async () => {
    if (!failed && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (failed || child.exitCode !== null) break;
    const up = await fetch(`http://${host}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { host, stop };
    await delay(100);
  }
  await stop();
  throw new Error(
    `docker-registry did not answer on ${host} (run \`sudo scripts/setup-host.sh\` to install it): ${stderr}`,
  );
}
