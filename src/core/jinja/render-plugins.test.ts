/** Tests of what extends the templates: the customizable filter, and plugins. */
import { describe, expect, it } from 'vitest';
import { createRenderer } from './render.js';
import { IMAGE, out, failure } from '../../../test/helpers/render-templates.js';

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
