/**
 * Reads a rendered Dockerfile as BuildKit's parser does, one instruction at a time:
 *
 *   - lines: `\r\n`, a UTF-8 BOM, comment lines (also inside a continued instruction, where
 *     Docker drops them), blank lines, continuations with the escape character (`\`, or
 *     `` ` `` after `# escape=```), parser directives (`syntax`, `escape`, `check`) only before
 *     anything else;
 *   - heredocs (`RUN <<EOF`, `<<-EOF`, `<<"EOF"`, several per line, `COPY <<EOF /x`, and under
 *     ONBUILD): their bodies are skipped, never read as instructions;
 *   - the keyword in any letter case; flags as Docker extracts them (quotes, `--`).
 *
 * Each line is scanned a bounded number of times; no regular expression can backtrack badly.
 */
import { err, ok, type Result } from '../model.js';
import { expandWord, UNKNOWN_VARS } from './shell-word.js';

/** A problem Docker would also reject the file for, at the line where the instruction starts. */
export interface DockerfileProblem {
  /** 1-based. */
  readonly line: number;
  readonly message: string;
}

/** One instruction, its continuation lines joined. */
export interface Instruction {
  /** The whole instruction, continuation escapes, comment lines and blank lines removed. */
  readonly text: string;
  /** 1-based number of the line the instruction starts on. */
  readonly line: number;
  /** The keyword, lowercased (`from`, `copy`, ...). */
  readonly keyword: string;
  /** The keyword, uppercased, for messages. */
  readonly label: string;
  /** The leading `--flags`, as Docker extracts them. */
  readonly flags: readonly string[];
  /** What follows the flags, trimmed. */
  readonly args: string;
  /** The escape character in effect: `\`, or `` ` `` after `# escape=```. */
  readonly escape: string;
}

const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);

/** `[fd]<<[-]WORD`, one whole shell word (BuildKit's reHeredoc). */
const HEREDOC_WORD = /^(\d*)<<(-?)([^<]*)$/;

/**
 * Gives the instructions of a Dockerfile in order.
 *
 * Ordering hazard: the heredoc bodies an instruction opens are skipped when the following
 * instruction is asked for, so a caller that stops at a problem of the instruction itself
 * reports that problem, not a later one about an unclosed heredoc (Docker's order too).
 */
export class InstructionReader {
  private readonly lines: LineReader;
  private escape = '\\';
  private directivesDone = false;
  private readonly seenDirectives = new Set<string>();
  /** The last instruction given, whose heredoc bodies are still to be skipped. */
  private pending: Instruction | undefined;

  constructor(text: string) {
    this.lines = new LineReader(text);
  }

  /** The next instruction, the first problem found on the way to it, or undefined at the end. */
  next(): Result<Instruction, DockerfileProblem> | undefined {
    const { lines } = this;
    if (this.pending) {
      const problem = this.skipHeredocs(this.pending);
      this.pending = undefined;
      if (problem) return err(problem);
    }
    for (let raw = lines.next(); raw !== undefined; raw = lines.next()) {
      const first = raw.trimStart();
      if (!this.directivesDone) {
        const problem = this.directive(first, lines.line);
        if (problem) return err(problem);
      }
      if (first.startsWith('#')) continue;

      const startLine = lines.line;
      let [text, continues] = trimContinuation(first, this.escape);
      if (!continues && text === '') continue;
      while (continues) {
        const next = lines.next();
        if (next === undefined) break;
        const trimmed = next.trimStart();
        // Docker drops comment lines and empty lines inside a continued instruction.
        if (trimmed.startsWith('#') || trimmed === '') continue;
        let more: string;
        [more, continues] = trimContinuation(next, this.escape);
        text += more;
      }

      const { command, flags, args } = splitCommand(text);
      if (command === '') continue; // a lone continuation: nothing to run
      const instruction: Instruction = {
        text,
        line: startLine,
        keyword: command.toLowerCase(),
        label: command.toUpperCase(),
        flags,
        args,
        escape: this.escape,
      };
      this.pending = instruction;
      return ok(instruction);
    }
    return undefined;
  }

