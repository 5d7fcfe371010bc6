/**
 * A small schema language for kbuild's yaml files, and a validator that walks the yaml AST so
 * that every problem carries file:line:column. The same schema objects describe the files for
 * documentation and JSON Schema, so validation and docs cannot drift apart.
 */
import { closest, distance } from 'fastest-levenshtein';
import {
  LineCounter,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  visit,
  type Document,
  type Node,
  type Scalar,
} from 'yaml';
import { clip, quote } from '../clip.js';
import type { ConfigProblem } from '../model.js';

export type Schema =
  | {
      readonly kind: 'string';
      readonly doc: string;
      readonly enum?: readonly string[];
      /** A rule the value must follow beyond its type (a registry host, a network name). */
      readonly check?: (value: string) => { message: string; hint?: string } | undefined;
    }
  | { readonly kind: 'boolean'; readonly doc: string }
  | { readonly kind: 'number'; readonly doc: string; readonly min?: number }
  /** true, or a string reason. */
  | { readonly kind: 'flag-or-reason'; readonly doc: string }
  /** true, false, or one of `choices` (e.g. check_updates: true | false | strict). */
  | { readonly kind: 'flag-or-choice'; readonly doc: string; readonly choices: readonly string[] }
  | { readonly kind: 'string-list'; readonly doc: string }
  /** A string, or a list of strings (e.g. a command in shell form or argv form). */
  | { readonly kind: 'string-or-list'; readonly doc: string }
  /** Keys to scalar values, coerced to strings (build args, labels). */
  | { readonly kind: 'string-map'; readonly doc: string }
  /** Keys to any yaml value (template variables). */
  | { readonly kind: 'any-map'; readonly doc: string }
  | {
      readonly kind: 'object';
      readonly doc: string;
      readonly fields: Readonly<Record<string, Schema>>;
    }
  | { readonly kind: 'map-of'; readonly doc: string; readonly value: Schema }
  /** A list whose every item follows `item` (e.g. a list of rules). */
  | { readonly kind: 'list-of'; readonly doc: string; readonly item: Schema };

export interface ParsedYaml {
  /** The plain JS value of the document (undefined for an empty file). */
  readonly value: unknown;
  readonly problems: readonly ConfigProblem[];
  /** Position of a value by its key path, for later (semantic) problems. */
  readonly locate: (
    path: readonly (string | number)[],
    at?: 'key' | 'value',
  ) => { line: number; column: number } | undefined;
}

/**
 * Parses `text` as yaml and checks it against `schema`, collecting every problem.
 * `file` is only used in the problems' locations.
 */
export function parseAndValidate(text: string, file: string, schema: Schema): ParsedYaml {
  const lineCounter = new LineCounter();
  // logLevel 'error': the yaml library would print its warnings (a collection used as a key,
  // an unresolved tag) on stderr itself; they are problems of the file, reported with file:line.
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    logLevel: 'error',
  });
  const problems: ConfigProblem[] = [];
  const pos = (offset: number | undefined) => {
    const p = lineCounter.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  for (const e of [...doc.errors, ...doc.warnings]) {
    problems.push({ file, ...pos(e.pos[0]), message: `yaml: ${clip(firstLine(e.message), 160)}` });
  }
  const locate = (path: readonly (string | number)[], at: 'key' | 'value' = 'value') => {
    const parent = at === 'key' && path.length ? doc.getIn(path.slice(0, -1), true) : undefined;
    if (isMap(parent)) {
      const pair = parent.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(path[path.length - 1]),
      );
      if (pair && isScalar(pair.key) && pair.key.range) return pos(pair.key.range[0]);
    }
    const node = doc.getIn(path, true) as Node | undefined;
    if (node && typeof node === 'object' && 'range' in node && node.range)
      return pos(node.range[0]);
    return undefined;
  };
  if (doc.errors.length > 0) return { value: undefined, problems, locate };
  const root = doc.contents;
  if (root !== null) walk(root, schema, [], { file, problems, pos });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // The yaml library refuses aliases that expand exponentially (a "billion laughs"), and
    // aliases it cannot resolve, by throwing: a problem of the file, not a bug of kbuild.
    if (!(e instanceof ReferenceError)) throw e;
    const alias = explodingAlias(doc);
    problems.push({
      file,
      ...pos(alias?.range?.[0]),
      message: `yaml: ${
        /excessive alias count/i.test(e.message)
          ? `aliases nested here expand to too much data (${alias ? `*${alias.source}` : 'an alias'} and the aliases inside it)`
          : firstLine(e.message)
      }`,
      hint: 'write the values out, or nest anchors and aliases less',
    });
    return { value: undefined, problems, locate };
  }
  return { value, problems, locate };
}

/** The yaml library's own limit: alias uses times the aliases inside what they name. */
const MAX_ALIAS_COUNT = 100;
/** Values the document would hold with its aliases expanded, past which the alias is named. */
const MAX_EXPANDED_NODES = 100_000;

