/**
 * Short forms of the template renderer for its tests (src/core/jinja/render*.test.ts): a
 * renderer over in-memory templates, and "img" as the image whose template is rendered.
 *
 * Every renderer made here renders twice, and both must agree: once compiling each template,
 * once from the compiled code the first kept (CompiledTemplateCache), as a later run with
 * .kbuild/cache/templates does. So the jinja suites and the fuzzing test the cached path too.
 */
import {
  createRenderer,
  type CompiledTemplateCache,
  type Renderer,
  type RendererOptions,
  type TemplateError,
} from '../../src/core/jinja/render.js';

const display = (key: string): string => `images/${key}`;

/**
 * Two renderers over the same templates: `compiling` compiles every template (its cache never
 * hits) and keeps the code; `cached` must find every template it loads in what was kept (it
 * fails the test if it has to compile one).
 */
export function cachePair(): { compiling: CompiledTemplateCache; cached: CompiledTemplateCache } {
  const kept = new Map<string, string>();
  return {
    compiling: { get: () => undefined, set: (key, code) => kept.set(key, code) },
    cached: {
      get: (key) => kept.get(key),
      set: () => {
        throw new Error('the cached renderer compiled a template the compiling one had kept');
      },
    },
  };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function renderer(
  files: Record<string, string> | ReadonlyMap<string, string>,
  opts: Partial<RendererOptions> = {},
): Renderer {
  const pair = cachePair();
  const make = (compiledCache: CompiledTemplateCache): Renderer =>
    createRenderer({
      templates: files instanceof Map ? files : new Map(Object.entries(files)),
      overrides: [],
      plugins: [],
      displayPath: display,
      ...opts,
      compiledCache,
    });
  const compiling = make(pair.compiling);
  const cached = make(pair.cached);
  /** Both renderers' answers, which must be the same; `what` names it in the error. */
  const agree = <T>(what: string, answer: (r: typeof compiling) => T): T => {
    const first = answer(compiling);
    const second = answer(cached);
    if (!same(first, second)) {
      throw new Error(
        `${what} from cached code differs: ${JSON.stringify(second)} vs ${JSON.stringify(first)}`,
      );
    }
    return first;
  };
  return {
    render: (template, context) => agree('rendering', (r) => r.render(template, context)),
    renderString: (source, context, displayPath) =>
      agree('rendering', (r) => r.renderString(source, context, displayPath)),
    lineMap: (template, context, rendered) =>
      agree('line map', (r) => r.lineMap(template, context, rendered)),
  };
}

export const IMAGE = 'img/Dockerfile.j2';

/** Renders `source` as the template of image "img" (with `extra` templates around it). */
export function renderOne(
  source: string,
  context: Record<string, unknown> = {},
  extra: Record<string, string> = {},
): string {
  const result = renderer({ ...extra, [IMAGE]: source }).render(IMAGE, context);
  if (!result.ok) throw new Error(`unexpected template error: ${JSON.stringify(result.error)}`);
  return result.value;
}

/** Renders and returns the output without the final newline render() guarantees. */
export function out(
  source: string,
  context: Record<string, unknown> = {},
  extra: Record<string, string> = {},
): string {
  return renderOne(source, context, extra).replace(/\n$/, '');
}

export function failure(
  source: string,
  context: Record<string, unknown> = {},
  extra: Record<string, string> = {},
): TemplateError {
  const result = renderer({ ...extra, [IMAGE]: source }).render(IMAGE, context);
  if (result.ok) throw new Error(`expected a template error, got ${JSON.stringify(result.value)}`);
  return result.error;
}

/** A template map whose reads are counted, to prove what is compiled when. */
export class CountingMap extends Map<string, string> {
  readonly reads = new Map<string, number>();
  override get(key: string): string | undefined {
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
    return super.get(key);
  }
}

export const MACROS = `{% macro install_packages(packages, chain=False) -%}
{% if packages is sequence and packages|length > 0 -%}
{% if not chain %}RUN {% endif %}{{ distro }}-install {{ packages | join(' ') }}
{%- endif %}
{%- endmacro %}
{% macro broken() %}
  {{ no_such_variable }}
{% endmacro %}
`;

// ---------------------------------------------------------------------------------------------
