/**
 * The template renderer: a nunjucks environment over an in-memory set of Jinja2-style
 * templates (`images/**` keyed by path relative to the images root) plus template overrides.
 * Pure: templates come in as data, nothing is read or written.
 *
 * Semantics are Jinja2's defaults as kolla-build uses them (autoescape off, trim_blocks and
 * lstrip_blocks off, keep_trailing_newline off), with undefined values as errors (Jinja2's
 * StrictUndefined when printed, looked into or filtered). See jinja-preprocess.ts,
 * jinja-parser.ts, jinja-compiler.ts and jinja-filters.ts for what makes nunjucks behave like
 * Jinja2. A rendered Dockerfile ends with exactly one newline.
 *
 * Template names in `extends` / `include` / `import` / `from` resolve, in order, to:
 *  1. a template override, by the path it was given as or its basename;
 *  2. the rendering image's own directory (`{% include "header.j2" %}` from
 *     nova/nova-api/Dockerfile.j2 finds nova/nova-api/header.j2 first);
 *  3. the images root (`{% import "macros.j2" as macros %}` finds macros.j2 from anywhere).
 * Names are resolved to a canonical key before any cache sees them, and each template is
 * compiled once per renderer (so once per run), whichever images use it.
 *
 * Template overrides stack: override[0] extends the image's template, override[1] extends
 * override[0], ...; the last one given is rendered. Each must start with
 * `{% extends parent_template %}`; `parent_template` is bound per level, so `{{ super() }}`
 * reaches the level below. A variable set at the top level of several overrides keeps the
 * value of the last override given.
 */
import { createHash } from 'node:crypto';
import nunjucks from 'nunjucks';
import {
  COMPILER_VERSION,
  CompileError,
  compileTemplate,
  type CompileOptions,
} from './compiler.js';
import {
  jinjaFilterAliases,
  jinjaFilters,
  jinjaGlobals,
  jinjaSignatures,
  jinjaTests,
  undefinedTolerantFilters,
  withSignature,
} from './filters.js';
import { alignLines, readTrace, showLocation } from './line-map.js';
import { preprocessTemplate } from './preprocess.js';
import {
  TemplateFailure,
  cleanMessage,
  createJinjaRuntime,
  findFailure,
  type JinjaRuntime,
} from './runtime.js';
import { clip } from '../clip.js';
import { err, ok, type Result, type TemplateLocation } from '../model.js';
import { copyData, pyTypeName, unwrapString } from './python-values.js';

/**
 * Filters, tests and globals a project adds (kbuild.yaml `plugins`). Filters and tests are
 * called with the nunjucks render Context as `this` (`this.lookup(name)` reads a context
 * variable) and Jinja2 keyword arguments as a trailing object flagged `__keywords: true`.
 */
export interface TemplatePlugin {
  readonly filters?: Readonly<Record<string, (...args: never[]) => unknown>>;
  readonly tests?: Readonly<Record<string, (...args: never[]) => boolean>>;
  readonly globals?: Readonly<Record<string, unknown>>;
}

export interface RendererOptions {
  /** Every template file under the images root, keyed by posix path relative to the images root
   *  ("macros.j2", "base/Dockerfile.j2", "nova/nova-api/Dockerfile.j2", "nova/nova-base/header.j2"). */
  readonly templates: ReadonlyMap<string, string>;
  /** Template override files, in the order given (--template-override, repeatable):
   *  display path (for errors) + source. */
  readonly overrides: readonly { readonly path: string; readonly source: string }[];
  /** Applied in order; a later plugin's filter, test or global of the same name wins. */
  readonly plugins: readonly TemplatePlugin[];
  /** How to show a template key in errors, e.g. key => `images/${key}`. Default: the key. */
  readonly displayPath?: (key: string) => string;
  /** Compiled templates kept between runs; without it every template compiles in every run. */
  readonly compiledCache?: CompiledTemplateCache;
}

