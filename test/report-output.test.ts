import { describe, expect, it } from 'vitest';
import { imageName } from '../src/core/model.js';
import type { RunEvent } from '../src/run/events.js';
import type { EngineInfo } from '../src/run/ports.js';
import { countStatuses, type ImageSummary, type RunSummary } from '../src/run/summary.js';
import { isNoise, stepOf } from '../src/report/build-progress.js';
import { buildWorld } from './helpers/build-world.js';
import { plainReporter } from '../src/report/plain.js';
import { formatSummary, planCountsText } from '../src/report/summary-table.js';
import { ttyReporter } from '../src/report/tty.js';

const engine: EngineInfo = {
  kind: 'fake',
  client: 'fake',
  clientVersion: '1',
  serverVersion: '1',
  buildPath: 'buildkit',
  platform: 'linux/amd64',
};

const row = (
  name: string,
  status: ImageSummary['status'],
  planReason: string,
  more: Partial<ImageSummary> = {},
): ImageSummary => ({
  name: imageName(name),
  status,
  reason: null,
  message: null,
  planReason,
  seconds: 1.5,
  buildSeconds: 1.5,
  pushSeconds: null,
  queueSeconds: 0,
  queuedAt: 0,
  startedAt: 0,
  builtAt: 1.5,
  pushedAt: null,
  imageId: null,
  digest: null,
  tags: [],
  log: null,
  allowedToFail: false,
  test: null,
  testSeconds: null,
  ...more,
});

const summaryOf = (images: ImageSummary[]): RunSummary => ({
  runId: 'r',
  profile: 'p',
  tag: 't',
  registry: '',
  threads: 2,
  start: '2026-01-01T00:00:00.000Z',
  seconds: 3.5,
  engine,
  interrupted: false,
  ok: images.every((i) => i.status !== 'failed'),
  counts: countStatuses(images),
  images,
});

const base = imageName('base');
const hello = imageName('hello');
const app = imageName('app');
const old = imageName('old');
const start: RunEvent = {
  type: 'run-start',
  runId: 'r',
  profile: 'p',
  images: [base, hello, app],
  unbuildable: new Map([[old, 'no debian package for it']]),
  threads: 2,
  push: false,
  engine,
  logsDir: '/logs',
  expected: [
    { name: base, action: 'fresh', reason: 'up to date', parents: [], seconds: 0 },
    { name: hello, action: 'build', reason: 'context-changed (hello.sh)', parents: [], seconds: 3 },
    { name: app, action: 'build', reason: 'parent-changed (hello)', parents: [hello], seconds: 2 },
  ],
};
const done = (name: typeof base): RunEvent => ({
  type: 'scheduler',
  event: { type: 'done', outcome: { name, status: 'built', buildAttempts: 1, pushAttempts: 0 } },
});

describe('the run says why each image was built (issue 15 item 2)', () => {
  const images = [
    row('base', 'fresh', 'up to date'),
    row('hello', 'built', 'context-changed (hello.sh)'),
    row('app', 'pushed', 'parent-changed (hello)'),
    row('new1', 'built', 'new'),
    row('forced1', 'built', 'forced'),
    row('old', 'unbuildable', 'no debian package for it', {
      reason: 'unbuildable',
      message: 'no debian package for it',
    }),
  ];

  it("every summary row carries the plan's reason", () => {
    const text = formatSummary(summaryOf(images));
    expect(text).toMatch(/^base +fresh +up to date +1\.5s$/m);
    expect(text).toMatch(/^hello +built +context-changed \(hello\.sh\) +1\.5s$/m);
    expect(text).toMatch(/^app +pushed +parent-changed \(hello\) +1\.5s$/m);
    expect(text).toMatch(/^new1 +built +new +1\.5s$/m);
    expect(text).toMatch(/^forced1 +built +forced +1\.5s$/m);
    expect(text).toMatch(/^old +unbuildable +no debian package for it/m);
  });

  it("the headers count what the plan decided, in kbuild plan's words", () => {
    expect(planCountsText(['build', 'build', ...Array<string>(21).fill('fresh')])).toBe(
      '2 to build, 21 up to date',
    );
    let plain = '';
    const p = plainReporter({ write: (t) => (plain += t), showLogs: 'all', githubGroups: false });
    [start, done(base), done(hello)].forEach(p);
    expect(plain).toContain(
      'kbuild: profile p: 2 to build, 1 up to date, 1 unbuildable; 2 thread(s);',
    );
    expect(plain).not.toContain('image(s) to build');
    // The line of a built image says why; a fresh one's status says it all.
    expect(plain).toContain('kbuild: [1/3] base: fresh\n');
    expect(plain).toContain('kbuild: [2/3] hello: built (context-changed (hello.sh))\n');

    let tty = '';
    const live = ttyReporter({
      write: (t) => (tty += t),
      columns: () => 100,
      now: () => 0,
      color: false,
    });
    [start, done(base), done(hello)].forEach(live.report);
    live.stop();
    expect(tty).toContain(
      'kbuild: profile p: 2 to build, 1 up to date, 1 unbuildable; 2 thread(s)',
    );
    expect(tty).toContain('✓ base fresh\n');
    expect(tty).toContain('✓ hello built (context-changed (hello.sh))\n');
  });
});

