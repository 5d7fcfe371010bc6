/**
 * Filters, tests and globals that make nunjucks' set match Jinja2's: the ones nunjucks lacks
 * (`format`, `unique`, `map`, `items`, `tojson`, `min`, `max`, `attr`; tests `none`, `sequence`,
 * `in`, `boolean`, `integer`, `float`, `true`, `false`) and Jinja2-faithful versions of those
 * where nunjucks differs (keyword arguments, Python printing, `dictsort(reverse=…)`,
 * `list` of a dict being its keys, `select('odd')`, `selectattr('x', 'equalto', 1)`, ...).
 * Functions receive the nunjucks render Context as `this`.
 */
import { customizable } from './customizable.js';
import {
  bindArgs,
  checkSize,
  isPlainObject,
  percentFormat,
  pyAdd,
  pyEq,
  pyJson,
  pyMethod,
  pyStr,
  pyTruthy,
  pyTypeName,
  splitArgs,
  tuple,
  unwrapString,
} from './python-values.js';

/** What filters and tests see as `this`: the nunjucks render Context. */
export interface FilterThis {
  lookup(name: string): unknown;
  env: {
    getFilter(name: string): (this: FilterThis, ...args: unknown[]) => unknown;
    getTest(name: string): (this: FilterThis, ...args: unknown[]) => unknown;
  };
}

type Filter = (this: FilterThis, ...args: unknown[]) => unknown;
type Test = (this: FilterThis, ...args: unknown[]) => boolean;

/** The items of an iterable as Jinja2 iterates them (a dict yields its keys). */
function iterate(value: unknown, fname: string): unknown[] {
  const v = unwrapString(value);
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return Array.from(v);
  if (isPlainObject(v)) return Object.keys(v);
  throw new Error(`${fname}: ${pyTypeName(v)} is not iterable`);
}

/** `attribute='a.b.0'` as Jinja2 resolves it: attribute or item, dotted, integers index. */
function attrGetter(attribute: unknown): (item: unknown) => unknown {
  const parts = typeof attribute === 'number' ? [attribute] : pyStr(attribute).split('.');
  return (item) => {
    let cur: unknown = item;
    for (const p of parts) {
      if (cur === null || cur === undefined) return undefined;
      const key = typeof p === 'string' && /^\d+$/.test(p) && Array.isArray(cur) ? Number(p) : p;
      cur = Object.prototype.hasOwnProperty.call(cur, key)
        ? (cur as Record<string, unknown>)[key]
        : undefined;
    }
    return cur;
  };
}

