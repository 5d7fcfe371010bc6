/**
 * The functions compiled templates call at render time (as `env.kbuild.<name>`, see
 * jinja-compiler.ts): strict undefined checks that name the variable, Python semantics for
 * operators and truthiness, and error location that survives nunjucks' callback plumbing.
 */
import {
  isPlainObject,
  pyAdd,
  pyEq,
  pyMethod,
  pyMod,
  pyMul,
  pySlice,
  pyStr,
  pyTruthy,
  pyTypeName,
  tuple,
  unwrapString,
} from './python-values.js';

/** A source location compiled into a template: template key, 1-based line/column, and what the
 *  expression(s) there look like, for messages. */
export interface Loc {
  readonly f: string;
  readonly l: number;
  readonly c: number;
  readonly d: string;
  readonly d2?: string;
  /** The macro whose body holds this position, if any (for line maps). */
  readonly m?: string;
}

/**
 * Line-map tracing (see line-map.ts): while on, template text and printed values carry invisible
 * markers naming where they came from. `\x01t<id>\x02` starts text of the template data at
 * location <id>, `\x01b<id>\x02` … `\x01e\x02` wraps a printed value (a macro call's output
 * nests inside). Ids index the table `traceLocations` returns.
 */
export const MARK = '\x01';
export const MARK_END = '\x02';
// eslint-disable-next-line no-control-regex -- the markers are control characters on purpose
const MARKED = /\x01[^\x02]*\x02/g;

/** A value with the line-map markers taken out (strings and nunjucks' SafeStrings). */
function unmarked(value: unknown): unknown {
  if (typeof value === 'string') return value.includes(MARK) ? value.replace(MARKED, '') : value;
  if (value !== null && typeof value === 'object' && 'val' in value) {
    const s = (value as { toString(): string }).toString();
    return s.includes(MARK) ? s.replace(MARKED, '') : value;
  }
  return value;
}

/**
 * A template error with the template (by key) and position where it happened. Created at the
 * innermost point that knows the location; outer templates pass it on unchanged.
 */
export class TemplateFailure extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = 'TemplateFailure';
  }
}

