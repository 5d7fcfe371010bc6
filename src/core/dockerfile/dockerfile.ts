/**
 * Finds the images a rendered Dockerfile depends on: the FROM of every stage, `COPY --from`
 * and `RUN --mount=…,from=`, with ARGs substituted and stage aliases resolved away.
 *
 * It follows BuildKit's Dockerfile frontend (parser, instructions and dockerfile2llb) closely
 * enough that a file Docker accepts gives the references Docker would pull, and a file whose
 * references Docker would reject gives a problem with its line. The parts, each a port of
 * its BuildKit counterpart:
 *
 *   - instruction-reader.ts: lines, comments, continuations, parser directives (`escape`),
 *     heredoc bodies skipped, keywords in any case, flags as Docker extracts them;
 *   - stages.ts: FROM (`--platform=`, `AS name`) and ARG, the variables FROM sees, stage names;
 *   - from-flags.ts: `COPY --from=` (stage name, stage index or image) and `RUN --mount`
 *     `from=` (stage or image, not for tmpfs).
 *
 * One pass over the lines; each line is scanned a bounded number of times, no regular
 * expression can backtrack badly.
 */
import { err, ok, type BaseReference, type Result } from '../model.js';
import {
  resolveFromFlag,
  copyFrom,
  mountsFrom,
  secretMounts,
  type FromFlag,
} from './from-flags.js';
import {
  InstructionReader,
  splitFlag,
  type DockerfileProblem,
  type Instruction,
} from './instruction-reader.js';
import { Stages } from './stages.js';

export type { DockerfileProblem } from './instruction-reader.js';

export interface ParsedDockerfile {
  /**
   * Every image reference the build depends on, in order of appearance, aliases resolved away
   * (stage names are not images), ARGs substituted. Duplicates are kept.
   */
  readonly refs: BaseReference[];
  /** Stage names (AS x), lowercased as Docker does, in order of declaration, each once. */
  readonly stages: string[];
  /**
   * Ids of the build secrets its RUN steps mount (`--mount=type=secret,id=…`), sorted, each once;
   * absent when none.
   */
  readonly secrets?: string[];
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
  const reader = new InstructionReader(text);
  const stages = new Stages(buildArgs);
  /** FROM images and --from flags in order of appearance; a flag is classified at the end. */
  const entries: Entry[] = [];
  const secrets = new Set<string>();
  for (let next = reader.next(); next !== undefined; next = reader.next()) {
    if (!next.ok) return next;
    const problem = readInstruction(next.value, stages, entries);
    if (problem) return err(problem);
    if (next.value.keyword === 'run') for (const id of secretMounts(next.value)) secrets.add(id);
  }
  const done = finish(stages, entries);
  return done.ok && secrets.size ? ok({ ...done.value, secrets: [...secrets].sort() }) : done;
}

// ---------------------------------------------------------------------------

/** A FROM image, or a `--from` whose classification needs every stage name of the file. */
type Entry = { readonly kind: 'ref'; readonly ref: BaseReference } | FromFlag;

/** Records what one instruction depends on; the problem that makes Docker reject it, if any. */
function readInstruction(
  instruction: Instruction,
  stages: Stages,
  entries: Entry[],
): DockerfileProblem | undefined {
  const { keyword, label, flags, line } = instruction;
  if (stages.count === 0 && keyword !== 'from' && keyword !== 'arg') {
    return {
      line,
      message: `${label} at line ${line} comes before the first FROM; only ARG may come before FROM`,
    };
  }

  switch (keyword) {
    case 'from': {
      const base = stages.from(instruction);
      if (!base.ok) return base.error;
      if (base.value !== undefined) entries.push({ kind: 'ref', ref: base.value });
      return undefined;
    }
    case 'arg':
      return stages.arg(instruction);
    case 'copy': {
      const from = copyFrom(instruction, stages.count - 1);
      if (!from.ok) return from.error;
      if (from.value !== undefined) entries.push(from.value);
      return undefined;
    }
    case 'add':
      if (flags.some((f) => splitFlag(f).name === 'from')) {
        return {
          line,
          message: `ADD at line ${line} has --from, which only COPY supports: use COPY --from=…`,
        };
      }
      return undefined;
    case 'run': {
      const mounts = mountsFrom(instruction, stages.count - 1);
      if (!mounts.ok) return mounts.error;
      entries.push(...mounts.value);
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The end: classify COPY --from / mount from against every stage of the file. */
function finish(
  stages: Stages,
  entries: readonly Entry[],
): Result<ParsedDockerfile, DockerfileProblem> {
  if (stages.count === 0) {
    return err({
      line: 1,
      message:
        'the Dockerfile has no FROM instruction: start the first build stage with FROM <image>',
    });
  }
  const refs: BaseReference[] = [];
  for (const entry of entries) {
    if (entry.kind === 'ref') {
      refs.push(entry.ref);
      continue;
    }
    const resolved = resolveFromFlag(entry, stages);
    if (!resolved.ok) return resolved;
    if (resolved.value !== undefined) refs.push(resolved.value);
  }
  return ok({ refs, stages: stages.names });
}
