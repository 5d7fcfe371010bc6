import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { recordProcesses, runCommand } from './exec.js';
import { fileRecorder, reapLeftovers } from './process-ledger.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kbuild-ledger-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  recordProcesses(undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const startOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
};

/** A command left running as a killed run leaves it: its own group, with a child of its own. */
async function orphanLike(): Promise<{ pid: number; child: number }> {
  const p = spawn('sh', ['-c', 'sleep 300 & echo $!; wait'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const child = await new Promise<number>((resolve) =>
    p.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  p.unref();
  return { pid: p.pid!, child };
}

describe('the process ledger: what a run killed with SIGKILL left running is stopped by the next', () => {
  it('records a command while it runs and forgets it when it ends', async () => {
    const dir = tempDir();
    recordProcesses(fileRecorder(dir));
    const running = runCommand({ file: 'sleep', args: ['0.5'] });
    await delay(200);
    const [name] = readdirSync(dir);
    expect(JSON.parse(readFileSync(join(dir, name!), 'utf8'))).toMatchObject({
      owner: process.pid,
      argv: ['sleep', '0.5'],
    });
    await running;
    expect(readdirSync(dir)).toEqual([]);
  });

  it("stops a dead run's command with everything it started, and removes its record", async () => {
    const dir = tempDir();
    const o = await orphanLike();
    fileRecorder(dir, 424242).started({
      pid: o.pid,
      start: startOf(o.pid),
      argv: ['/usr/bin/docker', 'build', '-f', 'x', '/p/.kbuild/build/bb/bb-app3'],
    });
    const found = await reapLeftovers(dir, () => false);
    expect(found).toEqual([
      {
        owner: 424242,
        pid: o.pid,
        command: 'docker build … /p/.kbuild/build/bb/bb-app3',
        stopped: true,
      },
    ]);
    expect(alive(o.pid)).toBe(false);
    expect(alive(o.child)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves a process alone whose pid now names another process (its start time differs)', async () => {
    const dir = tempDir();
    const o = await orphanLike();
    try {
      fileRecorder(dir, 424242).started({ pid: o.pid, start: '1', argv: ['docker', 'build'] });
      expect(await reapLeftovers(dir, () => false)).toEqual([]);
      expect(alive(o.pid)).toBe(true);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      process.kill(-o.pid, 'SIGKILL');
    }
  });

  it("leaves a live run's records alone, and runs a dead one's after-kill command", async () => {
    const dir = tempDir();
    const o = await orphanLike();
    try {
      const marker = join(dir, 'removed');
      fileRecorder(dir, 1).started({ pid: o.pid, start: startOf(o.pid), argv: ['docker'] });
      expect(await reapLeftovers(dir, (pid) => pid === 1)).toEqual([]);
      expect(alive(o.pid)).toBe(true);
      expect(readdirSync(dir)).toHaveLength(1);
      rmSync(join(dir, readdirSync(dir)[0]!));
      // A `docker run` client already gone whose container is still there: `rm -f` prints its name.
      fileRecorder(dir, 424242).started({
        pid: 999999999,
        start: '1',
        argv: ['docker', 'run', '--name', 'kbuild-run-1', 'img'],
        afterKill: ['sh', '-c', `touch ${marker}; echo kbuild-run-1`],
      });
      expect(await reapLeftovers(dir, () => false)).toEqual([
        { owner: 424242, pid: 999999999, command: 'docker run … img', stopped: false },
      ]);
      expect(existsSync(marker)).toBe(true);
    } finally {
      process.kill(-o.pid, 'SIGKILL');
    }
  });
});
