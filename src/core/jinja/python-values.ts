/**
 * Python value semantics for Jinja2 templates running on JavaScript: how values print (`True`,
 * `None`, `['a', 'b']`), compare (`[1] == [1]`, `1 == True`), combine (`list + list`, `'-' * 3`,
 * `'%s' % x`), slice (`x[1:-1]`) and which Python methods they answer to (`s.startswith('a')`,
 * `d.items()`). Pure functions; used by the template runtime (jinja-runtime.ts) and filters.
 */

/** Keyword arguments as nunjucks passes them: a trailing object flagged `__keywords`. */
export type Kwargs = Record<string, unknown> & { __keywords?: true };

export function isKwargs(v: unknown): v is Kwargs {
  return typeof v === 'object' && v !== null && (v as Kwargs).__keywords === true;
}

/** Splits a call's arguments into positional ones and keyword ones (without the flag). */
export function splitArgs(args: readonly unknown[]): {
  positional: unknown[];
  kwargs: Record<string, unknown>;
} {
  const last = args[args.length - 1];
  if (!isKwargs(last)) return { positional: [...args], kwargs: {} };
  const kwargs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(last)) if (k !== '__keywords') kwargs[k] = v;
  return { positional: args.slice(0, -1), kwargs };
}

/**
 * Binds a call's arguments to parameter names like Python does (positional first, then by
 * keyword), so Jinja2 calls such as `join(d=',')` or `sort(attribute='x')` work. Missing
 * parameters are `undefined`; unknown keywords are an error.
 */
