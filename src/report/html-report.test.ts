import { describe, expect, it } from 'vitest';
import { imageName } from '../core/model.js';
import {
  LOGS,
  sampleGraph,
  sampleImages,
  samplePlan,
  sampleSummary,
} from '../../test/helpers/sample-run.js';
import {
  assignLanes,
  htmlReport,
  layeredLayout,
  LOOK_COLOUR,
  STATUS_LOOK,
  type ReportSection,
} from './html-report.js';

const section = (platform: string | null = null): ReportSection => ({
  platform,
  summary: sampleSummary(),
  plan: samplePlan(),
  graph: sampleGraph(),
});
const page = (sections = [section()]) =>
  htmlReport({ sections, ok: false, interrupted: false, dir: '/work/run' });
/** The opening tags of elements carrying `class` (the first class word) in a rendered page. */
const tags = (html: string, cls: string) =>
  [...html.matchAll(new RegExp(`<[a-z]+ class="${cls}[ "][^>]*>`, 'g'))].map((m) => m[0]);
const attr = (tag: string, name: string) => new RegExp(` ${name}="([^"]*)"`).exec(tag)?.[1];

describe('htmlReport', () => {
  it('draws one graph node per image, coloured by its status', () => {
    const nodes = tags(page(), 'node');
    expect(nodes.map((n) => [attr(n, 'data-image'), attr(n, 'data-status')])).toEqual(
      sampleImages.map((i) => [i.name, i.status]),
    );
    const html = page();
    for (const i of sampleImages) {
      const look = STATUS_LOOK[i.status];
      expect(html).toMatch(
        new RegExp(
          `<g class="node s-${look}" data-image="${i.name}"[^>]*><title>[^<]*</title><rect [^>]*fill="${LOOK_COLOUR[look]}"`,
        ),
      );
    }
    expect(new Set(Object.values(STATUS_LOOK).map((l) => LOOK_COLOUR[l])).size).toBe(5);
  });

  it('draws an edge per parent, the critical path heavier', () => {
    const edges = tags(page(), 'edge');
    expect(edges.map((e) => `${attr(e, 'data-from')}>${attr(e, 'data-to')}`).sort()).toEqual(
      ['base>tools', 'base>lib', 'lib>app', 'base>extra', 'base>old'].sort(),
    );
    expect(
      edges.filter((e) => e.includes('class="edge critical"')).map((e) => attr(e, 'data-to')),
    ).toEqual(['lib', 'app']);
  });

  it('lays parents out left of their children, layer by layer', () => {
    const g = sampleGraph();
    const at = layeredLayout(
      sampleImages.map((i) => i.name),
      (n) => g.nodes.get(n)!.parents,
    );
    expect(Object.fromEntries([...at].map(([n, p]) => [n, p.layer]))).toEqual({
      base: 0,
      tools: 1,
      lib: 1,
      extra: 1,
      old: 1,
      app: 2,
    });
    const rows = [...at].filter(([, p]) => p.layer === 1).map(([, p]) => p.row);
    expect(rows.sort()).toEqual([0, 1, 2, 3]);
  });

  it('puts each build on the first free slot, and draws queue, build and push bars', () => {
    const lanes = assignLanes(sampleImages, 5.2);
    expect(lanes.map((b) => [b.image.name, b.lane])).toEqual([
      ['base', 0],
      ['tools', 0],
      ['lib', 0],
      ['extra', 1],
    ]);
    const html = page();
    const bars = (kind: string) =>
      tags(html, 'bar')
        .filter((t) => t.startsWith(`<rect class="bar ${kind} `))
        .map((t) => attr(t, 'data-image'));
    expect(bars('build')).toEqual(['base', 'tools', 'lib', 'extra']);
    expect(bars('queue')).toEqual(['extra']);
    expect(bars('push')).toEqual(['base']);
    expect(html).toContain('>slot 2</text>');
    expect(html).not.toContain('>slot 3</text>');
  });

  it('has a header and a table saying why each image was built or not, with relative log links', () => {
    const html = page();
    expect(html).toContain('<span class="verdict FAILED" id="verdict">FAILED</span>');
    expect(html).toContain('<dt>registry</dt><dd>127.0.0.1:5000</dd>');
    expect(html).not.toContain('<dt>extra tags</dt>');
    expect(html).toContain('<dt>engine</dt><dd>docker 26.1.5 (buildkit)</dd>');
    expect(html).toContain(
      '<dt>images</dt><dd>1 built, 1 pushed, 1 fresh, 1 parent-failed, 1 failed, 1 unbuildable</dd>',
    );
    for (const i of sampleImages) expect(html).toContain(`<tr id="img-0-${i.name}"`);
    expect(html).toContain(
      '<td class="why"><span class="nowrap">build: dockerfile</span> changed</td>',
    );
    expect(html).toContain('<td class="why"><span class="nowrap">fresh: up</span> to date</td>');
    expect(html).toContain(
      '<td class="outcome">engine-exit: engine exited with 3: about to fail on purpose</td>',
    );
    expect(html).toContain(
      `<a href=".kbuild/logs/r1/base.log" title="${LOGS}/base.log">base.log</a>`,
    );
    expect(html).toContain(
      `<a href=".kbuild/logs/r1/lib%20%26%20co.FAILED.log" title="${LOGS}/lib &amp; co.FAILED.log">lib &amp; co.FAILED.log</a>`,
    );
  });

  it('names the extra tags (-t shared -t extra …) beside the shared one', () => {
    const s = section();
    const html = page([{ ...s, summary: { ...s.summary, extraTags: ['latest', 'v1.2'] } }]);
    expect(html).toContain(
      `<dt>tag</dt><dd>${s.summary.tag}</dd><dt>extra tags</dt><dd>latest v1.2</dd>`,
    );
  });

  it('leads with what failed: each failed image with its message, template file:line and log tail', () => {
    const images = sampleImages.map((i) =>
      i.name === 'lib'
        ? { ...i, template: { file: 'images/lib/Dockerfile.j2', line: 12 } }
        : i.name === 'app'
          ? { ...i, planReason: 'new' }
          : i,
    );
    const html = htmlReport({
      sections: [{ ...section(), summary: sampleSummary(images) }],
      ok: false,
      interrupted: false,
      dir: '/work/run',
      logTail: (p) =>
        p.includes('lib') ? ['#5 [2/3] RUN make', '\u001b[31mERROR\u001b[0m: <oops>'] : [],
      source: { commit: 'c0ffee1234', dirty: true },
      command: "kbuild build -p bb --var 'x=a b'",
    });
    // The failures section comes before the graph, the timeline and the table.
    const body = html.slice(html.indexOf('<body>'));
    expect(body.indexOf('<section class="failures"')).toBeGreaterThan(0);
    expect(body.indexOf('<section class="failures"')).toBeLessThan(body.indexOf('<svg'));
    expect(body.indexOf('<section class="failures"')).toBeLessThan(
      body.indexOf('<section class="platform"'),
    );
    const failures = body.slice(
      body.indexOf('<section class="failures"'),
      body.indexOf('</section>'),
    );
    expect(tags(failures, 'failure').map((t) => attr(t, 'data-image'))).toEqual(['lib']);
    expect(failures).toContain('<h2>What failed (1)</h2>');
    expect(failures).toContain(
      '<p class="message">engine-exit: engine exited with 3: about to fail on purpose</p>',
    );
    expect(failures).toContain('<p class="where">at <code>images/lib/Dockerfile.j2:12</code></p>');
    expect(failures).toContain('<pre class="tail">#5 [2/3] RUN make\nERROR: &lt;oops&gt;</pre>');
    expect(failures).toContain('full log: <a href=".kbuild/logs/r1/lib%20%26%20co.FAILED.log">');
    expect(failures).toContain('not built because of it: app');
    // The header: the command line and the commit, dirty or not.
    expect(html).toContain(
      `<dt>command</dt><dd id="command"><code>kbuild build -p bb --var &#39;x=a b&#39;</code></dd>`,
    );
    expect(html).toContain(
      '<dt>commit</dt><dd id="commit"><code>c0ffee1234 (dirty: uncommitted changes)</code></dd>',
    );
    // A one-word reason is never broken from its action.
    expect(html).toContain('<td class="why"><span class="nowrap">build: new</span></td>');
  });

  it('has no failures section when nothing failed; says when the project is not in git', () => {
    const ok = sampleImages.filter((i) => ['base', 'tools', 'extra'].includes(i.name));
    const html = htmlReport({
      sections: [{ ...section(), summary: sampleSummary(ok) }],
      ok: true,
      interrupted: false,
      dir: '/work/run',
      source: null,
    });
    expect(html).not.toContain('class="failures"');
    expect(html).toContain('<dt>commit</dt><dd id="commit"><code>not a git repository</code></dd>');
  });

  it('says each thing once in a tooltip, and gives every timeline bar one', () => {
    const html = page();
    const titles = [...html.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]!).slice(1);
    expect(titles.length).toBeGreaterThan(sampleImages.length);
    for (const t of titles) {
      const parts = t.replace(/^[^:]+: /, '').split(' — ');
      expect(new Set(parts).size, t).toBe(parts.length);
    }
    // unbuildable: its message is its plan reason, said once.
    expect(titles).toContain('old: unbuildable — not supported on busybox (image.yaml)');
    const bars = [...html.matchAll(/<rect class="bar [^>]*>(.*?)<\/rect>/g)];
    expect(bars.length).toBe(tags(html, 'bar').length);
    for (const b of bars) expect(b[1]).toMatch(/^<title>[^<]+<\/title>$/);
  });

  it('keeps long image names inside their graph nodes: smaller, squeezed to the box at worst', () => {
    const long = 'a-really-long-image-name-for-the-openstack-nova-compute-ironic-driver';
    const images = sampleImages.map((i) =>
      i.name === 'tools' ? { ...i, name: imageName(long) } : i,
    );
    const html = htmlReport({
      sections: [{ ...section(), summary: sampleSummary(images) }],
      ok: false,
      interrupted: false,
      dir: '/work/run',
    });
    const width = Number(
      /<g class="node[^>]*><title>[^<]*<\/title><rect [^>]*width="(\d+)"/.exec(html)![1],
    );
    expect(width).toBeLessThanOrEqual(240);
    const text = new RegExp(`<text class="name" [^>]*>${long}</text>`).exec(html)![0];
    expect(attr(text, 'textLength')).toBe(String(width - 20));
    expect(Number(attr(text, 'font-size'))).toBeLessThan(13);
    // Short names are drawn as they are.
    expect(html).toMatch(
      /<text class="name" [^>]*font-size="13" font-weight="600" fill="#fff">base<\/text>/,
    );
  });

  it('is self-contained: no scripts, no resource URLs, and a policy that forbids fetching any', () => {
    const html = page();
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|@import|\ssrc=/);
    // The only url()s name the page's own markers and patterns.
    const urls = new Set([...html.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1]));
    expect([...urls]).toEqual(['#arrow-0', '#push-0']);
  });

  it('escapes what the run says', () => {
    const images = sampleImages.map((i) =>
      i.name === 'lib' ? { ...i, message: '<script>alert("x")</script> & more' } : i,
    );
    const html = htmlReport({
      sections: [{ ...section(), summary: sampleSummary(images) }],
      ok: false,
      interrupted: false,
      dir: '/work/run',
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
  });

  it('has one section per platform, with ids of their own', () => {
    const html = page([section('linux/amd64'), section('linux/arm64')]);
    expect(tags(html, 'platform').map((t) => attr(t, 'data-platform'))).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
    expect(html).toContain('<dt>platforms</dt><dd>linux/amd64, linux/arm64</dd>');
    expect(html).toContain('<marker id="arrow-1"');
    expect(html).toContain('<tr id="img-1-base"');
    expect(tags(html, 'node')).toHaveLength(2 * sampleImages.length);
  });

  it('says when nothing was built', () => {
    const unbuildable = sampleImages.filter((i) => i.name === imageName('old'));
    const html = htmlReport({
      sections: [{ ...section(), summary: sampleSummary(unbuildable) }],
      ok: true,
      interrupted: false,
      dir: '/work/run',
    });
    expect(html).toContain('<p class="empty">Nothing was built.</p>');
    expect(html).toContain('id="verdict">OK</span>');
  });
});
