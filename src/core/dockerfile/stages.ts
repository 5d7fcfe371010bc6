/**
 * FROM and ARG: the stages of a Dockerfile and the image each one starts from, as BuildKit's
 * dockerfile2llb resolves them: `--platform=`, `AS name` in any case, ARGs declared before the
 * first FROM (their defaults, build args overriding only declared ones, BuildKit's automatic
 * platform ARGs), a stage name refers to an earlier stage, `scratch` is no image.
 */
import { clip } from '../clip.js';
import { err, ok, type BaseReference, type Result } from '../model.js';
import {
  isSpace,
  splitFlag,
  type DockerfileProblem,
  type Instruction,
} from './instruction-reader.js';
import { parseReference } from './reference.js';
import { expandWord, type ShellVar } from './shell-word.js';

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

/** BuildKit's rule for `AS name`, applied after lowercasing. */
const VALID_STAGE_NAME = /^[a-z][a-z0-9_.-]*$/;

/** The stages declared so far and the variables their FROM lines see. */
export class Stages {
  /** Variables FROM sees: the automatic platform args, then the ARGs before the first FROM. */
  private readonly vars = new Map<string, ShellVar>();
  private readonly metaArgs = new Set<string>();
  /** ARGs declared inside stages (only for a better message: FROM does not see them). */
  private readonly stageArgs = new Set<string>();

  private stageCount = 0;
  /** Stage name -> index; a later stage of the same name replaces an earlier one, as in BuildKit. */
  private readonly stageIndex = new Map<string, number>();
  /** Stage names (AS x), lowercased as Docker does, in order of declaration, each once. */
  readonly names: string[] = [];

  /**
   * `buildArgs` are the `--build-arg` values; as in Docker, one applies to FROM only when an
   * ARG of that name is declared before the first FROM, except the automatic platform args.
   */
  constructor(private readonly buildArgs: Readonly<Record<string, string>>) {
    for (const name of AUTOMATIC_PLATFORM_ARGS) {
      this.vars.set(name, { value: this.buildArg(name) ?? null });
    }
  }

  /** How many FROM lines have been read; the current stage is `count - 1`. */
  get count(): number {
    return this.stageCount;
  }

  /** The index of the stage a `COPY --from` or mount `from=` names (any letter case). */
  indexOf(name: string): number | undefined {
    return this.stageIndex.get(name.toLowerCase());
  }

  /**
   * Starts a stage: the image it builds on, or undefined when that is an earlier stage or
   * scratch (no image to pull).
   */
  from(instruction: Instruction): Result<BaseReference | undefined, DockerfileProblem> {
    const { flags, args, line, escape } = instruction;
    let platformWord: string | undefined;
    for (const flag of flags) {
      const { name, value } = splitFlag(flag);
      if (name !== 'platform') continue;
      if (value === undefined) {
        return err({
          line,
          message: `FROM at line ${line}: --platform needs a value, e.g. --platform=linux/amd64`,
        });
      }
      platformWord = value;
    }

    const words = args === '' ? [] : args.split(/[\t\v\f\r ]+/);
    const [image, as, stage] = words;
    if (image === undefined) {
      return err({
        line,
        message: `FROM at line ${line} names no image: write FROM <image> [AS <name>]`,
      });
    }
    if (words.length === 2 && as?.toLowerCase() === 'as') {
      return err({
        line,
        message: `FROM at line ${line} ends with AS but names no stage: write FROM ${image} AS <name>`,
      });
    }
    if (words.length !== 1 && (words.length !== 3 || as?.toLowerCase() !== 'as')) {
      return err({
        line,
        message: `FROM at line ${line} must be "FROM <image> [AS <name>]", not "${clip(`FROM ${args}`)}"`,
      });
    }
    const stageName = stage?.toLowerCase();
    if (stageName !== undefined && !VALID_STAGE_NAME.test(stageName)) {
      return err({
        line,
        message:
          `FROM at line ${line}: "${clip(stage ?? '')}" is not a valid stage name: ` +
          'start with a letter, then use letters, digits, "-", "_" or "."',
      });
    }

    const base = expandWord(image, this.vars, escape);
    if (!base.ok)
      return err({
        line,
        message: `FROM at line ${line}: cannot expand "${clip(image)}": ${base.error}`,
      });
    const ref = base.value.value;
    if (ref === '') {
      return err({
        line,
        message: `FROM at line ${line} resolves to an empty image reference; ${this.emptyHint(base.value.emptyVars)}`,
      });
    }

    let platform: string | undefined;
    if (platformWord !== undefined) {
      const p = expandWord(platformWord, this.vars, escape);
      if (!p.ok) {
        return err({
          line,
          message: `FROM at line ${line}: cannot expand --platform=${platformWord}: ${p.error}`,
        });
      }
      platform = p.value.value;
      if (platform === '') {
        return err({
          line,
          message: `FROM at line ${line}: --platform=${platformWord} resolves to nothing; ${this.emptyHint(p.value.emptyVars)}`,
        });
      }
    }

    // An earlier stage (exact match: FROM does not lowercase, unlike COPY --from) or scratch
    // is no image. Looked up before this stage's own name is registered.
    let baseRef: BaseReference | undefined;
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
          return err({ line, message });
        }
      }
      baseRef = { ref, line, kind: 'from', ...(platform !== undefined && { platform }) };
    }

    const index = this.stageCount++;
    if (stageName !== undefined) {
      if (!this.stageIndex.has(stageName)) this.names.push(stageName);
      this.stageIndex.set(stageName, index);
    }
    return ok(baseRef);
  }

  /** ARG before the first FROM sets what FROM sees; inside a stage it does not. */
  arg(instruction: Instruction): DockerfileProblem | undefined {
    const { args, line, escape } = instruction;
    const words = splitArgWords(args, escape);
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
        return { line, message: `ARG at line ${line}: "${clip(word)}" has no name before "="` };
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
        const value = expandWord(word.slice(eq + 1), this.vars, escape);
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