export function bindArgs(
  fname: string,
  names: readonly string[],
  args: readonly unknown[],
): unknown[] {
  const { positional, kwargs } = splitArgs(args);
  if (positional.length > names.length) {
    throw new Error(
      `${fname}() takes at most ${names.length} arguments (${positional.length} given)`,
    );
  }
  const bound = names.map((_, i) => positional[i]);
  for (const [k, v] of Object.entries(kwargs)) {
    const i = names.indexOf(k);
    if (i < 0) throw new Error(`${fname}() got an unexpected keyword argument '${k}'`);
    bound[i] = v;
  }
  return bound;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** nunjucks' SafeString (markup from macros, `super()`, `caller()`) is a String object. */
function isStringObject(v: unknown): v is string {
  return v instanceof String;
}

/** A string, or a nunjucks SafeString, as a primitive string; anything else unchanged. */
export function unwrapString(v: unknown): unknown {
  return isStringObject(v) ? String(v) : v;
}

// ---------------------------------------------------------------------------
// Tuples: JavaScript has none, so arrays made from tuple syntax `(a, b)` or standing for Python
// tuples (dictsort / items pairs) are remembered, to print as `(a, b)`.

const tuples = new WeakSet<readonly unknown[]>();

export function tuple<T>(items: T[]): T[] {
  tuples.add(items);
  return items;
}

export function isTuple(v: unknown): boolean {
  return Array.isArray(v) && tuples.has(v);
}

// ---------------------------------------------------------------------------
// Printing.

function pyFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/** Python's `str()`: what `{{ value }}`, `~` and `join` print. */
export function pyStr(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return 'None';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pyFloat(v);
  if (isStringObject(v)) return String(v);
  if (Array.isArray(v)) {
    if (isTuple(v)) return v.length === 1 ? `(${pyRepr(v[0])},)` : `(${v.map(pyRepr).join(', ')})`;
    return `[${v.map(pyRepr).join(', ')}]`;
  }
  if (isPlainObject(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  if (typeof v === 'function') return '<function>';
  const s: unknown = (v as { toString(): unknown }).toString();
  return typeof s === 'string' ? s : '<object>';
}

/** Python's `json.dumps(value, sort_keys=True)` (with `indent`, if given), as Jinja2's `tojson`. */
export function pyJson(v: unknown, indent?: number, level = 0): string {
  const x = unwrapString(v);
  if (x === null || x === undefined) return 'null';
  if (typeof x === 'boolean') return x ? 'true' : 'false';
  if (typeof x === 'number')
    return Number.isFinite(x)
      ? String(x)
      : Number.isNaN(x)
        ? 'NaN'
        : x > 0
          ? 'Infinity'
          : '-Infinity';
  if (typeof x === 'string') {
    return JSON.stringify(x).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  let parts: string[];
  let open: string;
  let close: string;
  if (Array.isArray(x)) {
    parts = x.map((item) => pyJson(item, indent, level + 1));
    [open, close] = ['[', ']'];
  } else if (isPlainObject(x)) {
    parts = Object.keys(x)
      .sort()
      .map((k) => `${pyJson(k)}: ${pyJson(x[k], indent, level + 1)}`);
    [open, close] = ['{', '}'];
  } else {
    throw new Error(`tojson: ${pyTypeName(x)} is not JSON serializable`);
  }
  if (parts.length === 0) return open + close;
  if (indent === undefined) return open + parts.join(', ') + close;
  const pad = (n: number): string => `\n${' '.repeat(indent * n)}`;
  return open + pad(level + 1) + parts.join(`,${pad(level + 1)}`) + pad(level) + close;
}

/** Python's `repr()`: how strings look inside printed lists and with `%r`. */
export function pyRepr(v: unknown): string {
  const s = unwrapString(v);
  if (typeof s !== 'string') return pyStr(s);
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return quote + out + quote;
}

// ---------------------------------------------------------------------------
// Comparison and operators.

/** Python truthiness: empty lists, dicts and strings, 0 and None are false. */
export function pyTruthy(v: unknown): boolean {
  const x = unwrapString(v);
  if (Array.isArray(x)) return x.length > 0;
  if (isPlainObject(x)) return Object.keys(x).length > 0;
  return Boolean(x);
}

/** Python's `==`: structural for lists and dicts, `1 == True`, SafeString equals its text. */
export function pyEq(a: unknown, b: unknown): boolean {
  const x = unwrapString(a);
  const y = unwrapString(b);
  if (x === y) return true;
  const numeric = (v: unknown): v is number | boolean =>
    typeof v === 'number' || typeof v === 'boolean';
  if (numeric(x) && numeric(y)) return Number(x) === Number(y);
  if (Array.isArray(x) && Array.isArray(y)) {
    return x.length === y.length && x.every((v, i) => pyEq(v, y[i]));
  }
  if (isPlainObject(x) && isPlainObject(y)) {
    const kx = Object.keys(x);
    return (
      kx.length === Object.keys(y).length &&
      kx.every((k) => Object.prototype.hasOwnProperty.call(y, k) && pyEq(x[k], y[k]))
    );
  }
  return false;
}

/** `a + b`: lists concatenate (JavaScript would join them into a string). */
export function pyAdd(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) return [...(a as unknown[]), ...(b as unknown[])];
  return (a as number) + (b as number);
}

/**
 * The most items (of a list or range) or characters (of a string) one expression may make. Jinja2's
 * sandbox caps range() at 100000 items; a template asking for more is a mistake, and must get a
 * located error, not exhaust the memory of the process.
 */
export const MAX_ITEMS = 100_000;
export const MAX_CHARS = 16 * 1024 * 1024;

/** Throws (a template error at the expression) when `what` would make more than the limit. */
export function checkSize(n: number, unit: 'items' | 'characters', what: string): void {
  const max = unit === 'items' ? MAX_ITEMS : MAX_CHARS;
  if (n > max) throw new Error(`${what} would make ${n} ${unit}: kbuild renders at most ${max}`);
}

/**
 * `a * b`: a string, list or tuple times an int (a bool counts as one) repeats it, as in Python;
 * times anything else is Python's TypeError.
 */
export function pyMul(a: unknown, b: unknown): unknown {
  const x = unwrapString(a);
  const y = unwrapString(b);
  const isSeq = (v: unknown): v is string | unknown[] => typeof v === 'string' || Array.isArray(v);
  const repeat = (seq: string | unknown[], n: unknown): unknown => {
    const count = typeof n === 'boolean' ? Number(n) : n;
    if (typeof count !== 'number' || !Number.isInteger(count))
      throw new TypeError(`can't multiply sequence by non-int of type '${pyTypeName(n)}'`);
    const times = Math.max(0, count);
    const made = seq.length * times;
    if (typeof seq === 'string') {
      checkSize(made, 'characters', 'repeating a string');
      return seq.repeat(times);
    }
    checkSize(made, 'items', 'repeating a list');
    const out = Array.from({ length: times }, () => seq).flat();
    return isTuple(seq) ? tuple(out) : out;
  };
  if (isSeq(x)) return repeat(x, y);
  if (isSeq(y)) return repeat(y, x);
  return (x as number) * (y as number);
}

/** `a % b`: printf-style formatting for strings, Python's floored modulo for numbers. */
export function pyMod(a: unknown, b: unknown): unknown {
  const x = unwrapString(a);
  if (typeof x === 'string') {
    const args = Array.isArray(b) ? (b as unknown[]) : isPlainObject(b) ? b : [b];
    return percentFormat(x, args);
  }
  if (typeof x === 'number' && typeof b === 'number' && b !== 0) return ((x % b) + b) % b;
  return (x as number) % (b as number);
}

/** Python slicing `seq[start:stop:step]` of a string or a list. */
export function pySlice(seq: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  const s = unwrapString(seq);
  if (typeof s !== 'string' && !Array.isArray(s)) {
    throw new Error(`cannot slice ${pyTypeName(s)}`);
  }
  const len = s.length;
  const st = step === null || step === undefined ? 1 : Number(step);
  if (st === 0) throw new Error('slice step cannot be zero');
  const norm = (v: unknown, dflt: number, lo: number, hi: number): number => {
    if (v === null || v === undefined) return dflt;
    let n = Math.trunc(Number(v));
    if (n < 0) n += len;
    return Math.min(Math.max(n, lo), hi);
  };
  const items: unknown[] = [];
  const chars = typeof s === 'string' ? Array.from(s) : s;
  if (st > 0) {
    const from = norm(start, 0, 0, len);
    const to = norm(stop, len, 0, len);
    for (let i = from; i < to; i += st) items.push(chars[i]);
  } else {
    const from = norm(start, len - 1, -1, len - 1);
    const to = norm(stop, -1, -1, len - 1);
    for (let i = from; i > to; i += st) items.push(chars[i]);
  }
  return typeof s === 'string' ? items.join('') : items;
}

export function pyTypeName(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'NoneType';
  if (typeof v === 'string' || isStringObject(v)) return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v)) return 'dict';
  if (typeof v === 'function') return 'function';
  return 'object';
}

// ---------------------------------------------------------------------------
// printf-style formatting: `'%s-%d' % (a, b)` and the `format` filter.

const PERCENT_SPEC = /%(?:\(([^)]*)\))?([-#0 +]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXeEfFgGcrsa%])/g;

function toInt(v: unknown, spec: string): number {
  const x = unwrapString(v);
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x !== 'number' || Number.isNaN(x)) {
    throw new Error(`%${spec} format: a number is required, not ${pyTypeName(x)}`);
  }
  return Math.trunc(x);
}

function toFloat(v: unknown, spec: string): number {
  const x = unwrapString(v);
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x !== 'number') {
    throw new Error(`%${spec} format: a real number is required, not ${pyTypeName(x)}`);
  }
  return x;
}