function sortKey(caseSensitive: unknown): (v: unknown) => unknown {
  return (v) => {
    const x = unwrapString(v);
    return !pyTruthy(caseSensitive) && typeof x === 'string' ? x.toLowerCase() : x;
  };
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = a as number;
  const y = b as number;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** select / reject / selectattr / rejectattr: `test` name (or truthiness) applied per item. */
function selector(
  ctx: FilterThis,
  keepWhen: boolean,
  items: unknown[],
  get: (item: unknown) => unknown,
  rest: unknown[],
): unknown[] {
  const [testName, ...testArgs] = rest;
  const test =
    testName === undefined
      ? (v: unknown): boolean => pyTruthy(v)
      : (v: unknown): boolean =>
          pyTruthy(ctx.env.getTest(pyStr(testName)).call(ctx, v, ...testArgs));
  return items.filter((item) => test(get(item)) === keepWhen);
}

/** Jinja2's htmlsafe JSON: sorted keys, and <, >, & and ' escaped. */
function toJson(value: unknown, indent: unknown): string {
  return pyJson(value, typeof indent === 'number' ? indent : undefined)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/'/g, '\\u0027');
}

function minMax(which: 'min' | 'max'): Filter {
  return function (...args) {
    const [value, caseSensitive, attribute] = bindArgs(
      which,
      ['value', 'case_sensitive', 'attribute'],
      args,
    );
    const items = iterate(value, which);
    if (items.length === 0) return undefined;
    const get =
      attribute === undefined || attribute === null
        ? (v: unknown): unknown => v
        : attrGetter(attribute);
    const key = sortKey(caseSensitive);
    return items.reduce((best, item) => {
      const c = compareValues(key(get(item)), key(get(best)));
      return (which === 'min' ? c < 0 : c > 0) ? item : best;
    });
  };
}

export const jinjaFilters: Readonly<Record<string, Filter>> = {
  customizable,

  default(...args) {
    const [value, dflt = '', boolean] = bindArgs(
      'default',
      ['value', 'default_value', 'boolean'],
      args,
    );
    if (pyTruthy(boolean)) return pyTruthy(value) ? value : dflt;
    return value === undefined ? dflt : value;
  },

  join(...args) {
    const [value, d = '', attribute] = bindArgs('join', ['value', 'd', 'attribute'], args);
    let items = iterate(value, 'join');
    if (attribute !== undefined && attribute !== null) items = items.map(attrGetter(attribute));
    return items.map(pyStr).join(pyStr(d));
  },

  format(value, ...args) {
    const { positional, kwargs } = splitArgs(args);
    if (positional.length > 0 && Object.keys(kwargs).length > 0) {
      throw new Error("format: can't handle positional and keyword arguments at the same time");
    }
    return percentFormat(pyStr(value), positional.length > 0 ? positional : kwargs);
  },

  lower: (value) => pyStr(value).toLowerCase(),
  upper: (value) => pyStr(value).toUpperCase(),
  string: (value) => pyStr(value),

  replace(...args) {
    const [value, old, replacement, count] = bindArgs(
      'replace',
      ['s', 'old', 'new', 'count'],
      args,
    );
    const method = pyMethod(pyStr(value), 'replace');
    return method?.(old, replacement, count === null ? undefined : count);
  },

  trim(...args) {
    const [value, chars] = bindArgs('trim', ['value', 'chars'], args);
    return pyMethod(pyStr(value), 'strip')?.(chars);
  },

  dictsort(...args) {
    const [value, caseSensitive, by = 'key', reverse] = bindArgs(
      'dictsort',
      ['value', 'case_sensitive', 'by', 'reverse'],
      args,
    );
    if (!isPlainObject(value))
      throw new Error(`dictsort: expected a dict, got ${pyTypeName(value)}`);
    if (by !== 'key' && by !== 'value') throw new Error("dictsort: 'by' must be 'key' or 'value'");
    const index = by === 'key' ? 0 : 1;
    const key = sortKey(caseSensitive);
    const sorted = Object.entries(value)
      .map(tuple)
      .sort((a, b) => compareValues(key(a[index]), key(b[index])));
    return pyTruthy(reverse) ? sorted.reverse() : sorted;
  },

  unique(...args) {
    const [value, caseSensitive, attribute] = bindArgs(
      'unique',
      ['value', 'case_sensitive', 'attribute'],
      args,
    );
    const get =
      attribute === undefined || attribute === null
        ? (v: unknown): unknown => v
        : attrGetter(attribute);
    const key = sortKey(caseSensitive);
    const seen: unknown[] = [];
    const out: unknown[] = [];
    for (const item of iterate(value, 'unique')) {
      const k = key(get(item));
      if (!seen.some((s) => pyEq(s, k))) {
        seen.push(k);
        out.push(item);
      }
    }
    return out;
  },

  list: (value) => [...iterate(value, 'list')],
  items(value) {
    if (!isPlainObject(value)) throw new Error(`items: expected a dict, got ${pyTypeName(value)}`);
    return Object.entries(value).map(tuple);
  },

  truncate(...args) {
    const [value, length = 255, killwords, end = '...', leeway = 5] = bindArgs(
      'truncate',
      ['s', 'length', 'killwords', 'end', 'leeway'],
      args,
    );
    const s = pyStr(value);
    const n = Number(length);
    const e = pyStr(end);
    if (s.length <= n + Number(leeway)) return s;
    if (pyTruthy(killwords)) return s.slice(0, n - e.length) + e;
    const head = s.slice(0, n - e.length);
    const cut = head.lastIndexOf(' ');
    return (cut < 0 ? head : head.slice(0, cut)) + e;
  },

  map(value, ...args) {
    const items = iterate(value, 'map');
    const { positional, kwargs } = splitArgs(args);
    if ('attribute' in kwargs) {
      const get = attrGetter(kwargs.attribute);
      return items.map((item) => {
        const v = get(item);
        return v === undefined && 'default' in kwargs ? kwargs.default : v;
      });
    }
    const [name, ...rest] = positional;
    if (name === undefined) throw new Error('map: needs a filter name or attribute=');
    const filter = this.env.getFilter(pyStr(name));
    return items.map((item) => filter.call(this, item, ...rest));
  },

  select(value, ...rest) {
    return selector(this, true, iterate(value, 'select'), (v) => v, rest);
  },
  reject(value, ...rest) {
    return selector(this, false, iterate(value, 'reject'), (v) => v, rest);
  },
  selectattr(value, attribute, ...rest) {
    return selector(this, true, iterate(value, 'selectattr'), attrGetter(attribute), rest);
  },
  rejectattr(value, attribute, ...rest) {
    return selector(this, false, iterate(value, 'rejectattr'), attrGetter(attribute), rest);
  },

  min: minMax('min'),
  max: minMax('max'),

  tojson(...args) {
    const [value, indent] = bindArgs('tojson', ['value', 'indent'], args);
    return toJson(value, indent);
  },

  batch(...args) {
    const [value, linecount, fillWith] = bindArgs(
      'batch',
      ['value', 'linecount', 'fill_with'],
      args,
    );
    const n = Math.trunc(Number(linecount));
    if (!(n > 0)) throw new Error('batch: linecount must be a positive number');
    const items = iterate(value, 'batch');
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
    const last = out[out.length - 1];
    if (last && fillWith !== undefined && fillWith !== null)
      while (last.length < n) last.push(fillWith);
    return out;
  },

  sum(...args) {
    const [value, attribute, start = 0] = bindArgs('sum', ['iterable', 'attribute', 'start'], args);
    const get =
      attribute === undefined || attribute === null
        ? (v: unknown): unknown => v
        : attrGetter(attribute);
    return iterate(value, 'sum').reduce((acc: unknown, item) => pyAdd(acc, get(item)), start);
  },

  /** Python's str.center (its rounding), at most MAX_CHARS wide. */
  center(...args) {
    const [value, width = 80] = bindArgs('center', ['value', 'width'], args);
    const w = Number(width);
    checkSize(w, 'characters', `center(${w})`);
    const s = pyStr(value);
    const pad = w - s.length;
    if (pad <= 0) return s;
    const left = Math.floor(pad / 2) + (pad & w & 1);
    return ' '.repeat(left) + s + ' '.repeat(pad - left);
  },

  indent(...args) {
    const [value, width = 4, first, blank] = bindArgs(
      'indent',
      ['s', 'width', 'first', 'blank'],
      args,
    );
    if (typeof width !== 'string')
      checkSize(Number(width), 'characters', `indent(${String(width)})`);
    const pad = typeof width === 'string' ? width : ' '.repeat(Number(width));
    const lines = pyStr(value).split('\n');
    return lines
      .map((line, i) =>
        (i === 0 && !pyTruthy(first)) || (line === '' && !pyTruthy(blank)) ? line : pad + line,
      )
      .join('\n');
  },

  groupby(...args) {
    const [value, attribute, dflt] = bindArgs('groupby', ['value', 'attribute', 'default'], args);
    const get = attrGetter(attribute);
    const keyOf = (item: unknown): unknown => {
      const k = get(item);
      return k === undefined ? dflt : k;
    };
    const sorted = [...iterate(value, 'groupby')].sort((a, b) => compareValues(keyOf(a), keyOf(b)));
    const groups: unknown[][] = [];
    for (const item of sorted) {
      const last = groups[groups.length - 1];
      if (last && pyEq(last[0], keyOf(item))) (last[1] as unknown[]).push(item);
      else groups.push([keyOf(item), [item]]);
    }
    // Jinja2 yields (grouper, list) tuples that also answer to .grouper and .list.
    return groups.map((g) => Object.assign(tuple(g), { grouper: g[0], list: g[1] }));
  },

  attr(obj, name) {
    const key = pyStr(name);
    return obj !== null && typeof obj === 'object' && Object.prototype.hasOwnProperty.call(obj, key)
      ? (obj as Record<string, unknown>)[key]
      : undefined;
  },
};

/**
 * Jinja2 parameter names of nunjucks built-ins kbuild keeps, so keyword arguments bind like in
 * Jinja2 (`batch(3, fill_with='-')`); nunjucks itself takes them positionally only.
 */
export const jinjaSignatures: Readonly<Record<string, readonly string[]>> = {
  slice: ['value', 'slices', 'fill_with'],
  round: ['value', 'precision', 'method'],
  float: ['value', 'default'],
  wordcount: ['s'],
  urlencode: ['value'],
  striptags: ['value'],
};

/** A filter taking positional arguments, made to accept them by Jinja2 keyword too. */
export function withSignature(name: string, params: readonly string[], filter: Filter): Filter {
  return function (this: FilterThis, ...args: unknown[]): unknown {
    const bound = bindArgs(name, params, args);
    while (bound.length > 0 && bound[bound.length - 1] === undefined) bound.pop();
    return filter.apply(this, bound);
  };
}

/** Aliases Jinja2 has (nunjucks has `d` and `e` already, but bound to its own `default`). */
export const jinjaFilterAliases: Readonly<Record<string, string>> = {
  d: 'default',
  count: 'length',
};

/** Filters that accept an undefined value (all other built-ins report it as an error). */
export const undefinedTolerantFilters: ReadonlySet<string> = new Set([
  'default',
  'd',
  'customizable',
]);

function inTest(value: unknown, seq: unknown): boolean {
  const s = unwrapString(seq);
  const v = unwrapString(value);
  if (typeof s === 'string') return s.includes(pyStr(v));
  if (Array.isArray(s)) return s.some((x) => pyEq(x, v));
  if (isPlainObject(s)) return Object.prototype.hasOwnProperty.call(s, pyStr(v));
  throw new Error(`'in' test: ${pyTypeName(s)} is not a container`);
}

export const jinjaTests: Readonly<Record<string, Test>> = {
  none: (v) => v === null,
  sequence(v) {
    const x = unwrapString(v);
    return typeof x === 'string' || Array.isArray(x) || isPlainObject(x);
  },
  mapping: (v) => isPlainObject(v),
  string: (v) => typeof unwrapString(v) === 'string',
  in: inTest,
  boolean: (v) => typeof v === 'boolean',
  true: (v) => v === true,
  false: (v) => v === false,
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => typeof v === 'number' && !Number.isInteger(v),
  iterable(v) {
    const x = unwrapString(v);
    return typeof x === 'string' || Array.isArray(x) || isPlainObject(x);
  },
  eq: (a, b) => pyEq(a, b),
  equalto: (a, b) => pyEq(a, b),
  ne: (a, b) => !pyEq(a, b),
  sameas: (a, b) => a === b,
};

export const jinjaGlobals: Readonly<Record<string, unknown>> = {
  /** Python's range(stop) / range(start, stop[, step]), at most MAX_ITEMS long (as Jinja2's sandbox). */
  range(...args: unknown[]): number[] {
    const n = args.map((a) => {
      const x = unwrapString(a);
      if (typeof x === 'boolean') return Number(x);
      if (typeof x !== 'number' || !Number.isInteger(x))
        throw new TypeError(`'${pyTypeName(x)}' object cannot be interpreted as an integer`);
      return x;
    });
    const [start, stop, step] = n.length === 1 ? [0, n[0]!, 1] : [n[0]!, n[1]!, n[2] ?? 1];
    if (n.length === 0 || n.length > 3)
      throw new TypeError(`range expected 1 to 3 arguments, got ${n.length}`);
    if (step === 0) throw new Error('range() arg 3 must not be zero');
    const count = Math.max(0, Math.ceil((stop - start) / step));
    checkSize(count, 'items', `range(${n.join(', ')})`);
    return Array.from({ length: count }, (_, i) => start + i * step);
  },
  /** `dict(a=1, b=2)`. */
  dict(...args: unknown[]): Record<string, unknown> {
    const { positional, kwargs } = splitArgs(args);
    const base = positional[0];
    return { ...(isPlainObject(base) ? base : {}), ...kwargs };
  },
};
