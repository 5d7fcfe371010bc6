/**
 * Tests of the template renderer. Expected outputs of the Jinja2-compatibility tests were checked
 * against Jinja2 3.1 with its default settings (what kolla-build uses), except where a test says
 * kbuild deliberately differs (undefined values are errors).
 */
import { describe, expect, it } from 'vitest';
import {
  createRenderer,
  type Renderer,
  type RendererOptions,
  type TemplateError,
} from './render.js';

const display = (key: string): string => `images/${key}`;

function renderer(files: Record<string, string>, opts: Partial<RendererOptions> = {}): Renderer {
  return createRenderer({
    templates: new Map(Object.entries(files)),
    overrides: [],
    plugins: [],
    displayPath: display,
    ...opts,
  });
}

const IMAGE = 'img/Dockerfile.j2';

/** Renders `source` as the template of image "img" (with `extra` templates around it). */
function renderOne(
  source: string,
  context: Record<string, unknown> = {},
  extra: Record<string, string> = {},
): string {
  const result = renderer({ ...extra, [IMAGE]: source }).render(IMAGE, context);
  if (!result.ok) throw new Error(`unexpected template error: ${JSON.stringify(result.error)}`);
  return result.value;
}

/** Renders and returns the output without the final newline render() guarantees. */
function out(
  source: string,
  context: Record<string, unknown> = {},
  extra: Record<string, string> = {},
): string {
  return renderOne(source, context, extra).replace(/\n$/, '');
}

function failure(
  source: string,
  context: Record<string, unknown> = {},
  extra: Record<string, string> = {},
): TemplateError {
  const result = renderer({ ...extra, [IMAGE]: source }).render(IMAGE, context);
  if (result.ok) throw new Error(`expected a template error, got ${JSON.stringify(result.value)}`);
  return result.error;
}

/** A template map whose reads are counted, to prove what is compiled when. */
class CountingMap extends Map<string, string> {
  readonly reads = new Map<string, number>();
  override get(key: string): string | undefined {
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
    return super.get(key);
  }
}

const MACROS = `{% macro install_packages(packages, chain=False) -%}
{% if packages is sequence and packages|length > 0 -%}
{% if not chain %}RUN {% endif %}{{ distro }}-install {{ packages | join(' ') }}
{%- endif %}
{%- endmacro %}
{% macro broken() %}
  {{ no_such_variable }}
{% endmacro %}
`;

// ---------------------------------------------------------------------------------------------

describe('environment', () => {
  it('does not escape HTML', () => {
    expect(out(`{{ '<a href="x">&</a>' }}`)).toBe('<a href="x">&</a>');
  });

  it('ends a rendered Dockerfile with exactly one newline', () => {
    expect(renderOne('FROM a')).toBe('FROM a\n');
    expect(renderOne('FROM a\n')).toBe('FROM a\n');
    expect(renderOne('FROM a\n\n\n{% if false %}x{% endif %}\n\n')).toBe('FROM a\n');
  });

  it('keeps block tags and the whitespace around them (trim_blocks and lstrip_blocks off)', () => {
    expect(out('a\n  {% if true %}\nb\n  {% endif %}\nc')).toBe('a\n  \nb\n  \nc');
  });

  it('drops the trailing newline of included files (keep_trailing_newline off)', () => {
    expect(out('{% include "header.j2" %}\nFROM a', {}, { 'header.j2': '# header\n' })).toBe(
      '# header\nFROM a',
    );
  });

  it('normalises CRLF line endings', () => {
    expect(out('a\r\nb\r\n')).toBe('a\nb');
  });

  it('renders inline templates for tags and prefixes, without adding a newline', () => {
    const r = renderer({});
    expect(r.renderString('{{ distro }}-', { distro: 'debian' }, 'kbuild.yaml')).toEqual({
      ok: true,
      value: 'debian-',
    });
    expect(r.renderString('{{ nope }}', {}, 'kbuild.yaml')).toEqual({
      ok: false,
      error: { file: 'kbuild.yaml', line: 1, column: 4, message: "'nope' is undefined" },
    });
  });

  it('reports an unknown image template', () => {
    expect(renderer({}).render('nope/Dockerfile.j2', {})).toEqual({
      ok: false,
      error: { file: 'images/nope/Dockerfile.j2', message: 'template not found' },
    });
  });

  it('does not let a template change the caller’s context values', () => {
    const packages = ['a'];
    const context = { packages, settings: { x: 1 } };
    const r = renderer({
      [IMAGE]: "{% set _ = packages.append('b') %}{% set _ = settings.update(y=2) %}{{ packages }}",
    });
    expect(r.render(IMAGE, context)).toEqual({ ok: true, value: "['a', 'b']\n" });
    expect(r.render(IMAGE, context)).toEqual({ ok: true, value: "['a', 'b']\n" });
    expect(packages).toEqual(['a']);
    expect(context.settings).toEqual({ x: 1 });
  });
});

