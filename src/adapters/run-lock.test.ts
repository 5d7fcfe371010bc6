import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLockFile, takeRunLock, type LockHolder } from './run-lock.js';

let root: string;
let file: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kbuild-lock-'));
  file = runLockFile(root, 'deb');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const other = { pid: 424242, host: hostname() };

describe('takeRunLock', () => {
  it('takes a free lock, naming this process, and releases it', async () => {
    const got = await takeRunLock(file, { timeoutSeconds: 0 });
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(file).toBe(join(root, '.kbuild', 'locks', 'deb.lock'));
    const holder = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
    expect(Number.isNaN(Date.parse(holder.started))).toBe(false);
    await got.lock.release();
    expect(existsSync(file)).toBe(false);
    await got.lock.release(); // twice is harmless
  });

  it('with timeout 0 fails at once, naming the live holder', async () => {
    const first = await takeRunLock(file, { timeoutSeconds: 0 });
    expect(first.ok).toBe(true);
    let waited = false;
    const second = await takeRunLock(file, {
      timeoutSeconds: 0,
      self: other,
      onWait: () => (waited = true),
    });
    expect(second).toMatchObject({ ok: false, holder: { pid: process.pid, host: hostname() } });
    expect(waited).toBe(false);
    if (first.ok) await first.lock.release();
  });

  it('a second taker waits, saying for whom, and gets the lock once it is released', async () => {
    const first = await takeRunLock(file, { timeoutSeconds: 0 });
    if (!first.ok) throw new Error('first lock not taken');
    const said: LockHolder[] = [];
    const second = takeRunLock(file, {
      timeoutSeconds: 30,
      pollMs: 20,
      self: other,
      isAlive: () => true,
      onWait: (h) => said.push(h),
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(said).toEqual([first.lock.holder]); // said once, not at every poll
    await first.lock.release();
    const got = await second;
    expect(got.ok).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: other.pid });
    if (got.ok) await got.lock.release();
  });

  it('gives up after the timeout, naming the holder', async () => {
    const first = await takeRunLock(file, { timeoutSeconds: 0 });
    const second = await takeRunLock(file, {
      timeoutSeconds: 0.1,
      pollMs: 20,
      self: other,
      isAlive: () => true,
    });
    expect(second).toMatchObject({ ok: false, holder: { pid: process.pid } });
    if (first.ok) await first.lock.release();
  });

  it('takes over a lock whose holder is dead on this host, saying so', async () => {
    const dead: LockHolder = { pid: 424243, host: hostname(), started: '2026-01-01T00:00:00Z' };
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(dead));
    const stale: LockHolder[] = [];
    const got = await takeRunLock(file, {
      timeoutSeconds: 0,
      isAlive: (pid) => pid !== dead.pid,
      onStale: (h) => stale.push(h),
    });
    expect(got.ok).toBe(true);
    expect(stale).toEqual([dead]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid });
    if (got.ok) await got.lock.release();
  });

  it('does not take over a live holder on another host, nor treat garbage as live', async () => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ pid: 1, host: 'elsewhere', started: 'x' }));
    const remote = await takeRunLock(file, { timeoutSeconds: 0, isAlive: () => false });
    expect(remote).toMatchObject({ ok: false, holder: { host: 'elsewhere' } });
    writeFileSync(file, 'not json');
    const got = await takeRunLock(file, { timeoutSeconds: 0 });
    expect(got.ok).toBe(true);
    if (got.ok) await got.lock.release();
  });
});