/** `%g`: precision significant digits, trailing zeros dropped (unless `#`). */
function formatG(n: number, precision: number, alt: boolean): string {
  const p = precision === 0 ? 1 : precision;
  if (n === 0) return alt ? (0).toFixed(p - 1) : '0';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  let s: string;
  if (exp < -4 || exp >= p) {
    s = n.toExponential(p - 1);
    if (!alt) s = s.replace(/\.?0+e/, 'e');
    s = s.replace(/e([+-])(\d)$/, 'e$10$2');
  } else {
    s = n.toFixed(Math.max(0, p - 1 - exp));
    if (!alt && s.includes('.')) s = s.replace(/\.?0+$/, '');
  }
  return s;
}

function pad(body: string, sign: string, width: number, flags: string, numeric: boolean): string {
  const full = sign + body;
  if (full.length >= width) return full;
  if (flags.includes('-')) return full.padEnd(width);
  if (numeric && flags.includes('0')) return sign + body.padStart(width - sign.length, '0');
  return full.padStart(width);
}

/** Python's `fmt % args`. `args` is the list of positional values or a mapping for `%(name)s`. */
export function percentFormat(
  fmt: string,
  args: readonly unknown[] | Record<string, unknown>,
): string {
  let next = 0;
  const positional = Array.isArray(args) ? (args as readonly unknown[]) : undefined;
  const take = (): unknown => {
    if (!positional || next >= positional.length) {
      throw new Error('not enough arguments for format string');
    }
    return positional[next++];
  };
  const out = fmt.replace(
    PERCENT_SPEC,
    (_m, key: string | undefined, flags: string, w?: string, p?: string, conv?: string): string => {
      if (conv === '%') return '%';
      const width = w === '*' ? toInt(take(), '*') : w ? Number(w) : 0;
      const precision = p === '*' ? toInt(take(), '*') : p !== undefined ? Number(p) : undefined;
      let value: unknown;
      if (key !== undefined) {
        if (positional || !isPlainObject(args)) throw new Error('format requires a mapping');
        if (!(key in args)) throw new Error(`format: no value for key '${key}'`);
        value = args[key];
      } else {
        value = take();
      }
      const c = conv ?? 's';
      switch (c) {
        case 's':
        case 'r':
        case 'a': {
          let s = c === 's' ? pyStr(value) : pyRepr(value);
          if (precision !== undefined) s = s.slice(0, precision);
          return pad(s, '', width, flags, false);
        }
        case 'c': {
          const x = unwrapString(value);
          const s = typeof x === 'string' ? x : String.fromCodePoint(toInt(x, c));
          return pad(s, '', width, flags, false);
        }
        default: {
          const isInt = 'diuoxX'.includes(c);
          const n = isInt ? toInt(value, c) : toFloat(value, c);
          const sign =
            n < 0 || Object.is(n, -0)
              ? '-'
              : flags.includes('+')
                ? '+'
                : flags.includes(' ')
                  ? ' '
                  : '';
          const a = Math.abs(n);
          const alt = flags.includes('#');
          let body: string;
          if (c === 'o') body = (alt ? '0o' : '') + a.toString(8);
          else if (c === 'x') body = (alt ? '0x' : '') + a.toString(16);
          else if (c === 'X') body = (alt ? '0X' : '') + a.toString(16).toUpperCase();
          else if (isInt) body = String(a);
          else if (c === 'f' || c === 'F') body = a.toFixed(precision ?? 6);
          else if (c === 'e' || c === 'E') {
            body = a.toExponential(precision ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
            if (c === 'E') body = body.toUpperCase();
          } else {
            body = formatG(a, precision ?? 6, alt);
            if (c === 'G') body = body.toUpperCase();
          }
          return pad(body, sign, width, flags, true);
        }
      }
    },
  );
  if (positional && next < positional.length) {
    throw new Error('not all arguments converted during string formatting');
  }
  return out;
}

// ---------------------------------------------------------------------------
// str.format: `'{}-{name}'.format(a, name=b)`. Fields, !r/!s and [[fill]align][width][.prec].

const FORMAT_SPEC = /^(?:(.)?([<>^]))?(0)?(\d+)?(?:\.(\d+))?([sdf]?)$/;

export function strFormat(fmt: string, args: readonly unknown[]): string {
  const { positional, kwargs } = splitArgs(args);
  let auto = 0;
  return fmt.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field?: string): string => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const [ref = '', ...rest] = (field ?? '').split(':');
    const spec = rest.join(':');
    const [name = '', conv] = ref.split('!');
    let value: unknown;
    if (name === '') value = positional[auto++];
    else if (/^\d+$/.test(name)) value = positional[Number(name)];
    else if (name in kwargs) value = kwargs[name];
    else throw new Error(`format: no value for field '${name}'`);
    if (value === undefined) throw new Error(`format: no value for field '${name || auto - 1}'`);
    let s = conv === 'r' ? pyRepr(value) : pyStr(value);
    const sm = FORMAT_SPEC.exec(spec);
    if (!sm) throw new Error(`format: unsupported format spec '${spec}'`);
    const [, fill = ' ', align, zero, width, prec, type] = sm;
    if (type === 'f') s = toFloat(value, 'f').toFixed(prec ? Number(prec) : 6);
    else if (type === 'd') s = String(toInt(value, 'd'));
    else if (prec !== undefined) s = s.slice(0, Number(prec));
    const w = width ? Number(width) : 0;
    checkSize(w, 'characters', `the format width ${w}`);
    if (s.length >= w) return s;
    const numeric = typeof unwrapString(value) === 'number';
    const how = align ?? (numeric ? '>' : '<');
    const f = zero && !align ? '0' : fill;
    if (how === '<') return s + f.repeat(w - s.length);
    if (how === '>') return f.repeat(w - s.length) + s;
    const left = Math.floor((w - s.length) / 2);
    return f.repeat(left) + s + f.repeat(w - s.length - left);
  });
}