/** The TemplateFailure in an error's cause chain (nunjucks wraps errors it did not create). */
export function findFailure(e: unknown): TemplateFailure | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 20 && cur !== undefined && cur !== null; depth++) {
    if (cur instanceof TemplateFailure) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** An error message without nunjucks' decorations ("(path) [Line 1, Column 2]", "parseFor: "). */
export function cleanMessage(message: string): string {
  let m = message;
  for (;;) {
    const next = m
      .replace(/^\s*\([^()\n]*\)(?: \[Line \d+(?:, Column \d+)?\])?\n\s*/, '')
      .replace(/^Template render error: /, '')
      .replace(/^Error: /, '')
      .replace(/^(?:parse|compile)\w*: /, '');
    if (next === m) return m.trim();
    m = next;
  }
}

function located(loc: Loc, message: string): TemplateFailure {
  return new TemplateFailure(loc.f, loc.l, loc.c, message);
}

function undefinedError(loc: Loc, desc: string): TemplateFailure {
  return located(loc, `'${desc}' is undefined`);
}

/** Property names never looked up on template values (prototype pollution / escape hatches). */
const BLOCKED = new Set([
  '__proto__',
  'constructor',
  'prototype',
  '__defineGetter__',
  '__lookupGetter__',
]);

type Fn = (...args: unknown[]) => unknown;

/** What the nunjucks Context offers to runtime helpers. */
interface ContextLike {
  setVariable(name: string, value: unknown): void;
}

export interface JinjaRuntime {
  out(value: unknown, loc: Loc): string;
  /** Template data as written (marked where it came from while tracing). */
  text(data: string, loc: Loc): string;
  /** Starts (with a fresh table) or stops marking output for a line map. */
  setTracing(on: boolean): void;
  /** The locations the markers written since tracing started refer to, by id. */
  traceLocations(): readonly Loc[];
  defined(value: unknown, loc: Loc): unknown;
  member(obj: unknown, key: unknown, loc: Loc): unknown;
  truthy(value: unknown): boolean;
  compare(left: unknown, ops: readonly unknown[]): boolean;
  add(a: unknown, b: unknown, loc: Loc): unknown;
  mul(a: unknown, b: unknown, loc: Loc): unknown;
  mod(a: unknown, b: unknown, loc: Loc): unknown;
  concat(a: unknown, b: unknown, loc: Loc): string;
  tuple(items: unknown[]): unknown[];
  /** `f(*items)`: the items as positional arguments (a string's characters, a dict's keys). */
  star(items: unknown, loc: Loc): unknown[];
  slice(seq: unknown, start: unknown, stop: unknown, step: unknown, loc: Loc): unknown;
  iter(items: unknown, loc: Loc): unknown;
  loopFilter(items: unknown, keep: Fn, targets: number, loc: Loc): unknown[];
  locate(e: unknown, lineno0: number, colno0: number, file: string): unknown;
  wrapMacro(fn: Fn, file: string, position: () => [number, number]): Fn;
  shadowed(context: object, level: number, name: string): boolean;
  setFromOverride(context: ContextLike, level: number, name: string, value: unknown): void;
}

/** Creates the runtime one renderer's compiled templates share. */
export function createJinjaRuntime(): JinjaRuntime {
  // Which override level last set each top-level variable, per render (context).
  const overrideSets = new WeakMap<object, Map<string, number>>();

  const bothDefined = (a: unknown, b: unknown, loc: Loc): void => {
    if (a === undefined) throw undefinedError(loc, loc.d);
    if (b === undefined) throw undefinedError(loc, loc.d2 ?? loc.d);
  };

  const locate = (e: unknown, lineno0: number, colno0: number, file: string): unknown => {
    if (findFailure(e)) return e;
    const err = e instanceof Error ? e : new Error(String(e));
    // nunjucks' own TemplateErrors carry a 1-based position of where they were raised.
    const { lineno, colno } = err as { lineno?: unknown; colno?: unknown };
    const hasPos = typeof lineno === 'number' && lineno > 0;
    // JavaScript's stack overflow, in template terms (Jinja2's RecursionError).
    const message =
      err instanceof RangeError && /call stack/i.test(err.message)
        ? 'maximum recursion depth exceeded: a macro, include, import or extends that never stops calling itself'
        : cleanMessage(err.message);
    return new TemplateFailure(
      file,
      hasPos ? lineno : lineno0 + 1,
      hasPos ? (typeof colno === 'number' && colno > 0 ? colno : undefined) : colno0 + 1,
      message,
      { cause: err },
    );
  };

  let tracing = false;
  let traceIds = new Map<Loc, number>();
  let traceLocs: Loc[] = [];
  const traceId = (loc: Loc): number => {
    let id = traceIds.get(loc);
    if (id === undefined) {
      id = traceLocs.length;
      traceLocs.push(loc);
      traceIds.set(loc, id);
    }
    return id;
  };

  return {
    out(value, loc) {
      if (value === undefined) throw undefinedError(loc, loc.d);
      if (!tracing) return pyStr(value);
      return `${MARK}b${traceId(loc)}${MARK_END}${pyStr(value)}${MARK}e${MARK_END}`;
    },

    text(data, loc) {
      return tracing ? `${MARK}t${traceId(loc)}${MARK_END}${data}` : data;
    },

    setTracing(on) {
      tracing = on;
      traceIds = new Map();
      if (on) traceLocs = [];
    },

    traceLocations: () => traceLocs,

    defined(value, loc) {
      if (value === undefined) throw undefinedError(loc, loc.d);
      return value;
    },

    member(obj, key, loc) {
      if (obj === undefined) throw undefinedError(loc, loc.d);
      if (obj === null) return undefined;
      const o = unwrapString(obj);
      const k = unwrapString(key);
      if (typeof k === 'number' && (Array.isArray(o) || typeof o === 'string')) {
        const seq: readonly unknown[] | string = o;
        return seq[k < 0 ? seq.length + k : k];
      }
      if (typeof k !== 'string' && typeof k !== 'number') return undefined;
      const name = String(k);
      if (typeof o === 'object' || typeof o === 'function') {
        if (Object.prototype.hasOwnProperty.call(o, name)) {
          const v: unknown = (o as Record<string, unknown>)[name];
          return typeof v === 'function' ? (v as Fn).bind(o) : v;
        }
      }
      const method = pyMethod(o, name);
      if (method) return method;
      if (BLOCKED.has(name) || isPlainObject(o)) return undefined;
      const v: unknown = (Object(o) as Record<string, unknown>)[name];
      return typeof v === 'function' ? (v as Fn).bind(o) : v;
    },

    // While tracing, values are compared and tested without their markers.
    truthy: (value) => pyTruthy(tracing ? unmarked(value) : value),

    compare(left, ops) {
      let cur = unwrapString(tracing ? unmarked(left) : left);
      for (let i = 0; i + 1 < ops.length; i += 2) {
        const op = ops[i] as string;
        const right = unwrapString(tracing ? unmarked(ops[i + 1]) : ops[i + 1]);
        const a = cur as number;
        const b = right as number;
        let res: boolean;
        switch (op) {
          case '==':
            res = pyEq(cur, right);
            break;
          case '!=':
            res = !pyEq(cur, right);
            break;
          case '===':
            res = cur === right;
            break;
          case '!==':
            res = cur !== right;
            break;
          case '<':
            res = a < b;
            break;
          case '>':
            res = a > b;
            break;
          case '<=':
            res = a <= b;
            break;
          case '>=':
            res = a >= b;
            break;
          default:
            throw new Error(`unknown comparison operator ${op}`);
        }
        if (!res) return false;
        cur = right;
      }
      return true;
    },

    add(a, b, loc) {
      bothDefined(a, b, loc);
      return pyAdd(unwrapString(a), unwrapString(b));
    },

    mul(a, b, loc) {
      bothDefined(a, b, loc);
      try {
        return pyMul(a, b);
      } catch (e) {
        throw located(loc, e instanceof Error ? e.message : String(e));
      }
    },

    mod(a, b, loc) {
      bothDefined(a, b, loc);
      try {
        return pyMod(a, b);
      } catch (e) {
        throw located(loc, e instanceof Error ? e.message : String(e));
      }
    },

    concat(a, b, loc) {
      bothDefined(a, b, loc);
      return pyStr(a) + pyStr(b);
    },

    tuple,

    star(items, loc) {
      if (items === undefined) throw undefinedError(loc, loc.d);
      const v = unwrapString(items);
      if (Array.isArray(v)) return v as unknown[];
      if (typeof v === 'string') return [...v];
      if (isPlainObject(v)) return Object.keys(v);
      throw located(loc, `Value after * must be an iterable, not ${pyTypeName(v)}`);
    },

    slice(seq, start, stop, step, loc) {
      if (seq === undefined) throw undefinedError(loc, loc.d);
      try {
        return pySlice(seq, start, stop, step);
      } catch (e) {
        throw located(loc, e instanceof Error ? e.message : String(e));
      }
    },

    iter(items, _loc) {
      // `{% for k in dict %}` iterates the keys; nunjucks would need two loop variables.
      return isPlainObject(items) ? Object.keys(items) : items;
    },

    loopFilter(items, keep, targets, loc) {
      if (items === undefined) throw undefinedError(loc, loc.d);
      const x = unwrapString(items);
      let list: unknown[];
      if (Array.isArray(x)) list = x;
      else if (typeof x === 'string') list = Array.from(x);
      else if (isPlainObject(x)) list = targets > 1 ? Object.entries(x) : Object.keys(x);
      else throw located(loc, `'${loc.d}' is not iterable`);
      // `keep` is the condition compiled as a macro over the loop variable(s); it prints "1".
      return list.filter((item) => {
        const args = targets > 1 && Array.isArray(item) ? (item as unknown[]) : [item];
        const kept = String(keep(...args));
        return (tracing ? String(unmarked(kept)) : kept) === '1';
      });
    },

    locate,

    wrapMacro(fn, file, position) {
      return function (this: unknown, ...args: unknown[]): unknown {
        try {
          return fn.apply(this, args);
        } catch (e) {
          const [l, c] = position();
          throw locate(e, l, c, file);
        }
      };
    },

    shadowed(context, level, name) {
      const by = overrideSets.get(context)?.get(name);
      return by !== undefined && by > level;
    },

    setFromOverride(context, level, name, value) {
      let sets = overrideSets.get(context);
      if (!sets) {
        sets = new Map();
        overrideSets.set(context, sets);
      }
      const by = sets.get(name);
      if (by !== undefined && by > level) return;
      sets.set(name, level);
      context.setVariable(name, value);
    },
  };
}
