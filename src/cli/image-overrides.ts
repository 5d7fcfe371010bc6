/**
 * The command line's per-image overrides, as buildx bake and Skaffold users write them:
 * `--set IMAGE.args.KEY=VALUE`, `--set IMAGE.tags=TAG[,TAG...]` (IMAGE: a name, a group, a glob
 * like `nova-*`, `*` for every image, or /regex/ — the selection's own patterns), and the extra
 * tags of `-t shared -t extra …`. Parsed here once, as the flags are declared (so this imports
 * nothing heavy: --help loads it); set-images.ts matches IMAGE once the images are known.
 */
import type { ExtraTag } from '../core/model.js';
import { closestTypo } from './did-you-mean.js';
import { UsageError } from './io.js';

/** One `--set` value, its syntax checked (its IMAGE is matched once the images are known). */
export type SetOverride =
  | {
      readonly flag: string;
      readonly pattern: string;
      readonly key: 'args';
      readonly arg: string;
      readonly value: string;
    }
  | {
      readonly flag: string;
      readonly pattern: string;
      readonly key: 'tags';
      readonly tags: string;
    };

/** What --set takes, for every message about it. */
export const SET_FORMS =
  "--set takes IMAGE.args.KEY=VALUE or IMAGE.tags=TAG[,TAG...] (IMAGE: an image name, a group, a glob like 'nova-*', or '*' for every image)";

const KEYS = ['args', 'tags'] as const;
const quoted = (v: string) => `--set '${v}'`;

/** Parses one `--set` value (commander's argument parser: a usage error names the value). */
export function parseSet(v: string): SetOverride {
  const flag = quoted(v);
  const fail = (why: string): never => {
    throw new UsageError(`${flag}: ${why} — ${SET_FORMS}`);
  };
  const eq = v.indexOf('=');
  if (eq < 0) fail("no '='");
  const lhs = v.slice(0, eq);
  const value = v.slice(eq + 1);
  const args = /^(.+?)\.args\.(.*)$/.exec(lhs);
  if (args) {
    const [, pattern, arg] = args as unknown as [string, string, string];
    if (!arg || /[\s.]/.test(arg) || arg.includes('='))
      fail(`'${arg}' is not a build arg name (letters, digits and _, e.g. VERSION)`);
    return { flag, pattern, key: 'args', arg, value };
  }
  if (lhs.endsWith('.tags') && lhs.length > '.tags'.length) {
    if (value.split(',').some((t) => t.trim() === ''))
      fail('IMAGE.tags needs one or more tags, comma-separated, none empty');
    return { flag, pattern: lhs.slice(0, -'.tags'.length), key: 'tags', tags: value };
  }
  const dot = lhs.indexOf('.');
  if (dot <= 0) fail(`'${lhs}' names no IMAGE.KEY`);
  const pattern = lhs.slice(0, dot);
  const rest = lhs.slice(dot + 1).split('.');
  const key = rest[0]!;
  if (key === 'args') fail(`IMAGE.args needs the arg's name: ${pattern}.args.KEY=${value}`);
  const near = closestTypo(key, KEYS);
  if (near === 'args' && rest.length > 1)
    fail(`did you mean '${pattern}.args.${rest.slice(1).join('.')}=${value}'?`);
  if (near === 'tags' && rest.length === 1) fail(`did you mean '${pattern}.tags=${value}'?`);
  return fail(`'${key}' is not a key kbuild sets per image (only args and tags)`);
}

/** `-t a -t b …`: the first is the shared tag, the others extra tags of every image. */
export function splitTags(tags: readonly string[]): { tag?: string; extraTags: ExtraTag[] } {
  const [first, ...rest] = tags;
  return {
    ...(first !== undefined ? { tag: first } : {}),
    extraTags: rest.map((tag) => ({ tag, from: `-t ${tag}` })),
  };
}
