/**
 * The run's report files (--report, --junit, --metadata-file) from real builds of the busybox
 * family, the HTML page looked at in a real headless Chromium. Needs `scripts/setup-host.sh`
 * (engine, registry, chromium); it fails, never skips, without.
 *
 * The failing run has every status colour: bb-base fresh (built by the run before), bb-lib built
 * and pushed, bb-tools failed (`fail_image`), its children bb-app1 and bb-app2 parent-failed, and
 * bb-app3 unbuildable (its image.yaml says busybox is not supported).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htmlReport, LOOK_COLOUR, STATUS_LOOK } from '../src/report/html-report.js';
import { imageName, type BuildGraph, type ImageName } from '../src/core/model.js';
import { buildGraph } from '../src/core/graph.js';
import type { ImageMetadata } from '../src/report/build-metadata.js';
import type { RunSummary } from '../src/run/summary.js';
import { loadPage, measurePage, requireChromium, screenshot } from './helpers/chromium.js';
import {
  kbuild,
  projectCopy,
  randomTag,
  REGISTRY,
  registryDigest,
  removeImages,
  requireHost,
  sh,
} from './helpers/host.js';
import { casesByName, parseJunit } from './helpers/junit-xml.js';
import {
  LOGS,
  sampleGraph,
  sampleImages,
  samplePlan,
  sampleSummary,
} from './helpers/sample-run.js';

/** `g` with every image renamed. */
function renamedGraph(g: BuildGraph, rename: (n: ImageName) => ImageName): BuildGraph {
  const r = buildGraph(
    [...g.nodes.values()].map((n) => ({
      name: rename(n.name),
      parents: n.parents.map(rename),
      externals: n.externals,
    })),
  );
  if (!r.ok) throw new Error('renamed graph has a cycle');
  return r.value;
}

const ARTIFACT = fileURLToPath(new URL('../.kbuild/test-artifacts/report.png', import.meta.url));
const project = projectCopy('bb');
const tag = randomTag();
const out = (name: string) => join(project.dir, 'out', name);
const reportFlags = (prefix: string) => [
  '--summary-json',
  out(`${prefix}summary.json`),
  '--report',
  out(`${prefix}report.html`),
  '--junit',
  out(`${prefix}junit.xml`),
  '--metadata-file',
  out(`${prefix}metadata.json`),
];
const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;
let summary: RunSummary;

/** The opening tags of the elements whose class starts with `cls`, in a page's text. */
const tags = (html: string, cls: string) =>
  [...html.matchAll(new RegExp(`<[a-z]+ class="${cls}[ "][^>]*>`, 'g'))].map((m) => m[0]);
const attr = (tag: string, name: string) => new RegExp(` ${name}="([^"]*)"`).exec(tag)?.[1];

let commit = '';

beforeAll(async () => {
  requireHost();
  requireChromium();
  // A git checkout: the report's header names its commit, and says its tree is dirty (the
  // image.yaml below is written after the commit).
  const git = (...args: string[]) =>
    sh('git', ['-C', project.dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args]);
  writeFileSync(join(project.dir, '.gitignore'), 'out/\n.kbuild/\n');
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'the bb family');
  commit = (await git('rev-parse', 'HEAD')).trim();
  writeFileSync(
    join(project.dir, 'images', 'bb-app3', 'image.yaml'),
    'unsupported_distros: [busybox]\n',
  );
  const common = ['build', '-p', 'bb', '--push', '--registry', REGISTRY, '--tag', tag];
  const first = await kbuild([...common, 'bb-base'], project.dir);
  expect(first.code, first.stderr).toBe(0);
  const r = await kbuild(
    [...common, '--var', 'fail_image=bb-tools', ...reportFlags('')],
    project.dir,
  );
  expect(r.code, r.stderr).toBe(1);
  summary = readJson<RunSummary>(out('summary.json'));
}, 240_000);

afterAll(async () => {
  await removeImages((ref) => ref.endsWith(`:${tag}`));
  project.remove();
});