describe('undefined values', () => {
  it('are an error when printed, naming the variable and its position', () => {
    expect(failure('FROM a\nRUN {{ nope }}')).toEqual({
      file: 'images/img/Dockerfile.j2',
      line: 2,
      column: 8,
      message: "'nope' is undefined",
    });
  });

  it('are an error when looked into: `foo.bar` on an undefined foo names foo', () => {
    expect(failure('{{ foo.bar }}')).toMatchObject({
      line: 1,
      column: 4,
      message: "'foo' is undefined",
    });
    expect(failure('{{ foo["bar"].baz }}')).toMatchObject({ message: "'foo' is undefined" });
  });

  it('name the missing attribute of a defined value', () => {
    expect(failure('{{ settings.missing }}', { settings: {} })).toMatchObject({
      message: "'settings.missing' is undefined",
    });
  });

  it('are an error when given to a filter', () => {
    expect(failure("{{ pkgs | join(' ') }}")).toMatchObject({ message: "'pkgs' is undefined" });
  });

  it('can be tested, defaulted and branched on', () => {
    const src = [
      '{{ a is defined }} {{ a is undefined }} {{ a | default("d") }} {{ a | d("d2") }}',
      '{% if a %}yes{% else %}no{% endif %} {{ s.x is defined }} {% for x in a %}{{ x }}{% endfor %}',
    ].join('\n');
    expect(out(src, { s: {} })).toBe('False True d d2\nno False ');
  });

  it('print None as Python does (a null value is not undefined)', () => {
    expect(out('{{ x }} {{ x is none }}', { x: null })).toBe('None True');
  });
});

// ---------------------------------------------------------------------------------------------

