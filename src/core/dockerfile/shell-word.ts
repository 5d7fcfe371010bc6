/**
 * Variable expansion and quote removal in one Dockerfile word, as BuildKit's `shell.Lex`
 * does it for `FROM` names, `--platform` values and `ARG` defaults:
 *
 *   - `$VAR`, `${VAR}`; `${VAR:-word}` `${VAR-word}` `${VAR:+word}` `${VAR+word}`
 *     `${VAR:?msg}` `${VAR?msg}`; `${VAR#pat}` `${VAR##pat}` `${VAR%pat}` `${VAR%%pat}`;
 *     `${VAR/pat/repl}` `${VAR//pat/repl}` (patterns: `*`, `?`, `\` escapes);
 *   - single quotes (literal), double quotes (`$` still expands; the escape character
 *     escapes only `"`, `$` and itself), and the escape character (`\`, or `` ` `` after
 *     `# escape=```) outside quotes;
 *   - an unset variable expands to ''.
 *
 * A variable whose value only the engine knows (BuildKit's automatic `TARGETARCH`,
 * `BUILDPLATFORM`, ... when the caller did not pass them) is kept as written, and the
 * result says so (`unresolved`), rather than guessing.
 */
import { err, ok, type Result } from '../model.js';

/** A variable as seen by the expander. */
export interface ShellVar {
  /** The value; null when only the engine knows it (the expansion is kept as written). */
  readonly value: string | null;
  /** The value itself contains text kept as written (it came from an unresolved expansion). */
  readonly partial?: boolean;
}

/** Looks variables up by name; undefined means unset. A ReadonlyMap fits. */
export interface ShellVars {
  get(name: string): ShellVar | undefined;
}

export interface Expansion {
  readonly value: string;
  /** Variables the word used that were unset or empty, in order of first use, without duplicates. */
  readonly emptyVars: readonly string[];
  /** Part of the value was kept as written because only the engine knows it. */
  readonly unresolved: boolean;
}

/** Every variable unknown: expansions are kept as written (BuildKit's `SkipUnsetEnv`). */
export const UNKNOWN_VARS: ShellVars = { get: () => ({ value: null }) };

/** No variable set. */
export const NO_VARS: ShellVars = { get: () => undefined };

/**
 * Expands one word. The error is BuildKit's message for the same mistake
 * (e.g. "syntax error: missing '}'").
 */
export function expandWord(
  word: string,
  vars: ShellVars,
  escapeChar: string = '\\',
): Result<Expansion, string> {
  const expander = new WordExpander(word, vars, escapeChar);
  try {
    const value = expander.processUntil(undefined, false);
    return ok({ value, emptyVars: expander.emptyVars, unresolved: expander.unresolved });
  } catch (e) {
    if (e instanceof ExpansionError) return err(e.message);
    throw e;
  }
}

/** Internal: unwinds the recursive descent to `expandWord`, which turns it into a Result. */
class ExpansionError extends Error {}

const SPECIAL_PARAMS = '@*#?-$!0';

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isNameChar(c: string): boolean {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c === '_') return true;
  return c > '\x7f' && /[\p{L}\p{Nd}]/u.test(c);
}

class WordExpander {
  private i = 0;
  readonly emptyVars: string[] = [];
  unresolved = false;

  constructor(
    private readonly src: string,
    private readonly vars: ShellVars,
    private readonly esc: string,
  ) {}

  /**
   * Processes text up to `stop` (consumed) or the end of the word. With `rawEscapes` the
   * escape character is kept (pattern words: the pattern syntax interprets it).
   */
  processUntil(stop: string | undefined, rawEscapes: boolean): string {
    const { src, esc } = this;
    let out = '';
    while (this.i < src.length) {
      const ch = src.charAt(this.i);
      if (ch === stop) {
        this.i++;
        return out;
      }
      if (ch === "'") {
        out += this.singleQuoted();
      } else if (ch === '"') {
        out += this.doubleQuoted();
      } else if (ch === '$') {
        out += this.dollar();
      } else {
        this.i++;
        if (ch === esc) {
          if (rawEscapes) out += ch;
          // An escape at the very end of the word is dropped.
          if (this.i >= src.length) break;
          out += src.charAt(this.i++);
        } else {
          out += ch;
        }
      }
    }
    if (stop !== undefined) throw new ExpansionError("syntax error: missing '}'");
    return out;
  }

  private singleQuoted(): string {
    const close = this.src.indexOf("'", this.i + 1);
    if (close < 0) {
      throw new ExpansionError(
        'unexpected end of statement while looking for matching single-quote',
      );
    }
    const text = this.src.slice(this.i + 1, close);
    this.i = close + 1;
    return text;
  }

