/**
 * Tests of the template renderer: its environment, undefined values and template errors.
 * Expected outputs were checked against Jinja2 3.1 with its default settings (what kolla-build
 * uses), except where kbuild deliberately differs (undefined values are errors). Lookup and
 * overrides: render-lookup.test.ts; Jinja2 compatibility: render-jinja2-compat.test.ts;
 * the customizable filter and plugins: render-plugins.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  renderer,
  IMAGE,
  renderOne,
  out,
  failure,
  MACROS,
} from '../../../test/helpers/render-templates.js';

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

describe('unclosed block tags (issue 13, defect 5)', () => {
  it.each([
    ['if', 'FROM a\n{% if true %}\nRUN x\n', 2, 4, 'endif'],
    ['for', 'FROM a\nRUN x\n  {% for p in [1] %}{{ p }}', 3, 6, 'endfor'],
    ['block', 'FROM a\n{% block b %}\n', 2, 4, 'endblock'],
    ['macro', '{% macro m() %}x\nFROM a\n', 1, 4, 'endmacro'],
    ['set', 'FROM a\n{% set x %}y\n', 2, 4, 'endset'],
    ['filter', 'FROM a\n{% filter upper %}y\n', 2, 4, 'endfilter'],
    ['call', 'FROM a\n{% call m() %}y\n', 2, 4, 'endcall'],
  ])('an unclosed %s tag is located at its own tag', (tag, source, line, column, end) => {
    const e = failure(source);
    expect(e).toMatchObject({ file: `images/${IMAGE}`, line, column });
    expect(e.message).toContain(`{% ${tag} %} is never closed`);
    expect(e.message).toContain(`{% ${end} %}`);
  });

  it('names the innermost unclosed tag when tags nest', () => {
    const e = failure('{% if a %}\n{% for x in y %}{% endfor %}\n{% if b %}\nz\n');
    expect(e).toMatchObject({ line: 3, column: 4 });
    expect(e.message).toContain('{% if %} is never closed');
  });
});