describe('template lookup', () => {
  it('finds macros.j2 in the images root from any image directory', () => {
    const files = {
      'macros.j2': MACROS,
      'nova/nova-api/Dockerfile.j2':
        '{% import "macros.j2" as m with context %}{{ m.install_packages(["x"]) }}',
    };
    expect(renderer(files).render('nova/nova-api/Dockerfile.j2', { distro: 'debian' })).toEqual({
      ok: true,
      value: 'RUN debian-install x\n',
    });
  });

  it("prefers the image's own directory, then the images root", () => {
    const files = {
      'header.j2': 'root header',
      'a/header.j2': 'header of a',
      'b/header.j2': 'header of b',
      'a/Dockerfile.j2': '{% include "header.j2" %}',
      'b/Dockerfile.j2': '{% include "header.j2" %}',
      'c/Dockerfile.j2': '{% include "header.j2" %}',
    };
    const r = renderer(files);
    // Rendered in an order where a name-keyed cache would hand one image another's header.
    expect(r.render('a/Dockerfile.j2', {})).toEqual({ ok: true, value: 'header of a\n' });
    expect(r.render('c/Dockerfile.j2', {})).toEqual({ ok: true, value: 'root header\n' });
    expect(r.render('b/Dockerfile.j2', {})).toEqual({ ok: true, value: 'header of b\n' });
    expect(r.render('a/Dockerfile.j2', {})).toEqual({ ok: true, value: 'header of a\n' });
  });

  it('resolves a shared template’s own includes against the image being rendered', () => {
    const files = {
      'common.j2': 'common [{% include "part.j2" %}]',
      'part.j2': 'root part',
      'a/part.j2': 'part of a',
      'a/Dockerfile.j2': '{% include "common.j2" %}',
      'b/Dockerfile.j2': '{% include "common.j2" %}',
    };
    const r = renderer(files);
    expect(r.render('a/Dockerfile.j2', {})).toEqual({ ok: true, value: 'common [part of a]\n' });
    expect(r.render('b/Dockerfile.j2', {})).toEqual({ ok: true, value: 'common [root part]\n' });
  });

  it('accepts relative names, lists of names and `ignore missing`', () => {
    const files = {
      'nova/common.j2': 'nova common',
      'nova/nova-api/Dockerfile.j2':
        '{% include "../common.j2" %}|{% include ["missing.j2", "nova/common.j2"] %}|{% include "missing.j2" ignore missing %}|',
    };
    expect(renderer(files).render('nova/nova-api/Dockerfile.j2', {})).toEqual({
      ok: true,
      value: 'nova common|nova common||\n',
    });
  });

  it('reports a missing template at the include, saying where it looked', () => {
    expect(failure('FROM a\n{% include "nope.j2" %}')).toEqual({
      file: 'images/img/Dockerfile.j2',
      line: 2,
      column: 4,
      message: "template 'nope.j2' not found (looked for images/img/nope.j2, images/nope.j2)",
    });
  });

  it('compiles a shared template once per renderer, however many images use it', () => {
    const templates = new CountingMap([['macros.j2', MACROS]]);
    for (let i = 0; i < 50; i++) {
      templates.set(
        `i${i}/Dockerfile.j2`,
        `{% import "macros.j2" as m with context %}{{ m.install_packages(["p${i}"]) }}`,
      );
    }
    const r = createRenderer({ templates, overrides: [], plugins: [] });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 50; i++) {
        expect(r.render(`i${i}/Dockerfile.j2`, { distro: 'd' })).toEqual({
          ok: true,
          value: `RUN d-install p${i}\n`,
        });
      }
    }
    expect(templates.reads.get('macros.j2')).toBe(1);
    expect(templates.reads.get('i0/Dockerfile.j2')).toBe(1);
    expect(templates.reads.get('i49/Dockerfile.j2')).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('template overrides', () => {
  const image = `FROM base
{% block labels %}LABEL a=1{% endblock %}
{% block install %}RUN {{ packages | customizable('packages') | join(' ') }}{% endblock %}
{% block footer %}{% endblock %}`;

  function withOverrides(
    overrides: string[],
    files: Record<string, string> = { [IMAGE]: image },
  ): Renderer {
    return renderer(files, {
      overrides: overrides.map((source, i) => ({ path: `overrides/o${i}.j2`, source })),
    });
  }
  const context = { image_name: 'img', packages: ['curl'] };

  it('replace blocks of every image; blocks the image lacks are unused', () => {
    const r = withOverrides(
      [
        '{% extends parent_template %}{% block footer %}RUN echo hi{% endblock %}{% block nginx_footer %}unused{% endblock %}',
      ],
      { [IMAGE]: image, 'other/Dockerfile.j2': 'FROM other\n{% block footer %}{% endblock %}' },
    );
    expect(r.render(IMAGE, context)).toEqual({
      ok: true,
      value: 'FROM base\nLABEL a=1\nRUN curl\nRUN echo hi\n',
    });
    expect(r.render('other/Dockerfile.j2', context)).toEqual({
      ok: true,
      value: 'FROM other\nRUN echo hi\n',
    });
  });

  it('stack: each extends the one before; super() reaches down the chain', () => {
    const r = withOverrides([
      '{% extends parent_template %}{% block labels %}{{ super() }} b=2{% endblock %}{% block footer %}RUN first{% endblock %}',
      '{% extends parent_template %}{% block labels %}{{ super() }} c=3{% endblock %}',
    ]);
    expect(r.render(IMAGE, context)).toEqual({
      ok: true,
      value: 'FROM base\nLABEL a=1 b=2 c=3\nRUN curl\nRUN first\n',
    });
  });

  it('set variables at their top level, the last override given winning', () => {
    const r = withOverrides([
      "{% extends parent_template %}{% set img_packages_append = ['first'] %}{% set img_packages_remove = ['curl'] %}",
      "{% extends parent_template %}{% set img_packages_append = ['second'] %}",
    ]);
    expect(r.render(IMAGE, context)).toEqual({
      ok: true,
      value: 'FROM base\nLABEL a=1\nRUN second\n',
    });
  });

  it('can share macros: a later override imports an earlier one by its basename', () => {
    const r = withOverrides([
      '{% extends parent_template %}{% macro stamp(x) %}# stamped {{ x }}{% endmacro %}',
      '{% extends parent_template %}{% from "o0.j2" import stamp with context %}{% block footer %}{{ stamp(image_name) }}{% endblock %}',
    ]);
    expect(r.render(IMAGE, context)).toEqual({
      ok: true,
      value: 'FROM base\nLABEL a=1\nRUN curl\n# stamped img\n',
    });
  });

  it('must extend parent_template', () => {
    expect(withOverrides(['{% block footer %}x{% endblock %}']).render(IMAGE, context)).toEqual({
      ok: false,
      error: {
        file: 'overrides/o0.j2',
        line: 1,
        column: 1,
        message:
          'a template override must extend the image template: start it with {% extends parent_template %}',
      },
    });
  });

  it('report their own errors by their path', () => {
    const r = withOverrides([
      '{% extends parent_template %}\n{% block footer %}{{ oops }}{% endblock %}',
    ]);
    expect(r.render(IMAGE, context)).toEqual({
      ok: false,
      error: { file: 'overrides/o0.j2', line: 2, column: 22, message: "'oops' is undefined" },
    });
    const syntax = withOverrides([
      '{% extends parent_template %}\n\n{% block footer %}{% if %}{% endblock %}',
    ]);
    expect(syntax.render(IMAGE, context)).toMatchObject({
      ok: false,
      error: { file: 'overrides/o0.j2', line: 3 },
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('Jinja2 compatibility', () => {
  it('extends, block and super()', () => {
    const base = 'start\n{% block a %}A{% endblock %}\n{% block b %}B{% endblock %}\nend';
    expect(
      out(
        '{% extends "base.j2" %}{% block a %}[{{ super() }}]{% endblock %}',
        {},
        { 'base.j2': base },
      ),
    ).toBe('start\n[A]\nB\nend');
  });

  it('include sees the context, with or without `with context`', () => {
    const extra = { 'part.j2': 'part {{ distro }}' };
    expect(
      out('{% include "part.j2" %}|{% include "part.j2" with context %}', { distro: 'd' }, extra),
    ).toBe('part d|part d');
  });

  it('import … as … with context: macros see the caller’s context, default arguments too', () => {
    const src = `{% import "macros.j2" as macros with context %}
{{ macros.install_packages(['a', 'b']) }}
{{ macros.install_packages(['c'], chain=True) }}
[{{ macros.install_packages([]) }}]`;
    expect(out(src, { distro: 'debian' }, { 'macros.j2': MACROS })).toBe(
      '\nRUN debian-install a b\ndebian-install c\n[]',
    );
  });

  it('from … import a, b with context', () => {
    const macros =
      '{% macro a() %}A{{ distro }}{% endmacro %}{% macro b(x, y="Y") %}B{{ x }}{{ y }}{% endmacro %}';
    expect(
      out(
        '{% from "m.j2" import a, b with context %}{{ a() }} {{ b(1) }} {{ b(1, y=2) }}',
        { distro: 'd' },
        { 'm.j2': macros },
      ),
    ).toBe('Ad B1Y B12');
  });

  it('macro and call with caller(), also with arguments', () => {
    const src = `{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('p') %}in {{ x }}{% endcall %}
{% macro each(items) %}{% for i in items %}{{ caller(i) }};{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}<{{ item }}>{% endcall %}`;
    expect(out(src, { x: 'X' })).toBe('<p>in X</p>\n<1>;<2>;');
  });

  it('set and block set', () => {
    expect(out('{% set x = 1 %}{% set y %}block {{ x }}{% endset %}[{{ y }}]')).toBe('[block 1]');
  });

  it('if / elif / else', () => {
    const src =
      '{% for n in [1, 5, 20] %}{% if n > 10 %}big{% elif n > 3 %}mid{% else %}small{% endif %} {% endfor %}';
    expect(out(src)).toBe('small mid big ');
  });

  it('for with loop.index, index0, first, last, length, revindex, and for … else', () => {
    const src = `{% for i in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ i }};{% endfor %}
{% for i in [] %}x{% else %}empty{% endfor %}`;
    expect(out(src, { items: ['a', 'b'] })).toBe('10TrueFalse22a;21FalseTrue21b;\nempty');
  });

  it('for over a dict, with two variables, and with a loop filter', () => {
    const src = `{% for k in d %}{{ k }}{% endfor %} {% for k, v in d | dictsort %}{{ k }}={{ v }} {% endfor %}
{% for x in [1, 2, 3, 4] if x is odd %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %}`;
    expect(out(src, { d: { b: 2, a: 1 } })).toBe('ba a=1 b=2 \n1:1/2 3:2/2 ');
  });

  it('whitespace control', () => {
    const src = 'a\n  {%- if true -%}\n    b\n  {%- endif -%}\n  c\n{{- " d" }}';
    expect(out(src)).toBe('abc d');
  });

  it('comments and raw', () => {
    expect(out('a{# comment {{ x }} #}b{% raw %}{{ not rendered }}{% endraw %}')).toBe(
      'ab{{ not rendered }}',
    );
  });

  it('~ concatenation and inline if', () => {
    expect(
      out("{{ 'a' ~ 1 ~ true ~ none }} {{ 'y' if flag else 'n' }} [{{ 'y' if not flag }}]", {
        flag: true,
      }),
    ).toBe('a1TrueNone y []');
  });

  it('True, False and None literals, in either case', () => {
    expect(out('{{ True }} {{ false }} {{ None }} {{ none is none }} {{ [True, None] }}')).toBe(
      'True False None True [True, None]',
    );
  });

  it('tuples, trailing commas, slices, subscripts and `x.0`', () => {
    const src = `{% set l = [
  'a',
  'b',
] %}{{ l }} {{ (1, 2) }} {{ ('x',) }} {{ {'k': 'v',} }}
{{ s[0] }} {{ s[-1] }} {{ s[1:3] }} {{ s[::-1] }} {{ l[1:] }} {{ objs.0.n }}`;
    expect(out(src, { s: 'Hello', objs: [{ n: 'first' }] })).toBe(
      "['a', 'b'] (1, 2) ('x',) {'k': 'v'}\nH o el olleH ['b'] first",
    );
  });

  it('filters default (also default(x, true)), length, join, lower, upper, replace', () => {
    const src =
      "{{ u | default('d') }} {{ '' | default('e', true) }} [{{ '' | default('e') }}] {{ items | length }} {{ items | join(',') }} " +
      "{{ items | join }} {{ 'AbC' | lower }} {{ 'AbC' | upper }} {{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }}";
    expect(out(src, { items: ['x', 'y'] })).toBe('d e [] 2 x,y xy abc ABC bbb bba');
  });

  it('filter format and the % operator (printf style)', () => {
    const src = `{{ "%s-%s" | format('a', 'b') }} {{ "%(name)s=%(v)d" | format(name='x', v=3) }}
{{ "%d|%5.2f|%r|%x|%05d|%-4s|%%" | format(42, 3.14159, 'q', 255, 42, 'ab') }}
{{ "%s/%s" % (distro, 2) }} {{ "%s" % distro }}`;
    expect(out(src, { distro: 'debian' })).toBe(
      "a-b x=3\n42| 3.14|'q'|ff|00042|ab  |%\ndebian/2 debian",
    );
  });

  it('filters dictsort, sort (with attribute= and reverse=) and unique', () => {
    const src = `{{ d | dictsort }} {{ d | dictsort(by='value', reverse=true) }}
{{ items | sort }} {{ items | sort(reverse=true) }} {{ items | sort(case_sensitive=true) }}
{{ objs | sort(attribute='x') | map(attribute='n') | join(',') }}
{{ ['a', 'A', 'b', 'a'] | unique | list }} {{ objs | unique(attribute='x') | list | length }}`;
    const context = {
      d: { b: 1, a: 2 },
      items: ['b', 'a', 'C'],
      objs: [
        { x: 2, n: 'two' },
        { x: 1, n: 'one' },
      ],
    };
    expect(out(src, context)).toBe(
      "[('a', 2), ('b', 1)] [('a', 2), ('b', 1)]\n['a', 'b', 'C'] ['C', 'b', 'a'] ['C', 'a', 'b']\none,two\n['a', 'b'] 2",
    );
  });

  it('more filters: map, select, reject, selectattr, items, tojson, min, max, sum, batch, groupby, truncate, indent', () => {
    const src = `{{ [1, 2, 3] | select('odd') | list }} {{ [1, 2, 3] | reject('odd') | list }} {{ objs | selectattr('x', 'equalto', 1) | map(attribute='n') | list }}
{{ d | items | list }} {{ d | tojson }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ objs | sum(attribute='x') }} {{ [1, 2, 3] | batch(2, fill_with=0) | list }}
{% for g in objs | groupby('x') %}{{ g.grouper }}:{{ g.list | map(attribute='n') | join }};{% endfor %} {{ "Hello World, how are you" | truncate(10) }}|{{ "a\\n\\nb" | indent(2, true) }}`;
    const context = {
      d: { b: 1, a: 2 },
      objs: [
        { x: 2, n: 'two' },
        { x: 1, n: 'one' },
      ],
    };
    expect(out(src, context)).toBe(
      "[1, 3] [2] ['one']\n[('b', 1), ('a', 2)] {\"a\": 2, \"b\": 1} 1 3 3 [[1, 2], [3, 0]]\n1:one;2:two; Hello...|  a\n\n  b",
    );
  });

  it('tests defined, undefined, none, string, sequence, mapping, in, and `is not`', () => {
    const src = `{{ d is defined }} {{ zz is defined }} {{ zz is undefined }} {{ n is none }} {{ s is string }} {{ items is sequence }}
{{ d is mapping }} {{ 'a' is in items }} {{ 'q' is not in items }} {{ s is not string }} {{ s is sequence }} {{ 5 is not sequence }}
{{ 3 is divisibleby 3 }} {{ 4 is divisibleby(3) }} {{ x is number }} {{ x is integer }} {{ true is boolean }} {{ items is iterable }}`;
    expect(out(src, { d: {}, n: null, s: 'str', items: ['a'], x: 5 })).toBe(
      'True False True True True True\nTrue True True False True True\nTrue False True True True True',
    );
  });

  it('Python truthiness, operators and comparisons', () => {
    const src = `{% if empty %}nonempty{% else %}empty{% endif %} {% if {} %}x{% else %}no-dict{% endif %} {{ empty or 'fallback' }} {{ items and 'both' }}
{{ [1, 2] + [3] }} {{ '-' * 3 }} {{ -7 % 3 }} {{ 7 // 2 }} {{ 2 ** 3 }} {{ 1 == 1.0 }} {{ [1] == [1] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}
{% if distro in ['debian', 'ubuntu'] %}deb{% endif %} {% if 'ian' in distro %}sub{% endif %} {% if 'k' not in d %}nokey{% endif %}`;
    expect(out(src, { empty: [], items: [1], distro: 'debian', d: {} })).toBe(
      'empty no-dict fallback both\n[1, 2, 3] --- 2 3 8 True True True False\ndeb sub nokey',
    );
  });

  it('Python string, list and dict methods', () => {
    const src = `{{ s.startswith('He') }} {{ s.split() }} {{ s.split('o', 1) }} {{ '  x '.strip() }} {{ s.upper() }} {{ ','.join(items) }}
{{ "{} and {name}".format('a', name='b') }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %} {{ d.keys() | list }} {{ d.get('zz', 'q') }}
{% set acc = [] %}{% for i in items %}{% set _ = acc.append(i ~ '!') %}{% endfor %}{{ acc }}`;
    expect(out(src, { s: 'Hello World', items: ['a', 'b'], d: { k: 1 } })).toBe(
      "True ['Hello', 'World'] ['Hell', ' World'] x HELLO WORLD a,b\na and b k1 ['k'] q\n['a!', 'b!']",
    );
  });

  it('keyword arguments to filters and macros', () => {
    const src = `{{ items | join(d='-') }} {{ u | default(default_value='x') }}
{% macro m(a, b='B', c='C') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(1, c=3) }} {{ m(a=0) }}`;
    expect(out(src, { items: ['a', 'b'] })).toBe('a-b x\n1B3 0BC');
  });

  it('{%+ and +%} are accepted (no-ops with trim_blocks and lstrip_blocks off)', () => {
    expect(out('a\n  {%+ if true +%}\nb{% endif %}')).toBe('a\n  \nb');
  });
});

// ---------------------------------------------------------------------------------------------

describe('customizable filter', () => {
  const tpl = "{{ ['memcached', 'curl'] | customizable('packages') | join(' ') }}";

  it('leaves the list alone when no variable is set', () => {
    expect(out(tpl, { image_name: 'nova-api' })).toBe('memcached curl');
  });

  it('appends without duplicates, removes, and overrides, by <image>_<list>_*', () => {
    expect(out(tpl, { image_name: 'nova-api', nova_api_packages_append: ['vim', 'curl'] })).toBe(
      'memcached curl vim',
    );
    expect(out(tpl, { image_name: 'nova-api', nova_api_packages_remove: ['curl'] })).toBe(
      'memcached',
    );
    expect(out(tpl, { image_name: 'nova-api', nova_api_packages_override: ['other'] })).toBe(
      'other',
    );
    expect(
      out(tpl, {
        image_name: 'nova-api',
        nova_api_packages_override: ['a', 'b'],
        nova_api_packages_append: ['c'],
        nova_api_packages_remove: ['a'],
      }),
    ).toBe('b c');
  });

  it('reads variables set in the template and ignores other images’ and lists’ variables', () => {
    const src = "{% set nova_api_packages_append = ['x'] %}" + tpl;
    expect(
      out(src, {
        image_name: 'nova-api',
        nova_base_packages_append: ['no'],
        nova_api_pip_packages_append: ['no'],
      }),
    ).toBe('memcached curl x');
  });

  it('keeps an undefined list undefined and does not change its input', () => {
    const input = ['a'];
    expect(out("{{ (nope | customizable('packages')) is defined }}", { image_name: 'x' })).toBe(
      'False',
    );
    expect(
      out("{{ l | customizable('packages') }} {{ l }}", {
        image_name: 'x',
        l: input,
        x_packages_append: ['b'],
      }),
    ).toBe("['a', 'b'] ['a']");
    expect(input).toEqual(['a']);
  });

  it('explains misuse', () => {
    expect(failure(tpl)).toMatchObject({
      message: "customizable('packages'): the context variable image_name is not set",
    });
    expect(failure(tpl, { image_name: 'x', x_packages_append: 'vim' })).toMatchObject({
      line: 1,
      message: 'x_packages_append must be a list, got str',
    });
  });
});

describe('plugins', () => {
  it('add filters (seeing the context), tests and globals; later plugins win', () => {
    const r = createRenderer({
      templates: new Map([
        [
          IMAGE,
          "{{ 'x' | shout }} {{ 4 is even_number }} {{ answer }} {{ greet('bob') }} {{ nope | raw_value }}",
        ],
      ]),
      overrides: [],
      plugins: [
        {
          filters: { shout: (s: string) => `${s}!`, raw_value: (v: unknown) => String(v) },
          tests: { even_number: (n: number) => n % 2 === 0 },
          globals: { answer: 41 },
        },
        {
          filters: {
            shout(this: { lookup(name: string): unknown }, s: string) {
              return `${s.toUpperCase()}${String(this.lookup('suffix'))}`;
            },
          },
          globals: { answer: 42, greet: (name: string) => `hi ${name}` },
        },
      ],
    });
    expect(r.render(IMAGE, { suffix: '?' })).toEqual({
      ok: true,
      value: 'X? True 42 hi bob undefined\n',
    });
  });

  it('errors thrown by a plugin are reported at the call', () => {
    const r = createRenderer({
      templates: new Map([[IMAGE, 'FROM a\nRUN {{ 1 | boom }}']]),
      overrides: [],
      plugins: [
        {
          filters: {
            boom: () => {
              throw new Error('plugin exploded');
            },
          },
        },
      ],
    });
    expect(r.render(IMAGE, {})).toEqual({
      ok: false,
      error: { file: IMAGE, line: 2, column: 12, message: 'plugin exploded' },
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('errors', () => {
  it('a syntax error names the image template and its line', () => {
    expect(failure('FROM a\n\n{% if %}\n{% endif %}')).toMatchObject({
      file: 'images/img/Dockerfile.j2',
      line: 3,
    });
    expect(failure('FROM a\n{% for x in y %}\nno end')).toMatchObject({
      file: 'images/img/Dockerfile.j2',
    });
    expect(failure('FROM a\n{% frobnicate %}')).toMatchObject({
      line: 2,
      message: 'unknown block tag: frobnicate',
    });
  });

  it('an unknown filter or test is reported where it is used, even in a branch not taken', () => {
    expect(failure('FROM a\n{% if false %}{{ x | nofilter }}{% endif %}')).toEqual({
      file: 'images/img/Dockerfile.j2',
      line: 2,
      column: 22,
      message: "no filter named 'nofilter'",
    });
    expect(failure('{{ x is notatest }}')).toMatchObject({
      line: 1,
      column: 9,
      message: "no test named 'notatest'",
    });
  });

  it('an error inside an imported macro names macros.j2 and the line in it', () => {
    const src = '{% import "macros.j2" as macros with context %}\nFROM a\n{{ macros.broken() }}';
    expect(failure(src, {}, { 'macros.j2': MACROS })).toEqual({
      file: 'images/macros.j2',
      line: 7,
      column: 6,
      message: "'no_such_variable' is undefined",
    });
  });

  it('an error inside an included template names the included file', () => {
    expect(
      failure('FROM a\n{% include "part.j2" %}', {}, { 'part.j2': 'x\ny {{ missing }}' }),
    ).toEqual({
      file: 'images/part.j2',
      line: 2,
      column: 6,
      message: "'missing' is undefined",
    });
    expect(failure('{% include "part.j2" %}', {}, { 'part.j2': '\n{% if %}' })).toMatchObject({
      file: 'images/part.j2',
      line: 2,
    });
  });

  it('an error in a block of a parent template names the parent', () => {
    const base = 'FROM a\n{% block b %}\n{{ 1 + nope }}{% endblock %}';
    expect(failure('{% extends "base.j2" %}', {}, { 'base.j2': base })).toMatchObject({
      file: 'images/base.j2',
      line: 3,
      message: "'nope' is undefined",
    });
  });

  it('an error after an include or import names the template it is in, not the included one', () => {
    const extra = { 'macros.j2': MACROS, 'part.j2': 'part\n' };
    expect(failure('{% include "part.j2" %}\n{{ missing }}', {}, extra)).toMatchObject({
      file: 'images/img/Dockerfile.j2',
      line: 2,
    });
    expect(failure('{% import "macros.j2" as m %}\n\n{{ missing }}', {}, extra)).toMatchObject({
      file: 'images/img/Dockerfile.j2',
      line: 3,
    });
    const base = '{% block a %}{% endblock %}\n{% include "part.j2" %}\n{{ missing_in_base }}';
    expect(
      failure(
        '{% extends "base.j2" %}{% block a %}{% include "part.j2" %}{% endblock %}',
        {},
        { ...extra, 'base.j2': base },
      ),
    ).toMatchObject({
      file: 'images/base.j2',
      line: 3,
      message: "'missing_in_base' is undefined",
    });
  });

  it('calling something that is not a macro says what', () => {
    expect(
      failure('{% import "macros.j2" as m %}\n{{ m.nope() }}', {}, { 'macros.j2': MACROS }),
    ).toMatchObject({
      file: 'images/img/Dockerfile.j2',
      line: 2,
      message: 'Unable to call `m["nope"]`, which is undefined or falsey',
    });
  });

  it('a failing template keeps failing the same way, and other images still render', () => {
    const r = renderer({
      'bad.j2': '{% if %}',
      'a/Dockerfile.j2': '{% include "bad.j2" %}',
      'b/Dockerfile.j2': 'ok',
    });
    const first = r.render('a/Dockerfile.j2', {});
    expect(first).toMatchObject({ ok: false, error: { file: 'images/bad.j2', line: 1 } });
    expect(r.render('a/Dockerfile.j2', {})).toEqual(first);
    expect(r.render('b/Dockerfile.j2', {})).toEqual({ ok: true, value: 'ok\n' });
  });
});