// ---------------------------------------------------------------------------
// Python methods on strings, lists and dicts, for `s.startswith('a')`, `d.items()` and the like.
// Lists and dicts also have the mutating ones (`{% set _ = l.append(x) %}`), which return None;
// the renderer gives each render its own copy of the context, so no change leaks between images.

type Method = (...args: unknown[]) => unknown;

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  if (chars === undefined || chars === null) {
    let r = s;
    if (left) r = r.replace(/^\s+/, '');
    if (right) r = r.replace(/\s+$/, '');
    return r;
  }
  const set = new Set(pyStr(chars));
  let a = 0;
  let b = s.length;
  while (left && a < b && set.has(s[a] ?? '')) a++;
  while (right && b > a && set.has(s[b - 1] ?? '')) b--;
  return s.slice(a, b);
}

function pySplit(s: string, sep: unknown, maxsplit: unknown, fromRight: boolean): string[] {
  const max = maxsplit === undefined || maxsplit === null ? -1 : Number(maxsplit);
  if (sep === undefined || sep === null) {
    const words = s.trim() === '' ? [] : s.trim().split(/\s+/);
    if (max < 0 || words.length <= max + 1) return words;
    // Keep the original spacing of the unsplit remainder, as Python does.
    if (fromRight) {
      const tail = words.slice(words.length - max);
      const head = s.replace(/\s+$/, '');
      const cut = head.length - tail.join(' ').length;
      return [head.slice(0, cut).replace(/\s+$/, ''), ...tail];
    }
    const head = words.slice(0, max);
    let rest = s.replace(/^\s+/, '');
    for (const w of head) rest = rest.slice(w.length).replace(/^\s+/, '');
    return [...head, rest];
  }
  const d = pyStr(sep);
  if (d === '') throw new Error('empty separator');
  const parts = s.split(d);
  if (max < 0 || parts.length <= max + 1) return parts;
  return fromRight
    ? [parts.slice(0, parts.length - max).join(d), ...parts.slice(parts.length - max)]
    : [...parts.slice(0, max), parts.slice(max).join(d)];
}

