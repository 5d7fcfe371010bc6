/** `kbuild explain` for people: the image's place in the graph, its inputs, and the verdict. */
import type { ExplainedPackages, Explanation } from '../core/plan/explain.js';
import { fingerprintTag } from '../core/naming.js';
import type { Fingerprint, ImageName } from '../core/model.js';
import { dur } from './summary-table.js';
import { table } from './table.js';

/** sha256:0123456789ab for a long hash (`+x`, an executable file's mark, kept). */
const short = (hash: string) => hash.replace(/^(\w+:)?([0-9a-f]{12})[0-9a-f]{20,}/, '$1$2');

/** The image, then each parent above it (and theirs), ending at the external bases. */
function lineage(e: Explanation): string[] {
  const nodes = new Map<string, { parents: readonly ImageName[]; externals: readonly string[] }>([
    ...e.ancestors.map((a) => [a.name, a] as const),
    [e.image, e],
  ]);
  const out: string[] = [];
  const printed = new Set<string>();
  const walk = (name: string, prefix: string, last: boolean, top: boolean) => {
    const node = nodes.get(name);
    const again = printed.has(name);
    const label = node ? name : `${name} (external)`;
    out.push(
      `${top ? '' : `${prefix}${last ? '└── ' : '├── '}`}${label}${again ? ' (see above)' : ''}`,
    );
    if (!node || again) return;
    printed.add(name);
    const above = [...node.parents, ...node.externals];
    above.forEach((p, i) =>
      walk(p, top ? '' : `${prefix}${last ? '    ' : '│   '}`, i === above.length - 1, false),
    );
  };
  walk(e.image, '', true, true);
  return out;
}

const verdict = (e: Explanation): string => {
  const r = e.rebuild;
  if (!r.known) return `unknown — ${r.reason}`;
  switch (r.action) {
    case 'build':
      return `yes: ${r.reason}`;
    case 'fresh':
      return `no: ${r.reason} (an image with its fingerprint exists)`;
    case 'retag':
      return `no build: ${r.reason}`;
    case 'unbuildable':
      return `no, it cannot be built with this profile: ${r.reason}`;
    case null:
      return r.reason;
  }
};

function inputRows(e: Explanation): string[][] {
  const r = e.inputs;
  if (!r) return [];
  const rows: string[][] = [];
  const many = (label: string, entries: [string, string][], none = '(none)') => {
    if (!entries.length) rows.push([label, none]);
    entries.forEach(([k, v], i) => rows.push([i === 0 ? label : '', v ? `${k}  ${v}` : k]));
  };
  rows.push(['dockerfile', `sha256:${short(r.dockerfile)} (rendered, family references masked)`]);
  many(
    'context',
    Object.entries(r.context).map(([f, h]) => [f, short(h)]),
  );
  many(
    'build args',
    Object.entries(r.buildArgs).map(([k, v]) => [`${k}=${v}`, '']),
  );
  many(
    'labels',
    Object.entries(r.labels).map(([k, v]) => [`${k}=${v}`, '']),
  );
  rows.push(['platform', r.platform]);
  rows.push(['engine', r.engine || '(unknown)']);
  many(
    'parents',
    Object.entries(r.parents).map(([p, fp]) => [p, fp ? fingerprintTag(fp as Fingerprint) : '']),
  );
  many(
    'bases',
    Object.entries(r.bases).map(([b, d]) => [b, d ? short(d) : '(digest unknown)']),
  );
  if (r.source !== undefined) rows.push(['source', short(r.source)]);
  if (r.secrets?.length) rows.push(['secrets', `${r.secrets.join(', ')} (ids; never the content)`]);
  return rows;
}

/** How many packages the text lists (`--json` has them all). */
const LISTED = 30;

/** The image's packages: what it holds, and the ones it added itself (at most LISTED of them). */
export function packageLines(p: ExplainedPackages): string {
  if (!p.known) return `Packages: unknown — ${p.reason}\n`;
  const what = [p.manager, [p.distro, p.distroVersion].filter(Boolean).join(' ')]
    .filter(Boolean)
    .join(', ');
  if (p.empty !== undefined) return `Packages: none (${what}) — ${p.empty}\n`;
  const head = `Packages: ${p.count} installed (${what})`;
  if (p.added === null)
    return `${head}; added by this image: unknown (the packages of ${p.parentsUnknown.join(', ')} are not recorded for the build it stands on)\n`;
  const over = p.parents.length
    ? `${p.added.length} added or changed by this image (relative to ${p.parents.join(', ')})`
    : `a root image (FROM an external base): it answers for all ${p.added.length}`;
  if (!p.added.length) return `${head}; ${over}\n`;
  const rows = p.added.slice(0, LISTED).map((x) => [x.name, x.version, x.arch]);
  const more = p.added.length - rows.length;
  const t = table(['PACKAGE', 'VERSION', 'ARCH'], rows)
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
  return `${head}; ${over}:\n${t}${more > 0 ? `  +${more} more (kbuild explain --json lists them all)\n` : ''}`;
}

export function formatExplanation(e: Explanation): string {
  const parts: string[] = [];
  parts.push(`${e.image} — ${e.ref} (${e.template}, profile ${e.profile})\n`);
  parts.push(
    `Built on (ancestors, up to external bases):\n${lineage(e)
      .map((l) => `  ${l}\n`)
      .join('')}`,
  );
  parts.push(
    e.descendants.length
      ? `Built on it (rebuilt whenever it is): ${e.descendants.length} image(s)\n  children: ${e.children.join(', ')}\n  all:      ${e.descendants.join(', ')}\n`
      : 'Built on it: nothing (no image of the family is FROM it)\n',
  );
  const last = e.lastBuild;
  const changes = !e.inputs
    ? ''
    : last
      ? `Changes since its last build (${fingerprintTag(last.fingerprint as Fingerprint)}${last.seconds !== undefined ? `, built in ${dur(last.seconds)}` : ''}):\n${
          e.changes.length ? e.changes.map((c) => `  ${c}\n`).join('') : '  none\n'
        }`
      : 'Changes since its last build: never built with this profile here (no record in .kbuild/state)\n';
  parts.push(`Would it be rebuilt now? ${verdict(e)}\n${changes}`);
  parts.push(packageLines(e.packages));
  if (e.inputs && e.fingerprintTag) {
    const t = table(['INPUT', 'VALUE'], inputRows(e));
    parts.push(
      `Fingerprint ${e.fingerprintTag}: its inputs (a change in any of them rebuilds it)\n${t
        .split('\n')
        .map((l) => (l ? `  ${l}` : l))
        .join('\n')}`,
    );
  }
  parts.push(
    `Rendered Dockerfile (numbered as in errors about it):\n${e.dockerfile
      .trimEnd()
      .split('\n')
      .map((l, i) => `${String(i + 1).padStart(5)}  ${l}`.trimEnd())
      .join('\n')}\n`,
  );
  return parts.join('\n');
}
