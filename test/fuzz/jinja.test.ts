/**
 * Fuzzing the template renderer (src/core/jinja/: nunjucks with kbuild's Jinja2 layer) through
 * createRenderer's render and renderString, as core/family.ts calls them, each twice: compiled,
 * and from the compiled code the first kept (test/helpers/render-templates.ts `renderer`).
 * Templates are built from Jinja fragments — if/elif/else, for/else with loop filters, macro and
 * call, set, blocks and extends, include / import / from-import of other in-memory templates
 * (themselves generated), raw, filter blocks, comments, whitespace control, filters, tests,
 * star-args, list repetition, % and format — with tags left unclosed or closed twice, then
 * arbitrary strings.
 * The property: the rendered text, or an error naming a template and a line of it; never an
 * exception, never a JavaScript error passed off as a template error.
 *
 * Bounded on purpose: numbers stay small (a repetition or range(n) of a billion items exhausts
 * the heap, as it would Python's), and loops nest at most three deep. Recursion (a macro, an
 * include or an extends of itself) is generated and must end in a located error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderer as cachedTwin } from '../helpers/render-templates.js';
import { fuzzParams, fuzzTimeout } from './fuzz-params.js';
import { expectLocatedTemplateError } from './located.js';

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

const CONTEXT = {
  items: ['a', 'b'],
  d: { a: 1, 'b-c': [1, 2] },
  s: 'Hello World',
  n: 3,
  none_var: null,
  distro: 'debian',
  flag: true,
  empty: [],
  objs: [{ x: 2, n: 'two' }, { x: 1 }],
};

// ---------------------------------------------------------------------------------------------
// Expressions

const atom = fc.oneof(
  pick('items', 'd', 's', 'n', 'none_var', 'distro', 'flag', 'empty', 'objs', 'zz', 'loop'),
  pick('0', '1', '2', '-1', '1.5', '3', 'true', 'false', 'none', 'None', 'True'),
  pick("'a'", '"%s-%s"', "'%(a)s'", "'{}'", "'{0} {x}'", "''", '"x\\"y"', "'é😀'", "'%'"),
  pick('[]', '[1, 2]', "['x']", '(1,)', '()', "{'a': 1}", '{}', '[items, d]', 'caller', 'm'),
  pick('range', 'lipsum', 'cycler', 'joiner', 'namespace', 'dict', 'super', 'varargs', 'kwargs'),
);
const filter = pick(
  'join',
  "join(', ')",
  'format(*items)',
  "format('a', 'b')",
  'format(a=1)',
  "default('d')",
  'default(d, true)',
  'length',
  'upper',
  'lower',
  'list',
  'first',
  'last',
  'sort',
  'sort(attribute="x")',
  'dictsort',
  "map(attribute='n')",
  "select('odd')",
  "selectattr('x')",
  'unique',
  'reverse',
  'string',
  'int',
  'float',
  'tojson',
  'trim',
  "replace('a', 'b')",
  'indent(2)',
  'truncate(3)',
  'batch(2)',
  'groupby("x")',
  'sum',
  'min',
  'max',
  'abs',
  'items',
  "customizable('packages')",
  'nope',
  'e',
  'safe',
);
const test = pick('defined', 'undefined', 'none', 'string', 'sequence', 'mapping', 'odd', 'nope');
const args = (e: fc.Arbitrary<string>) =>
  fc.array(
    fc.oneof(
      e,
      e.map((x) => `*${x}`),
      e.map((x) => `k=${x}`),
      pick('*', '**d'),
    ),
    {
      maxLength: 3,
    },
  );

const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: atom },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          tie('e'),
          pick('+', '-', '*', '/', '//', '%', '**', '~', 'and', 'or', 'in', 'not in', '==', '<'),
          tie('e'),
        )
        .map(([a, op, b]) => `${a} ${op} ${b}`),
    },
    { weight: 2, arbitrary: fc.tuple(tie('e'), filter).map(([a, f]) => `${a} | ${f}`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(tie('e'), fc.boolean(), test)
        .map(([a, not, t]) => `${a} is ${not ? 'not ' : ''}${t}`),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(tie('e'), args(tie('e'))).map(([f, as]) => `${f}(${as.join(', ')})`),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          tie('e'),
          pick(
            '.x',
            '.n',
            '.0',
            '[0]',
            '[-1]',
            "['a']",
            '[1:]',
            '[::-1]',
            '[::0]',
            '.split()',
            '.append(1)',
            '.items()',
            ".get('a')",
            '.format(*items)',
            '.__proto__',
            '.constructor',
          ),
        )
        .map(([a, m]) => `${a}${m}`),
    },
    { weight: 1, arbitrary: tie('e').map((a) => `(${a})`) },
    { weight: 1, arbitrary: tie('e').map((a) => `not ${a}`) },
    { weight: 1, arbitrary: tie('e').map((a) => `[${a}] * n`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(tie('e'), tie('e'), tie('e'))
        .map(([a, c, b]) => `${a} if ${c} else ${b}`),
    },
    {
      weight: 1,
      arbitrary: fc.array(tie('e'), { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`),
    },
    { weight: 1, arbitrary: pick('(', ')', '[', ']', ',', '|', '.', '=', '**', 'if', '}}', '%}') },
  ),
})).e;

// ---------------------------------------------------------------------------------------------
// Templates

const text = fc.oneof(
  pick('FROM debian\n', 'RUN echo hi\n', '\n', ' ', 'é😀', '{', '}', '%', '#', '{ {', '\r\n'),
  fc.string({ maxLength: 6 }),
);
const names = pick(
  '"part.j2"',
  '"m.j2"',
  '"base.j2"',
  '"self.j2"',
  '"img/Dockerfile.j2"',
  '"nope.j2"',
  '"../x.j2"',
  'items',
  "['nope.j2', 'part.j2']",
  '1',
);
const ws = pick('', '', '-', '+');
const tag = (body: string, l = '', r = '') => `{%${l} ${body} ${r}%}`;

const template: fc.Arbitrary<string> = fc.letrec<{ block: string; node: string }>((tie) => {
  const body = fc.array(tie('node'), { maxLength: 4 }).map((xs) => xs.join(''));
  /** A block statement: usually closed once, sometimes never, sometimes twice. */
  const closed = (open: fc.Arbitrary<string>, close: string, middle?: fc.Arbitrary<string>) =>
    fc
      .tuple(
        open,
        body,
        middle ? fc.option(fc.tuple(middle, body)) : fc.constant(null),
        ws,
        ws,
        fc.integer({ min: 0, max: 19 }),
      )
      .map(([o, b, mid, l, r, closing]) => {
        const end = tag(close, l, r);
        const m = mid ? `${mid[0]}${mid[1]}` : '';
        return `${o}${b}${m}${closing === 0 ? '' : closing === 1 ? end + end : end}`;
      });
  const stmt = fc.oneof(
    closed(
      fc.tuple(expr, ws).map(([e, l]) => tag(`if ${e}`, l)),
      'endif',
      fc.oneof(
        expr.map((e) => tag(`elif ${e}`)),
        fc.constant(tag('else')),
      ),
    ),
    closed(
      fc
        .tuple(
          pick('i', 'k, v', 'x', 'loop', '(a, b)'),
          pick('items', 'd', 'range(n)', 'd.items()', 's', 'n', 'zz', 'objs', '[1, 2, 3]'),
          fc.option(expr),
        )
        .map(([v, it, cond]) => tag(`for ${v} in ${it}${cond !== null ? ` if ${cond}` : ''}`)),
      'endfor',
      fc.constant(tag('else')),
    ),
    closed(
      fc
        .tuple(pick('m', 'n', 'self', 'caller'), pick('', 'a', 'a, b=2', 'a=1, b', '*a'))
        .map(([m, ps]) => tag(`macro ${m}(${ps})`)),
      'endmacro',
    ),
    closed(
      fc.tuple(pick('', '(x)', '(a, b)'), expr).map(([ps, e]) => tag(`call${ps} ${e}`)),
      'endcall',
    ),
    closed(
      pick('a', 'b', 'content').map((b) => tag(`block ${b}`)),
      'endblock',
    ),
    closed(
      pick('upper', 'nope', 'indent(2)').map((f) => tag(`filter ${f}`)),
      'endfilter',
    ),
    closed(
      pick('x', 'ns.x').map((v) => tag(`set ${v}`)),
      'endset',
    ),
    closed(fc.constant(tag('raw')), 'endraw'),
    fc.tuple(pick('x', 'items', 'a, b', 'ns.x'), expr).map(([v, e]) => tag(`set ${v} = ${e}`)),
    fc
      .tuple(names, pick('', ' ignore missing', ' with context', ' without context'))
      .map(([n, s]) => tag(`include ${n}${s}`)),
    fc
      .tuple(names, pick('m', 'x'), pick('', ' with context'))
      .map(([n, a, s]) => tag(`import ${n} as ${a}${s}`)),
    fc
      .tuple(names, pick('m', 'x, y', 'm as mm', 'nope', '_private'))
      .map(([n, w]) => tag(`from ${n} import ${w}`)),
    names.map((n) => tag(`extends ${n}`)),
    pick(
      '{% else %}',
      '{% endif %}',
      '{% endfor %}',
      '{% endblock %}',
      '{% endmacro %}',
      '{% %}',
      '{% nope %}',
      '{% if %}',
      '{% for %}',
      '{% do x %}',
      '{% break %}',
      '{% continue %}',
    ),
  );
  return {
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 4, arbitrary: text },
      { weight: 3, arbitrary: fc.tuple(ws, expr, ws).map(([l, e, r]) => `{{${l} ${e} ${r}}}`) },
      { weight: 3, arbitrary: stmt },
      {
        weight: 1,
        arbitrary: pick(
          '{# comment #}',
          '{# unclosed',
          '{{',
          '{%',
          '}}',
          '%}',
          '#}',
          '{{ "}}" }}',
          '{%- -%}',
        ),
      },
    ),
    block: body,
  };
}).block;

