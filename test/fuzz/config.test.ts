/**
 * Fuzzing the config loader: kbuild.yaml, profiles/<name>.yaml (with `extends`) and image.yaml,
 * through the functions a real run calls on the files' text (parseProject, resolveProfile,
 * discoverImages → parseImageMeta, as cli/load.ts does after adapters/workspace.ts read them).
 * Two kinds of input: generated structured values (near-valid keys, values of every type,
 * written out as yaml) and raw yaml text from fragments (anchors, aliases, merge keys, tags,
 * complex keys, block scalars, documents, tabs, broken quoting) plus arbitrary strings.
 * The property: a value, or problems that each name the file and a line of it.
 * The whole pipeline with rendering: family.test.ts. Runs and seed: fuzz-params.ts.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { stringify } from 'yaml';
import {
  imageMetaSchema,
  parseImageMeta,
  parseProject,
  profileSchema,
  projectSchema,
  resolveProfile,
  type ProfileSource,
} from '../../src/core/config/config.js';
import { discoverImages } from '../../src/core/config/images.js';
import type { Schema } from '../../src/core/config/schema.js';
import { fuzzParams, fuzzTimeout } from './fuzz-params.js';
import { expectLocatedFailure, expectLocatedProblem, type Texts } from './located.js';

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

// ---------------------------------------------------------------------------------------------
// Structured values

const keysOf = (s: Schema): string[] => (s.kind === 'object' ? Object.keys(s.fields) : []);
const fieldOf = (s: Schema, k: string): Schema | undefined =>
  s.kind === 'object'
    ? Object.hasOwn(s.fields, k)
      ? s.fields[k]
      : undefined
    : s.kind === 'map-of'
      ? s.value
      : undefined;

/** A key as a person might get it wrong: a typo, another case, blanks, a prototype name. */
const nearKey = (valid: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...valid) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...valid), fc.nat())
        .map(([k, i]) => k.slice(0, i % k.length) + k.slice((i % k.length) + 1)),
    },
    { weight: 1, arbitrary: fc.constantFrom(...valid).map((k) => k.toUpperCase()) },
    {
      weight: 1,
      arbitrary: pick('__proto__', 'constructor', 'toString', '', ' ', '<<', '0', 'x'.repeat(300)),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  );

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  pick('', ' ', 'true', 'null', '~', 'yes', 'on', '0x1F', '1e3', '.inf', '2024-01-01', '12.10'),
  pick('debian', 'bookworm', 'apt', 'dnf', 'binary', 'source', 'strict', 'host', 'none'),
  pick('127.0.0.1:5000', 'http://h', 'u:p@h', 'bad host!', 'linux/amd64', 'url', 'git', 'local'),
  pick('{{ distro }}', '{{ x', '{% if %}', '{{ 1/0 }}', 'a'.repeat(500), '\u0000', '😀', '\t'),
  pick('0'.repeat(64), 'https://e.org/x.tar.gz', '/regex(/', '/(a+)+$/', 'master-*', 'base'),
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

/** A value for `schema`: usually of the right shape, often of the wrong type. */
function valueFor(schema: Schema | undefined, depth: number): fc.Arbitrary<unknown> {
  const anything = depth > 0 ? anyValue(depth - 1) : scalar;
  if (!schema || depth <= 0) return anything;
  const right: fc.Arbitrary<unknown> = (() => {
    switch (schema.kind) {
      case 'object':
        return mapping(nearKey(keysOf(schema)), (k) => valueFor(fieldOf(schema, k), depth - 1));
      case 'map-of':
        return mapping(pick('base', 'app', 'nope', 'Bad Name', '*'), () =>
          valueFor(schema.value, depth - 1),
        );
      case 'string-list':
      case 'list-of':
        return fc.array(schema.kind === 'list-of' ? valueFor(schema.item, depth - 1) : scalar, {
          maxLength: 3,
        });
      case 'string-map':
      case 'any-map':
        return mapping(fc.string({ maxLength: 5 }), () => anything);
      case 'string':
      case 'boolean':
      case 'number':
      case 'flag-or-reason':
      case 'flag-or-choice':
      case 'string-or-list':
        return scalar;
    }
  })();
  return fc.oneof({ weight: 4, arbitrary: right }, { weight: 1, arbitrary: anything });
}

function anyValue(depth: number): fc.Arbitrary<unknown> {
  if (depth <= 0) return scalar;
  return fc.oneof(
    { weight: 3, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(anyValue(depth - 1), { maxLength: 3 }) },
    { weight: 1, arbitrary: mapping(fc.string({ maxLength: 4 }), () => anyValue(depth - 1)) },
  );
}

/** A Map, so that keys like __proto__ are plain keys and yaml writes them as written. */
function mapping(
  key: fc.Arbitrary<string>,
  value: (k: string) => fc.Arbitrary<unknown>,
): fc.Arbitrary<Map<string, unknown>> {
  return fc
    .uniqueArray(key, { maxLength: 5 })
    .chain((keys) =>
      fc.tuple(...keys.map((k) => value(k))).map((vs) => new Map(keys.map((k, i) => [k, vs[i]]))),
    );
}

/** A structured value for a file's schema, written out as yaml. */
const yamlOf = (schema: Schema): fc.Arbitrary<string> =>
  fc
    .oneof({ weight: 9, arbitrary: valueFor(schema, 3) }, { weight: 1, arbitrary: anyValue(2) })
    .map((v) => stringify(v, { aliasDuplicateObjects: false }));

