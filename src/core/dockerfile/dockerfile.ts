/**
 * Finds the images a rendered Dockerfile depends on: the FROM of every stage, `COPY --from`
 * and `RUN --mount=…,from=`, with ARGs substituted and stage aliases resolved away.
 *
 * It follows BuildKit's Dockerfile frontend (parser, instructions and dockerfile2llb) closely
 * enough that a file Docker accepts gives the references Docker would pull, and a file whose
 * references Docker would reject gives a problem with its line:
 *
 *   - lines: `\r\n`, a UTF-8 BOM, comment lines (also inside a continued instruction, where
 *     Docker drops them), blank lines, continuations with the escape character (`\`, or
 *     `` ` `` after `# escape=```), parser directives (`syntax`, `escape`, `check`) only before
 *     anything else;
 *   - heredocs (`RUN <<EOF`, `<<-EOF`, `<<"EOF"`, several per line, `COPY <<EOF /x`, and under
 *     ONBUILD): their bodies are skipped, never read as instructions;
 *   - instructions in any letter case; flags as Docker extracts them (quotes, `--`);
 *   - FROM: `--platform=`, `AS name` in any case, ARGs declared before the first FROM (their
 *     defaults, build args overriding only declared ones, BuildKit's automatic platform ARGs),
 *     a stage name refers to an earlier stage, `scratch` is no image;
 *   - `COPY --from=` a stage name, a stage index, or an image; `RUN --mount=` `from=` a stage
 *     or an image (not for tmpfs).
 *
 * One pass over the lines; each line is scanned a bounded number of times, no regular
 * expression can backtrack badly.
 */
import { err, ok, type BaseReference, type Result } from '../model.js';
import { parseReference } from './reference.js';
import { expandWord, NO_VARS, UNKNOWN_VARS, type ShellVar } from './shell-word.js';

/** A problem Docker would also reject the file for, at the line where the instruction starts. */
export interface DockerfileProblem {
  /** 1-based. */
  readonly line: number;
  readonly message: string;
}

export interface ParsedDockerfile {
  /**
   * Every image reference the build depends on, in order of appearance, aliases resolved away
   * (stage names are not images), ARGs substituted. Duplicates are kept.
   */
  readonly refs: BaseReference[];
  /** Stage names (AS x), lowercased as Docker does, in order of declaration, each once. */
  readonly stages: string[];
}

/**
 * Parses a rendered Dockerfile and returns the references it depends on, or the first
 * problem that would make Docker reject it.
 *
 * `buildArgs` are the `--build-arg` values. As in Docker, one applies to FROM only when an
 * `ARG` of that name is declared before the first FROM, except BuildKit's automatic platform
 * args (`BUILDPLATFORM`, `TARGETARCH`, ...): those are always known to the engine, so an
 * expansion of one that `buildArgs` does not give is kept as written (`--platform=$BUILDPLATFORM`
 * stays `$BUILDPLATFORM`) instead of being guessed.
 */
export function parseDockerfile(
  text: string,
  buildArgs: Readonly<Record<string, string>>,
): Result<ParsedDockerfile, DockerfileProblem> {
  return new DockerfileParser(text, buildArgs).parse();
}

// ---------------------------------------------------------------------------

/** ARGs BuildKit defines for every build, usable in FROM without being declared. */
const AUTOMATIC_PLATFORM_ARGS = [
  'BUILDPLATFORM',
  'BUILDOS',
  'BUILDARCH',
  'BUILDVARIANT',
  'TARGETPLATFORM',
  'TARGETOS',
  'TARGETARCH',
  'TARGETVARIANT',
];

const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);

/** BuildKit's rule for `AS name`, applied after lowercasing. */
const VALID_STAGE_NAME = /^[a-z][a-z0-9_.-]*$/;
/** `[fd]<<[-]WORD`, one whole shell word (BuildKit's reHeredoc). */
const HEREDOC_WORD = /^(\d*)<<(-?)([^<]*)$/;
/** A stage index as Go's strconv.Atoi accepts it. */
const STAGE_INDEX = /^[+-]?\d+$/;

/** A reference whose classification needs every stage name of the file (COPY --from may name a later stage). */
type Entry =
  | { readonly kind: 'ref'; readonly ref: BaseReference }
  | {
      readonly kind: 'named';
      readonly source: 'copy-from' | 'mount-from';
      readonly name: string;
      readonly line: number;
      /** Index of the stage the instruction belongs to. */
      readonly stage: number;
    }
  | {
      readonly kind: 'index';
      readonly index: number;
      readonly line: number;
      readonly stage: number;
    };

