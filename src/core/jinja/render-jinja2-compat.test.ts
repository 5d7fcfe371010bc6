/**
 * Tests of the template renderer against Jinja2: expected outputs were checked against Jinja2 3.1
 * with its default settings (what kolla-build uses).
 */
import { describe, expect, it } from 'vitest';
import { out, failure, MACROS } from '../../../test/helpers/render-templates.js';

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

  it('star-args in calls and list repetition (issue 13, defect 10)', () => {
    // Outputs of Jinja2 3.1.6 for the same templates and context.
    const ctx = { items: ['a', 'b'], r: [1, 4], d: { a: 1 }, k: ['a'] };
    const cases: [string, string][] = [
      [
        "{{ (['install %s'] * items | length) | join(' && ') | format(*items) }}",
        'install a && install b',
      ],
      [
        "{{ ['x'] * 3 }} {{ 3 * ['x', 1] }} {{ ['x'] * 0 }} {{ ['x'] * -1 }}",
        "['x', 'x', 'x'] ['x', 1, 'x', 1, 'x', 1] [] []",
      ],
      ["{{ ('a', 'b') * 2 }} {{ ['x'] * true }} {{ 'ab' * 2 }}", "('a', 'b', 'a', 'b') ['x'] abab"],
      ["{{ '%s-%s' | format(*items) }} {{ '%s-%s-%s' | format('z', *items) }}", 'a-b z-a-b'],
      [
        '{% macro m(a, b, c=3) %}{{a}}{{b}}{{c}}{% endmacro %}{{ m(*items) }}|{{ m(1, *items) }}|{{ m(*items, c=9) }}|{{ m(*items,) }}',
        'ab3|1ab|ab9|ab3',
      ],
      ['{{ range(*r) | list }} {{ d.get(*k) }} {{ m(*(1, 2)) }}', '[1, 2, 3] 1 12'],
      ["{{ '%s%s' | format(*'xy') }} {{ m(*d) }}", 'xy a2'],
    ];
    for (const [src, expected] of cases) {
      const macro = '{% macro m(a, b=2) %}{{a}}{{b}}{% endmacro %}';
      expect(out(src.includes('{% macro') ? src : `${macro}${src}`, ctx), src).toBe(expected);
    }
  });

  it('star-args and repetition fail as Jinja2 does', () => {
    expect(failure('{{ ["x"] * 1.5 }}').message).toContain(
      "can't multiply sequence by non-int of type 'float'",
    );
    expect(failure("{{ ['x'] * 'a' }}").message).toContain(
      "can't multiply sequence by non-int of type 'str'",
    );
    expect(failure('{{ range(*n) }}', { n: 5 }).message).toContain(
      'Value after * must be an iterable, not int',
    );
    expect(failure('{{ range(*nope) }}').message).toContain("'nope' is undefined");
  });

  it('range and center as Jinja2; a range, repetition or width past the limit is a located error, not an exhausted memory', () => {
    expect(
      out(
        "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(5, 0, -2) | list }} [{{ 'ab' | center(5) }}] [{{ 'ab' | center(6) }}] [{{ 'abc' | center(6) }}]",
      ),
    ).toBe('[0, 1, 2] [1, 3, 5] [5, 3, 1] [  ab ] [  ab  ] [ abc  ]');
    for (const [src, msg] of [
      [
        '{{ range(100000000) | length }}',
        'range(100000000) would make 100000000 items: kbuild renders at most 100000',
      ],
      ['{{ ([1] * 1000000000) | length }}', 'repeating a list would make 1000000000 items'],
      ["{{ ('ab' * 1000000000) | length }}", 'repeating a string would make 2000000000 characters'],
      ["{{ 'x' | center(1000000000) }}", 'center(1000000000) would make 1000000000 characters'],
      ['{{ range(1, 2, 0) }}', 'range() arg 3 must not be zero'],
    ] as const) {
      const f = failure(src);
      expect(f.message).toContain(msg);
      expect(f).toMatchObject({ line: 1 });
    }
  });

  it('{%+ and +%} are accepted (no-ops with trim_blocks and lstrip_blocks off)', () => {
    expect(out('a\n  {%+ if true +%}\nb{% endif %}')).toBe('a\n  \nb');
  });
});
