/**
 * Faults of the host and of kbuild's own process, on the real engine and a real registry: a full
 * disk under .kbuild (a small tmpfs), kbuild killed with SIGKILL mid-run, SIGINT while it pushes,
 * and the engine's daemon restarted mid-run (a second dockerd of the test's own, never the
 * host's). Each case asserts the exit code, what the summary says, what the registry holds, and
 * that the state is whole. Counts and statuses, never times.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtraRegistry, type ExtraRegistry } from './helpers/extra-registry.js';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import {
  byName,
  kbuild,
  logSays,
  processesMatching,
  projectCopy,
  randomTag,
  readSummary,
  registryDigest,
  removeImages,
  requireHost,
} from './helpers/host.js';
import { startSecondDockerd, type SecondEngine } from './helpers/second-dockerd.js';

const tag = randomTag();
const projects: { dir: string; remove: () => void }[] = [];
const mounts: string[] = [];
const project = () => {
  const p = projectCopy('bb');
  projects.push(p);
  return p.dir;
};

beforeAll(() => requireHost());
afterAll(async () => {
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  for (const p of projects) p.remove();
  await removeImages((r) => r.includes(`:${tag}`) || r.includes(`:${tag}-`));
});

const statuses = (file: string) =>
  Object.fromEntries(readSummary(file).images.map((i) => [i.name, i.status]));
/** The state file parses, and names each image at most once with a fingerprint. */
function wholeState(dir: string): Record<string, { fingerprint: string }> {
  const files = readdirSync(join(dir, '.kbuild/state'));
  expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
  const state = JSON.parse(readFileSync(join(dir, '.kbuild/state/bb.json'), 'utf8')) as {
    images: Record<string, { fingerprint: string }>;
  };
  for (const s of Object.values(state.images)) expect(s.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  return state.images;
}
const manifestPuts = (proxy: FaultProxy, image: string) =>
  proxy.matching('PUT', new RegExp(`/v2/kbuild-test/${image}/manifests/`)).length;

describe('a full disk under .kbuild (a 512 KiB tmpfs)', () => {
  let dir: string;
  let kb: string;
  const fill = (leaveKiB: number) => {
    const avail = Number(
      execFileSync('df', ['-k', '--output=avail', kb], { encoding: 'utf8' }).split('\n')[1],
    );
    writeFileSync(join(kb, 'filler'), Buffer.alloc(Math.max(0, avail - leaveKiB) * 1024));
  };
  beforeAll(() => {
    dir = project();
    kb = join(dir, '.kbuild');
    mkdirSync(kb);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', kb]);
    mounts.push(kb);
  });

  it('with no room for the run lock: exit 1, one line naming the file, nothing built', async () => {
    fill(0);
    const r = await kbuild(['build', '-p', 'bb', '--tag', tag, '-q'], dir);
    expect(r.stderr).toBe(
      `kbuild: cannot write ${kb}/locks/bb.lock: no space left on device (ENOSPC); free some space there; nothing was built (the run lock could not be taken)\n`,
    );
    expect(r.code).toBe(1);
    expect(readdirSync(join(kb, 'locks'))).toEqual([]); // no half-written lock or temp file
    rmSync(join(kb, 'filler'));
  });

  it('with no room for logs and state mid-run: images built, exit 1, the summary says what was not kept, the old state whole', async () => {
    // The build contexts (.kbuild/build) are written off the full disk: with them on it, an image
    // whose context is written after the logs took the last pages fails (rightly, but by chance:
    // this test is about the logs and the state).
    const contexts = join(dir, 'contexts');
    mkdirSync(contexts);
    rmSync(join(kb, 'build'), { recursive: true, force: true });
    symlinkSync(contexts, join(kb, 'build'));
    const first = join(dir, 'first.json');
    const r1 = await kbuild(
      ['build', '-p', 'bb', '--tag', tag, '-q', '--summary-json', first],
      dir,
    );
    expect(r1.code).toBe(0);
    const before = wholeState(dir);
    writeFileSync(join(dir, 'images/bb-base/base.txt'), `changed ${tag}\n`);
    fill(16); // room for the lock, not for six logs and the state
    const file = join(dir, 'full.json'); // outside the full disk
    const r = await kbuild(['build', '-p', 'bb', '--tag', tag, '--summary-json', file], dir);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    const summary = readSummary(file) as ReturnType<typeof readSummary> & { problems: string[] };
    expect(Object.values(statuses(file))).toEqual(Array(6).fill('built'));
    expect(summary.ok).toBe(false);
    expect(summary.problems).toContain(
      `the state was not saved: cannot write ${kb}/state/bb.json: no space left on device (ENOSPC); free some space there`,
    );
    for (const p of summary.problems) expect(r.stderr).toContain(`kbuild: error: ${p}\n`);
    expect(r.stderr).toMatch(/the run fails \(exit 1\); the images it built are kept/);
    expect(wholeState(dir)).toEqual(before); // the last state saved, not a half-written one
    // With room again, nothing is rebuilt: the engine knows the images by their labels.
    rmSync(join(kb, 'filler'));
    const again = join(dir, 'again.json');
    const r2 = await kbuild(
      ['build', '-p', 'bb', '--tag', tag, '-q', '--summary-json', again],
      dir,
    );
    expect(r2.code).toBe(0);
    expect(Object.values(statuses(again))).toEqual(Array(6).fill('fresh'));
    expect(wholeState(dir)['bb-base']?.fingerprint).not.toBe(before['bb-base']?.fingerprint);
  });
});

describe('kbuild itself stopped mid-run, pushing to a registry behind a recording proxy', () => {
  let registry: ExtraRegistry;
  let proxy: FaultProxy;
  beforeAll(async () => {
    registry = await startExtraRegistry();
    proxy = await startFaultProxy(registry.host);
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });
  const pushed = (image: string, t: string) =>
    registryDigest(registry.host, `kbuild-test/${image}`, t);

  it('SIGKILL: the next run stops what it left, builds only what is missing, publishes nothing twice', async () => {
    const dir = project();
    const t = `${tag}-k`;
    const push = ['--push', '--registry', proxy.host, '--tag', t];
    const app3 = () =>
      processesMatching(`${dir}/.kbuild/build/bb/bb-app3`).filter((l) => / build /.test(l));
    let killed = false;
    const r = await kbuild(
      ['build', '-p', 'bb', ...push, '--var', 'sleep_image=bb-app3', '--var', 'sleep_seconds=64'],
      dir,
      (out, child) => {
        // Once bb-app1 is pushed and bb-app3's build waits in its 64 s step.
        const running = () => app3().length && logSays(dir, 'bb-app3', 'sleep 64');
        const kill = () => (running() ? child.kill('SIGKILL') : setTimeout(kill, 100));
        if (!killed && out.includes('bb-app1: pushed')) {
          killed = true;
          kill();
        }
      },
    );
    expect(r.signal).toBe('SIGKILL');
    const done = ['bb-base', 'bb-lib', 'bb-tools', 'bb-app1'];
    for (const i of done) expect(await pushed(i, t)).toMatch(/^sha256:/);
    expect(await pushed('bb-app3', t)).toBeNull();
    proxy.clearSeen();
    const file = join(dir, 'rerun.json');
    const again = await kbuild(
      ['build', '-p', 'bb', ...push, '-q', '--summary-json', file],
      dir,
      undefined,
    );
    expect(again.stderr).toMatch(/kbuild: stopped docker build … \S+\/bb-app3 \(PID \d+\)/);
    expect(again.code).toBe(0);
    const s = statuses(file);
    for (const i of done) expect(s[i]).toBe('fresh');
    expect(s['bb-app3']).toBe('pushed');
    for (const i of done) expect(manifestPuts(proxy, i)).toBe(0);
    expect(manifestPuts(proxy, 'bb-app3')).toBeGreaterThan(0);
    expect(app3()).toEqual([]);
    for (const i of [...done, 'bb-app2', 'bb-app3']) expect(await pushed(i, t)).toMatch(/^sha256:/);
    expect(Object.keys(wholeState(dir)).sort()).toEqual(Object.keys(s).sort());
  });

  it('SIGINT while a push hangs: exit 130, the summary says interrupted, the registry keeps what was pushed, a re-run pushes the rest', async () => {
    const dir = project();
    const t = `${tag}-i`;
    const push = ['--push', '--registry', proxy.host, '--tag', t];
    proxy.setRules([
      { method: 'PUT', path: /\/v2\/kbuild-test\/bb-app1\/manifests\//, fault: { kind: 'stall' } },
    ]);
    const file = join(dir, 'int.json');
    let sent = false;
    const r = await kbuild(
      ['build', '-p', 'bb', ...push, '--summary-json', file],
      dir,
      (_, child) => {
        const stalled = () =>
          proxy.seen.some((q) => q.fault === 'stall' && q.path.includes('bb-app1'));
        const poll = () => (stalled() ? child.kill('SIGINT') : setTimeout(poll, 100));
        if (!sent) {
          sent = true;
          poll();
        }
      },
    );
    proxy.setRules([]);
    proxy.release();
    expect(r.code).toBe(130);
    expect(r.stderr).not.toMatch(/internal error/);
    const summary = readSummary(file);
    expect(summary.interrupted).toBe(true);
    expect(summary.ok).toBe(false);
    const s = byName(summary);
    expect(s['bb-app1']?.status).toBe('cancelled');
    expect(await pushed('bb-app1', t)).toBeNull();
    expect(await pushed('bb-base', t)).toMatch(/^sha256:/);
    wholeState(dir);
    proxy.clearSeen();
    const again = join(dir, 'again.json');
    const r2 = await kbuild(['build', '-p', 'bb', ...push, '-q', '--summary-json', again], dir);
    expect(r2.code).toBe(0);
    expect(statuses(again)['bb-app1']).toBe('pushed');
    expect(statuses(again)['bb-base']).toBe('fresh');
    expect(manifestPuts(proxy, 'bb-base')).toBe(0);
    for (const i of Object.keys(statuses(again))) expect(await pushed(i, t)).toMatch(/^sha256:/);
    wholeState(dir);
  });
});

describe("the engine's daemon restarted mid-run (a second dockerd of the test's own)", () => {
  let engine: SecondEngine;
  beforeAll(async () => {
    engine = await startSecondDockerd(['busybox:latest']);
  });
  afterAll(async () => engine?.stop());

  it('the images it was building fail with the engine error, their descendants are skipped, a re-run builds them', async () => {
    const dir = project();
    const t = `${tag}-d`;
    const env = { DOCKER_HOST: engine.dockerHost };
    const lib = () =>
      processesMatching(`${dir}/.kbuild/build/bb/bb-lib`).filter((l) => / build /.test(l));
    const file = join(dir, 'restart.json');
    let restarting: Promise<void> | undefined;
    const r = await kbuild(
      ['build', '-p', 'bb', '--tag', t, '--summary-json', file, '--threads', '1'].concat([
        '--var',
        'sleep_image=bb-lib',
        '--var',
        'sleep_seconds=60',
      ]),
      dir,
      (out) => {
        const poll = () => {
          if (lib().length) restarting = engine.restart();
          else setTimeout(poll, 100);
        };
        if (!restarting && out.includes('bb-lib: building')) {
          restarting = Promise.resolve();
          poll();
        }
      },
      env,
    );
    await restarting;
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    const s = byName(readSummary(file));
    expect(s['bb-base']?.status).toBe('built');
    expect(s['bb-lib']?.status).toBe('failed');
    expect(s['bb-lib']?.message).toBeTruthy();
    expect(s['bb-app2']?.status).toBe('parent-failed');
    expect(s['bb-app3']?.status).toBe('parent-failed');
    const state = wholeState(dir);
    expect(state['bb-base']).toBeDefined();
    expect(state['bb-lib']).toBeUndefined();
    expect(existsSync(join(dir, '.kbuild/locks/bb.lock'))).toBe(false);
    const again = join(dir, 'again.json');
    const r2 = await kbuild(
      ['build', '-p', 'bb', '--tag', t, '-q', '--summary-json', again],
      dir,
      undefined,
      env,
    );
    expect(r2.code).toBe(0);
    const s2 = statuses(again);
    expect(s2['bb-base']).toBe('fresh');
    expect(s2['bb-lib']).toBe('built');
    expect(s2['bb-app3']).toBe('built');
  });
});
