/**
 * The run report for people (`build --report FILE.html`): one self-contained page with the run's
 * header (the git commit and the command line too), what failed first (each failed image's
 * message, template file:line and log tail), the family graph and a timeline of the build slots as
 * inline SVG, and a table of every image with why it was built or left alone. It fits 1400 px. No scripts, fonts or fetches: a Content-Security-Policy
 * forbids them, so the page opens the same from a CI artifact store as from disk.
 * Pure: summaries, plans and graphs in, text out.
 */
import { posix } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { formatTemplateLocation, type BuildGraph, type ImageName } from '../core/model.js';
import type { Plan } from '../core/plan/plan.js';
import {
  succeeded,
  type ImageSummary,
  type RunSummary,
  type SummaryStatus,
} from '../run/summary.js';
import { escapeMarkup as esc } from './markup.js';
import { countsText, dur, verdict } from './summary-table.js';

/** One platform's run (a single-platform run has one, with `platform: null`). */
export interface ReportSection {
  readonly platform: string | null;
  readonly summary: RunSummary;
  readonly plan: Plan;
  readonly graph: BuildGraph;
}

export interface HtmlReportInput {
  readonly sections: readonly ReportSection[];
  /** The whole run's verdict (several platforms: publishing included). */
  readonly ok: boolean;
  readonly interrupted: boolean;
  /** Absolute directory of the report file: log links are relative to it. */
  readonly dir: string;
  /** The last lines of a log file (the failed images' logs are asked for). */
  readonly logTail?: (path: string) => readonly string[];
  /** The project's git commit and whether its tree had uncommitted changes; null: not in git. */
  readonly source?: { readonly commit: string; readonly dirty: boolean } | null;
  /** The command line of the run, as typed. */
  readonly command?: string;
}

/** What a status looks like: its CSS class and colour. */
export type StatusLook = 'done' | 'unchanged' | 'failed' | 'not-run' | 'unbuildable';

export const STATUS_LOOK: Readonly<Record<SummaryStatus, StatusLook>> = {
  built: 'done',
  pushed: 'done',
  fresh: 'unchanged',
  retagged: 'unchanged',
  failed: 'failed',
  'parent-failed': 'not-run',
  skipped: 'not-run',
  cancelled: 'not-run',
  unbuildable: 'unbuildable',
};

export const LOOK_COLOUR: Readonly<Record<StatusLook, string>> = {
  done: '#2e9d49',
  unchanged: '#8a919c',
  failed: '#d63b3b',
  'not-run': '#f0901e',
  unbuildable: '#dcdfe4',
};

const LOOK_LABEL: Readonly<Record<StatusLook, string>> = {
  done: 'built / pushed',
  unchanged: 'fresh / retagged',
  failed: 'failed',
  'not-run': 'parent failed / skipped / cancelled',
  unbuildable: 'unbuildable',
};

const PUSH_COLOUR = '#3b6fd6';
const look = (s: SummaryStatus) => STATUS_LOOK[s];
const fill = (s: SummaryStatus) => LOOK_COLOUR[look(s)];
/** Dark text on the light fills, white on the others. */
const ink = (s: SummaryStatus) => (look(s) === 'unbuildable' ? '#333' : '#fff');
/** Roughly how wide a text of `n` characters is at `px` (no font metrics without a browser). */
const textWidth = (n: number, px: number) => n * px * 0.6;
/** The same for bold text, erring wide. */
const boldWidth = (n: number, px: number) => n * px * 0.66;
/** Graph nodes are at most this wide: a family of long names still fits the page unshrunk. */
const NODE_MAX_W = 240;
const anchor = (section: number, name: string) => `img-${section}-${name}`;

