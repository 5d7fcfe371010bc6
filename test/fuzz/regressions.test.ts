/**
 * The minimal counterexamples the fuzz suites found (test/fuzz/*.test.ts), kept as plain tests
 * of the bug each one showed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseProject } from '../../src/core/config/config.js';
import { renderer } from '../helpers/render-templates.js';

afterEach(() => vi.restoreAllMocks());

describe('config files', () => {
  it('a collection as a key is a located problem, and nothing is printed by the yaml library', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const r = parseProject('[a, b]: c\n', 'kbuild.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error[0]).toMatchObject({ file: 'kbuild.yaml', line: 1, column: 1 });
    expect(warn).not.toHaveBeenCalled();
  });

  it.each(['constructor', 'toString', 'hasOwnProperty'])(
    "'%s:' is an unknown key (it was accepted: a name of Object.prototype read as a field)",
    (key) => {
      const r = parseProject(`${key}: 1\n`, 'kbuild.yaml');
      expect(r.ok).toBe(false);
      if (!r.ok)
        expect(r.error[0]).toMatchObject({
          line: 1,
          column: 1,
          message: `unknown key '${key}' in the file`,
        });
    },
  );
});

/** The error of rendering `source` as image "img", with m.j2 (one macro) beside it. */
const failure = (source: string) => {
  const r = renderer({
    'img/Dockerfile.j2': source,
    'm.j2': '{% macro m() %}M{% endmacro %}',
  }).render('img/Dockerfile.j2', { items: ['a'] });
  return r.ok ? r.value : r.error;
};

describe('templates: errors nunjucks raises without a position are located', () => {
  it.each([
    ['#}', 1, 1, "'#}' outside a comment"],
    ['x\n{#', 2, 3, 'expected end of comment, got end of file'],
    ['{{', 1, 3, 'expected expression, got end of file'],
    ['{%', 1, 3, 'the template ends inside a tag'],
    ['{% call items %}{% endcall %}{% endcall %}', 1, 32, 'cannot parse the template here'],
    ['{% block a %}{% block a %}{% endblock %}{% endblock %}', 1, 17, "block 'a' is defined twice"],
    ['{% from "m.j2" import nope %}', 1, 4, "cannot import 'nope'"],
    ['FROM debian\n{% block ?a %}{% endblock %}', 2, 4, "'?a' is not a block name"],
    ['a\n{% set ns.x = 1 %}', 2, 15, 'cannot compile this statement'],
    ['{{ none() }}', 1, 4, 'cannot compile this statement'],
  ])('%j: line %i, column %i', (source, line, column, message) => {
    expect(failure(source)).toMatchObject({ file: 'images/img/Dockerfile.j2', line, column });
    expect(failure(source)).toHaveProperty('message', expect.stringContaining(message));
  });

  it('a {% block %} or an include in a loop\'s {% else %} compiles (was: "internal error: compiled template is invalid")', () => {
    expect(failure('{% for x in [] %}{% else %}{% block b %}B{% endblock %}{% endfor %}')).toBe(
      'B\n',
    );
    expect(failure('{% for x in [] %}{% else %}[{% include "m.j2" %}]{% endfor %}')).toBe('[]\n');
  });
});

describe('templates: recursion', () => {
  it('a macro calling itself is a located error in template terms (was: "Maximum call stack size exceeded")', () => {
    expect(failure('{% macro m() %}{{ m() }}{% endmacro %}\n{{ m() }}')).toMatchObject({
      file: 'images/img/Dockerfile.j2',
      line: 1,
      message: expect.stringContaining('maximum recursion depth exceeded') as unknown,
    });
  });
});