/**
 * Compiled templates kept between runs (the port; the CLI's lives in .kbuild/cache/templates):
 * nunjucks' lexer, parser and compiler running cold cost most of a `kbuild graph`, evaluating
 * their output very little. A key is a hash of everything the compiled code depends on here: the
 * template's preprocessed source, its key, its override level, the filters and tests known (and
 * which are strict) and COMPILER_VERSION; an implementation adds what the core cannot see (the
 * jinja layer's code, nunjucks' version). A value is JavaScript the renderer evaluates, so a
 * cache must be as trusted as the templates themselves. `get` and `set` must not throw; a value
 * that does not evaluate to a compiled template is ignored and the template compiled again.
 */
export interface CompiledTemplateCache {
  get(key: string): string | undefined;
  set(key: string, code: string): void;
  /**
   * Runs the compiled `code` of `key` exactly as `new Function(code)()` would (and throws as it
   * would); given, the renderer runs every template's code through it, so that an implementation
   * can keep what the JavaScript engine compiled of it for the next run.
   */
  evaluate?(key: string, code: string): unknown;
}

/** A template problem: the file it is in (display path), 1-based position where known. */
export interface TemplateError {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

export interface Renderer {
  /**
   * Renders the image whose template key is `template` (e.g. "nova/nova-api/Dockerfile.j2")
   * with `context`, through the template overrides. The text ends with exactly one newline.
   */
  render(
    template: string,
    context: Readonly<Record<string, unknown>>,
  ): Result<string, TemplateError>;
  /**
   * Renders a small inline template (tag or image_prefix templates like "{{ distro }}-").
   * Names it includes resolve against overrides and the images root only.
   */
  renderString(
    source: string,
    context: Readonly<Record<string, unknown>>,
    displayPath: string,
  ): Result<string, TemplateError>;
  /**
   * Where each line (0-based index) of `rendered`, what `render(template, context)` gave, was
   * written (line-map.ts). Renders again with tracing on, so call it only when asked (a build
   * failed): a plain render pays only a function call per piece of template data.
   */
  lineMap(
    template: string,
    context: Readonly<Record<string, unknown>>,
    rendered: string,
  ): readonly (TemplateLocation | undefined)[];
}

// Keys that are not template paths start with a NUL, which no path contains.
const OVERRIDE_PREFIX = '\0override:';
const PARENT_PREFIX = '\0parent:';
const STRING_PREFIX = '\0string:';
const EMPTY_KEY = `${STRING_PREFIX}\0`;

type TemplateCallback = (err: unknown, tmpl?: nunjucks.Template) => void;
type GetTemplate = (
  name: unknown,
  eagerCompile?: unknown,
  parentName?: unknown,
  ignoreMissing?: unknown,
  cb?: TemplateCallback,
) => nunjucks.Template | undefined;

/** The Environment members kbuild reads or replaces (untyped in @types/nunjucks). */
interface EnvInternals {
  filters: Record<string, unknown>;
  tests: Record<string, unknown>;
  getTemplate: GetTemplate;
  kbuild: JinjaRuntime;
}

/** `a/./b/../c` -> `a/c`; undefined when it leaves the root or is empty. */
function normalizeKey(name: string): string | undefined {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out.length > 0 ? out.join('/') : undefined;
}

function dirOf(key: string): string {
  const i = key.lastIndexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Runs a compiled template's code: `new Function(code)()`, as nunjucks runs precompiled code. */
type CodeRunner = (code: string) => unknown;
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- nunjucks runs compiled templates the same way
const runCode: CodeRunner = (code) => (new Function(code) as () => unknown)();

/** What running a compiled template's code gives (nunjucks' precompiled form). */
function evaluate(code: string, run: CodeRunner): { root: unknown } {
  const props = run(code);
  if (typeof props !== 'object' || props === null || !('root' in props)) {
    throw new Error('no root function');
  }
  if (typeof props.root !== 'function') throw new Error('no root function');
  return props;
}

/** Evaluated cached code, or undefined when it is not a compiled template (then: compile). */
function evaluateCached(code: string | undefined, run: CodeRunner): { root: unknown } | undefined {
  if (code === undefined) return undefined;
  try {
    return evaluate(code, run);
  } catch {
    return undefined;
  }
}

/** Creates a renderer; create one per run so shared templates compile once. */
export function createRenderer(opts: RendererOptions): Renderer {
  const displayPath = opts.displayPath ?? ((key: string): string => key);
  const env = new nunjucks.Environment([], {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: false,
    lstripBlocks: false,
    // Keep error objects as they are thrown, so their location survives (jinja-runtime.ts).
    dev: true,
  });
  const internals = env as unknown as EnvInternals;
  internals.kbuild = createJinjaRuntime();

  for (const [name, params] of Object.entries(jinjaSignatures)) {
    const builtin = internals.filters[name] as Parameters<typeof withSignature>[2];
    env.addFilter(name, withSignature(name, params, builtin));
  }
  for (const [name, filter] of Object.entries(jinjaFilters)) env.addFilter(name, filter);
  for (const [alias, target] of Object.entries(jinjaFilterAliases)) {
    env.addFilter(alias, internals.filters[target] as (...args: unknown[]) => unknown);
  }
  for (const [name, test] of Object.entries(jinjaTests)) internals.tests[name] = test;
  for (const [name, value] of Object.entries(jinjaGlobals)) env.addGlobal(name, value);
  const pluginFilters = new Set<string>();
  for (const plugin of opts.plugins) {
    for (const [name, filter] of Object.entries(plugin.filters ?? {})) {
      env.addFilter(name, filter as (...args: unknown[]) => unknown);
      pluginFilters.add(name);
    }
    for (const [name, test] of Object.entries(plugin.tests ?? {})) internals.tests[name] = test;
    for (const [name, value] of Object.entries(plugin.globals ?? {})) env.addGlobal(name, value);
  }

  const compileOptions: CompileOptions = {
    hasFilter: (name) => hasOwn(internals.filters, name),
    hasTest: (name) => hasOwn(internals.tests, name),
    isStrictFilter: (name) => !undefinedTolerantFilters.has(name) && !pluginFilters.has(name),
  };
  const compiledCache = opts.compiledCache;
  /** Everything of this environment the compiled code depends on (see CompiledTemplateCache). */
  let environmentKey: string | undefined;
  function cacheKey(key: string, level: number | undefined, source: string): string {
    environmentKey ??= JSON.stringify([
      COMPILER_VERSION,
      Object.keys(internals.filters)
        .sort()
        .map((n) => (compileOptions.isStrictFilter(n) ? n : `~${n}`)),
      Object.keys(internals.tests).sort(),
    ]);
    return createHash('sha256')
      .update(environmentKey)
      .update('\0')
      .update(key)
      .update('\0')
      .update(level === undefined ? '' : String(level))
      .update('\0')
      .update(source)
      .digest('hex');
  }

  const overrideKeys = opts.overrides.map((_, i) => `${OVERRIDE_PREFIX}${i}`);
  const overrideByName = new Map<string, string>();
  opts.overrides.forEach((o, i) => {
    const key = overrideKeys[i] ?? '';
    overrideByName.set(baseOf(o.path), key);
    overrideByName.set(o.path, key);
  });
  const stringSources = new Map<string, string>([[EMPTY_KEY, '']]);
  const stringDisplay = new Map<string, string>();
  /** Compiled templates (or why they do not compile), by canonical key. */
  const cache = new Map<string, nunjucks.Template | TemplateFailure>();
  /** The image being rendered: what "the image's own directory" and level 0's parent mean. */
  let current: { readonly imageKey: string; readonly imageDir: string } | undefined;

  const overrideLevel = (key: string): number | undefined =>
    key.startsWith(OVERRIDE_PREFIX) ? Number(key.slice(OVERRIDE_PREFIX.length)) : undefined;

  function displayKey(key: string): string {
    const level = overrideLevel(key);
    if (level !== undefined) return opts.overrides[level]?.path ?? key;
    if (key.startsWith(STRING_PREFIX)) return stringDisplay.get(key) ?? '<string>';
    return displayPath(key);
  }

  function compileKey(key: string): nunjucks.Template {
    const level = overrideLevel(key);
    const raw =
      level !== undefined
        ? opts.overrides[level]?.source
        : key.startsWith(STRING_PREFIX)
          ? stringSources.get(key)
          : opts.templates.get(key);
    if (raw === undefined)
      throw new TemplateFailure(key, undefined, undefined, 'template not found');
    const pre = preprocessTemplate(
      raw,
      level === undefined ? undefined : `${PARENT_PREFIX}${level}`,
    );
    if (level !== undefined && !pre.extendsParent) {
      throw new TemplateFailure(
        key,
        1,
        1,
        'a template override must extend the image template: start it with {% extends parent_template %}',
      );
    }
    const keyed = compiledCache ? cacheKey(key, level, pre.source) : undefined;
    const viaCache =
      keyed !== undefined ? compiledCache?.evaluate?.bind(compiledCache, keyed) : undefined;
    const run = viaCache ?? runCode;
    const cached = evaluateCached(keyed !== undefined ? compiledCache?.get(keyed) : undefined, run);
    if (cached) return templateOf(cached, key);
    let code: string;
    try {
      code = compileTemplate(pre.source, key, {
        ...compileOptions,
        ...(level !== undefined ? { overrideLevel: level } : {}),
      });
    } catch (e) {
      if (e instanceof CompileError) {
        throw new TemplateFailure(key, e.line, e.column, cleanMessage(e.message), { cause: e });
      }
      throw e;
    }
    let props: { root: unknown };
    try {
      props = evaluate(code, run);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new TemplateFailure(
        key,
        undefined,
        undefined,
        `internal error: compiled template is invalid (${why})`,
        {
          cause: e,
        },
      );
    }
    // Kept only once it evaluated: what is cached is known to load.
    if (keyed !== undefined) compiledCache?.set(keyed, code);
    return templateOf(props, key);
  }

  function templateOf(props: { root: unknown }, key: string): nunjucks.Template {
    return new nunjucks.Template({ type: 'code', obj: props } as unknown as string, env, key, true);
  }

  /** The compiled template of a canonical key, compiled at most once. */
  function load(key: string): nunjucks.Template {
    const hit = cache.get(key);
    if (hit instanceof TemplateFailure) throw hit;
    if (hit) return hit;
    try {
      const tmpl = compileKey(key);
      cache.set(key, tmpl);
      return tmpl;
    } catch (e) {
      if (e instanceof TemplateFailure) cache.set(key, e);
      throw e;
    }
  }

  /** The canonical key a name used in a template refers to, in search order. */
  function resolve(name: string): string | undefined {
    if (name.startsWith(PARENT_PREFIX)) {
      const level = Number(name.slice(PARENT_PREFIX.length));
      return level === 0 ? current?.imageKey : overrideKeys[level - 1];
    }
    const override = overrideByName.get(name);
    if (override !== undefined) return override;
    if (current && current.imageDir !== '') {
      const local = normalizeKey(`${current.imageDir}/${name}`);
      if (local !== undefined && opts.templates.has(local)) return local;
    }
    const root = normalizeKey(name);
    return root !== undefined && opts.templates.has(root) ? root : undefined;
  }

  /**
   * Says what was really looked for: a name is tried from the image's directory and from the
   * images root, except where it climbs out of the images directory (never followed), and only
   * among the templates (the *.j2 files): a file of another name is there but no template.
   */
  function notFound(names: readonly string[]): Error {
    const root = displayPath('') || 'the images root';
    const looked: string[] = [];
    const left: string[] = [];
    for (const n of names) {
      const from = current && current.imageDir !== '' ? [`${current.imageDir}/`, ''] : [''];
      const outside: string[] = [];
      for (const dir of from) {
        const key = normalizeKey(`${dir}${n}`);
        if (key !== undefined) looked.push(displayPath(key));
        else outside.push(dir === '' ? root : displayPath(dir));
      }
      if (outside.length)
        left.push(`'${clip(n)}' leaves the images directory from ${outside.join(' and from ')}`);
    }
    const what = names.map((n) => `'${clip(n)}'`).join(', ');
    const where = [...(looked.length ? [`looked for ${looked.join(', ')}`] : []), ...left].join(
      '; ',
    );
    const nothing = looked.length ? '' : ': nothing was looked for';
    const templatesOnly = names.some((n) => !n.endsWith('.j2'))
      ? ` — only *.j2 files under ${root} are templates`
      : '';
    return new Error(`template ${what} not found (${where}${nothing})${templatesOnly}`);
  }

  function lookup(name: unknown, ignoreMissing: boolean): nunjucks.Template {
    if (name instanceof nunjucks.Template) return name;
    const names = (Array.isArray(name) ? (name as unknown[]) : [name]).map((n) => {
      const s = unwrapString(n);
      if (typeof s !== 'string')
        throw new Error(`template names must be strings, got ${pyTypeName(s)}`);
      return s;
    });
    for (const n of names) {
      const key = resolve(n);
      if (key !== undefined) return load(key);
    }
    if (ignoreMissing) return load(EMPTY_KEY);
    throw notFound(names);
  }

  // Compiled templates call env.getTemplate(name, eager, parentName, ignoreMissing, cb) for
  // extends / include / import / from; resolve before nunjucks' own (name-keyed) cache could.
  internals.getTemplate = (name, _eager, _parentName, ignoreMissing, cb) => {
    let tmpl: nunjucks.Template | undefined;
    let failure: { error: unknown } | undefined;
    try {
      tmpl = lookup(name, ignoreMissing === true);
    } catch (e) {
      failure = { error: e };
    }
    // Outside the try: the callback goes on rendering, and its errors are not ours to catch.
    if (cb) {
      if (failure) cb(failure.error);
      else cb(null, tmpl);
      return undefined;
    }
    if (failure) throw failure.error;
    return tmpl;
  };

  function toTemplateError(e: unknown, fallbackKey: string): TemplateError {
    const f = findFailure(e);
    let file: string;
    let line: number | undefined;
    let column: number | undefined;
    let message: string;
    if (f) {
      ({ line, column } = f);
      file = displayKey(f.file);
      message = f.detail;
    } else {
      // Not located by kbuild: fall back on nunjucks' "(path) [Line N, Column M]".
      const text = e instanceof Error ? e.message : String(e);
      const m = /\(([^()\n]*)\) \[Line (\d+)(?:, Column (\d+))?\]/.exec(text);
      file = displayKey(m?.[1] ?? fallbackKey);
      line = m?.[2] !== undefined ? Number(m[2]) : undefined;
      column = m?.[3] !== undefined ? Number(m[3]) : undefined;
      message = cleanMessage(text);
    }
    return {
      file,
      ...(line !== undefined ? { line } : {}),
      ...(column !== undefined ? { column } : {}),
      message,
    };
  }

  function renderKey(
    key: string,
    image: typeof current,
    context: Readonly<Record<string, unknown>>,
  ): Result<string, TemplateError> {
    const previous = current;
    current = image;
    try {
      // A copy: templates may mutate lists and dicts (`l.append(x)`); the caller's context is
      // shared by every image of the run.
      return ok(load(key).render(copyData(context)));
    } catch (e) {
      return err(toTemplateError(e, key));
    } finally {
      current = previous;
    }
  }

  return {
    render(template, context) {
      if (!opts.templates.has(template)) {
        return err({ file: displayPath(template), message: 'template not found' });
      }
      const entry = overrideKeys[overrideKeys.length - 1] ?? template;
      const image = { imageKey: template, imageDir: dirOf(template) };
      const result = renderKey(entry, image, context);
      return result.ok ? ok(result.value.replace(/\n*$/, '\n')) : result;
    },

    lineMap(template, context, rendered) {
      const plain = rendered.split('\n');
      if (!opts.templates.has(template)) return plain.map(() => undefined);
      const entry = overrideKeys[overrideKeys.length - 1] ?? template;
      const image = { imageKey: template, imageDir: dirOf(template) };
      internals.kbuild.setTracing(true);
      let traced: Result<string, TemplateError>;
      let locs: ReturnType<JinjaRuntime['traceLocations']>;
      try {
        traced = renderKey(entry, image, context);
        locs = internals.kbuild.traceLocations();
      } finally {
        internals.kbuild.setTracing(false);
      }
      if (!traced.ok) return plain.map(() => undefined);
      const read = readTrace(traced.value, locs);
      const shown = read.lines.map((l) => (l ? showLocation(l, displayKey) : undefined));
      const text = read.text.replace(/\n*$/, '\n');
      if (text === rendered) return plain.map((_, i) => shown[i]);
      // The template saw the markers and rendered otherwise: keep the lines both renders agree on.
      return alignLines(plain, text.split('\n'), shown);
    },

    renderString(source, context, display) {
      const key = `${STRING_PREFIX}${display}\0${source}`;
      stringSources.set(key, source);
      stringDisplay.set(key, display);
      return renderKey(key, undefined, context);
    },
  };
}