function affix(s: string, arg: unknown, test: (s: string, a: string) => boolean): boolean {
  const options = Array.isArray(arg) ? arg : [arg];
  return options.some((a) => test(s, pyStr(a)));
}

function stringMethod(s: string, name: string): Method | undefined {
  const m: Record<string, Method> = {
    startswith: (p) => affix(s, p, (x, a) => x.startsWith(a)),
    endswith: (p) => affix(s, p, (x, a) => x.endsWith(a)),
    split: (...a) =>
      pySplit(s, ...(bindArgs('split', ['sep', 'maxsplit'], a) as [unknown, unknown]), false),
    rsplit: (...a) =>
      pySplit(s, ...(bindArgs('rsplit', ['sep', 'maxsplit'], a) as [unknown, unknown]), true),
    splitlines: () => s.split(/\r\n|\r|\n/).filter((l, i, all) => i < all.length - 1 || l !== ''),
    strip: (c) => stripChars(s, c, true, true),
    lstrip: (c) => stripChars(s, c, true, false),
    rstrip: (c) => stripChars(s, c, false, true),
    upper: () => s.toUpperCase(),
    lower: () => s.toLowerCase(),
    title: () =>
      s
        .toLowerCase()
        .replace(/(^|[^a-zA-Z])([a-z])/g, (_x, p: string, c: string) => p + c.toUpperCase()),
    capitalize: () => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
    replace: (o, n, count) => {
      const parts = s.split(pyStr(o));
      const c = count === undefined || Number(count) < 0 ? parts.length : Number(count) + 1;
      return [parts.slice(0, c).join(pyStr(n)), ...parts.slice(c)].join(pyStr(o));
    },
    join: (items) => {
      if (!Array.isArray(items)) throw new Error('join() argument must be a list');
      return items.map(pyStr).join(s);
    },
    format: (...a) => strFormat(s, a),
    find: (sub) => s.indexOf(pyStr(sub)),
    count: (sub) => (pyStr(sub) === '' ? s.length + 1 : s.split(pyStr(sub)).length - 1),
    isdigit: () => /^\d+$/.test(s),
    isalpha: () => /^[a-zA-Z]+$/.test(s),
    isalnum: () => /^[a-zA-Z0-9]+$/.test(s),
    isspace: () => /^\s+$/.test(s),
    islower: () => /[a-z]/.test(s) && s === s.toLowerCase(),
    isupper: () => /[A-Z]/.test(s) && s === s.toUpperCase(),
    zfill: (w) => {
      const sign = /^[+-]/.test(s) ? s.charAt(0) : '';
      return sign + s.slice(sign.length).padStart(Number(w) - sign.length, '0');
    },
    ljust: (w, f) => s.padEnd(Number(w), f === undefined ? ' ' : pyStr(f)),
    rjust: (w, f) => s.padStart(Number(w), f === undefined ? ' ' : pyStr(f)),
  };
  return Object.prototype.hasOwnProperty.call(m, name) ? m[name] : undefined;
}