/**
 * The alias to blame for a document whose aliases expand too much: the first at which the values
 * expanded so far pass MAX_EXPANDED_NODES; else the first alias naming something that holds
 * aliases itself (nesting is what grows exponentially); else the first alias.
 */
function explodingAlias(
  doc: Document,
): { source: string; range?: [number, number, number] | null } | undefined {
  const sizes = new Map<unknown, number>();
  const size = (n: unknown): number => {
    if (isAlias(n)) return size(n.resolve(doc));
    if (!isSeq(n) && !isMap(n) && !isPair(n)) return 1;
    const known = sizes.get(n);
    if (known !== undefined) return known;
    sizes.set(n, 1); // an alias to an enclosing anchor counts once
    const total = isPair(n)
      ? size(n.key) + size(n.value)
      : n.items.reduce<number>((sum, item) => sum + size(item), 1);
    sizes.set(n, total);
    return total;
  };
  const holdsAlias = (n: unknown): boolean => {
    let found = false;
    visit(n as Node, { Alias: () => ((found = true), visit.BREAK) });
    return found;
  };
  let expanded = 0;
  let over: ReturnType<typeof explodingAlias>;
  let nested: ReturnType<typeof explodingAlias>;
  let first: ReturnType<typeof explodingAlias>;
  visit(doc, {
    Node(_, n) {
      if (!isAlias(n)) {
        expanded += 1;
        return undefined;
      }
      first ??= n;
      const target = n.resolve(doc);
      if (!nested && target && holdsAlias(target)) nested = n;
      expanded += size(target);
      if (expanded > MAX_EXPANDED_NODES) {
        over = n;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return over ?? nested ?? first;
}

interface WalkState {
  readonly file: string;
  readonly problems: ConfigProblem[];
  readonly pos: (offset: number | undefined) => { line: number; column: number };
}

function walk(node: unknown, schema: Schema, path: readonly string[], st: WalkState): void {
  const at = (n: unknown) => st.pos(rangeStart(n));
  const where = path.length ? `'${clip(path.join('.'))}'` : 'the file';
  const problem = (n: unknown, message: string, hint?: string) =>
    st.problems.push({ file: st.file, ...at(n), message, ...(hint ? { hint } : {}) });

  switch (schema.kind) {
    case 'string':
    case 'number':
    case 'boolean': {
      if (!isScalar(node) || node.value === null || typeof node.value === 'object') {
        problem(node, `${where} must be a ${schema.kind}, not ${describe(node)}`);
        return;
      }
      if (schema.kind === 'string') asWritten(node);
      const v = node.value;
      if (schema.kind === 'boolean' && typeof v !== 'boolean') {
        problem(node, `${where} must be true or false, not ${quoteValue(v)}`);
      } else if (
        schema.kind === 'number' &&
        (typeof v !== 'number' || (schema.min !== undefined && v < schema.min))
      ) {
        problem(
          node,
          `${where} must be a number${schema.min !== undefined ? ` >= ${schema.min}` : ''}, not ${quoteValue(v)}`,
        );
      } else if (schema.kind === 'string') {
        if (typeof v !== 'string' && typeof v !== 'number') {
          problem(node, `${where} must be a string, not ${quoteValue(v)}`);
        } else if (schema.enum && !schema.enum.includes(String(v))) {
          problem(
            node,
            `${where} is ${quote(String(v))}; it must be one of ${schema.enum.join(', ')}`,
            suggest(String(v), schema.enum),
          );
        } else if (schema.check) {
          const bad = schema.check(String(v));
          if (bad) problem(node, `${where}: ${bad.message}`, bad.hint);
        }
      }
      return;
    }
    case 'flag-or-reason': {
      if (
        !isScalar(node) ||
        !(node.value === true || typeof node.value === 'string' || node.value === false)
      ) {
        problem(node, `${where} must be true, false or a reason (a string), not ${describe(node)}`);
      }
      return;
    }
    case 'flag-or-choice': {
      const v = isScalar(node) ? node.value : undefined;
      if (!(typeof v === 'boolean' || (typeof v === 'string' && schema.choices.includes(v)))) {
        problem(
          node,
          `${where} must be true, false or ${schema.choices.join(', ')}, not ${describe(node)}`,
        );
      }
      return;
    }
    case 'string-list': {
      if (!isSeq(node)) {
        problem(node, `${where} must be a list of strings, not ${describe(node)}`);
        return;
      }
      node.items.forEach((item, i) => {
        if (isScalar(item)) asWritten(item);
        if (!isScalar(item) || (typeof item.value !== 'string' && typeof item.value !== 'number')) {
          problem(
            item,
            `'${clip([...path, i].join('.'))}' must be a string, not ${describe(item)}`,
          );
        }
      });
      return;
    }
    case 'string-or-list': {
      if (isScalar(node) && typeof node.value === 'string') return;
      walk(node, { kind: 'string-list', doc: schema.doc }, path, st);
      return;
    }
    case 'list-of': {
      if (!isSeq(node)) {
        problem(node, `${where} must be a list, not ${describe(node)}`);
        return;
      }
      node.items.forEach((item, i) => walk(item, schema.item, [...path, String(i)], st));
      return;
    }
    case 'string-map':
    case 'any-map':
    case 'map-of':
    case 'object': {
      if (!isMap(node)) {
        problem(node, `${where} must be a mapping (key: value), not ${describe(node)}`);
        return;
      }
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) {
          problem(pair.key, `keys in ${where} must be plain strings`);
          continue;
        }
        const sub = [...path, key];
        if (schema.kind === 'object') {
          // Own keys only: 'constructor' or 'toString' is no field of any file.
          const fieldSchema = Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
          if (!fieldSchema) {
            const valid = Object.keys(schema.fields);
            problem(
              pair.key,
              `unknown key '${clip(key)}' in ${where}`,
              suggest(key, valid) ?? `valid keys: ${valid.join(', ')}`,
            );
            continue;
          }
          if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) continue; // `key:` with no value = unset
          walk(pair.value, fieldSchema, sub, st);
        } else if (schema.kind === 'map-of') {
          walk(pair.value, schema.value, sub, st);
        } else if (schema.kind === 'string-map') {
          const v = pair.value;
          if (!isScalar(v) || (v.value !== null && typeof v.value === 'object')) {
            problem(
              v ?? pair.key,
              `'${clip(sub.join('.'))}' must be a plain value (string, number or boolean), not ${describe(v)}`,
            );
          }
        }
      }
      return;
    }
  }
}

/**
 * A number where the schema wants a string becomes the text written: yaml reads a checksum of
 * digits only as a number (`sha256: 000…0` is 0), a version `12.10` as 12.1, a tag `1.0` as 1.
 */
function asWritten(node: Scalar): void {
  if (typeof node.value === 'number' && typeof node.source === 'string') node.value = node.source;
}

/** "did you mean 'x'?" when a valid value is close enough to be a likely typo. */
export function suggest(given: string, valid: readonly string[]): string | undefined {
  if (valid.length === 0) return undefined;
  const best = closest(given, valid);
  const limit = Math.max(2, Math.floor(given.length / 3));
  return distance(given, best) <= limit ? `did you mean '${best}'?` : undefined;
}

function rangeStart(n: unknown): number | undefined {
  if (n && typeof n === 'object' && 'range' in n) {
    const r = (n as { range?: [number, number, number] | null }).range;
    return r?.[0];
  }
  return undefined;
}

function describe(n: unknown): string {
  if (n === null || n === undefined) return 'nothing';
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) return n.value === null ? 'null' : `${typeof n.value} ${quoteValue(n.value)}`;
  return 'an unsupported yaml node';
}

