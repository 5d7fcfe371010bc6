/**
 * What stops and steers engine work, besides the Engine port's contract (engine-contract.test.ts):
 * runCommand, which every real engine's commands go through (a timeout or an abort kills the whole
 * process tree, even what left the process group), and the fake engine's controls that scheduler
 * and CLI tests rely on (hold and release, injected failures, abort and fake-timer timeouts).
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { runCommand } from '../src/adapters/exec.js';
import type { BuildRequest, OpOptions } from '../src/run/ports.js';
import { createFakeEngine } from './helpers/fake-engine.js';

describe('runCommand', () => {
  it('kills the whole process group on timeout: no child survives', async () => {
    const m = `kbexec${randomBytes(4).toString('hex')}`;
    const lines: string[] = [];
    const r = await runCommand({
      file: 'sh',
      args: [
        '-c',
        `echo first; printf 'par'; sleep 0.1; echo tial; echo err >&2; sleep 1000 & sleep 1000; : ${m}`,
      ],
      timeoutSeconds: 1,
      log: (l) => lines.push(l),
    });
    expect(r.status).toBe('timeout');
    // Each stream is split on its own: a line is never cut by the other stream's output.
    expect(lines.filter((l) => l !== 'err')).toEqual(['first', 'partial']);
    expect(lines).toContain('err');
    const left = await execa('pgrep', ['-f', m], { reject: false });
    expect(left.stdout).toBe('');
  });

  it('uses SIGKILL after the grace period when the group ignores SIGTERM', async () => {
    const m = `kbexec${randomBytes(4).toString('hex')}`;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const r = await runCommand({
      file: 'sh',
      args: ['-c', `trap '' TERM; sleep 1000 & sleep 1000; : ${m}`],
      signal: controller.signal,
      killGraceMs: 500,
    });
    expect(r.status).toBe('cancelled');
    expect((await execa('pgrep', ['-f', m], { reject: false })).stdout).toBe('');
  });

  it('also kills descendants that moved to a session of their own', async () => {
    const m = `kbexec${randomBytes(4).toString('hex')}`;
    const r = await runCommand({
      file: 'sh',
      args: ['-c', `setsid sh -c 'sleep 1000; : ${m}' & sleep 1000`],
      timeoutSeconds: 1,
      killGraceMs: 500,
    });
    expect(r.status).toBe('timeout');
    expect((await execa('pgrep', ['-af', m], { reject: false })).stdout).toBe('');
  });

  it('work-first: kills the work in its own session, and the command ends by itself', async () => {
    const m = `kbexec${randomBytes(4).toString('hex')}`;
    const lines: string[] = [];
    const r = await runCommand({
      file: 'sh',
      // The outer shell ignores SIGINT: it must end because its work died, not by a signal.
      args: ['-c', `trap '' INT; setsid sh -c 'sleep 1000; : ${m}'; echo "work ended $?"`],
      timeoutSeconds: 1,
      stopStyle: 'work-first',
      log: (l) => lines.push(l),
    });
    expect(r.status).toBe('timeout');
    expect(lines).toContain('work ended 137');
    expect((await execa('pgrep', ['-af', m], { reject: false })).stdout).toBe('');
  });

  it('answers exit codes, environment extras and spawn failures as values', async () => {
    const r = await runCommand({
      file: 'sh',
      args: ['-c', 'echo "$KB_X"; exit 3'],
      env: { KB_X: 'extra' },
    });
    expect(r).toMatchObject({ status: 'exited', exitCode: 3, stdout: 'extra\n' });
    const missing = await runCommand({ file: '/nonexistent/docker', args: ['version'] });
    expect(missing.status).toBe('spawn-failed');
  });
});

describe('fake engine controls (for scheduler and CLI tests)', () => {
  const req = (tag: string): BuildRequest => ({
    contextDir: '/nonexistent',
    dockerfile: '/nonexistent/Dockerfile',
    tags: [tag],
    buildArgs: { A: '1' },
    labels: { l: 'v' },
    network: 'none',
    pull: false,
    noCache: false,
  });
  const op = (more: Partial<OpOptions> = {}): OpOptions => ({
    signal: new AbortController().signal,
    log: () => undefined,
    ...more,
  });

  it('holds builds until released, counts concurrency, records the order', async () => {
    const f = createFakeEngine();
    f.hold('k/a');
    const a = f.build(req('k/a:t'), op());
    const b = f.build(req('k/b:t'), op());
    await f.started('k/a');
    expect(f.held()).toEqual(['k/a:t']);
    expect((await b).ok).toBe(true);
    expect(f.running()).toEqual(['k/a:t']);
    expect(f.release('k/a')).toBe(1);
    expect((await a).ok).toBe(true);
    expect(f.maxConcurrentBuilds).toBe(2);
    expect(f.buildOrder).toEqual(['k/a:t', 'k/b:t']);
    expect(f.calls).toEqual(['build k/a:t', 'build k/b:t', 'built k/b:t', 'built k/a:t']);
  });

  it('gives the same inputs the same id, in any engine instance', async () => {
    const one = await createFakeEngine().build(req('k/a:t'), op());
    const two = await createFakeEngine().build(req('k/other:t'), op());
    expect(one.ok && two.ok && one.value.imageId === two.value.imageId).toBe(true);
  });

  it('fails builds and pushes on demand', async () => {
    const f = createFakeEngine();
    f.failBuild((r) => r.tags.includes('k/bad:t'), { times: 1, exitCode: 2 });
    expect(await f.build(req('k/bad:t'), op())).toMatchObject({
      ok: false,
      error: { reason: 'engine-exit', exitCode: 2 },
    });
    expect((await f.build(req('k/bad:t'), op())).ok).toBe(true);
    f.failPush('k/bad', { transient: true, times: 2 });
    const pushes = [];
    for (let i = 0; i < 3; i++) pushes.push(await f.push('k/bad:t', op()));
    expect(pushes.map((p) => (p.ok ? 'ok' : p.error.reason))).toEqual([
      'push-failed',
      'push-failed',
      'ok',
    ]);
    expect(f.pushOrder).toEqual(['k/bad:t', 'k/bad:t', 'k/bad:t']);
  });

  it('honours abort while held, and timeouts on fake timers', async () => {
    const f = createFakeEngine();
    f.hold();
    const controller = new AbortController();
    const held = f.build(req('k/a:t'), op({ signal: controller.signal }));
    controller.abort();
    expect(await held).toEqual({ ok: false, error: { reason: 'cancelled' } });
    expect(f.running()).toEqual([]);
    vi.useFakeTimers();
    try {
      const slow = f.build(req('k/b:t'), op({ timeoutSeconds: 5 }));
      await vi.advanceTimersByTimeAsync(5000);
      expect(await slow).toEqual({ ok: false, error: { reason: 'timeout', seconds: 5 } });
    } finally {
      vi.useRealTimers();
    }
  });
});
