/**
 * Short forms of the template renderer for its tests (src/core/jinja/render*.test.ts): a
 * renderer over in-memory templates, and "img" as the image whose template is rendered.
 */
import {
  createRenderer,
  type Renderer,
  type RendererOptions,
  type TemplateError,
} from '../../src/core/jinja/render.js';

const display = (key: string): string => `images/${key}`;

export function renderer(
  files: Record<string, string>,
  opts: Partial<RendererOptions> = {},
): Renderer {
  return createRenderer({
    templates: new Map(Object.entries(files)),
    overrides: [],
    plugins: [],
    displayPath: display,
    ...opts,
  });
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