/** A scalar as a message shows it: strings quoted and cut to a readable length. */
function quoteValue(v: unknown): string {
  return typeof v === 'string' ? quote(v) : clip(String(JSON.stringify(v)));
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/** JSON Schema (draft 2020-12) for a kbuild schema: editors complete and check the files with it. */
export function toJsonSchema(schema: Schema): Record<string, unknown> {
  switch (schema.kind) {
    case 'string':
      return {
        type: 'string',
        description: schema.doc,
        ...(schema.enum ? { enum: [...schema.enum] } : {}),
      };
    case 'boolean':
      return { type: 'boolean', description: schema.doc };
    case 'number':
      return {
        type: 'number',
        description: schema.doc,
        ...(schema.min !== undefined ? { minimum: schema.min } : {}),
      };
    case 'flag-or-reason':
      return { type: ['boolean', 'string'], description: schema.doc };
    case 'flag-or-choice':
      return {
        oneOf: [{ type: 'boolean' }, { enum: [...schema.choices] }],
        description: schema.doc,
      };
    case 'string-list':
      return { type: 'array', items: { type: 'string' }, description: schema.doc };
    case 'string-or-list':
      return {
        oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
        description: schema.doc,
      };
    case 'string-map':
      return {
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
        description: schema.doc,
      };
    case 'any-map':
      return { type: 'object', description: schema.doc };
    case 'map-of':
      return {
        type: 'object',
        additionalProperties: toJsonSchema(schema.value),
        description: schema.doc,
      };
    case 'list-of':
      return { type: 'array', items: toJsonSchema(schema.item), description: schema.doc };
    case 'object':
      return {
        type: 'object',
        description: schema.doc,
        additionalProperties: false,
        properties: Object.fromEntries(
          Object.entries(schema.fields).map(([k, v]) => [k, toJsonSchema(v)]),
        ),
      };
  }
}