describe('the summary keeps to the width; whole failures go below it (issue 15 item 4)', () => {
  const engineError =
    'engine exited with 100: process "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends ' +
    'build-essential libssl-dev zlib1g-dev" did not complete successfully: exit code: 100\n' +
    'E: Unable to locate package libssl-devv';
  const digest = `sha256:${'ab'.repeat(32)}`;
  const images = [
    row('bb-base', 'pushed', 'new', { digest }),
    row('bb-toolchain-with-a-long-name', 'failed', 'context-changed (build.sh)', {
      reason: 'engine-exit',
      message: engineError,
      log: '/logs/bb-toolchain-with-a-long-name.FAILED.log',
    }),
    row('bb-app', 'parent-failed', 'parent-changed (bb-toolchain-with-a-long-name)', {
      reason: 'parent-failed',
      message: "parent 'bb-toolchain-with-a-long-name' failed",
    }),
  ];
  const lines = (text: string) => text.slice(0, text.indexOf('\n\n')).split('\n');

  it.each([120, 80])('rows keep to %i columns, the reason cut with an ellipsis', (width) => {
    const text = formatSummary(summaryOf(images), { width });
    const table = lines(text);
    expect(table).toHaveLength(4);
    for (const l of table) expect(l.length).toBeLessThanOrEqual(width);
    expect(table[2]).toMatch(
      /^bb-toolchain-with-a-long-name +failed +engine-exit: engine exited.*… {2}1\.5s/,
    );
    // The digest as docker shortens ids; on a narrow terminal, none (the JSON has it).
    if (width === 120) expect(table[1]).toMatch(/ sha256:ababababab ?ab$/);
    else expect(table[0]).not.toContain('DIGEST');
  });

  it('the whole message and the log path come below the table, the verdict last', () => {
    const text = formatSummary(summaryOf(images), {
      width: 120,
      tail: () => ['#7 0.9 E: Unable to locate package libssl-devv'],
    });
    const below = text.slice(text.indexOf('\n\n') + 2);
    expect(below).toBe(
      'kbuild: bb-toolchain-with-a-long-name failed; full log: /logs/bb-toolchain-with-a-long-name.FAILED.log\n' +
        `    ${engineError.split('\n')[0]}\n` +
        '    E: Unable to locate package libssl-devv\n' +
        '  | #7 0.9 E: Unable to locate package libssl-devv\n' +
        '\nFAILED: 1 pushed, 1 parent-failed, 1 failed in 3.5s (profile p, tag t)\n',
    );
  });

  it('plain keeps to 120 columns unless told a terminal width; tty to its columns', () => {
    const end: RunEvent = { type: 'run-end', summary: summaryOf(images) };
    let plain = '';
    plainReporter({ write: (t) => (plain += t), showLogs: 'all', githubGroups: false })(end);
    for (const l of lines(plain.trimStart())) expect(l.length).toBeLessThanOrEqual(120);
    expect(plain).toContain(`    ${engineError.split('\n')[0]}\n`);
    let tty = '';
    const live = ttyReporter({
      write: (t) => (tty += t),
      columns: () => 70,
      now: () => 0,
      color: false,
    });
    live.report(end);
    live.stop();
    for (const l of lines(tty.trimStart())) expect(l.length).toBeLessThanOrEqual(70);
    expect(tty).toContain('full log: /logs/bb-toolchain-with-a-long-name.FAILED.log\n');
  });

  it("tty: a failed image's line keeps to the terminal, its message on one line", () => {
    let tty = '';
    const live = ttyReporter({
      write: (t) => (tty += t),
      columns: () => 80,
      now: () => 0,
      color: false,
    });
    live.report(start);
    live.report({
      type: 'scheduler',
      event: {
        type: 'done',
        outcome: {
          name: hello,
          status: 'failed',
          buildAttempts: 1,
          pushAttempts: 0,
          reason: 'engine-exit',
          message: engineError,
        },
      },
    });
    live.stop();
    const line = tty
      .split('\n')
      .map((l) => l.slice(l.indexOf('✗')))
      .find((l) => l.startsWith('✗ hello failed: engine exited'));
    expect(line).toBeDefined();
    expect(line!.length).toBeLessThanOrEqual(80);
    expect(line).toMatch(/…$/);
  });
});

