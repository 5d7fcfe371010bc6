/**
 * Labels as one `LABEL` instruction appended to a Dockerfile's final stage, for the build paths
 * where each `--label` flag costs a step of its own (the legacy builder commits one container per
 * flag: about 0.3–0.5 s each on a loaded 2-core host). The image gets the same labels either way.
 */
import { InstructionReader } from './instruction-reader.js';

/** What to build with: the Dockerfile text with the LABEL appended, and the labels left as flags. */
export interface LabelledDockerfile {
  readonly text: string;
  /** Labels no LABEL instruction can hold (a newline or carriage return in key or value). */
  readonly flags: Readonly<Record<string, string>>;
}

/**
 * A key or value as one double-quoted Dockerfile word: inside double quotes Docker's shell lexer
 * takes everything literally except `"`, `$` and the escape character, each escaped with the
 * escape character (`\`, or `` ` `` after `# escape=```). A newline cannot be written at all.
 */
export function quoteLabelWord(s: string, escape: string): string {
  let out = '"';
  for (const ch of s) out += ch === '"' || ch === '$' || ch === escape ? `${escape}${ch}` : ch;
  return `${out}"`;
}

const unquotable = (s: string) => /[\r\n]/.test(s);

/**
 * `text` with `labels` appended as one LABEL instruction (which lands in the final stage, the image
 * built), or undefined when appending is not safe and every label should stay a flag: a file
 * Docker would reject, or one whose end would swallow the line (an unfinished continuation or
 * heredoc). Checked by reading the result back: its last instruction must be the LABEL written.
 */
export function appendLabels(
  text: string,
  labels: Readonly<Record<string, string>>,
): LabelledDockerfile | undefined {
  const inline = Object.entries(labels).filter(([k, v]) => !unquotable(k) && !unquotable(v));
  const flags = Object.fromEntries(
    Object.entries(labels).filter(([k, v]) => unquotable(k) || unquotable(v)),
  );
  if (inline.length === 0) return { text, flags };
  const escape = escapeOf(text);
  if (escape === undefined) return undefined;
  const line = `LABEL ${inline.map(([k, v]) => `${quoteLabelWord(k, escape)}=${quoteLabelWord(v, escape)}`).join(' ')}`;
  const out = `${text}${text.endsWith('\n') ? '' : '\n'}${line}\n`;
  return lastInstructionText(out) === line ? { text: out, flags } : undefined;
}

/** The escape character in effect (from the first instruction), undefined when none reads. */
function escapeOf(text: string): string | undefined {
  const first = new InstructionReader(text).next();
  return first?.ok ? first.value.escape : undefined;
}

/** The text of the last instruction, undefined when any instruction is a problem. */
function lastInstructionText(text: string): string | undefined {
  const reader = new InstructionReader(text);
  let last: string | undefined;
  for (let i = reader.next(); i !== undefined; i = reader.next()) {
    if (!i.ok) return undefined;
    last = i.value.text;
  }
  return last;
}