const templates = fc.record({
  image: template,
  'part.j2': template,
  'm.j2': fc.oneof(
    template,
    fc.constant('{% macro m(a=1) %}M{{ a }}{{ caller() if caller }}{% endmacro %}{% set x = 1 %}'),
  ),
  'base.j2': fc.oneof(
    template,
    fc.constant('A{% block a %}a{% endblock %}{% block content %}{% endblock %}Z'),
  ),
  'self.j2': template,
});

/** The property: a text or an error at a line of a template (by the file name it gives). */
function holds(t: Record<string, string>): void {
  const files = new Map<string, string>([
    ['img/Dockerfile.j2', t['image'] ?? ''],
    ['part.j2', t['part.j2'] ?? ''],
    ['m.j2', t['m.j2'] ?? ''],
    ['base.j2', t['base.j2'] ?? ''],
    ['img/self.j2', t['self.j2'] ?? ''],
  ]);
  // Renders each template twice, compiled and from cached code, and checks both agree.
  const renderer = cachedTwin(files);
  const texts = new Map([...files].map(([k, v]) => [`images/${k}`, v.replace(/\r\n?/g, '\n')]));
  const r = renderer.render('img/Dockerfile.j2', CONTEXT);
  if (r.ok) expect(r.value.endsWith('\n')).toBe(true);
  else expectLocatedTemplateError(r.error, texts);
  const source = t['image'] ?? '';
  const small = renderer.renderString(source, CONTEXT, 'kbuild.yaml');
  if (!small.ok) {
    const withString = new Map(texts).set('kbuild.yaml', source.replace(/\r\n?/g, '\n'));
    expectLocatedTemplateError(small.error, withString);
  }
}

describe('fuzz: the renderer gives text or a located template error, never an exception', () => {
  it(
    'templates built from Jinja fragments, including each other',
    { timeout: fuzzTimeout(800) },
    () => {
      fc.assert(fc.property(templates, holds), fuzzParams(800));
    },
  );

  it(
    'arbitrary strings, and fragments with arbitrary strings spliced in',
    { timeout: fuzzTimeout(600) },
    () => {
      const spliced = fc
        .tuple(template, fc.nat(), fc.string({ maxLength: 10 }))
        .map(([t, at, s]) => t.slice(0, at % (t.length + 1)) + s + t.slice(at % (t.length + 1)));
      const any = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.string({ maxLength: 100 }),
        spliced,
      );
      fc.assert(
        fc.property(any, any, (image, part) =>
          holds({ image, 'part.j2': part, 'm.j2': '', 'base.j2': '', 'self.j2': '' }),
        ),
        fuzzParams(600),
      );
    },
  );
});