describe('the live view shows the current step; failures their log path and no noise (issue 15 item 5)', () => {
  it('reads the step from BuildKit, legacy builder and podman lines', () => {
    expect(stepOf('#6 [3/7] RUN apt-get install -y curl')).toBe(
      '[3/7] RUN apt-get install -y curl',
    );
    expect(stepOf('#9 [builder 2/5] RUN make -j4')).toBe('[builder 2/5] RUN make -j4');
    expect(stepOf('Step 3/7 : RUN apt-get install -y curl')).toBe(
      '[3/7] RUN apt-get install -y curl',
    );
    expect(stepOf('STEP 2/4: COPY hello.sh /usr/local/bin/')).toBe(
      '[2/4] COPY hello.sh /usr/local/bin/',
    );
    for (const other of [
      '#1 [internal] load build definition from Dockerfile',
      '#6 0.512 Reading package lists...',
      '#6 DONE 0.0s',
      'kbuild: building with docker 26.1 (/usr/bin/docker), BuildKit built into the client',
    ])
      expect(stepOf(other)).toBeUndefined();
  });

  it("tells BuildKit's bookkeeping from what a step printed and from errors", () => {
    for (const noise of [
      '#5 sha256:3aee66c48bb7776a3dfe6d47b5e16093ec60467934ce3dde7549fde6252cdd10',
      '#5 DONE 0.1s',
      '#5 CACHED',
      '#2 [internal] load .dockerignore',
      '#2 transferring context: 2B done',
      '#9 exporting layers 0.1s done',
      '#9 naming to docker.io/kbuild/app:t done',
      '#0 building with "default" instance using docker driver',
      'kbuild: building with docker 26.1 (/usr/bin/docker), BuildKit built into the client',
      ' ---> Running in 0123456789ab',
      '',
    ])
      expect(isNoise(noise), noise).toBe(true);
    for (const kept of [
      '#6 [3/7] RUN apt-get install -y curl',
      '#6 0.512 E: Unable to locate package curll',
      '#6 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
      'ERROR: failed to solve: process "/bin/sh -c exit 3" did not complete successfully',
      'Dockerfile:4',
      ' > [3/7] RUN apt-get install -y curll:',
    ])
      expect(isNoise(kept), kept).toBe(false);
  });

  const buildLog = [
    'kbuild: building with docker 26.1 (/usr/bin/docker), BuildKit built into the client',
    '#1 [internal] load build definition from Dockerfile',
    '#1 sha256:621307da0094e0dc3f560c936b6b1df71800f9f9d1c53eb9753e17c0566ccd75',
    '#1 DONE 0.0s',
    '#6 [3/7] RUN apt-get install -y curll',
    '#6 sha256:0b7c22153651165ca35dbb4b1f6a4e0acca182636c201364190a676e0cef7b06',
    '#6 0.512 E: Unable to locate package curll',
    '#6 ERROR: process "/bin/sh -c apt-get install -y curll" did not complete successfully: exit code: 100',
    '#6 DONE 0.9s',
  ];
  const failedDone: RunEvent = {
    type: 'scheduler',
    event: {
      type: 'done',
      outcome: {
        name: hello,
        status: 'failed',
        buildAttempts: 1,
        pushAttempts: 0,
        reason: 'engine-exit',
        message: 'engine exited with 100',
      },
    },
  };

  it('tty: the running image shows its step, its failure the tail without noise and the full log', () => {
    let out = '';
    let now = 0;
    const live = ttyReporter({
      write: (t) => (out += t),
      columns: () => 100,
      now: () => now,
      color: false,
    });
    live.report(start);
    live.report({ type: 'scheduler', event: { type: 'build-start', name: hello, attempt: 1 } });
    live.report({ type: 'log', name: hello, line: buildLog[0]! });
    live.report({ type: 'interrupt', signal: 'SIGINT' }); // forces a redraw
    // Before any step, the banner is not the last line worth showing.
    expect(out).toMatch(/ {2}hello 0s\/3s \n/);
    for (const line of buildLog.slice(1, 7)) live.report({ type: 'log', name: hello, line });
    now = 2000;
    out = '';
    live.report({ type: 'interrupt', signal: 'SIGINT' });
    expect(out).toContain('  hello 2s/3s [3/7] RUN apt-get install -y curll\n');
    for (const line of buildLog.slice(7)) live.report({ type: 'log', name: hello, line });
    out = '';
    live.report(failedDone);
    live.report({ type: 'log-closed', name: hello, path: '/logs/hello.FAILED.log', failed: true });
    live.stop();
    expect(out).toContain(
      '✗ hello failed: engine exited with 100\n' +
        '    #6 [3/7] RUN apt-get install -y curll\n' +
        '    #6 0.512 E: Unable to locate package curll\n' +
        '    #6 ERROR: process "/bin/sh -c apt-get install -y curll" did not complete successfully: exit code: 100\n',
    );
    expect(out).toContain('    full log: /logs/hello.FAILED.log\n');
    expect(out).not.toContain('sha256:');
    expect(out).not.toContain('DONE 0.9s');
  });

  it("plain: a failed image's tail under the table leaves the noise out too", () => {
    let out = '';
    const p = plainReporter({ write: (t) => (out += t), showLogs: 'all', githubGroups: false });
    p(start);
    for (const line of buildLog) p({ type: 'log', name: hello, line });
    p(failedDone);
    p({ type: 'log-closed', name: hello, path: '/logs/hello.FAILED.log', failed: true });
    p({
      type: 'run-end',
      summary: summaryOf([
        row('hello', 'failed', 'new', {
          reason: 'engine-exit',
          message: 'engine exited with 100',
          log: '/logs/hello.FAILED.log',
        }),
      ]),
    });
    const below = out.slice(out.indexOf('kbuild: hello failed; full log:'));
    expect(below).toContain(
      'kbuild: hello failed; full log: /logs/hello.FAILED.log\n    engine exited with 100\n' +
        '  | #6 [3/7] RUN apt-get install -y curll\n  | #6 0.512 E: Unable to locate package curll\n',
    );
    expect(below).not.toContain('sha256:');
    expect(out).toContain('#6 sha256:0b7c'); // the image's own log block keeps every line
  });
});

describe('runBuild reports where each log went (issue 15 item 5)', () => {
  it('a log-closed event per image after its end and before the summary, the failed one renamed', async () => {
    const w = buildWorld();
    try {
      w.engine.failBuild('lib', { exitCode: 3, message: 'about to fail on purpose' });
      const r = await w.run();
      const closed = r.events.filter((e) => e.type === 'log-closed');
      expect(closed).toContainEqual({
        type: 'log-closed',
        name: 'lib',
        path: '/logs/lib.FAILED.log',
        failed: true,
      });
      expect(closed).toContainEqual({
        type: 'log-closed',
        name: 'base',
        path: '/logs/base.log',
        failed: false,
      });
      const at = (p: (e: RunEvent) => boolean) => r.events.findIndex(p);
      const libDone = at(
        (e) => e.type === 'scheduler' && e.event.type === 'done' && e.event.outcome.name === 'lib',
      );
      const libClosed = at((e) => e.type === 'log-closed' && e.name === 'lib');
      expect(libDone).toBeLessThan(libClosed);
      expect(libClosed).toBeLessThan(at((e) => e.type === 'run-end'));
    } finally {
      w.remove();
    }
  });
});