describe('build --report / --junit / --metadata-file', () => {
  it('the run has every status the report colours, and the times it draws', () => {
    expect(Object.fromEntries(summary.images.map((i) => [i.name, i.status]))).toEqual({
      'bb-base': 'fresh',
      'bb-lib': 'pushed',
      'bb-tools': 'failed',
      'bb-app1': 'parent-failed',
      'bb-app2': 'parent-failed',
      'bb-app3': 'unbuildable',
    });
    const lib = summary.images.find((i) => i.name === 'bb-lib')!;
    expect(lib.planReason).toBe('new');
    // Offsets from the run's start, in the order things happened (never their size: no wall clock).
    const times = [lib.queuedAt, lib.startedAt, lib.builtAt, lib.pushedAt];
    expect(times.every((t) => typeof t === 'number')).toBe(true);
    expect([...(times as number[])].sort((a, b) => a - b)).toEqual(times);
  });

  it('the HTML page, in Chromium: a graph node per image in its status colour, timeline bars, no network', async () => {
    const html = readFileSync(out('report.html'), 'utf8');
    expect(html).not.toMatch(/https?:\/\//);
    const { dom, requests } = await loadPage(out('report.html'));
    expect(requests).toEqual([]);
    const nodes = tags(dom, 'node');
    expect(nodes).toHaveLength(summary.images.length);
    for (const i of summary.images) {
      const look = STATUS_LOOK[i.status];
      const node = nodes.find((n) => attr(n, 'data-image') === i.name)!;
      expect([attr(node, 'class'), attr(node, 'data-status')]).toEqual([
        `node s-${look}`,
        i.status,
      ]);
      const rect = new RegExp(
        `data-image="${i.name}"[^>]*><title>[^<]*</title><rect [^>]*fill="([^"]+)"`,
      );
      expect(rect.exec(dom)?.[1]).toBe(LOOK_COLOUR[look]);
    }
    expect(new Set(nodes.map((n) => attr(n, 'class'))).size).toBe(5); // all five colours
    const bars = (kind: string) =>
      tags(dom, 'bar')
        .filter((t) => t.startsWith(`<rect class="bar ${kind} `))
        .map((t) => attr(t, 'data-image'))
        .sort();
    // Every image that got a build slot (the fresh one too: an instant job), none that did not.
    expect(bars('build')).toEqual(['bb-base', 'bb-lib', 'bb-tools']);
    expect(bars('push')).toContain('bb-lib');
    expect(tags(dom, 'edge')).toHaveLength(6);
    expect(dom).toMatch(/<text class="tick"[^>]*>0\.0s<\/text>/);
    expect(dom).toContain('id="verdict">FAILED</span>');
    // The table's log links lead to the logs, relative to the page.
    const link = /<a href="([^"]+)">bb-tools\.FAILED\.log<\/a>/.exec(dom)?.[1];
    expect(link).toBeDefined();
    expect(readFileSync(resolve(dirname(out('report.html')), decodeURI(link!)), 'utf8')).toContain(
      'about to fail on purpose',
    );
    // The header: the commit (the tree dirty) and the command line.
    expect(dom).toContain(
      `<dd id="commit"><code>${commit} (dirty: uncommitted changes)</code></dd>`,
    );
    expect(dom).toMatch(
      /<dd id="command"><code>kbuild build -p bb --push --registry [^<]* --var fail_image=bb-tools --summary-json /,
    );
  });

  it('in Chromium at 1400 px: what failed first, no horizontal scroll, names whole in the graph, one-word reasons on one line', async () => {
    const m = (await measurePage(
      out('report.html'),
      `const sections = [...document.querySelectorAll('body > section')];
      const nodes = [...document.querySelectorAll('g.node')].map((g) => {
        const box = g.querySelector('rect').getBBox();
        const text = g.querySelector('text.name').getBBox();
        return { image: g.dataset.image, inside: text.x >= box.x && text.x + text.width <= box.x + box.width - 4 };
      });
      const why = [...document.querySelectorAll('td.why .nowrap')].map((s) => s.getClientRects().length);
      const failures = [...document.querySelectorAll('#failures .failure')].map((f) => ({
        image: f.dataset.image,
        tail: f.querySelector('pre.tail')?.textContent ?? '',
      }));
      return {
        scrollWidth: document.scrollingElement.scrollWidth,
        clientWidth: document.scrollingElement.clientWidth,
        sections: sections.map((s) => s.id || s.className),
        nodes, why, failures,
        tableRight: document.querySelector('table.images').getBoundingClientRect().right,
      };`,
    )) as {
      scrollWidth: number;
      clientWidth: number;
      sections: string[];
      nodes: { image: string; inside: boolean }[];
      why: number[];
      failures: { image: string; tail: string }[];
      tableRight: number;
    };
    expect(m.clientWidth).toBeGreaterThan(1300); // the window really was 1400 px wide
    expect(m.scrollWidth).toBeLessThanOrEqual(1400);
    expect(m.tableRight).toBeLessThanOrEqual(1400);
    expect(m.sections[0]).toBe('failures');
    expect(m.failures.map((f) => f.image)).toEqual(['bb-tools']);
    expect(m.failures[0]!.tail).toContain('about to fail on purpose');
    expect(m.nodes).toHaveLength(summary.images.length);
    expect(m.nodes.filter((n) => !n.inside)).toEqual([]);
    expect(m.why.length).toBe(summary.images.length);
    expect(m.why.every((lines) => lines === 1)).toBe(true);
  });

  it('in Chromium at 1400 px, a run of long names, log names and messages still does not scroll sideways', async () => {
    const long = (i: { name: string }) =>
      `${i.name}-openstack-nova-compute-ironic-with-a-very-long-suffix`;
    const images = sampleImages.map((i) => ({
      ...i,
      name: imageName(long(i)),
      log: i.log ? `${LOGS}/${long(i)}.${'x'.repeat(60)}.FAILED.log` : null,
      message: i.message ? `${i.message}: ${'/very/long/path/without/spaces'.repeat(8)}` : null,
      planReason: i.planReason === 'dockerfile changed' ? 'new' : i.planReason,
    }));
    const parents = sampleGraph();
    const file = out('long-report.html');
    writeFileSync(
      file,
      htmlReport({
        sections: [
          {
            platform: null,
            summary: sampleSummary(images),
            plan: {
              ...samplePlan(),
              steps: samplePlan().steps.map((st) => ({
                ...st,
                name: imageName(long(st)),
                reason: st.reason === 'dockerfile changed' ? 'new' : st.reason,
              })),
            },
            graph: renamedGraph(parents, (n) => imageName(long({ name: n }))),
          },
        ],
        ok: false,
        interrupted: false,
        dir: dirname(file),
        logTail: () => [`ERROR: ${'0123456789'.repeat(30)}`],
        command: `kbuild build -p bb ${'--var some_long_variable=with-a-long-value '.repeat(8)}`,
        source: { commit: 'f'.repeat(40), dirty: false },
      }),
    );
    const m = (await measurePage(
      file,
      `return {
        scrollWidth: document.scrollingElement.scrollWidth,
        first: document.querySelector('body > section').id,
        names: [...document.querySelectorAll('g.node')].map((g) => {
          const box = g.querySelector('rect').getBBox();
          const text = g.querySelector('text.name').getBBox();
          return text.x + text.width <= box.x + box.width;
        }),
        why: [...document.querySelectorAll('td.why .nowrap')].map((s) => s.getClientRects().length),
      };`,
    )) as { scrollWidth: number; first: string; names: boolean[]; why: number[] };
    expect(m.scrollWidth).toBeLessThanOrEqual(1400);
    expect(m.first).toBe('failures');
    expect(m.names).toEqual(images.map(() => true));
    expect(m.why.every((lines) => lines === 1)).toBe(true);
  });

  it('would have seen a page that fetches something (the net-log check works)', async () => {
    const canary = out('canary.html');
    writeFileSync(canary, '<!DOCTYPE html><img src="http://kbuild-canary.invalid/x.png">');
    expect((await loadPage(canary)).requests).toEqual(['http://kbuild-canary.invalid/x.png']);
  });

  it('renders to a screenshot (kept as a test artifact)', async () => {
    mkdirSync(dirname(ARTIFACT), { recursive: true });
    await screenshot(out('report.html'), ARTIFACT);
    const png = readFileSync(ARTIFACT);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.readUInt32BE(16)).toBe(1400); // IHDR width
    // A blank page compresses to a few KB; graph, timeline and table make far more.
    expect(statSync(ARTIFACT).size).toBeGreaterThan(30_000);
  });

  it('JUnit: a testcase per image, failures with their log tail, strict XML for Chromium too', async () => {
    const xml = readFileSync(out('junit.xml'), 'utf8');
    const doc = parseJunit(xml);
    // One root cause, one failure: its parent-failed children are skipped, naming it.
    expect(doc.testsuites).toMatchObject({ tests: '6', failures: '1', errors: '0', skipped: '3' });
    const c = casesByName(doc.testsuites.testsuite[0]!);
    expect(Object.keys(c)).toEqual(summary.images.map((i) => i.name));
    expect(c['bb-base']!.classname).toBe('bb');
    expect(c['bb-lib']!.failure).toBeUndefined();
    expect(c['bb-tools']!.failure!.type).toBe('engine-exit');
    expect(c['bb-tools']!.failure!['#text']).toContain('about to fail on purpose');
    expect(c['bb-app1']!.failure).toBeUndefined();
    expect(c['bb-app1']!.skipped).toEqual({ message: 'parent-failed: bb-tools' });
    expect(c['bb-app2']!.skipped).toEqual({ message: 'parent-failed: bb-tools' });
    expect(c['bb-app3']!.skipped!.message).toContain('not supported on busybox');
    // libxml2 in Chromium is a strict XML parser: a mistake would show as <parsererror>.
    const { dom } = await loadPage(out('junit.xml'));
    expect(dom).not.toContain('parsererror');
    expect(dom).toContain('bb-tools');
  });

  it("metadata: per image buildx's keys and kbuild's own, as the engine and registry have them", async () => {
    const m = readJson<Record<string, ImageMetadata>>(out('metadata.json'));
    expect(Object.keys(m)).toEqual(summary.images.map((i) => i.name));
    const lib = m['bb-lib']!;
    const libTags = summary.images.find((i) => i.name === 'bb-lib')!.tags;
    expect(libTags).toEqual([`kbuild-test/bb-lib:${tag}`, `${REGISTRY}/kbuild-test/bb-lib:${tag}`]);
    expect(lib).toMatchObject({ 'image.name': libTags.join(','), 'kbuild.status': 'pushed' });
    expect(lib['containerimage.digest']).toBe(
      await registryDigest(REGISTRY, 'kbuild-test/bb-lib', tag),
    );
    const inspect = JSON.parse(
      await sh('docker', [
        'image',
        'inspect',
        '--format',
        '{{json .}}',
        `kbuild-test/bb-lib:${tag}`,
      ]),
    ) as { Id: string; Config: { Labels: Record<string, string> } };
    expect(lib['containerimage.config.digest']).toBe(inspect.Id);
    expect(lib['kbuild.fingerprint']).toBe(inspect.Config.Labels['io.kbuild.fingerprint']);
    expect(lib['kbuild.platforms']).toEqual([summary.engine.platform]);
    expect(Object.keys(m['bb-base']!['kbuild.baseDigests'])).toEqual(['busybox:latest']);
    expect(m['bb-base']).toMatchObject({ 'kbuild.status': 'fresh' });
    expect(m['bb-base']!['containerimage.digest']).toBe(
      await registryDigest(REGISTRY, 'kbuild-test/bb-base', tag),
    );
    // Never made: no names, no digests (in the summary either).
    for (const name of ['bb-tools', 'bb-app1', 'bb-app3']) {
      expect(Object.keys(m[name]!).filter((k) => !k.startsWith('kbuild.'))).toEqual([]);
      expect(summary.images.find((i) => i.name === name)!.tags).toEqual([]);
    }
    expect(m['bb-tools']).toMatchObject({ 'kbuild.status': 'failed' });
    expect(m['bb-app3']).toMatchObject({ 'kbuild.status': 'unbuildable', 'kbuild.platforms': [] });
  });

  it('an interrupted run still writes all three, saying so', async () => {
    let sent = false;
    const r = await kbuild(
      [
        'build',
        '-p',
        'bb',
        '--tag',
        randomTag(),
        '--var',
        'sleep_image=bb-lib',
        '--var',
        'sleep_seconds=71',
        ...reportFlags('int-'),
      ],
      project.dir,
      (text, child) => {
        if (!sent && text.includes('bb-lib: building')) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 1500);
        }
      },
    );
    expect(r.code).toBe(130);
    for (const f of ['report.html', 'junit.xml', 'metadata.json'])
      expect(existsSync(out(`int-${f}`))).toBe(true);
    expect(readFileSync(out('int-report.html'), 'utf8')).toContain(
      'id="verdict">INTERRUPTED</span>',
    );
    const c = casesByName(
      parseJunit(readFileSync(out('int-junit.xml'), 'utf8')).testsuites.testsuite[0]!,
    );
    expect(c['bb-lib']!.error).toMatchObject({ type: 'cancelled' });
    expect(
      readJson<Record<string, ImageMetadata>>(out('int-metadata.json'))['bb-lib']!['kbuild.status'],
    ).toBe('cancelled');
  });
});