export function htmlReport(input: HtmlReportInput): string {
  const { sections } = input;
  const first = sections[0]?.summary;
  const title = first ? `kbuild ${first.profile} ${first.tag}` : 'kbuild run';
  const several = sections.length > 1;
  const body = sections.map((s, i) => sectionHtml(s, i, several, input.dir)).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${runHeader(input)}
${failuresHtml(input)}
${legend()}
${body}
</body>
</html>
`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:24px;background:#fafbfc;max-width:1400px;box-sizing:border-box}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:15px;margin:20px 0 6px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
.verdict.OK{background:${LOOK_COLOUR.done}}.verdict.FAILED{background:${LOOK_COLOUR.failed}}.verdict.INTERRUPTED{background:${LOOK_COLOUR['not-run']}}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:12px 0}
dl.facts dt{color:#666}dl.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
section.failures{background:#fff;border:1px solid ${LOOK_COLOUR.failed};border-left-width:5px;border-radius:6px;padding:4px 16px 12px;margin:16px 0}
section.failures h2{margin-top:10px;color:${LOOK_COLOUR.failed}}
.failure h3{margin:14px 0 4px}.failure p{margin:2px 0;overflow-wrap:anywhere}
pre.tail{background:#1e2227;color:#e6e6e6;padding:8px 10px;border-radius:4px;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere;margin:6px 0}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0;font-size:13px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin-right:5px}
.swatch.push{background:repeating-linear-gradient(45deg,${PUSH_COLOUR} 0 2px,#fff 2px 4px)}
svg{background:#fff;border:1px solid #e3e6ea;border-radius:6px;max-width:100%;height:auto}
svg text{font-family:system-ui,sans-serif}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.name,td.outcome,td.log{overflow-wrap:anywhere}td.status,td.digest,.nowrap{white-space:nowrap}td.log{font-size:12px}
tr:target{background:#fff6d6}code{font-size:12px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}
${(Object.keys(LOOK_COLOUR) as StatusLook[]).map((l) => `.dot.s-${l}{background:${LOOK_COLOUR[l]}}`).join('')}
`;

function runHeader(input: HtmlReportInput): string {
  const runs = input.sections.map((s) => s.summary);
  const first = runs[0];
  if (!first) return `<header><h1>kbuild run</h1><p>No image was run.</p></header>`;
  const counts = new Map<string, number>();
  for (const r of runs)
    for (const [k, n] of Object.entries(r.counts)) counts.set(k, (counts.get(k) ?? 0) + n);
  const countText = countsText(Object.fromEntries(counts));
  const e = first.engine;
  const src = input.source;
  const facts: [string, string][] = [
    ...(input.command ? [['command', input.command] as [string, string]] : []),
    ...(src !== undefined
      ? [
          [
            'commit',
            src
              ? `${src.commit}${src.dirty ? ' (dirty: uncommitted changes)' : ' (clean tree)'}`
              : 'not a git repository',
          ] as [string, string],
        ]
      : []),
    ['profile', first.profile],
    ['tag', first.tag],
    ...(first.extraTags?.length
      ? [['extra tags', first.extraTags.join(' ')] as [string, string]]
      : []),
    ['registry', first.registry || '(none)'],
    ['engine', `${e.kind} ${e.serverVersion} (${e.buildPath})`],
    ['started', first.start],
    ['duration', dur(runs.reduce((t, r) => t + r.seconds, 0))],
    ['threads', String(first.threads)],
    ...(input.sections.length > 1
      ? [['platforms', input.sections.map((s) => s.platform).join(', ')] as [string, string]]
      : []),
    ['images', countText || 'nothing to do'],
    ['run', first.runId],
  ];
  const v = verdict(input);
  return `<header>
<h1>kbuild run report: ${esc(first.profile)} <span class="verdict ${v}" id="verdict">${v}</span></h1>
<dl class="facts">${facts.map(([k, val]) => `<dt>${esc(k)}</dt><dd${k === 'command' || k === 'commit' ? ` id="${k}"` : ''}>${k === 'command' || k === 'commit' ? `<code>${esc(val)}</code>` : esc(val)}</dd>`).join('')}</dl>
</header>`;
}

/** Log lines shown inline per failed image (the link leads to the rest). */
const TAIL_SHOWN = 20;

/**
 * What failed, before anything else: each failed image with its message, where its failing
 * instruction was written (when the failure was mapped to a template), its log's last lines and
 * a link to the whole log, and the images skipped because of it.
 */
function failuresHtml(input: HtmlReportInput): string {
  const several = input.sections.length > 1;
  const failed = input.sections.flatMap((s, index) =>
    s.summary.images.filter((i) => i.status === 'failed').map((i) => ({ s, index, i })),
  );
  if (!failed.length) return '';
  const items = failed.map(({ s, index, i }) => {
    const message = [i.reason && i.reason !== i.status ? i.reason : '', i.message ?? '']
      .filter(Boolean)
      .join(': ');
    const where = i.template ? formatTemplateLocation(i.template) : null;
    const tail = i.log && input.logTail ? input.logTail(i.log).slice(-TAIL_SHOWN) : [];
    const skipped = s.summary.images
      .filter((c) => c.status === 'parent-failed' && c.failedParent === i.name)
      .map((c) => c.name);
    return `<article class="failure" data-image="${esc(i.name)}">
<h3><a href="#${esc(anchor(index, i.name))}">${esc(i.name)}</a>${several ? ` (${esc(s.platform ?? '')})` : ''}${i.allowedToFail ? ' (allowed to fail)' : ''}</h3>
<p class="message">${esc(message || i.status)}</p>
${where ? `<p class="where">at <code>${esc(where)}</code></p>` : ''}
${tail.length ? `<pre class="tail">${esc(stripVTControlCharacters(tail.join('\n')))}</pre>` : ''}
${i.log ? `<p class="log">full log: <a href="${esc(relativeHref(input.dir, i.log))}">${esc(posix.basename(i.log))}</a></p>` : ''}
${skipped.length ? `<p class="skipped">not built because of it: ${esc(skipped.join(', '))}</p>` : ''}
</article>`;
  });
  return `<section class="failures" id="failures">
<h2>What failed (${failed.length})</h2>
${items.join('\n')}
</section>`;
}

function legend(): string {
  const looks = (Object.keys(LOOK_LABEL) as StatusLook[]).map(
    (l) =>
      `<span><span class="swatch" style="background:${LOOK_COLOUR[l]}"></span>${esc(LOOK_LABEL[l])}</span>`,
  );
  return `<div class="legend">${looks.join('')}<span><span class="swatch" style="background:${LOOK_COLOUR.done};opacity:.35"></span>queue wait</span><span><span class="swatch push"></span>push</span></div>`;
}

function sectionHtml(s: ReportSection, index: number, several: boolean, dir: string): string {
  const r = s.summary;
  const head = several
    ? `<h2>${esc(s.platform ?? '')} <span class="verdict ${verdict(r)}">${verdict(r)}</span></h2>
<p>${esc(countsText(r.counts) || 'nothing to do')} in ${dur(r.seconds)}</p>`
    : '';
  return `<section class="platform" data-platform="${esc(s.platform ?? '')}">
${head}
<h3>Family graph</h3>
${graphSvg(s, index)}
<h3>Timeline</h3>
${ganttSvg(r, index)}
<h3>Images</h3>
${imageTable(s, index, dir)}
</section>`;
}

/**
 * The images in layers by depth (parents left of children), each layer ordered by the mean row
 * of its nodes' parents, which keeps most edges short and uncrossed.
 */
export function layeredLayout(
  names: readonly ImageName[],
  parentsOf: (n: ImageName) => readonly ImageName[],
): Map<ImageName, { layer: number; row: number }> {
  const layer = new Map<ImageName, number>();
  // `names` is topological: every parent's layer is known before its child's.
  for (const n of names)
    layer.set(n, 1 + Math.max(-1, ...parentsOf(n).map((p) => layer.get(p) ?? -1)));
  const layers: ImageName[][] = [];
  for (const n of names) (layers[layer.get(n)!] ??= []).push(n);
  const out = new Map<ImageName, { layer: number; row: number }>();
  layers.forEach((l, li) => {
    const key = (n: ImageName) => {
      const rows = parentsOf(n).map((p) => out.get(p)?.row ?? 0);
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : 0;
    };
    [...l]
      .sort((a, b) => key(a) - key(b) || a.localeCompare(b))
      .forEach((n, row) => out.set(n, { layer: li, row }));
  });
  return out;
}

function graphSvg(s: ReportSection, index: number): string {
  const images = s.summary.images;
  const shown = new Set(images.map((i) => i.name));
  const parentsOf = (n: ImageName) =>
    (s.graph.nodes.get(n)?.parents ?? []).filter((p) => shown.has(p));
  const at = layeredLayout(
    images.map((i) => i.name),
    parentsOf,
  );
  // The plan's longest chain of builds: what bounded the run's duration.
  const critical = new Set(
    s.plan.criticalPath.slice(1).map((n, k) => `${s.plan.criticalPath[k]!}>${n}`),
  );
  // Wide enough for most names; a longer one is drawn smaller, squeezed to the box if it must be.
  const nodeW = Math.min(
    NODE_MAX_W,
    Math.max(120, ...images.map((i) => boldWidth(i.name.length, 13) + 24)),
  );
  const nodeH = 42;
  const gapX = 60;
  const gapY = 16;
  const pad = 16;
  const x = (n: ImageName) => pad + at.get(n)!.layer * (nodeW + gapX);
  const y = (n: ImageName) => pad + at.get(n)!.row * (nodeH + gapY);
  const layers = Math.max(0, ...[...at.values()].map((p) => p.layer + 1));
  const rows = Math.max(0, ...[...at.values()].map((p) => p.row + 1));
  const width = pad * 2 + layers * nodeW + Math.max(0, layers - 1) * gapX;
  const height = pad * 2 + rows * nodeH + Math.max(0, rows - 1) * gapY;
  const arrow = `arrow-${index}`;
  const edges = images.flatMap((i) =>
    parentsOf(i.name).map((p) => {
      const x1 = x(p) + nodeW;
      const y1 = y(p) + nodeH / 2;
      const x2 = x(i.name) - 2;
      const y2 = y(i.name) + nodeH / 2;
      const mid = (x1 + x2) / 2;
      const onPath = critical.has(`${p}>${i.name}`);
      return `<path class="edge${onPath ? ' critical' : ''}" data-from="${esc(p)}" data-to="${esc(i.name)}" d="M${x1} ${y1}C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}" fill="none" stroke="${onPath ? '#4a5260' : '#9aa1ab'}" stroke-width="${onPath ? 2.5 : 1.5}" marker-end="url(#${arrow})"/>`;
    }),
  );
  const nodes = images.map((i) => {
    // Each thing said once (an unbuildable image's message is its plan reason).
    const why = [...new Set([i.status, i.planReason, i.message].filter(Boolean))].join(' — ');
    const room = nodeW - 20;
    const px = Math.max(9, Math.min(13, Math.floor((13 * room) / boldWidth(i.name.length, 13))));
    const squeeze =
      boldWidth(i.name.length, px) > room
        ? ` textLength="${room}" lengthAdjust="spacingAndGlyphs"`
        : '';
    return `<a href="#${esc(anchor(index, i.name))}"><g class="node s-${look(i.status)}" data-image="${esc(i.name)}" data-status="${i.status}"><title>${esc(`${i.name}: ${why}`)}</title><rect x="${x(i.name)}" y="${y(i.name)}" width="${nodeW}" height="${nodeH}" rx="6" fill="${fill(i.status)}" stroke="#00000022"/><text class="name" x="${x(i.name) + 10}" y="${y(i.name) + 18}" font-size="${px}" font-weight="600" fill="${ink(i.status)}"${squeeze}>${esc(i.name)}</text><text x="${x(i.name) + 10}" y="${y(i.name) + 34}" font-size="11" fill="${ink(i.status)}">${esc(i.status)}</text></g></a>`;
  });
  return `<svg class="graph" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="family graph">
<defs><marker id="${arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto"><path d="M0 0L10 5L0 10z" fill="#9aa1ab"/></marker></defs>
${edges.join('\n')}
${nodes.join('\n')}
</svg>`;
}

/** An image's place on the timeline: seconds from the run's start. */
interface Bar {
  readonly image: ImageSummary;
  readonly lane: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Build slots, rebuilt from the times: each build goes to the first lane free by its start (in
 * order of starts), so there are as many lanes as builds ran at once.
 */
export function assignLanes(images: readonly ImageSummary[], runEnd: number): Bar[] {
  const started = images
    .filter((i) => i.startedAt !== null)
    .map((i) => ({ image: i, start: i.startedAt!, end: i.builtAt ?? runEnd }))
    .sort((a, b) => a.start - b.start || a.end - b.end || a.image.name.localeCompare(b.image.name));
  const laneEnds: number[] = [];
  return started.map((b) => {
    let lane = laneEnds.findIndex((end) => end <= b.start);
    if (lane < 0) lane = laneEnds.length;
    laneEnds[lane] = b.end;
    return { ...b, lane };
  });
}

/** About ten round tick steps over `total` seconds. */
function tickStep(total: number): number {
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  return steps.find((st) => total / st <= 10) ?? Math.ceil(total / 10 / 3600) * 3600;
}

function ganttSvg(r: RunSummary, index: number): string {
  const ends = r.images.flatMap((i) => [i.builtAt ?? 0, i.pushedAt ?? 0]);
  const total = Math.max(r.seconds, ...ends, 0.001);
  const bars = assignLanes(r.images, total);
  if (!bars.length) return '<p class="empty">Nothing was built.</p>';
  const labelW = 64;
  const chartW = 1100;
  const laneH = 40;
  const top = 8;
  const lanes = Math.max(...bars.map((b) => b.lane + 1));
  const axisY = top + lanes * laneH;
  const width = labelW + chartW + 24;
  const height = axisY + 28;
  const x = (t: number) => labelW + (t / total) * chartW;
  const w = (a: number, b: number) => Math.max(2, x(b) - x(a));
  const hatch = `push-${index}`;
  const f = (n: number) => n.toFixed(1);
  const laneRows = Array.from(
    { length: lanes },
    (_, l) =>
      `<text x="6" y="${top + l * laneH + 24}" font-size="12" fill="#666">slot ${l + 1}</text><line x1="${labelW}" x2="${labelW + chartW}" y1="${top + (l + 1) * laneH}" y2="${top + (l + 1) * laneH}" stroke="#f0f2f5"/>`,
  );
  const step = tickStep(total);
  const ticks: string[] = [];
  for (let t = 0; t <= total + 1e-9; t += step) {
    ticks.push(
      `<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${top}" y2="${axisY + 4}" stroke="#e3e6ea"/><text class="tick" x="${f(x(t))}" y="${axisY + 18}" font-size="11" fill="#666" text-anchor="middle">${esc(dur(Math.round(t * 10) / 10))}</text>`,
    );
  }
  const rects = bars.map(({ image: i, lane, start, end }) => {
    const y = top + lane * laneH;
    const data = `data-image="${esc(i.name)}" data-status="${i.status}"`;
    const cls = `s-${look(i.status)}`;
    const title = (what: string, a: number, b: number) =>
      `<title>${esc(`${i.name} ${what}: ${dur(Math.round((b - a) * 10) / 10)} (${i.status})`)}</title>`;
    const queue =
      i.queuedAt !== null && i.queuedAt < start
        ? `<rect class="bar queue ${cls}" ${data} x="${f(x(i.queuedAt))}" y="${y + 3}" width="${f(w(i.queuedAt, start))}" height="6" fill="${fill(i.status)}" fill-opacity="0.35">${title('waited for a slot', i.queuedAt, start)}</rect>`
        : '';
    const label = textWidth(i.name.length, 11) + 8 < x(end) - x(start);
    const build = `<rect class="bar build ${cls}" ${data} x="${f(x(start))}" y="${y + 11}" width="${f(w(start, end))}" height="18" rx="2" fill="${fill(i.status)}">${title('build', start, end)}</rect>${
      label
        ? `<text x="${f(x(start) + 4)}" y="${y + 24}" font-size="11" fill="${ink(i.status)}" pointer-events="none">${esc(i.name)}</text>`
        : ''
    }`;
    const pushStart =
      i.pushedAt !== null && i.pushSeconds !== null ? i.pushedAt - i.pushSeconds : null;
    const push =
      pushStart !== null && i.pushedAt !== null
        ? `<rect class="bar push ${cls}" ${data} x="${f(x(pushStart))}" y="${y + 31}" width="${f(w(pushStart, i.pushedAt))}" height="7" fill="url(#${hatch})" stroke="${PUSH_COLOUR}" stroke-width="0.8">${title('push', pushStart, i.pushedAt)}</rect>`
        : '';
    return queue + build + push;
  });
  return `<svg class="gantt" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline">
<defs><pattern id="${hatch}" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" height="5" fill="#fff"/><rect width="2.5" height="5" fill="${PUSH_COLOUR}"/></pattern></defs>
${ticks.join('\n')}
${laneRows.join('\n')}
${rects.join('\n')}
</svg>`;
}

function imageTable(s: ReportSection, index: number, dir: string): string {
  const step = new Map(s.plan.steps.map((st) => [st.name, st]));
  const tested = s.summary.images.some((i) => i.test !== null);
  const rows = s.summary.images.map((i) => {
    // The message, unless the plan's reason says it already (unbuildable).
    const outcome =
      i.reason && i.reason !== i.status
        ? `${i.reason}${i.message ? `: ${i.message}` : ''}`
        : i.message !== i.planReason
          ? (i.message ?? '')
          : '';
    const log = i.log
      ? `<a href="${esc(relativeHref(dir, i.log))}" title="${esc(i.log)}">${esc(posix.basename(i.log))}</a>`
      : '';
    const digest = i.digest
      ? `<code title="${esc(i.digest)}">${esc(i.digest.slice(0, 19))}…</code>`
      : '';
    const cells = [
      `<td class="name"><strong>${esc(i.name)}</strong></td>`,
      `<td class="status"><span class="dot s-${look(i.status)}"></span>${esc(i.status)}${i.allowedToFail && !succeeded(i.status) ? ' (allowed)' : ''}</td>`,
      `<td class="why">${whyHtml(step.get(i.name)?.action, i.planReason)}</td>`,
      `<td class="outcome">${esc(outcome)}</td>`,
      ...[i.queueSeconds, i.buildSeconds, i.pushSeconds, i.seconds].map(
        (n) => `<td class="num">${esc(dur(n))}</td>`,
      ),
      ...(tested
        ? [`<td>${esc([i.test ?? '', dur(i.testSeconds)].filter(Boolean).join(' '))}</td>`]
        : []),
      `<td class="digest">${digest}</td>`,
      `<td class="log">${log}</td>`,
    ];
    return `<tr id="${esc(anchor(index, i.name))}" data-image="${esc(i.name)}" data-status="${i.status}">${cells.join('')}</tr>`;
  });
  const head = [
    'image',
    'status',
    'why (plan)',
    'outcome',
    'queue',
    'build',
    'push',
    'total',
    ...(tested ? ['test'] : []),
    'digest',
    'log',
  ];
  return `<table class="images">
<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

/**
 * The plan's action and reason. A one-word reason (`new`, `forced`) stays on the line of its
 * action; each word of a longer one is kept whole (a file name in it may break anywhere).
 */
function whyHtml(action: string | undefined, reason: string): string {
  const words = reason.split(/\s+/).filter(Boolean);
  const head = action ? `${action}: ` : '';
  if (words.length <= 1) return `<span class="nowrap">${esc(head + reason)}</span>`;
  return `<span class="nowrap">${esc(head + words[0]!)}</span> ${esc(words.slice(1).join(' '))}`;
}

/** A link from the report's directory to a log file, each path segment URL-encoded. */
function relativeHref(dir: string, file: string): string {
  return posix.relative(dir, file).split('/').map(encodeURIComponent).join('/');
}
