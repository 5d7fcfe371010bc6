import { describe, expect, it } from 'vitest';
import { casesByName, parseJunit } from '../../test/helpers/junit-xml.js';
import { sampleImages, sampleSummary } from '../../test/helpers/sample-run.js';
import { imageName } from '../core/model.js';
import type { SmokeResult, SmokeSummary } from '../run/smoke-result.js';
import type { ImageSummary } from '../run/summary.js';
import { junitReport, smokeJunitReport, type JunitRun } from './junit.js';

const LIB_LOG = [
  '#5 [2/3] RUN echo "about to fail on purpose" && exit 3',
  '\u001b[31mERROR\u001b[0m: <oops> & "quoted" \u0007bell\r',
];
const tails = (path: string) => (path.includes('lib') ? LIB_LOG : ['other log line']);
const run = (images: ImageSummary[] = sampleImages, platform: string | null = null): JunitRun => ({
  platform,
  summary: sampleSummary(images),
});

describe('junitReport', () => {
  it('has one testcase per image; failures carry the log tail, unescaped by the parser as written', () => {
    const doc = parseJunit(junitReport([run()], tails));
    expect(doc.testsuites).toMatchObject({ tests: '6', failures: '1', errors: '0', skipped: '2' });
    const [suite] = doc.testsuites.testsuite;
    expect(suite).toMatchObject({ name: 'bb', tests: '6', failures: '1', skipped: '2' });
    expect(suite!.properties.property).toContainEqual({ name: 'tag', value: 't1' });
    const c = casesByName(suite!);
    expect(suite!.testcase.map((t) => [t.classname, t.name, t.time])).toEqual([
      ['bb', 'base', '3.000'],
      ['bb', 'tools', '0.000'],
      ['bb', 'lib', '2.000'],
      ['bb', 'app', '0.000'],
      ['bb', 'extra', '2.500'],
      ['bb', 'old', '0.000'],
    ]);
    expect(c['base']!.failure).toBeUndefined();
    expect(c['lib']!.failure).toEqual({
      type: 'engine-exit',
      message: 'engine-exit: engine exited with 3: about to fail on purpose',
      '#text':
        '#5 [2/3] RUN echo "about to fail on purpose" && exit 3\nERROR: <oops> & "quoted" bell\n',
    });
    // One root cause is one failure: its descendants are skipped, naming it.
    expect(c['app']!.failure).toBeUndefined();
    expect(c['app']!.skipped).toEqual({ message: 'parent-failed: lib' });
    expect(c['old']!.skipped).toEqual({
      message: 'unbuildable: not supported on busybox (image.yaml)',
    });
  });

  it('counts an image allowed to fail as skipped, and a cancelled one as an error', () => {
    const images = sampleImages.map((i) =>
      i.name === 'lib'
        ? { ...i, allowedToFail: true }
        : i.name === 'extra'
          ? { ...i, status: 'cancelled' as const, reason: 'cancelled', message: 'cancelled' }
          : i,
    );
    const doc = parseJunit(junitReport([run(images)], tails));
    expect(doc.testsuites).toMatchObject({ tests: '6', failures: '0', errors: '1', skipped: '3' });
    const c = casesByName(doc.testsuites.testsuite[0]!);
    expect(c['lib']!.skipped!.message).toBe(
      'allowed to fail: failed: engine-exit: engine exited with 3: about to fail on purpose',
    );
    expect(c['lib']!['system-out']).toContain('ERROR: <oops>');
    expect(c['extra']!.error).toEqual({ type: 'cancelled', message: 'cancelled' });
  });

  it('names the failed image a parent-failed grandchild descends from, not its parent-failed parent', () => {
    const grandchild = {
      ...sampleImages.find((i) => i.name === 'app')!,
      name: imageName('app-plugin'),
      message: "parent 'app' failed",
    };
    const old = { ...grandchild, failedParent: undefined }; // a summary from before failedParent
    for (const g of [grandchild, old]) {
      const c = casesByName(
        parseJunit(junitReport([run([...sampleImages, g])], tails)).testsuites.testsuite[0]!,
      );
      expect(c['app-plugin']!.skipped).toEqual({ message: 'parent-failed: lib' });
    }
  });

  it('with --test, a failed smoke test fails the image and every result is said', () => {
    const images = sampleImages.map((i) =>
      i.name === 'base'
        ? { ...i, test: 'passed' as const, testSeconds: 0.4 }
        : i.name === 'extra'
          ? {
              ...i,
              status: 'failed' as const,
              reason: 'test-failed',
              message: 'exit 1',
              test: 'failed' as const,
              testSeconds: 0.2,
            }
          : i,
    );
    const c = casesByName(parseJunit(junitReport([run(images)], tails)).testsuites.testsuite[0]!);
    expect(c['base']!['system-out']).toBe('smoke test: passed in 0.4s\n');
    expect(c['extra']!.failure).toMatchObject({
      type: 'test-failed',
      message: 'test-failed: exit 1',
    });
    expect(c['extra']!['system-out']).toBe('smoke test: failed in 0.2s\n');
  });

  it('has one testsuite per platform, the platform in each testcase name', () => {
    const doc = parseJunit(
      junitReport([run(sampleImages, 'linux/amd64'), run(sampleImages, 'linux/arm64')], tails),
    );
    expect(doc.testsuites.tests).toBe('12');
    expect(doc.testsuites.testsuite.map((s) => s.name)).toEqual([
      'bb linux/amd64',
      'bb linux/arm64',
    ]);
    expect(doc.testsuites.testsuite[1]!.testcase[0]).toMatchObject({
      classname: 'bb',
      name: 'base (linux/arm64)',
    });
  });
});

