/**
 * Source-level adjustments made before nunjucks lexes a template, for Jinja2 compatibility.
 * Rewrites keep every tag on its line and, where possible, at its columns, so error positions
 * still point into the user's file.
 *
 * - Newlines are normalised to `\n` and one trailing newline is dropped, as Jinja2 does with its
 *   default `keep_trailing_newline=False` (so `{% include %}` of a file ending in a newline does
 *   not add a blank line).
 * - `{% include "x" with context %}` / `without context`: nunjucks does not parse the suffix; an
 *   include always sees the caller's context there (Jinja2's default), so it is dropped.
 * - `{%+` / `+%}` (Jinja2's "keep whitespace" markers) are no-ops while lstrip_blocks and
 *   trim_blocks are off, so the `+` is dropped.
 * - In template overrides, `{% extends parent_template %}` is bound to a fixed name per level.
 */

export interface Preprocessed {
  readonly source: string;
  /** Whether `{% extends parent_template %}` was found (and rewritten). */
  readonly extendsParent: boolean;
}

/** Finds where a `{{ … }}` or `{% … %}` starting at `from` ends (index after the closer), or -1.
 *  Quoted strings inside the tag may contain the closer. */
function tagEnd(s: string, from: number, closer: string): number {
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (s.startsWith(closer, i)) {
      return i + closer.length;
    }
  }
  return -1;
}

const RAW_START = /^\{%[-+]?\s*(raw|verbatim)\s*[-+]?%\}$/;

/**
 * @param source the template as read
 * @param parentName for a template override: the name its `{% extends parent_template %}`
 *   should extend instead (must not contain quotes or backslashes)
 */
export function preprocessTemplate(source: string, parentName?: string): Preprocessed {
  const s = source.replace(/\r\n?/g, '\n').replace(/\n$/, '');
  let extendsParent = false;
  let out = '';
  let i = 0;
  const open = /\{[%{#]/g;
  while (i < s.length) {
    open.lastIndex = i;
    const m = open.exec(s);
    if (!m) break;
    const start = m.index;
    const kind = s[start + 1];
    out += s.slice(i, start);
    if (kind === '#') {
      const end = s.indexOf('#}', start + 2);
      const stop = end < 0 ? s.length : end + 2;
      out += s.slice(start, stop);
      i = stop;
      continue;
    }
    const end = tagEnd(s, start + 2, kind === '{' ? '}}' : '%}');
    if (end < 0) {
      // Unterminated: leave it to the parser to report.
      out += s.slice(start);
      i = s.length;
      break;
    }
    const tag = s.slice(start, end);
    i = end;
    if (kind === '{') {
      out += tag;
      continue;
    }
    const raw = RAW_START.exec(tag);
    if (raw) {
      const close = new RegExp(`\\{%[-+]?\\s*end${raw[1] ?? 'raw'}\\s*[-+]?%\\}`, 'g');
      close.lastIndex = end;
      const c = close.exec(s);
      const stop = c ? c.index + c[0].length : s.length;
      out += s.slice(start, stop);
      i = stop;
      continue;
    }
    const rewritten = rewriteBlockTag(tag, parentName);
    if (rewritten.extendsParent) extendsParent = true;
    out += rewritten.tag;
  }
  out += s.slice(i);
  return { source: out, extendsParent };
}

function rewriteBlockTag(
  tag: string,
  parentName: string | undefined,
): { tag: string; extendsParent: boolean } {
  const m = /^\{%([-+]?)([\s\S]*?)([-+]?)%\}$/.exec(tag);
  if (!m) return { tag, extendsParent: false };
  let [, lead = '', body = '', trail = ''] = m;
  if (lead === '+') lead = ' ';
  if (trail === '+') trail = ' ';
  let extendsParent = false;
  if (/^\s*include\b/.test(body)) {
    body = body.replace(/\s+(?:with|without)\s+context\s*$/, (x) => ' '.repeat(x.length));
  } else if (parentName !== undefined && /^\s*extends\s+parent_template\s*$/.test(body)) {
    extendsParent = true;
    const quoted = `"${parentName}"`;
    body = body.replace('parent_template', quoted.padEnd('parent_template'.length));
  }
  return { tag: `{%${lead}${body}${trail}%}`, extendsParent };
}