function listMethod(list: unknown[], name: string): Method | undefined {
  switch (name) {
    case 'index':
      return (x) => {
        const i = list.findIndex((v) => pyEq(v, x));
        if (i < 0) throw new Error(`${pyRepr(x)} is not in list`);
        return i;
      };
    case 'count':
      return (x) => list.filter((v) => pyEq(v, x)).length;
    case 'append':
      return (x) => {
        list.push(x);
        return null;
      };
    case 'extend':
      return (xs) => {
        if (!Array.isArray(xs))
          throw new Error(`extend() argument must be a list, not ${pyTypeName(xs)}`);
        list.push(...(xs as unknown[]));
        return null;
      };
    case 'insert':
      return (i, x) => {
        const n = Math.trunc(Number(i));
        list.splice(n < 0 ? Math.max(0, list.length + n) : n, 0, x);
        return null;
      };
    case 'remove':
      return (x) => {
        const i = list.findIndex((v) => pyEq(v, x));
        if (i < 0) throw new Error(`list.remove(x): ${pyRepr(x)} not in list`);
        list.splice(i, 1);
        return null;
      };
    case 'pop':
      return (i) => {
        if (list.length === 0) throw new Error('pop from empty list');
        const n = i === undefined ? list.length - 1 : Math.trunc(Number(i));
        const at = n < 0 ? list.length + n : n;
        if (at < 0 || at >= list.length) throw new Error('pop index out of range');
        return list.splice(at, 1)[0];
      };
    default:
      return undefined;
  }
}

function dictMethod(d: Record<string, unknown>, name: string): Method | undefined {
  switch (name) {
    case 'items':
      return () => Object.entries(d).map(tuple);
    case 'keys':
      return () => Object.keys(d);
    case 'values':
      return () => Object.values(d);
    case 'get':
      return (k, dflt) => {
        const key = pyStr(k);
        return Object.prototype.hasOwnProperty.call(d, key)
          ? d[key]
          : dflt === undefined
            ? null
            : dflt;
      };
    case 'update':
      return (...args) => {
        const { positional, kwargs } = splitArgs(args);
        const other = positional[0];
        if (other !== undefined && !isPlainObject(other)) {
          throw new Error(`update() argument must be a dict, not ${pyTypeName(other)}`);
        }
        Object.assign(d, other ?? {}, kwargs);
        return null;
      };
    case 'setdefault':
      return (k, dflt) => {
        const key = pyStr(k);
        if (!Object.prototype.hasOwnProperty.call(d, key))
          d[key] = dflt === undefined ? null : dflt;
        return d[key];
      };
    case 'pop':
      return (k, ...rest) => {
        const key = pyStr(k);
        if (Object.prototype.hasOwnProperty.call(d, key)) {
          const v = d[key];
          delete d[key];
          return v;
        }
        if (rest.length > 0) return rest[0];
        throw new Error(`KeyError: ${pyRepr(key)}`);
      };
    default:
      return undefined;
  }
}

/** The Python method `name` of a value, bound to it, if kbuild emulates one. */
export function pyMethod(obj: unknown, name: string): Method | undefined {
  const o = unwrapString(obj);
  if (typeof o === 'string') return stringMethod(o, name);
  if (Array.isArray(o)) return listMethod(o, name);
  if (isPlainObject(o)) return dictMethod(o, name);
  return undefined;
}

/**
 * A copy of a value's lists and plain objects (other values are shared), so that a template
 * mutating them (`l.append(x)`) cannot change the caller's data.
 */
export function copyData<T>(v: T): T {
  if (Array.isArray(v)) return v.map(copyData) as T;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = copyData(x);
    return out as T;
  }
  return v;
}
