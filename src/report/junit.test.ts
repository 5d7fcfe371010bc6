import { describe, expect, it } from 'vitest';
import { casesByName, parseJunit } from '../../test/helpers/junit-xml.js';
import { sampleImages, sampleSummary } from '../../test/helpers/sample-run.js';
import type { ImageSummary } from '../run/summary.js';
import { junitReport, type JunitRun } from './junit.js';

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
    expect(doc.testsuites).toMatchObject({ tests: '6', failures: '2', errors: '0', skipped: '1' });
    const [suite] = doc.testsuites.testsuite;
    expect(suite).toMatchObject({ name: 'bb', tests: '6', failures: '2', skipped: '1' });
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
    expect(c['app']!.failure).toMatchObject({
      type: 'parent-failed',
      message: "parent 'lib' failed",
    });
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
    expect(doc.testsuites).toMatchObject({ tests: '6', failures: '1', errors: '1', skipped: '2' });
    const c = casesByName(doc.testsuites.testsuite[0]!);
    expect(c['lib']!.skipped!.message).toBe(
      'allowed to fail: failed: engine-exit: engine exited with 3: about to fail on purpose',
    );
    expect(c['lib']!['system-out']).toContain('ERROR: <oops>');
    expect(c['extra']!.error).toEqual({ type: 'cancelled', message: 'cancelled' });
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