const result = (name: string, status: SmokeResult['status'], more: Partial<SmokeResult> = {}) => ({
  name: imageName(name),
  status,
  image: `kb/${name}:t1`,
  exitCode: null,
  message: null,
  seconds: null,
  tail: [],
  log: null,
  ...more,
});

const images: SmokeResult[] = [
  result('base', 'passed', { exitCode: 0, seconds: 0.4 }),
  result('lib', 'failed', {
    exitCode: 1,
    seconds: 0.3,
    message: 'smoke test exited with 1: <no> & "file"',
    tail: ["cat: can't open '/etc/x': No such file or directory", '\u001b[31mred\u001b[0m'],
  }),
  result('slow', 'timeout', { seconds: 5, message: 'smoke test timed out after 5 s' }),
  result('gone', 'not-built', { message: 'kb/gone:t1 is not in the docker engine' }),
  result('tools', 'no-test', { message: 'tools has no test in its image.yaml' }),
  result('late', 'cancelled', { message: 'the run was interrupted' }),
];

const summary: SmokeSummary = {
  runId: 'r1',
  profile: 'bb',
  tag: 't1',
  threads: 2,
  start: '2026-01-01T10:00:00.000Z',
  seconds: 6,
  engine: {
    kind: 'docker',
    client: '/usr/bin/docker',
    clientVersion: '26.1',
    serverVersion: '26.1.5',
    buildPath: 'buildkit',
    platform: 'linux/amd64',
  },
  interrupted: true,
  ok: false,
  counts: { passed: 1, failed: 1, timeout: 1, 'not-built': 1, 'no-test': 1, cancelled: 1 },
  images,
};

describe('smokeJunitReport (kbuild test --junit)', () => {
  it('has one testcase per image tested: failures with the last lines, no test skipped, cancelled an error', () => {
    const doc = parseJunit(smokeJunitReport(summary));
    expect(doc.testsuites).toMatchObject({ tests: '6', failures: '3', errors: '1', skipped: '1' });
    const [suite] = doc.testsuites.testsuite;
    expect(suite!.properties.property).toContainEqual({ name: 'interrupted', value: 'true' });
    const c = casesByName(suite!);
    expect(suite!.testcase.map((t) => [t.classname, t.name, t.time])).toEqual([
      ['bb', 'base', '0.400'],
      ['bb', 'lib', '0.300'],
      ['bb', 'slow', '5.000'],
      ['bb', 'gone', '0.000'],
      ['bb', 'tools', '0.000'],
      ['bb', 'late', '0.000'],
    ]);
    expect(c['base']!.failure).toBeUndefined();
    expect(c['base']!['system-out']).toBe('tested kb/base:t1\n');
    expect(c['lib']!.failure).toEqual({
      type: 'failed',
      message: 'smoke test exited with 1: <no> & "file"',
      '#text': "cat: can't open '/etc/x': No such file or directory\nred\n",
    });
    expect(c['slow']!.failure).toMatchObject({ type: 'timeout' });
    expect(c['gone']!.failure).toMatchObject({
      type: 'not-built',
      message: 'kb/gone:t1 is not in the docker engine',
    });
    expect(c['tools']!.skipped).toEqual({
      message: 'no-test: tools has no test in its image.yaml',
    });
    expect(c['late']!.error).toEqual({ type: 'cancelled', message: 'the run was interrupted' });
  });
});
