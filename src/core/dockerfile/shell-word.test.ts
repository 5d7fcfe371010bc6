import { describe, expect, it } from 'vitest';
import { expandWord, NO_VARS, UNKNOWN_VARS, type Expansion, type ShellVar } from './shell-word.js';

const vars = (
  values: Record<string, string | null>,
  partial: string[] = [],
): Map<string, ShellVar> =>
  new Map(
    Object.entries(values).map(([k, value]) => [
      k,
      { value, ...(partial.includes(k) && { partial: true }) },
    ]),
  );

function expand(
  word: string,
  values: Record<string, string | null> = {},
  escape = '\\',
): Expansion {
  const r = expandWord(word, vars(values), escape);
  if (!r.ok) throw new Error(`expected ${word} to expand: ${r.error}`);
  return r.value;
}

const value = (word: string, values: Record<string, string | null> = {}, escape = '\\'): string =>
  expand(word, values, escape).value;

function failure(word: string, values: Record<string, string | null> = {}): string {
  const r = expandWord(word, vars(values));
  if (r.ok) throw new Error(`expected ${word} to fail, got ${r.value.value}`);
  return r.error;
}

describe('expandWord', () => {
  it('leaves plain words alone', () => {
    expect(value('debian:bookworm')).toBe('debian:bookworm');
    expect(value('')).toBe('');
  });

  it('substitutes $VAR and ${VAR}', () => {
    const v = { BASE: 'debian', TAG: '12' };
    expect(value('$BASE:$TAG', v)).toBe('debian:12');
    expect(value('${BASE}:${TAG}-slim', v)).toBe('debian:12-slim');
    expect(value('$BASE-x', v)).toBe('debian-x');
    expect(value('$BASE_x', v)).toBe(''); // the name is BASE_x
  });

  it('expands an unset variable to empty and reports it', () => {
    const e = expand('img:$TAG$OTHER$TAG');
    expect(e.value).toBe('img:');
    expect(e.emptyVars).toEqual(['TAG', 'OTHER']);
    expect(e.unresolved).toBe(false);
    expect(expand('x$E', { E: '' }).emptyVars).toEqual(['E']);
  });

  it('keeps a lone $ and reads digits and special parameters as names', () => {
    expect(value('a$')).toBe('a$');
    expect(value('a$/b')).toBe('a$/b');
    expect(value('a$1b')).toBe('ab');
    expect(value('a$$b')).toBe('ab');
  });

  describe('modifiers', () => {
    const cases: [string, string, string, string][] = [
      // word, when set to "v", when set to "", when unset
      ['${X:-d}', 'v', 'd', 'd'],
      ['${X-d}', 'v', '', 'd'],
      ['${X:+a}', 'a', '', ''],
      ['${X+a}', 'a', 'a', ''],
    ];
    it.each(cases)('%s', (word, set, empty, unset) => {
      expect(value(word, { X: 'v' })).toBe(set);
      expect(value(word, { X: '' })).toBe(empty);
      expect(value(word)).toBe(unset);
    });

    it('expands inside the default word', () => {
      expect(value('${X:-${Y:-z}}')).toBe('z');
      expect(value('${X:-$Y/b}', { Y: 'a' })).toBe('a/b');
      expect(value('debian:bookworm${S:+-$S}', { S: 'slim' })).toBe('debian:bookworm-slim');
      expect(value('${X:-"a b"}')).toBe('a b');
      expect(value('${X:-a\\}b}')).toBe('a}b');
    });

    it('${X:?message} and ${X?message} fail when missing', () => {
      expect(failure('${X:?set X please}')).toBe('X: set X please');
      expect(failure('${X?}')).toBe('X: is not allowed to be unset');
      expect(failure('${X:?}', { X: '' })).toBe('X: is not allowed to be empty');
      expect(value('${X?}', { X: '' })).toBe('');
      expect(value('${X:?}', { X: 'v' })).toBe('v');
    });

    it('removes prefixes and suffixes by pattern', () => {
      const v = { V: 'quay.io/org/app:1.2.3' };
      expect(value('${V#*/}', v)).toBe('org/app:1.2.3');
      expect(value('${V##*/}', v)).toBe('app:1.2.3');
      expect(value('${V%.*}', v)).toBe('quay.io/org/app:1.2');
      expect(value('${V%%.*}', v)).toBe('quay');
      expect(value('${V#nomatch}', v)).toBe(v.V);
      expect(value('${V%:?.?.?}', v)).toBe('quay.io/org/app');
      expect(value('${V#\\*}', { V: '*a' })).toBe('a');
    });

    it('replaces by pattern', () => {
      expect(value('${V/-/.}', { V: 'a-b-c' })).toBe('a.b-c');
      expect(value('${V//-/.}', { V: 'a-b-c' })).toBe('a.b.c');
      expect(value('${V// /-}', { V: 'a b' })).toBe('a-b');
      expect(value('${V/b*/X}', { V: 'abcabc' })).toBe('aX');
      expect(value('${V/$/x}', { V: 'a$b' })).toBe('axb');
    });
  });

  describe('quotes and escapes', () => {
    it('single quotes are literal', () => {
      expect(value("'$X'", { X: 'v' })).toBe('$X');
      expect(value("a'b c'd")).toBe('ab cd');
    });

    it('double quotes expand $ but keep other characters', () => {
      expect(value('"$X y"', { X: 'v' })).toBe('v y');
      expect(value('"a\\"b"')).toBe('a"b');
      expect(value('"a\\$b"')).toBe('a$b');
      expect(value('"a\\b"')).toBe('a\\b');
      expect(value(`"it's"`)).toBe("it's");
    });

    it('the escape character escapes the next one', () => {
      expect(value('\\$X', { X: 'v' })).toBe('$X');
      expect(value('a\\ b')).toBe('a b');
      expect(value('a\\')).toBe('a');
    });

    it('the backtick escape (# escape=`) replaces the backslash', () => {
      expect(value('`$X', { X: 'v' }, '`')).toBe('$X');
      expect(value('c:\\$X', { X: 'v' }, '`')).toBe('c:\\v');
      expect(value('"a`"b"', {}, '`')).toBe('a"b');
    });
  });

  describe('syntax errors, with BuildKit messages', () => {
    it.each([
      ['${', "syntax error: missing '}'"],
      ['${X', "syntax error: missing '}'"],
      ['${X:-abc', "syntax error: missing '}'"],
      ['${}', 'syntax error: bad substitution'],
      ['${:-x}', 'syntax error: bad substitution'],
      ['${{X}}', 'syntax error: bad substitution'],
      ['${X:x}', 'unsupported modifier (:x) in substitution'],
      ['${X^}', 'unsupported modifier (^) in substitution'],
      ['${X/a}', "syntax error: missing '/' in ${}"],
      ["'abc", 'unexpected end of statement while looking for matching single-quote'],
      ['"abc', 'unexpected end of statement while looking for matching double-quote'],
    ])('%s', (word, message) => {
      expect(failure(word, { X: 'v' })).toBe(message);
    });

    it('rejects a bad escape in a pattern', () => {
      expect(failure('${X#\\a}', { X: 'v' })).toMatch(/invalid escape/);
    });
  });

  describe('variables only the engine knows', () => {
    it('keeps their expansions as written and says so', () => {
      const e = expand('img-$TARGETARCH:${TAG:-1}', { TARGETARCH: null });
      expect(e.value).toBe('img-$TARGETARCH:1');
      expect(e.unresolved).toBe(true);
      expect(value('${TARGETARCH:-amd64}', { TARGETARCH: null })).toBe('${TARGETARCH:-amd64}');
      expect(value('"${A}"/${A#x}/${A/x/y}', { A: null })).toBe('${A}/${A#x}/${A/x/y}');
    });

    it('marks values that carry such text', () => {
      const e = expandWord('$ARCH', vars({ ARCH: '$TARGETARCH' }, ['ARCH']));
      expect(e.ok && e.value).toEqual({ value: '$TARGETARCH', emptyVars: [], unresolved: true });
    });

    it('UNKNOWN_VARS keeps every expansion; NO_VARS empties them', () => {
      const u = expandWord('a$X"b"', UNKNOWN_VARS);
      expect(u.ok && u.value.value).toBe('a$Xb');
      const n = expandWord('a$X"b"', NO_VARS);
      expect(n.ok && n.value.value).toBe('ab');
    });
  });
});
