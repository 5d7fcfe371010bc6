/**
 * Line maps: which template position wrote each line of a rendered text. A render with tracing
 * on (runtime.ts `setTracing`) carries markers naming where each piece of template data and each
 * printed value came from; `readTrace` takes them out and places every output line at the
 * position that wrote its first visible character.
 *
 * Markers ride inside strings, so a template that inspects printed text as a value (`| trim` or
 * `| length` of a macro's output, say) can see them and render differently while tracing: the
 * caller compares the traced text with the plain render and keeps only lines both agree on
 * (`alignLines`).
 */
import type { TemplateLocation } from '../model.js';
import { MARK, MARK_END, type Loc } from './runtime.js';

/** One output line's position, in template keys (the renderer shows them as paths). */
export interface KeyedLocation {
  readonly key: string;
  readonly line: number;
  readonly macro?: { readonly name: string; readonly key: string; readonly line: number };
}

interface Frame {
  /** The printed value's position (absent for the outermost level). */
  readonly loc: Loc | undefined;
  /** The template data being read at this level, and the newlines read since it started. */
  text: Loc | undefined;
  newlines: number;
}

/** The position of a character read in `frames` (outermost first). */
function locate(frames: readonly Frame[]): KeyedLocation | undefined {
  const chain: { loc: Loc; line: number }[] = [];
  for (const f of frames) if (f.loc) chain.push({ loc: f.loc, line: f.loc.l });
  const top = frames[frames.length - 1];
  if (top?.text) chain.push({ loc: top.text, line: top.text.l + top.newlines });
  const innermost = chain[chain.length - 1];
  if (!innermost) return undefined;
  let site = innermost;
  for (let i = chain.length - 1; i >= 0; i--) {
    const c = chain[i];
    if (c && c.loc.m === undefined) {
      site = c;
      break;
    }
  }
  const m = innermost.loc.m;
  return {
    key: site.loc.f,
    line: site.line,
    ...(m !== undefined ? { macro: { name: m, key: innermost.loc.f, line: innermost.line } } : {}),
  };
}

/**
 * Takes the markers out of a traced render: the text and, per line (0-based), the position of
 * its first non-blank character (of its start, for a blank line).
 */
export function readTrace(
  traced: string,
  locs: readonly Loc[],
): { text: string; lines: (KeyedLocation | undefined)[] } {
  const frames: Frame[] = [{ loc: undefined, text: undefined, newlines: 0 }];
  const lines: (KeyedLocation | undefined)[] = [];
  let text = '';
  let decided = false;
  let i = 0;
  while (i < traced.length) {
    const at = traced.indexOf(MARK, i);
    const end = at < 0 ? traced.length : at;
    for (let j = i; j < end; j++) {
      const ch = traced[j];
      if (ch === '\n') {
        if (!decided) lines.push(locate(frames));
        decided = false;
        const top = frames[frames.length - 1];
        if (top) top.newlines++;
      } else if (!decided && ch !== ' ' && ch !== '\t' && ch !== '\r') {
        lines.push(locate(frames));
        decided = true;
      }
    }
    text += traced.slice(i, end);
    if (at < 0) break;
    const close = traced.indexOf(MARK_END, at);
    if (close < 0) {
      text += traced.slice(at);
      break;
    }
    const kind = traced[at + 1];
    const loc = locs[Number(traced.slice(at + 2, close))];
    if (kind === 'b') {
      frames.push({ loc, text: undefined, newlines: 0 });
    } else if (kind === 'e') {
      if (frames.length > 1) frames.pop();
      // What follows belongs to the template data the next marker names, or to this value.
      const top = frames[frames.length - 1];
      if (top?.loc) top.text = undefined;
    } else if (kind === 't') {
      const top = frames[frames.length - 1];
      if (top) {
        top.text = loc;
        top.newlines = 0;
      }
    }
    i = close + 1;
  }
  if (!decided && text.length > 0 && !text.endsWith('\n')) lines.push(locate(frames));
  return { text, lines };
}

/**
 * The traced lines for `plain`'s lines where the traced text differs: lines equal in both, in
 * order (the common start, the common end, then lines found once in each in between).
 */
export function alignLines<T>(
  plain: readonly string[],
  traced: readonly string[],
  map: readonly T[],
): (T | undefined)[] {
  const out: (T | undefined)[] = plain.map(() => undefined);
  let head = 0;
  while (head < plain.length && head < traced.length && plain[head] === traced[head]) {
    out[head] = map[head];
    head++;
  }
  let tail = 0;
  while (
    tail < plain.length - head &&
    tail < traced.length - head &&
    plain[plain.length - 1 - tail] === traced[traced.length - 1 - tail]
  ) {
    out[plain.length - 1 - tail] = map[traced.length - 1 - tail];
    tail++;
  }
  const count = (lines: readonly string[], from: number, to: number) => {
    const n = new Map<string, number[]>();
    for (let k = from; k < to; k++) {
      const l = lines[k] ?? '';
      n.set(l, [...(n.get(l) ?? []), k]);
    }
    return n;
  };
  const inTraced = count(traced, head, traced.length - tail);
  for (const [line, at] of count(plain, head, plain.length - tail)) {
    const there = inTraced.get(line);
    if (at.length === 1 && there?.length === 1 && line.trim() !== '') {
      out[at[0] ?? 0] = map[there[0] ?? 0];
    }
  }
  return out;
}

/** A keyed location in display paths. */
export function showLocation(k: KeyedLocation, display: (key: string) => string): TemplateLocation {
  return {
    file: display(k.key),
    line: k.line,
    ...(k.macro
      ? { macro: { name: k.macro.name, file: display(k.macro.key), line: k.macro.line } }
      : {}),
  };
}