// ---------------------------------------------------------------------------------------------
// Raw yaml text

const rawValue = fc.oneof(
  scalar.map((v) => (typeof v === 'string' ? v : String(v))),
  pick('&a {x: 1}', '*a', '*nope', '!!binary aGVsbG8=', '!!timestamp 2001-12-14', '!!set {a, b}'),
  pick('!!omap [a: 1]', '!custom x', '!!str 1', '!!int x', '!!float .nan', '[a, b', '{a: 1'),
  pick('"unterminated', "'x''y'", '|\n  block\n  text', '>-\n  folded', '|+\n', '[]', '{}'),
  pick('[a, [b, {c: d}]]', '{a: [1, 2], b: {c: null}}', '&x [*x]', '? a', '- x', '"\\u0000"'),
);
const rawKey = fc.oneof(
  nearKey([...keysOf(projectSchema), ...keysOf(profileSchema), ...keysOf(imageMetaSchema)]),
  pick('[a, b]', '{a: 1}', '? complex', '"quoted key"', '!!int 1', '&k key', '*k', '-', '- a'),
);
const rawLine = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(rawKey, rawValue).map(([k, v]) => `${k}: ${v}`) },
  { weight: 2, arbitrary: rawKey.map((k) => `${k}:`) },
  { weight: 2, arbitrary: rawValue.map((v) => `- ${v}`) },
  { weight: 1, arbitrary: pick('<<: *a', '---', '...', '%YAML 1.2', '%TAG ! tag:x,2000:') },
  { weight: 1, arbitrary: pick('# comment', '', '\t', 'x: 1 # c', ': v', '? k\n: v', '\uFEFF') },
);
const indent = pick('', '', '', '  ', '    ', '\t', ' ');
const rawYaml = fc
  .array(fc.tuple(indent, rawLine, pick('\n', '\n', '\n', '\r\n', '')), { maxLength: 12 })
  .map((ls) => ls.map(([i, l, e]) => i + l + e).join(''));

/** Any text for a file: structured yaml, raw fragments, both spliced, or arbitrary strings. */
const textFor = (schema: Schema): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: yamlOf(schema) },
    { weight: 4, arbitrary: rawYaml },
    {
      weight: 1,
      arbitrary: fc.tuple(yamlOf(schema), rawYaml).map(([a, b]) => `${a}${b}`),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  );

// ---------------------------------------------------------------------------------------------

describe('fuzz: the config loader gives a value or located problems, never an exception', () => {
  // Nor a warning printed by the yaml library behind kbuild's back (stderr is the reporter's).
  let warnings: MockInstance<typeof process.emitWarning>;
  beforeEach(() => {
    warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => {
    expect(warnings.mock.calls.map((c) => String(c[0]))).toEqual([]);
    vi.restoreAllMocks();
  });

  it('kbuild.yaml (parseProject)', { timeout: fuzzTimeout(300) }, () => {
    fc.assert(
      fc.property(textFor(projectSchema), (text) => {
        const r = parseProject(text, 'kbuild.yaml');
        const texts: Texts = new Map([['kbuild.yaml', text]]);
        if (!r.ok) for (const p of r.error) expectLocatedProblem(p, texts);
        else expectLocatedProblem({ ...r.value.locate(['tag']), message: 'x' }, new Map());
      }),
      fuzzParams(300),
    );
  });

  it('profiles with extends (resolveProfile)', { timeout: fuzzTimeout(200) }, () => {
    const names = ['a', 'b', 'c'];
    const profileText = fc
      .tuple(textFor(profileSchema), fc.option(pick('a', 'b', 'c', 'd', '[a]')))
      .map(([t, ext]) => (ext === null ? t : `extends: ${ext}\n${t}`));
    fc.assert(
      fc.property(fc.array(profileText, { minLength: 3, maxLength: 3 }), (files) => {
        const sources = new Map<string, ProfileSource>(
          names.map((n, i) => [n, { name: n, file: `profiles/${n}.yaml`, text: files[i]! }]),
        );
        const texts: Texts = new Map(names.map((n, i) => [`profiles/${n}.yaml`, files[i]!]));
        for (const n of names) {
          const r = resolveProfile(n, sources);
          if (!r.ok) for (const p of r.error) expectLocatedProblem(p, texts);
          else {
            expect(typeof r.value.distro).toBe('string');
            r.value.locate(['vars', 'x']);
          }
        }
      }),
      fuzzParams(200),
    );
  });

  it('image.yaml (discoverImages → parseImageMeta)', { timeout: fuzzTimeout(300) }, () => {
    fc.assert(
      fc.property(textFor(imageMetaSchema), (text) => {
        const r = parseImageMeta(text, 'images/a/image.yaml');
        const texts: Texts = new Map([['images/a/image.yaml', text]]);
        if (!r.ok) for (const p of r.error) expectLocatedProblem(p, texts);
        const found = discoverImages([{ template: 'a/Dockerfile.j2', metaText: text }], 'images');
        for (const f of found.failures) expectLocatedFailure(f, texts);
        expect(found.images.length + found.failures.length).toBeGreaterThan(0);
      }),
      fuzzParams(300),
    );
  });
});