type Problem = DockerfileProblem | undefined;

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

class DockerfileParser {
  private readonly lines: LineReader;
  private escape = '\\';
  private directivesDone = false;
  private readonly seenDirectives = new Set<string>();

  /** Variables FROM sees: the automatic platform args, then the ARGs before the first FROM. */
  private readonly vars = new Map<string, ShellVar>();
  private readonly metaArgs = new Set<string>();
  /** ARGs declared inside stages (only for a better message: FROM does not see them). */
  private readonly stageArgs = new Set<string>();

  private stageCount = 0;
  /** Stage name -> index; a later stage of the same name replaces an earlier one, as in BuildKit. */
  private readonly stageIndex = new Map<string, number>();
  private readonly stageNames: string[] = [];
  private readonly entries: Entry[] = [];

  constructor(
    text: string,
    private readonly buildArgs: Readonly<Record<string, string>>,
  ) {
    this.lines = new LineReader(text);
    for (const name of AUTOMATIC_PLATFORM_ARGS) {
      this.vars.set(name, { value: this.buildArg(name) ?? null });
    }
  }

  parse(): Result<ParsedDockerfile, DockerfileProblem> {
    const { lines } = this;
    for (let raw = lines.next(); raw !== undefined; raw = lines.next()) {
      const first = raw.trimStart();
      if (!this.directivesDone) {
        const problem = this.directive(first, lines.line);
        if (problem) return err(problem);
      }
      if (first.startsWith('#')) continue;

      const startLine = lines.line;
      let [line, continues] = trimContinuation(first, this.escape);
      if (!continues && line === '') continue;
      while (continues) {
        const next = lines.next();
        if (next === undefined) break;
        const trimmed = next.trimStart();
        // Docker drops comment lines and empty lines inside a continued instruction.
        if (trimmed.startsWith('#') || trimmed === '') continue;
        let more: string;
        [more, continues] = trimContinuation(next, this.escape);
        line += more;
      }

      const problem = this.instruction(line, startLine);
      if (problem) return err(problem);
    }
    return this.finish();
  }

  // -------------------------------------------------------------------------
  // Lines

