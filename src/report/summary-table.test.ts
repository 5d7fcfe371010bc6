import { describe, expect, it } from 'vitest';
import { imageName } from '../core/model.js';
import type { RunEvent } from '../run/events.js';
import type { EngineInfo } from '../run/ports.js';
import { countStatuses, type ImageSummary, type RunSummary } from '../run/summary.js';
import { plainReporter } from './plain.js';
import { formatSummary, planCountsText } from './summary-table.js';
import { ttyReporter } from './tty.js';

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
