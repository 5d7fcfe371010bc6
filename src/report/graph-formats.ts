/** The family graph as JSON, Graphviz dot, Mermaid or an indented tree. */
import type { BuildGraph, ImageName } from '../core/model.js';

export type GraphFormat = 'json' | 'dot' | 'mermaid' | 'tree';
export const GRAPH_FORMATS: readonly GraphFormat[] = ['json', 'dot', 'mermaid', 'tree'];

export interface GraphView {
  readonly profile: string;
  readonly graph: BuildGraph;
  /** The images shown, in topological order. */
  readonly images: readonly ImageName[];
  readonly unbuildable: ReadonlyMap<ImageName, string>;
}

export function formatGraph(v: GraphView, format: GraphFormat): string {
  const shown = new Set(v.images);
  const nodes = v.images.map((n) => v.graph.nodes.get(n)!);
  const edges = nodes.flatMap((n) =>
    n.parents.filter((p) => shown.has(p)).map((p) => [p, n.name] as const),
  );
  switch (format) {
    case 'json':
      return (
        JSON.stringify(
          {
            profile: v.profile,
            nodes: nodes.map((n) => ({
              name: n.name,
              parents: n.parents,
              external: n.externals,
              depth: n.depth,
              ...(v.unbuildable.has(n.name) ? { unbuildable: v.unbuildable.get(n.name) } : {}),
            })),
            edges,
          },
          null,
          2,
        ) + '\n'
      );
    case 'dot': {
      const q = (s: string) => JSON.stringify(s);
      const lines = [`digraph ${q(v.profile)} {`, '  rankdir=LR;', '  node [shape=box];'];
      for (const n of nodes)
        if (v.unbuildable.has(n.name))
          lines.push(`  ${q(n.name)} [style=dashed, tooltip=${q(v.unbuildable.get(n.name)!)}];`);
      for (const [p, c] of edges) lines.push(`  ${q(p)} -> ${q(c)};`);
      for (const n of nodes)
        if (!edges.some(([p, c]) => p === n.name || c === n.name)) lines.push(`  ${q(n.name)};`);
      return `${lines.join('\n')}\n}\n`;
    }
    case 'mermaid': {
      const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
      const lines = ['graph LR'];
      for (const n of nodes) lines.push(`  ${id(n.name)}["${n.name}"]`);
      for (const [p, c] of edges) lines.push(`  ${id(p)} --> ${id(c)}`);
      return `${lines.join('\n')}\n`;
    }
    case 'tree': {
      const out: string[] = [];
      const printed = new Set<ImageName>();
      const walk = (name: ImageName, prefix: string, last: boolean, top: boolean) => {
        const mark = v.unbuildable.has(name) ? ' (unbuildable)' : '';
        const again = printed.has(name);
        out.push(
          `${top ? '' : `${prefix}${last ? '└── ' : '├── '}`}${name}${mark}${again ? ' (see above)' : ''}`,
        );
        if (again) return;
        printed.add(name);
        const kids = v.graph.nodes.get(name)!.children.filter((c) => shown.has(c));
        kids.forEach((k, i) =>
          walk(k, top ? '' : `${prefix}${last ? '    ' : '│   '}`, i === kids.length - 1, false),
        );
      };
      for (const n of nodes) if (!n.parents.some((p) => shown.has(p))) walk(n.name, '', true, true);
      return `${out.join('\n')}\n`;
    }
  }
}
