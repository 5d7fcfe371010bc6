import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture } from './helpers/host.js';
import { runCli } from './helpers/run-cli.js';

// One run at a time per project and profile (issue 13): `build` takes .kbuild/locks/<profile>.lock.
let dir: string;
const lockFile = () => join(dir, '.kbuild', 'locks', 'bb.lock');
const holdLock = (pid: number) => {
  mkdirSync(join(dir, '.kbuild', 'locks'), { recursive: true });
  writeFileSync(
    lockFile(),
    JSON.stringify({ pid, host: hostname(), started: '2026-11-29T04:00:00.000Z' }),
  );
};
// Nothing changed since HEAD: the build selects nothing, so no engine work is needed to succeed.
const build = () =>
  runCli(['build', '-p', 'bb', '--lock-timeout', '0', '--changed-since', 'HEAD'], dir, {
    CI: 'true',
  });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbuild-run-lock-'));
  copyFixture('bb', dir);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'fixture');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kbuild build takes a lock per project and profile', () => {
  it('--lock-timeout 0 fails with exit 2, naming the live holder', async () => {
    holdLock(process.pid);
    const r = await build();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `PID ${process.pid} (started 2026-11-29T04:00:00.000Z, on ${hostname()})`,
    );
    expect(r.stderr).toContain('--lock-timeout 0');
    expect(existsSync(lockFile())).toBe(true); // the holder's lock is left alone
  });

  it("takes over a dead process's lock, says so, builds, and releases it", async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    holdLock(gone);
    const r = await build();
    expect(r.stderr).toContain(`taking over the lock of profile 'bb' from PID ${gone}`);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(lockFile())).toBe(false);
  });

  it('a second run says whom it waits for, and runs once the lock is released', async () => {
    holdLock(process.pid);
    const running = runCli(
      ['build', '-p', 'bb', '--lock-timeout', '60', '--changed-since', 'HEAD'],
      dir,
      { CI: 'true' },
    );
    setTimeout(() => rmSync(lockFile()), 300);
    const r = await running;
    expect(r.stderr).toContain(
      `kbuild: waiting for the run of PID ${process.pid} (started 2026-11-29T04:00:00.000Z, on ${hostname()}) to finish (--lock-timeout 60s)`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(lockFile())).toBe(false);
  });

  it('read-only commands do not wait for the lock', async () => {
    holdLock(process.pid);
    const r = await runCli(['plan', '-p', 'bb', '--no-engine'], dir);
    expect(r.stderr).not.toContain('waiting');
    expect(r.code).not.toBe(2);
  });
});
