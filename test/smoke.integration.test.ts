/**
 * Smoke tests with the real engine, through the compiled bin: `kbuild test` over built images,
 * and `kbuild build --test --push`, which must not push an image whose test fails. The bb
 * fixture's bb-base, bb-lib, bb-app1 and bb-app2 have tests; `--var broken_test_image=NAME`
 * builds NAME without what its test looks at. Needs `scripts/setup-host.sh` (fails, never skips).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  byName,
  kbuild,
  projectCopy,
  randomTag,
  readSummary,
  registryDigest,
  REGISTRY,
  requireHost,
  sh,
} from './helpers/host.js';
import { casesByName, parseJunit } from './helpers/junit-xml.js';

const project = projectCopy('bb');
const tags: string[] = [];
const tagged = () => {
  const t = randomTag();
  tags.push(t);
  return t;
};
const BROKEN = ['--var', 'broken_test_image=bb-app1'];

beforeAll(() => requireHost());
afterAll(async () => {
  const refs = (
    await sh('docker', [
      'images',
      '--filter',
      'label=io.kbuild.profile=bb',
      '--format',
      '{{.Repository}}:{{.Tag}}',
    ])
  )
    .split('\n')
    .filter((r) => tags.some((t) => r.endsWith(`:${t}`)));
  if (refs.length) await sh('docker', ['rmi', '-f', ...refs]).catch(() => '');
  project.remove();
});

interface TestSummary {
  ok: boolean;
  counts: Record<string, number>;
  images: { name: string; status: string; exitCode: number | null; message: string | null }[];
}

describe('kbuild test', () => {
  const tag = tagged();
  beforeAll(async () => {
    const r = await kbuild(['build', '-p', 'bb', '--tag', tag, '-q', ...BROKEN], project.dir);
    if (r.code !== 0) throw new Error(`the fixture did not build:\n${r.stdout}\n${r.stderr}`);
  });

  it('passes for good images: exit 0, a summary table', async () => {
    const file = join(project.dir, 'test-ok.json');
    const r = await kbuild(
      ['test', '-p', 'bb', '--tag', tag, 'bb-base', 'bb-app2', '--summary-json', file],
      project.dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('bb-app2 built for bb'); // the test's output
    expect(r.stdout).toMatch(/^bb-app2 +passed +\d/m);
    expect(r.stdout).toContain(`OK: 2 passed in`);
    const s = JSON.parse(await sh('cat', [file])) as TestSummary;
    expect(s.images.map((i) => [i.name, i.status])).toEqual([
      ['bb-base', 'passed'],
      ['bb-app2', 'passed'],
    ]);
    // No container is left behind.
    expect(await sh('docker', ['ps', '--all', '--quiet', '--filter', 'name=kbuild-run-'])).toBe('');
  });

  it('fails for a broken image: exit 1, the tail of its test shown', async () => {
    const file = join(project.dir, 'test-fail.json');
    const junit = join(project.dir, 'test-fail.xml');
    const r = await kbuild(
      [
        'test',
        '-p',
        'bb',
        '--tag',
        tag,
        '-q',
        'bb-app1',
        'bb-app2',
        '--summary-json',
        file,
        '--junit',
        junit,
      ],
      project.dir,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "cat: can't open '/etc/kbuild-bb-app1.txt': No such file or directory",
    );
    expect(r.stdout).toMatch(/bb-app1: failed in [\d.]+s: smoke test exited with 1/);
    expect(r.stdout).not.toContain('bb-app2 built for bb'); // -q: passed tests' logs are not shown
    expect(r.stdout).toMatch(/^FAILED: 1 passed, 1 failed in/m);
    expect(r.stdout).toMatch(/bb-app1 failed; full log: .*bb-app1\.FAILED\.log/);
    const s = JSON.parse(await sh('cat', [file])) as TestSummary;
    expect(s.images[0]).toMatchObject({ name: 'bb-app1', status: 'failed', exitCode: 1 });
    // --junit: one testcase per image tested, the failure with its output's last lines.
    const doc = parseJunit(await sh('cat', [junit]));
    expect(doc.testsuites).toMatchObject({ tests: '2', failures: '1', errors: '0', skipped: '0' });
    const c = casesByName(doc.testsuites.testsuite[0]!);
    expect(Object.keys(c)).toEqual(['bb-app1', 'bb-app2']);
    expect(c['bb-app1']!.failure).toMatchObject({
      type: 'failed',
      message:
        'smoke test exited with 1: ' +
        "cat: can't open '/etc/kbuild-bb-app1.txt': No such file or directory",
    });
    expect(c['bb-app1']!.failure!['#text']).toContain("can't open '/etc/kbuild-bb-app1.txt'");
    expect(c['bb-app2']!.failure).toBeUndefined();
    expect(c['bb-app2']!['system-out']).toMatch(/^tested kbuild-test\/bb-app2:/);
  });

  it('an image that was never built is not-built, saying how to build it', async () => {
    const r = await kbuild(['test', '-p', 'bb', '--tag', tagged(), 'bb-lib'], project.dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("run 'kbuild build --profile bb bb-lib' first");
    expect(r.stdout).toMatch(/^bb-lib +not-built/m);
  });
});

describe('kbuild build --test --push', () => {
  it('does not push an image whose test fails; its sibling builds, passes and is pushed', async () => {
    const tag = tagged();
    const args = ['build', '-p', 'bb', '--tag', tag, '--test', '--push', '--registry', REGISTRY];
    const file = join(project.dir, 'build-test.json');
    const r = await kbuild([...args, ...BROKEN, '--summary-json', file], project.dir);
    expect(r.code).toBe(1);
    const s = byName(readSummary(file));
    expect(s['bb-app1']).toMatchObject({ status: 'failed', reason: 'test-failed', test: 'failed' });
    expect(s['bb-app1']!.message).toMatch(/^smoke test exited with 1: cat: can't open/);
    expect(await registryDigest(REGISTRY, 'kbuild-test/bb-app1', tag)).toBeNull();
    expect(s['bb-app2']).toMatchObject({ status: 'pushed', test: 'passed' });
    expect(s['bb-app2']!.testSeconds).toBeGreaterThan(0);
    expect(await registryDigest(REGISTRY, 'kbuild-test/bb-app2', tag)).toBe(s['bb-app2']!.digest);
    expect(s['bb-tools']).toMatchObject({ status: 'pushed', test: 'no-test' });
    expect(r.stdout).toMatch(/^IMAGE +STATUS +REASON +TIME +TEST +DIGEST$/m);

    // Again: what passed is not tested again (the state says so), the broken image is, and fails.
    const again = join(project.dir, 'build-test-again.json');
    const r2 = await kbuild([...args, ...BROKEN, '--summary-json', again], project.dir);
    expect(r2.code).toBe(1);
    const s2 = byName(readSummary(again));
    expect(s2['bb-app2']).toMatchObject({ status: 'fresh', test: 'passed-before' });
    expect(s2['bb-app1']).toMatchObject({ status: 'failed', test: 'failed' });
    expect(await registryDigest(REGISTRY, 'kbuild-test/bb-app1', tag)).toBeNull();
  });
});
