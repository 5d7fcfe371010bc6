/** Tests of where templates come from: image directories, the images root, overrides. */
import { describe, expect, it } from 'vitest';
import { createRenderer, type Renderer } from './render.js';
import {
  renderer,
  IMAGE,
  failure,
  CountingMap,
  MACROS,
} from '../../../test/helpers/render-templates.js';

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

  it('names only the paths it really tried (issue 13, defect 8)', () => {
    // From img/: img/../img/run.sh is img/run.sh, tried among the templates (only *.j2 are);
    // from the images root the name climbs out, so nothing is tried there.
    expect(failure('{% include "../img/run.sh" %}', {}, { 'img/run.sh.j2': 'x' }).message).toBe(
      "template '../img/run.sh' not found (looked for images/img/run.sh; '../img/run.sh' leaves the images directory from images/) — only *.j2 files under images/ are templates",
    );
    expect(failure('{% include "../../etc/passwd" %}').message).toBe(
      "template '../../etc/passwd' not found ('../../etc/passwd' leaves the images directory from images/img/ and from images/: nothing was looked for) — only *.j2 files under images/ are templates",
    );
    expect(failure('{% include ["a.j2", "b/c.j2"] %}').message).toBe(
      "template 'a.j2', 'b/c.j2' not found (looked for images/img/a.j2, images/a.j2, images/img/b/c.j2, images/b/c.j2)",
    );
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