  /** Parser directives: `# name=value` lines before anything else. */
  private directive(line: string, lineNo: number): Problem {
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

  /** Skips the bodies of the heredocs an instruction opens; a problem if one is never closed. */
  private skipHeredocs(label: string, line: string, startLine: number): Problem {
    const words = splitShellWords(line);
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

  // -------------------------------------------------------------------------
  // Instructions

  private instruction(line: string, lineNo: number): Problem {
    const { command, flags, args } = splitCommand(line);
    if (command === '') return undefined; // a lone continuation: nothing to run
    const keyword = command.toLowerCase();
    const label = command.toUpperCase();

    if (this.stageCount === 0 && keyword !== 'from' && keyword !== 'arg') {
      return {
        line: lineNo,
        message: `${label} at line ${lineNo} comes before the first FROM; only ARG may come before FROM`,
      };
    }

    let problem: Problem;
    switch (keyword) {
      case 'from':
        problem = this.from(flags, args, lineNo);
        break;
      case 'arg':
        problem = this.arg(args, lineNo);
        break;
      case 'copy':
        problem = this.copy(flags, lineNo);
        break;
      case 'add':
        if (flags.some((f) => splitFlag(f).name === 'from')) {
          problem = {
            line: lineNo,
            message: `ADD at line ${lineNo} has --from, which only COPY supports: use COPY --from=…`,
          };
        }
        break;
      case 'run':
        problem = this.run(flags, lineNo);
        break;
      default:
        break;
    }
    if (problem) return problem;

    // Heredocs: RUN, COPY and ADD in shell form, also as the instruction of an ONBUILD.
    let heredocKeyword = keyword;
    let heredocArgs = args;
    if (keyword === 'onbuild') {
      const sub = splitCommand(args);
      heredocKeyword = sub.command.toLowerCase();
      heredocArgs = sub.args;
    }
    if (
      HEREDOC_INSTRUCTIONS.has(heredocKeyword) &&
      line.includes('<<') &&
      !isJsonForm(heredocArgs)
    ) {
      return this.skipHeredocs(label, line, lineNo);
    }
    return undefined;
  }

  private from(flags: readonly string[], args: string, line: number): Problem {
    let platformWord: string | undefined;
    for (const flag of flags) {
      const { name, value } = splitFlag(flag);
      if (name !== 'platform') continue;
      if (value === undefined) {
        return {
          line,
          message: `FROM at line ${line}: --platform needs a value, e.g. --platform=linux/amd64`,
        };
      }
      platformWord = value;
    }

    const words = args === '' ? [] : args.split(/[\t\v\f\r ]+/);
    const [image, as, stage] = words;
    if (image === undefined) {
      return {
        line,
        message: `FROM at line ${line} names no image: write FROM <image> [AS <name>]`,
      };
    }
    if (words.length === 2 && as?.toLowerCase() === 'as') {
      return {
        line,
        message: `FROM at line ${line} ends with AS but names no stage: write FROM ${image} AS <name>`,
      };
    }
    if (words.length !== 1 && (words.length !== 3 || as?.toLowerCase() !== 'as')) {
      return {
        line,
        message: `FROM at line ${line} must be "FROM <image> [AS <name>]", not "FROM ${args}"`,
      };
    }
    const stageName = stage?.toLowerCase();
    if (stageName !== undefined && !VALID_STAGE_NAME.test(stageName)) {
      return {
        line,
        message:
          `FROM at line ${line}: "${stage}" is not a valid stage name: ` +
          'start with a letter, then use letters, digits, "-", "_" or "."',
      };
    }

    const base = expandWord(image, this.vars, this.escape);
    if (!base.ok)
      return { line, message: `FROM at line ${line}: cannot expand "${image}": ${base.error}` };
    const ref = base.value.value;
    if (ref === '') {
      return {
        line,
        message: `FROM at line ${line} resolves to an empty image reference; ${this.emptyHint(base.value.emptyVars)}`,
      };
    }

    let platform: string | undefined;
    if (platformWord !== undefined) {
      const p = expandWord(platformWord, this.vars, this.escape);
      if (!p.ok) {
        return {
          line,
          message: `FROM at line ${line}: cannot expand --platform=${platformWord}: ${p.error}`,
        };
      }
      platform = p.value.value;
      if (platform === '') {
        return {
          line,
          message: `FROM at line ${line}: --platform=${platformWord} resolves to nothing; ${this.emptyHint(p.value.emptyVars)}`,
        };
      }
    }

    // An earlier stage (exact match: FROM does not lowercase, unlike COPY --from) or scratch
    // is no image. Looked up before this stage's own name is registered.
    if (!this.stageIndex.has(ref) && ref !== 'scratch') {
      if (!base.value.unresolved) {
        const parsed = parseReference(ref);
        if (!parsed.ok) {
          let message = `FROM at line ${line}: ${parsed.error}`;
          const [empty] = base.value.emptyVars;
          if (empty !== undefined) message += ` (${empty} is empty: ${this.emptyHint([empty])})`;
          if (this.stageIndex.has(ref.toLowerCase())) {
            message += `; to build on the stage, write it in lowercase: FROM ${ref.toLowerCase()}`;
          }
          return { line, message };
        }
      }
      this.entries.push({
        kind: 'ref',
        ref: { ref, line, kind: 'from', ...(platform !== undefined && { platform }) },
      });
    }

    const index = this.stageCount++;
    if (stageName !== undefined) {
      if (!this.stageIndex.has(stageName)) this.stageNames.push(stageName);
      this.stageIndex.set(stageName, index);
    }
    return undefined;
  }

  /** ARG before the first FROM sets what FROM sees; inside a stage it does not. */
  private arg(args: string, line: number): Problem {
    const words = splitArgWords(args, this.escape);
    if (words.length === 0) {
      return {
        line,
        message: `ARG at line ${line} needs a name: write ARG NAME or ARG NAME=default`,
      };
    }
    for (const word of words) {
      const eq = word.indexOf('=');
      const key = eq < 0 ? word : word.slice(0, eq);
      if (key === '') {
        return { line, message: `ARG at line ${line}: "${word}" has no name before "="` };
      }
      if (this.stageCount > 0) {
        this.stageArgs.add(key);
        continue;
      }
      this.metaArgs.add(key);
      const given = this.buildArg(key);
      if (given !== undefined) {
        this.vars.set(key, { value: given });
      } else if (eq >= 0) {
        const value = expandWord(word.slice(eq + 1), this.vars, this.escape);
        if (!value.ok) {
          return {
            line,
            message: `ARG at line ${line}: cannot expand the default of ${key}: ${value.error}`,
          };
        }
        this.vars.set(key, { value: value.value.value, partial: value.value.unresolved });
      }
      // Declared without a value and not given: stays unset (or keeps an automatic value).
    }
    return undefined;
  }

  private copy(flags: readonly string[], line: number): Problem {
    let from: string | undefined;
    for (const flag of flags) {
      const { name, value } = splitFlag(flag);
      if (name !== 'from') continue;
      if (value === undefined) {
        return {
          line,
          message: `COPY at line ${line}: --from needs a value: write --from=<stage or image>`,
        };
      }
      from = value;
    }
    if (from === undefined || from === '') return undefined;

    // BuildKit refuses anything its word processing would change: it does not expand --from.
    const processed = expandWord(from, NO_VARS, this.escape);
    if (!processed.ok || processed.value.value !== from) {
      return {
        line,
        message:
          `COPY at line ${line}: --from=${from} cannot use variables, quotes or escapes (Docker does not expand --from); ` +
          'declare the image as a stage instead: ARG IMAGE=… before the first FROM, FROM ${IMAGE} AS src, then COPY --from=src',
      };
    }
    const stage = this.stageCount - 1;
    if (STAGE_INDEX.test(from)) {
      this.entries.push({ kind: 'index', index: Number(from), line, stage });
    } else {
      this.entries.push({ kind: 'named', source: 'copy-from', name: from, line, stage });
    }
    return undefined;
  }

  private run(flags: readonly string[], line: number): Problem {
    for (const flag of flags) {
      const { name, value } = splitFlag(flag);
      if (name !== 'mount') continue;
      if (value === undefined || value === '') {
        return {
          line,
          message: `RUN at line ${line}: --mount needs a value, e.g. --mount=type=cache,target=/root/.cache`,
        };
      }
      const fields = parseCsvRecord(value);
      if (!fields.ok)
        return { line, message: `RUN at line ${line}: --mount=${value}: ${fields.error}` };
      let type = 'bind';
      let from: string | undefined;
      for (const field of fields.value) {
        const eq = field.indexOf('=');
        if (eq < 0) continue; // ro, rw, required: no bearing on dependencies
        const key = field.slice(0, eq).toLowerCase();
        const v = field.slice(eq + 1);
        if (key === 'type') type = v.toLowerCase();
        else if (key === 'from') from = v;
      }
      // A cache mount without from= starts from scratch: no dependency.
      if (from === undefined || from === '') continue;
      if (/\$./.test(from)) {
        return {
          line,
          message:
            `RUN at line ${line}: --mount from=${from} cannot use variables (Docker does not expand it); ` +
            'declare the image as a stage (FROM ${IMAGE} AS src) and use from=src',
        };
      }
      if (type === 'tmpfs') continue;
      if (type === 'secret') {
        return {
          line,
          message: `RUN at line ${line}: a secret mount cannot have from=; remove it`,
        };
      }
      this.entries.push({
        kind: 'named',
        source: 'mount-from',
        name: from,
        line,
        stage: this.stageCount - 1,
      });
    }
    return undefined;
  }

  // -------------------------------------------------------------------------
  // The end: classify COPY --from / mount from against every stage of the file.

  private finish(): Result<ParsedDockerfile, DockerfileProblem> {
    if (this.stageCount === 0) {
      return err({
        line: 1,
        message:
          'the Dockerfile has no FROM instruction: start the first build stage with FROM <image>',
      });
    }
    const refs: BaseReference[] = [];
    for (const entry of this.entries) {
      switch (entry.kind) {
        case 'ref':
          refs.push(entry.ref);
          break;
        case 'index': {
          const { index, line, stage } = entry;
          if (index < 0 || index >= this.stageCount) {
            return err({
              line,
              message: `COPY at line ${line}: --from=${index} names no stage; stages are numbered from 0 to ${this.stageCount - 1}`,
            });
          }
          if (index >= stage) {
            return err({
              line,
              message: `COPY at line ${line}: --from=${index} must name a stage defined before this one`,
            });
          }
          break;
        }
        case 'named': {
          const { source, name, line, stage } = entry;
          const label = source === 'copy-from' ? 'COPY' : 'RUN';
          const flag = source === 'copy-from' ? '--from=' : '--mount from=';
          const index = this.stageIndex.get(name.toLowerCase());
          if (index !== undefined) {
            if (source === 'copy-from' && index >= stage) {
              return err({
                line,
                message:
                  `COPY at line ${line}: --from=${name} names a stage that is not defined before this one; ` +
                  `move the stage "${name.toLowerCase()}" above`,
              });
            }
            break;
          }
          if (name === 'scratch') break;
          const parsed = parseReference(name);
          if (!parsed.ok)
            return err({
              line,
              message: `${label} at line ${line}: ${flag}${name}: ${parsed.error}`,
            });
          refs.push({ ref: name, line, kind: source });
          break;
        }
      }
    }
    return ok({ refs, stages: this.stageNames });
  }

  // -------------------------------------------------------------------------

  private buildArg(name: string): string | undefined {
    return Object.hasOwn(this.buildArgs, name) ? this.buildArgs[name] : undefined;
  }

  /** What to do about a variable that left a FROM empty. */
  private emptyHint(emptyVars: readonly string[]): string {
    const [name] = emptyVars;
    if (name === undefined) return 'write an image name after FROM';
    if (this.metaArgs.has(name))
      return `declare a default for ARG ${name} or pass --build-arg ${name}=…`;
    const where = this.stageArgs.has(name)
      ? `ARG ${name} is declared inside a stage, which FROM does not see`
      : this.buildArg(name) !== undefined
        ? `--build-arg ${name} only applies to a declared ARG`
        : `${name} is not declared`;
    return `${where}: declare ARG ${name}=<default> before the first FROM`;
  }
}

// ---------------------------------------------------------------------------
// Lexing helpers (ports of BuildKit's parser functions of the same purpose).

function isSpace(c: string): boolean {
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

/** `--name=value` -> name and value; `--name` -> name and no value. */
function splitFlag(flag: string): { name: string; value: string | undefined } {
  const body = flag.startsWith('--') ? flag.slice(2) : flag;
  const eq = body.indexOf('=');
  return eq < 0
    ? { name: body, value: undefined }
    : { name: body.slice(0, eq), value: body.slice(eq + 1) };
}

/**
 * Splits an ARG's arguments into words on blanks outside quotes, keeping quotes and
 * escapes in the words (BuildKit's parseWords): the value is processed later as one word.
 */
function splitArgWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  for (let pos = 0; pos < rest.length; pos++) {
    const ch = rest.charAt(pos);
    if (quote === '') {
      if (isSpace(ch)) {
        if (inWord && (blankOk || word !== '')) words.push(word);
        word = '';
        inWord = false;
        blankOk = false;
        continue;
      }
      inWord = true;
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        word += ch;
      } else if (ch === escape) {
        if (pos + 1 === rest.length) continue; // an escape at the very end is dropped
        word += ch + rest.charAt(++pos);
      } else {
        word += ch;
      }
    } else {
      if (ch === quote) {
        quote = '';
        word += ch;
      } else if (ch === escape && quote !== "'") {
        if (pos + 1 === rest.length) continue;
        word += ch + rest.charAt(++pos);
      } else {
        word += ch;
      }
    }
  }
  if (inWord && (blankOk || word !== '')) words.push(word);
  return words;
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

/** One CSV record as Go's encoding/csv reads it (how `--mount` values are split). */
function parseCsvRecord(s: string): Result<string[], string> {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (s.charAt(i) === '"') {
      let field = '';
      i++;
      for (;;) {
        const q = s.indexOf('"', i);
        if (q < 0) return err('extraneous or missing " in quoted-field');
        field += s.slice(i, q);
        i = q + 1;
        if (s.charAt(i) !== '"') break;
        field += '"';
        i++;
      }
      fields.push(field);
      if (i === s.length) return ok(fields);
      if (s.charAt(i) !== ',') return err('extraneous or missing " in quoted-field');
      i++;
    } else {
      const comma = s.indexOf(',', i);
      const field = s.slice(i, comma < 0 ? s.length : comma);
      if (field.includes('"')) return err('bare " in non-quoted-field');
      fields.push(field);
      if (comma < 0) return ok(fields);
      i = comma + 1;
    }
  }
}