  /** Parser directives: `# name=value` lines before anything else. */
  private directive(line: string, lineNo: number): DockerfileProblem | undefined {
    const d = parseDirective(line);
    const key = d?.name.toLowerCase();
    if (d === undefined || key === undefined || !KNOWN_DIRECTIVES.has(key)) {
      this.directivesDone = true;
      return undefined;
    }
    if (this.seenDirectives.has(key)) {
      return {
        line: lineNo,
        message: `line ${lineNo}: only one "# ${key}=" parser directive can be used; remove this one`,
      };
    }
    this.seenDirectives.add(key);
    if (key === 'escape') {
      if (d.value !== '\\' && d.value !== '`') {
        return {
          line: lineNo,
          message: `line ${lineNo}: the escape parser directive must be "\\" or "\`", not "${d.value}"`,
        };
      }
      this.escape = d.value;
    }
    return undefined;
  }

  /**
   * Skips the bodies of the heredocs an instruction opens (RUN, COPY and ADD in shell form,
   * also as the instruction of an ONBUILD); a problem if one is never closed.
   */
  private skipHeredocs(instruction: Instruction): DockerfileProblem | undefined {
    const { keyword, args, text, label, line: startLine } = instruction;
    let heredocKeyword = keyword;
    let heredocArgs = args;
    if (keyword === 'onbuild') {
      const sub = splitCommand(args);
      heredocKeyword = sub.command.toLowerCase();
      heredocArgs = sub.args;
    }
    if (
      !HEREDOC_INSTRUCTIONS.has(heredocKeyword) ||
      !text.includes('<<') ||
      isJsonForm(heredocArgs)
    ) {
      return undefined;
    }

    const words = splitShellWords(text);
    for (const word of words) {
      const m = HEREDOC_WORD.exec(word);
      const rest = m?.[3];
      if (m === null || rest === undefined || rest === '') continue;
      const chomp = m[2] === '-';
      const name = expandWord(rest, UNKNOWN_VARS, '\\');
      if (!name.ok) {
        return {
          line: startLine,
          message: `${label} at line ${startLine}: heredoc ${word}: ${name.error}`,
        };
      }
      const terminator = name.value.value;
      let closed = false;
      for (let body = this.lines.next(); body !== undefined; body = this.lines.next()) {
        if ((chomp ? body.replace(/^\t+/, '') : body) === terminator) {
          closed = true;
          break;
        }
      }
      if (!closed) {
        return {
          line: startLine,
          message:
            `${label} at line ${startLine} opens the heredoc ${word} but it is never closed: ` +
            `add a line containing only ${terminator}`,
        };
      }
    }
    return undefined;
  }
}

/** Reads lines one at a time, tracking the 1-based number of the last line read. */
class LineReader {
  private pos = 0;
  line = 0;

  constructor(private readonly text: string) {}

  /** The next line without its line ending, or undefined at the end. */
  next(): string | undefined {
    const { text } = this;
    if (this.pos >= text.length) return undefined;
    let end = text.indexOf('\n', this.pos);
    if (end < 0) end = text.length;
    let stop = end;
    while (stop > this.pos && text.charAt(stop - 1) === '\r') stop--;
    const line = text.slice(this.pos, stop);
    this.pos = end + 1;
    this.line++;
    return this.line === 1 && line.startsWith('\uFEFF') ? line.slice(1) : line;
  }
}

// ---------------------------------------------------------------------------
// Lexing helpers (ports of BuildKit's parser functions of the same purpose).

/** A blank as BuildKit's parser sees one (Go's unicode.IsSpace). */
export function isSpace(c: string): boolean {
  return (
    c === ' ' ||
    c === '\t' ||
    c === '\n' ||
    c === '\v' ||
    c === '\f' ||
    c === '\r' ||
    (c > '\x7f' && /\s/u.test(c))
  );
}

/** `--name=value` -> name and value; `--name` -> name and no value. */
export function splitFlag(flag: string): { name: string; value: string | undefined } {
  const body = flag.startsWith('--') ? flag.slice(2) : flag;
  const eq = body.indexOf('=');
  return eq < 0
    ? { name: body, value: undefined }
    : { name: body.slice(0, eq), value: body.slice(eq + 1) };
}

