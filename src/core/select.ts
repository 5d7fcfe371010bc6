/**
 * Selection: which images a command works on. Patterns are image names, group names, globs
 * (`prometheus-*`) and `/regex/`; ancestors are added (they must exist to build), descendants on
 * request, exclusions win.
 */
import type { BuildGraph, Failure, ImageName } from './model.js';
import { ancestors, descendants } from './graph.js';
import { suggest } from './config/schema.js';

export interface SelectionRequest {
  /** Patterns to select; empty means every image. */
  readonly patterns: readonly string[];
  /** Where the patterns come from, for errors (e.g. "the command line", "profiles/x.yaml"). */
  readonly source: string;
  /** Exclusions, each group with where it comes from (profile, command line). */
  readonly exclude: readonly { readonly patterns: readonly string[]; readonly source: string }[];
  readonly skipParents: boolean;
  readonly withDescendants: boolean;
}

export interface Selection {
  /** The selected images, in topological order. */
  readonly images: readonly ImageName[];
  /** Images added because a selected image depends on them. */
  readonly addedAncestors: ReadonlySet<ImageName>;
  /** Images added by --with-descendants. */
  readonly addedDescendants: ReadonlySet<ImageName>;
}

/** Built in: the group of every image. */
export const ALL_GROUP = 'all';

const isRegex = (p: string) => p.length > 2 && p.startsWith('/') && p.endsWith('/');
const isGlob = (p: string) => /[*?[]/.test(p);

/** A glob over image names (no path separators): `*`, `?` and `[...]` classes. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Expands patterns to image names. Every pattern must match at least one image: a pattern that
 * matches nothing is almost always a typo, and is reported with the nearest name.
 */
export function matchPatterns(
  patterns: readonly string[],
  all: readonly ImageName[],
  groups: Readonly<Record<string, readonly string[]>>,
  source: string,
  failures: Failure[],
  seenGroups: readonly string[] = [],
): Set<ImageName> {
  const out = new Set<ImageName>();
  const names = new Set<string>(all);
  for (const p of patterns) {
    let matched: ImageName[];
    if (p === ALL_GROUP && !(ALL_GROUP in groups)) matched = [...all];
    else if (p in groups) {
      if (seenGroups.includes(p)) {
        failures.push({
          reason: 'selection-unknown',
          pattern: p,
          source,
          suggestion: `group '${p}' includes itself: ${[...seenGroups, p].join(' → ')}`,
        });
        continue;
      }
      matched = [
        ...matchPatterns(groups[p]!, all, groups, `group '${p}' in kbuild.yaml`, failures, [
          ...seenGroups,
          p,
        ]),
      ];
    } else if (isRegex(p)) {
      let re: RegExp;
      try {
        re = new RegExp(p.slice(1, -1));
      } catch (e) {
        failures.push({
          reason: 'selection-unknown',
          pattern: p,
          source,
          suggestion: `invalid regular expression: ${(e as Error).message}`,
        });
        continue;
      }
      matched = all.filter((n) => re.test(n));
    } else if (isGlob(p)) {
      const re = globToRegExp(p);
      matched = all.filter((n) => re.test(n));
    } else matched = names.has(p) ? [p as ImageName] : [];
    if (matched.length === 0) {
      const candidates = [...all, ...Object.keys(groups), ALL_GROUP];
      failures.push({
        reason: 'selection-unknown',
        pattern: p,
        source,
        ...optional(suggest(p, candidates)),
      });
    }
    for (const m of matched) out.add(m);
  }
  return out;
}

const optional = (s: string | undefined) => (s ? { suggestion: s } : {});

/** Applies a selection request to the graph. */
export function selectImages(
  g: BuildGraph,
  groups: Readonly<Record<string, readonly string[]>>,
  req: SelectionRequest,
): { selection: Selection; failures: Failure[] } {
  const failures: Failure[] = [];
  const all = g.order;
  const picked = req.patterns.length
    ? matchPatterns(req.patterns, all, groups, req.source, failures)
    : new Set(all);
  const excluded = new Set(
    req.exclude.flatMap((x) => [...matchPatterns(x.patterns, all, groups, x.source, failures)]),
  );
  for (const x of excluded) picked.delete(x);
  // Descendants first: a descendant may have other parents, which must then be built too.
  const addedDescendants = new Set<ImageName>();
  if (req.withDescendants)
    for (const d of descendants(g, picked))
      if (!picked.has(d) && !excluded.has(d)) addedDescendants.add(d);
  const wanted = new Set([...picked, ...addedDescendants]);
  const addedAncestors = new Set<ImageName>();
  if (!req.skipParents)
    for (const a of ancestors(g, wanted))
      if (!wanted.has(a) && !excluded.has(a)) addedAncestors.add(a);
  const chosen = new Set([...wanted, ...addedAncestors]);
  return {
    selection: { images: all.filter((n) => chosen.has(n)), addedAncestors, addedDescendants },
    failures,
  };
}