  private doubleQuoted(): string {
    const { src, esc } = this;
    let out = '';
    this.i++;
    for (;;) {
      if (this.i >= src.length) {
        throw new ExpansionError(
          'unexpected end of statement while looking for matching double-quote',
        );
      }
      let ch = src.charAt(this.i);
      if (ch === '"') {
        this.i++;
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.i++;
      if (ch === esc) {
        if (this.i >= src.length) continue; // the missing quote is reported above
        const next = src.charAt(this.i);
        // Only these can be escaped inside double quotes; other escapes stay as written.
        if (next === '"' || next === '$' || next === esc) {
          ch = next;
          this.i++;
        }
      }
      out += ch;
    }
  }

  private name(): string {
    const { src } = this;
    const start = this.i;
    if (this.i < src.length && isDigit(src.charAt(this.i))) {
      while (this.i < src.length && isDigit(src.charAt(this.i))) this.i++;
      return src.slice(start, this.i);
    }
    if (this.i < src.length && SPECIAL_PARAMS.includes(src.charAt(this.i))) {
      this.i++;
      return src.slice(start, this.i);
    }
    while (this.i < src.length && isNameChar(src.charAt(this.i))) this.i++;
    return src.slice(start, this.i);
  }

  /** Looks a variable up; undefined when only the engine knows it. */
  private lookup(name: string): { set: boolean; value: string } | undefined {
    const v = this.vars.get(name);
    if (v === undefined || v.value === '') {
      if (!this.emptyVars.includes(name)) this.emptyVars.push(name);
      return { set: v !== undefined, value: '' };
    }
    if (v.value === null) return undefined;
    if (v.partial === true) this.unresolved = true;
    return { set: true, value: v.value };
  }

  /** The expression from `start` to here, kept as written. */
  private asWritten(start: number): string {
    this.unresolved = true;
    return this.src.slice(start, this.i);
  }

  private dollar(): string {
    const { src } = this;
    const start = this.i;
    this.i++; // '$'
    if (src.charAt(this.i) !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const v = this.lookup(name);
      return v === undefined ? this.asWritten(start) : v.value;
    }
    this.i++; // '{'
    if (this.i >= src.length) throw new ExpansionError("syntax error: missing '}'");
    const first = src.charAt(this.i);
    if (first === '{' || first === '}' || first === ':') {
      throw new ExpansionError('syntax error: bad substitution');
    }
    const name = this.name();
    if (this.i >= src.length) throw new ExpansionError("syntax error: missing '}'");
    let op = src.charAt(this.i++);
    let written = op;
    let nullIsUnset = false;

    if (op === '}') {
      const v = this.lookup(name);
      return v === undefined ? this.asWritten(start) : v.value;
    }
    if (op === ':') {
      nullIsUnset = true;
      op = src.charAt(this.i++);
      written += op;
      if (op !== '-' && op !== '+' && op !== '?') {
        throw new ExpansionError(`unsupported modifier (${written}) in substitution`);
      }
    }
    if (op === '-' || op === '+' || op === '?' || op === '#' || op === '%') {
      const word = this.processUntil('}', op === '#' || op === '%');
      const v = this.lookup(name);
      if (v === undefined) return this.asWritten(start);
      const missing = !v.set || (nullIsUnset && v.value === '');
      switch (op) {
        case '-':
          return missing ? word : v.value;
        case '+':
          return missing ? '' : word;
        case '?':
          if (!v.set) throw new ExpansionError(`${name}: ${word || 'is not allowed to be unset'}`);
          if (nullIsUnset && v.value === '') {
            throw new ExpansionError(`${name}: ${word || 'is not allowed to be empty'}`);
          }
          return v.value;
        case '#':
        case '%': {
          const greedy = word.startsWith(op);
          const pattern = greedy ? word.slice(1) : word;
          return op === '#'
            ? trimPrefix(pattern, v.value, greedy)
            : trimSuffix(pattern, v.value, greedy);
        }
      }
    }
    if (op === '/') {
      const all = src.charAt(this.i) === '/';
      if (all) this.i++;
      let pattern: string;
      try {
        pattern = this.processUntil('/', true);
      } catch (e) {
        if (e instanceof ExpansionError && this.i >= src.length) {
          throw new ExpansionError("syntax error: missing '/' in ${}");
        }
        throw e;
      }
      const replacement = this.processUntil('}', true);
      const v = this.lookup(name);
      if (v === undefined) return this.asWritten(start);
      const re = shellPatternToRegExp(pattern, true, false, all);
      // A function replacer: the replacement is literal text, not a `$1` template.
      return v.value.replace(re, () => replacement);
    }
    throw new ExpansionError(`unsupported modifier (${written}) in substitution`);
  }
}

// ---------------------------------------------------------------------------
// Shell patterns (`*`, `?`, `\` escapes), translated to a regular expression as BuildKit
// does. Values are ARG values (short), so the backtracking of a few `.*` does not matter.

function shellPatternToRegExp(
  pattern: string,
  greedy: boolean,
  anchored: boolean,
  global = false,
): RegExp {
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*') {
      out += star;
    } else if (c === '?') {
      out += '.';
    } else if (c === '\\') {
      const next = pattern.charAt(i + 1);
      // `\}` inside ${} escapes the brace for the word, not for the pattern.
      if (next === '}') continue;
      if (next !== '*' && next !== '?' && next !== '\\') {
        throw new ExpansionError(
          `invalid pattern (${pattern}) in substitution: invalid escape '\\${next}'`,
        );
      }
      out += '\\' + next;
      i++;
    } else if ('[]{}.+()|^$/'.includes(c)) {
      out += '\\' + c;
    } else {
      out += c;
    }
  }
  return new RegExp(out, global ? 'g' : '');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m === null ? value : value.slice(m[0].length);
}

/** Reverses a pattern, keeping each `\x` escape pair in order. */
function reversePattern(pattern: string): string {
  const chars = [...pattern];
  const tokens: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    if (c === '\\' && i !== chars.length - 1) tokens.push(c + (chars[++i] ?? ''));
    else tokens.push(c);
  }
  return tokens.reverse().join('');
}

const reverse = (s: string): string => [...s].reverse().join('');

/** The shortest (or longest) matching suffix, found as a prefix of the reversed value. */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}