/** `# name = value`, the parser directive syntax; undefined if the line is not one. */
function parseDirective(line: string): { name: string; value: string } | undefined {
  if (!line.startsWith('#')) return undefined;
  const isRe2Space = (c: string): boolean =>
    c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r';
  const isLetter = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  let i = 1;
  while (i < line.length && isRe2Space(line.charAt(i))) i++;
  const start = i;
  if (!isLetter(line.charAt(i))) return undefined;
  while (
    i < line.length &&
    (isLetter(line.charAt(i)) || (line.charAt(i) >= '0' && line.charAt(i) <= '9'))
  )
    i++;
  const name = line.slice(start, i);
  while (i < line.length && isRe2Space(line.charAt(i))) i++;
  if (line.charAt(i) !== '=') return undefined;
  i++;
  while (i < line.length && isRe2Space(line.charAt(i))) i++;
  let end = line.length;
  while (end > i && isRe2Space(line.charAt(end - 1))) end--;
  if (end === i) return undefined;
  return { name, value: line.slice(i, end) };
}

/**
 * Removes a trailing line-continuation escape (followed only by blanks). An escape preceded
 * by another escape is an escaped escape, not a continuation (BuildKit's rule).
 */
function trimContinuation(line: string, escape: string): [string, boolean] {
  let end = line.length;
  while (end > 0 && (line.charAt(end - 1) === ' ' || line.charAt(end - 1) === '\t')) end--;
  if (end === 0 || line.charAt(end - 1) !== escape) return [line, false];
  if (end >= 2 && line.charAt(end - 2) === escape) return [line, false];
  return [line.slice(0, end - 1), true];
}

/** Instruction keyword, its leading `--flags` (as Docker extracts them), and the rest. */
function splitCommand(line: string): { command: string; flags: string[]; args: string } {
  const trimmed = line.trim();
  const ws = /[\t\v\f\r ]+/.exec(trimmed);
  if (ws === null) return { command: trimmed, flags: [], args: '' };
  const command = trimmed.slice(0, ws.index);
  const { flags, rest } = extractFlags(trimmed.slice(ws.index + ws[0].length));
  return { command, flags, args: rest.trim() };
}

/**
 * Leading words that start with `--`, with quotes removed and `\` escapes applied, as
 * BuildKit's extractBuilderFlags does (always with `\`, whatever the escape directive says).
 * A lone `--` ends the flags.
 */
function extractFlags(line: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  const n = line.length;
  let pos = 0;
  for (;;) {
    while (pos < n && isSpace(line.charAt(pos))) pos++;
    if (pos >= n) return { flags, rest: '' };
    if (line.charAt(pos) !== '-' || line.charAt(pos + 1) !== '-')
      return { flags, rest: line.slice(pos) };

    let word = '';
    let quote = '';
    let blankOk = false;
    while (pos < n) {
      const ch = line.charAt(pos);
      if (quote === '' && isSpace(ch)) break;
      pos++;
      if (quote !== '' && ch === quote) {
        quote = '';
      } else if (quote === '' && (ch === "'" || ch === '"')) {
        quote = ch;
        blankOk = true;
      } else if (ch === '\\') {
        if (pos === n) {
          quote = '';
        } else {
          word += line.charAt(pos++);
        }
      } else {
        word += ch;
      }
    }
    if (pos >= n) {
      if (word !== '--' && (blankOk || word !== '')) flags.push(word);
      return { flags, rest: '' };
    }
    if (word === '--') return { flags, rest: line.slice(pos) };
    if (blankOk || word !== '') flags.push(word);
  }
}

/**
 * Splits a whole instruction line into shell words, keeping quotes and `\` escapes as
 * written, to find heredoc markers (`<<EOF` must be a word of its own, outside quotes).
 * An unclosed quote gives no words, as in BuildKit.
 */
function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let pos = 0; pos < line.length; pos++) {
    const ch = line.charAt(pos);
    if (isSpace(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === '\\') {
      word += line.slice(pos, pos + 2);
      pos++;
    } else if (ch === "'") {
      const close = line.indexOf("'", pos + 1);
      if (close < 0) return [];
      word += line.slice(pos, close + 1);
      pos = close;
    } else if (ch === '"') {
      let close = pos + 1;
      while (close < line.length && line.charAt(close) !== '"')
        close += line.charAt(close) === '\\' ? 2 : 1;
      if (close >= line.length) return [];
      word += line.slice(pos, close + 1);
      pos = close;
    } else {
      word += ch;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** A JSON array of strings (exec form): no heredocs there. */
function isJsonForm(args: string): boolean {
  if (!args.startsWith('[')) return false;
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((v) => typeof v === 'string');
  } catch {
    return false;
  }
}
