/** Labels as one LABEL instruction: quoting as Docker's lexer reads it, and when not to append. */
import { describe, expect, it } from 'vitest';
import { appendLabels, quoteLabelWord } from './label-instruction.js';
import { InstructionReader, type Instruction } from './instruction-reader.js';
import { expandWord, NO_VARS } from './shell-word.js';

const tricky = [
  'plain',
  '',
  'a "quoted" word',
  'back\\slash and trailing \\',
  '$HOME ${X:-y} $(id)',
  "it's `ticked`",
  'tab\there, unicode é ✓',
  'a=b c=d',
];

/** The words of a LABEL instruction's arguments, each `key=value` pair expanded as Docker does. */
function readLabel(text: string): Record<string, string> {
  const reader = new InstructionReader(text);
  let last: Instruction | undefined;
  for (let i = reader.next(); i; i = reader.next()) if (i.ok) last = i.value;
  expect(last?.keyword).toBe('label');
  const out: Record<string, string> = {};
  const { args, escape } = last!;
  // Double-quoted words `"k"="v"`, one space apart; an escape character takes the next one along.
  const quoted = (at: number): number => {
    expect(args[at]).toBe('"');
    let i = at + 1;
    while (args[i] !== '"') i += args[i] === escape ? 2 : 1;
    return i + 1;
  };
  for (let at = 0; at < args.length;) {
    const k = quoted(at);
    expect(args[k]).toBe('=');
    const v = quoted(k + 1);
    out[value(args.slice(at, k), escape)] = value(args.slice(k + 1, v), escape);
    at = v + 1;
  }
  return out;
}

function value(word: string, escape: string): string {
  const r = expandWord(word, NO_VARS, escape);
  if (!r.ok) throw new Error(r.error);
  return r.value.value;
}

describe('quoteLabelWord', () => {
  it.each(tricky)('reads back exactly, nothing expanded: %j', (s) => {
    expect(value(quoteLabelWord(s, '\\'), '\\')).toBe(s);
    expect(value(quoteLabelWord(s, '`'), '`')).toBe(s);
  });
});

describe('appendLabels', () => {
  const labels = Object.fromEntries(tricky.map((v, i) => [`io.kbuild.l${i}`, v]));

  it('appends one LABEL to the final stage, holding every label', () => {
    const text = 'FROM a AS build\nRUN make\nFROM b\nCOPY --from=build /x /x';
    const r = appendLabels(text, labels)!;
    expect(r.flags).toEqual({});
    expect(r.text.startsWith(`${text}\nLABEL `)).toBe(true);
    expect(r.text.split('\n').filter((l) => l.startsWith('LABEL'))).toHaveLength(1);
    expect(readLabel(r.text)).toEqual(labels);
  });

  it('uses the escape character of an `# escape=` directive', () => {
    const r = appendLabels('# escape=`\nFROM a\nRUN echo `\n  hi\n', { k: 'C:\\dir `x` "q" $v' })!;
    expect(r.text).toContain('LABEL "k"="C:\\dir ``x`` `"q`" `$v"');
    expect(readLabel(r.text)).toEqual({ k: 'C:\\dir `x` "q" $v' });
  });

  it('leaves a label with a newline as a flag (no LABEL can hold one)', () => {
    const r = appendLabels('FROM a\n', { a: '1', b: 'two\nlines', 'c\r': '3' })!;
    expect(r.flags).toEqual({ b: 'two\nlines', 'c\r': '3' });
    expect(readLabel(r.text)).toEqual({ a: '1' });
  });

  it('changes nothing when there is nothing to append', () => {
    expect(appendLabels('FROM a\n', {})).toEqual({ text: 'FROM a\n', flags: {} });
  });

  it('refuses a file whose end would swallow the LABEL line', () => {
    expect(appendLabels('FROM a\nRUN echo \\', { a: '1' })).toBeUndefined();
    expect(appendLabels('FROM a\nRUN echo \\\n\n', { a: '1' })).toBeUndefined();
    expect(appendLabels('FROM a\nRUN <<EOF\necho hi\n', { a: '1' })).toBeUndefined();
    expect(appendLabels('', { a: '1' })).toBeUndefined();
  });
});
