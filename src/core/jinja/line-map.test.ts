/** Line maps: which template position wrote each line of a rendered Dockerfile. */
import { describe, expect, it } from 'vitest';
import { formatTemplateLocation } from '../model.js';
import type { RendererOptions } from './render.js';
import { alignLines } from './line-map.js';
import { renderer } from '../../../test/helpers/render-templates.js';

/** Renders `image` and gives each rendered line with where it came from. */
function mapped(
  files: Record<string, string>,
  image: string,
  context: Record<string, unknown> = {},
  opts: Partial<RendererOptions> = {},
): string[] {
  const r = renderer(files, opts);
  const out = r.render(image, context);
  if (!out.ok) throw new Error(out.error.message);
  const map = r.lineMap(image, context, out.value);
  return out.value
    .split('\n')
    .slice(0, -1)
    .map((line, i) => {
      const at = map[i];
      return `${line} <- ${at ? formatTemplateLocation(at) : '?'}`;
    });
}

const IMG = 'hello/Dockerfile.j2';

describe('line map', () => {
  it('maps lines of the template itself, through tags, loops and whitespace control', () => {
    const tpl = [
      'FROM {{ base }}', // 1
      '{% if true %}', // 2
      'RUN one', // 3
      '{% endif %}', // 4
      '{% for p in pkgs -%}', // 5
      '', // 6
      '  RUN install {{ p }}', // 7
      '{% endfor %}', // 8
      '{#- a comment -#}', // 9
      '', // 10
      'RUN false', // 11
    ].join('\n');
    expect(mapped({ [IMG]: tpl }, IMG, { base: 'debian', pkgs: ['a', 'b'] })).toEqual([
      'FROM debian <- images/hello/Dockerfile.j2:1',
      ' <- images/hello/Dockerfile.j2:2',
      'RUN one <- images/hello/Dockerfile.j2:3',
      ' <- images/hello/Dockerfile.j2:4',
      'RUN install a <- images/hello/Dockerfile.j2:7',
      'RUN install b <- images/hello/Dockerfile.j2:7',
      'RUN false <- images/hello/Dockerfile.j2:11',
    ]);
  });

  it('maps included lines to the included file, and back after it', () => {
    const files = {
      'header.j2': 'LABEL a=b\n\nLABEL c=d\n',
      [IMG]: 'FROM x\n{% include "header.j2" %}\nRUN false\n',
    };
    expect(mapped(files, IMG)).toEqual([
      'FROM x <- images/hello/Dockerfile.j2:1',
      'LABEL a=b <- images/header.j2:1',
      ' <- images/header.j2:2',
      'LABEL c=d <- images/header.j2:3',
      'RUN false <- images/hello/Dockerfile.j2:3',
    ]);
  });

  it("maps a macro's lines to its call site and to the macro's own line", () => {
    const files = {
      'macros.j2': [
        '{% macro install(pkgs) -%}', // 1
        'RUN apt-get update \\', // 2
        '    && apt-get install {{ pkgs | join(" ") }}', // 3
        '{%- endmacro %}', // 4
        '{% macro twice(c) %}{{ install([c]) }}', // 5
        '{{ install([c, c]) }}{% endmacro %}', // 6
      ].join('\n'),
      [IMG]: [
        '{% import "macros.j2" as m %}', // 1
        'FROM x', // 2
        '{{ m.install(["curl"]) }}', // 3
        '{% from "macros.j2" import twice %}', // 4
        '{{ twice("z") }}', // 5
      ].join('\n'),
    };
    expect(mapped(files, IMG)).toEqual([
      ' <- images/hello/Dockerfile.j2:1',
      'FROM x <- images/hello/Dockerfile.j2:2',
      'RUN apt-get update \\ <- images/hello/Dockerfile.j2:3 (macro install at images/macros.j2:2)',
      '    && apt-get install curl <- images/hello/Dockerfile.j2:3 (macro install at images/macros.j2:3)',
      ' <- images/hello/Dockerfile.j2:4',
      'RUN apt-get update \\ <- images/hello/Dockerfile.j2:5 (macro install at images/macros.j2:2)',
      '    && apt-get install z <- images/hello/Dockerfile.j2:5 (macro install at images/macros.j2:3)',
      'RUN apt-get update \\ <- images/hello/Dockerfile.j2:5 (macro install at images/macros.j2:2)',
      '    && apt-get install z z <- images/hello/Dockerfile.j2:5 (macro install at images/macros.j2:3)',
    ]);
  });

  it("maps a {% call %} body to the caller's file", () => {
    const files = {
      [IMG]: [
        '{% macro wrap() %}# begin', // 1
        '{{ caller() }}', // 2
        '# end{% endmacro %}FROM x', // 3
        '{% call wrap() %}', // 4
        'RUN false', // 5
        '{% endcall %}', // 6
      ].join('\n'),
    };
    expect(mapped(files, IMG)).toEqual([
      'FROM x <- images/hello/Dockerfile.j2:3',
      '# begin <- images/hello/Dockerfile.j2:4 (macro wrap at images/hello/Dockerfile.j2:1)',
      ' <- images/hello/Dockerfile.j2:4',
      'RUN false <- images/hello/Dockerfile.j2:5',
      ' <- images/hello/Dockerfile.j2:4 (macro wrap at images/hello/Dockerfile.j2:2)',
      '# end <- images/hello/Dockerfile.j2:4 (macro wrap at images/hello/Dockerfile.j2:3)',
    ]);
  });

  it('maps lines of blocks a template override replaces to the override file', () => {
    const files = {
      [IMG]: 'FROM x\n{% block footer %}RUN true{% endblock %}\nRUN last\n',
    };
    const overrides = [
      {
        path: 'overrides/site.j2',
        source:
          '{% extends parent_template %}\n{% block footer %}\nRUN false\n{{ super() }}{% endblock %}\n',
      },
    ];
    expect(mapped(files, IMG, {}, { overrides })).toEqual([
      'FROM x <- images/hello/Dockerfile.j2:1',
      ' <- overrides/site.j2:2',
      'RUN false <- overrides/site.j2:3',
      'RUN true <- images/hello/Dockerfile.j2:2',
      'RUN last <- images/hello/Dockerfile.j2:3',
    ]);
  });

  it('keeps the lines both renders agree on where a template inspects printed text', () => {
    const files = {
      [IMG]: [
        '{% macro m() %}\nRUN a\n{% endmacro %}FROM x', // 1-3
        '{{ m() | trim }}', // 4
        '{% if m() | length > 7 %}RUN long{% endif %}', // 5
        'RUN false', // 6
      ].join('\n'),
    };
    const lines = mapped(files, IMG);
    expect(lines[0]).toBe('FROM x <- images/hello/Dockerfile.j2:3');
    expect(lines[lines.length - 1]).toBe('RUN false <- images/hello/Dockerfile.j2:6');
  });
});

describe('alignLines', () => {
  it('keeps the common start and end, and lines found once in each between', () => {
    expect(
      alignLines(['a', 'b', 'x', 'c', 'z'], ['a', 'c', 'y', 'x', 'z'], [1, 2, 3, 4, 5]),
    ).toEqual([1, undefined, 4, 2, 5]);
  });
});
