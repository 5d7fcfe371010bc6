/**
 * `COPY --from=` (a stage name, a stage index, or an image) and `RUN --mount=…,from=` (a stage
 * or an image, not for tmpfs): the other places a build reads files from besides its FROM.
 *
 * A name is classified only once the whole file is read (`resolveFromFlag`), because it may
 * name a stage declared further down (which Docker then rejects for COPY, with a message).
 */
import { err, ok, type BaseReference, type Result } from '../model.js';
import { splitFlag, type DockerfileProblem, type Instruction } from './instruction-reader.js';
import { parseReference } from './reference.js';
import { expandWord, NO_VARS } from './shell-word.js';
import type { Stages } from './stages.js';

/** A `--from` / mount `from=` waiting for every stage name of the file to be known. */
export type FromFlag =
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

/** A stage index as Go's strconv.Atoi accepts it. */
const STAGE_INDEX = /^[+-]?\d+$/;

/** COPY's `--from`, if it has one; `stage` is the index of the stage the COPY belongs to. */
export function copyFrom(
  instruction: Instruction,
  stage: number,
): Result<FromFlag | undefined, DockerfileProblem> {
  const { flags, line, escape } = instruction;
  let from: string | undefined;
  for (const flag of flags) {
    const { name, value } = splitFlag(flag);
    if (name !== 'from') continue;
    if (value === undefined) {
      return err({
        line,
        message: `COPY at line ${line}: --from needs a value: write --from=<stage or image>`,
      });
    }
    from = value;
  }
  if (from === undefined || from === '') return ok(undefined);

  // BuildKit refuses anything its word processing would change: it does not expand --from.
  const processed = expandWord(from, NO_VARS, escape);
  if (!processed.ok || processed.value.value !== from) {
    return err({
      line,
      message:
        `COPY at line ${line}: --from=${from} cannot use variables, quotes or escapes (Docker does not expand --from); ` +
        'declare the image as a stage instead: ARG IMAGE=… before the first FROM, FROM ${IMAGE} AS src, then COPY --from=src',
    });
  }
  return ok(
    STAGE_INDEX.test(from)
      ? { kind: 'index', index: Number(from), line, stage }
      : { kind: 'named', source: 'copy-from', name: from, line, stage },
  );
}

/** The `from=` of each of RUN's `--mount`s that has one (tmpfs aside), in order. */
export function mountsFrom(
  instruction: Instruction,
  stage: number,
): Result<FromFlag[], DockerfileProblem> {
  const { flags, line } = instruction;
  const found: FromFlag[] = [];
  for (const flag of flags) {
    const { name, value } = splitFlag(flag);
    if (name !== 'mount') continue;
    if (value === undefined || value === '') {
      return err({
        line,
        message: `RUN at line ${line}: --mount needs a value, e.g. --mount=type=cache,target=/root/.cache`,
      });
    }
    const fields = parseCsvRecord(value);
    if (!fields.ok)
      return err({ line, message: `RUN at line ${line}: --mount=${value}: ${fields.error}` });
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
      return err({
        line,
        message:
          `RUN at line ${line}: --mount from=${from} cannot use variables (Docker does not expand it); ` +
          'declare the image as a stage (FROM ${IMAGE} AS src) and use from=src',
      });
    }
    if (type === 'tmpfs') continue;
    if (type === 'secret') {
      return err({
        line,
        message: `RUN at line ${line}: a secret mount cannot have from=; remove it`,
      });
    }
    found.push({ kind: 'named', source: 'mount-from', name: from, line, stage });
  }
  return ok(found);
}

/**
 * The ids of RUN's secret mounts (`--mount=type=secret,id=…`; without an id, the target's last
 * path element, as BuildKit defaults it). Malformed mounts are mountsFrom's to report.
 */
export function secretMounts(instruction: Instruction): string[] {
  const ids: string[] = [];
  for (const flag of instruction.flags) {
    const { name, value } = splitFlag(flag);
    if (name !== 'mount' || !value) continue;
    const fields = parseCsvRecord(value);
    if (!fields.ok) continue;
    const kv = new Map(
      fields.value.flatMap((f) => {
        const eq = f.indexOf('=');
        return eq < 0 ? [] : [[f.slice(0, eq).toLowerCase(), f.slice(eq + 1)] as const];
      }),
    );
    if (kv.get('type')?.toLowerCase() !== 'secret') continue;
    const id = kv.get('id') || kv.get('target')?.split('/').filter(Boolean).at(-1);
    if (id) ids.push(id);
  }
  return ids;
}

/**
 * Classifies a `--from` against every stage of the file: undefined when it names a stage
 * (or scratch), the image reference otherwise.
 */
export function resolveFromFlag(
  flag: FromFlag,
  stages: Pick<Stages, 'count' | 'indexOf'>,
): Result<BaseReference | undefined, DockerfileProblem> {
  if (flag.kind === 'index') {
    const { index, line, stage } = flag;
    if (index < 0 || index >= stages.count) {
      return err({
        line,
        message: `COPY at line ${line}: --from=${index} names no stage; stages are numbered from 0 to ${stages.count - 1}`,
      });
    }
    if (index >= stage) {
      return err({
        line,
        message: `COPY at line ${line}: --from=${index} must name a stage defined before this one`,
      });
    }
    return ok(undefined);
  }

  const { source, name, line, stage } = flag;
  const label = source === 'copy-from' ? 'COPY' : 'RUN';
  const flagText = source === 'copy-from' ? '--from=' : '--mount from=';
  const index = stages.indexOf(name);
  if (index !== undefined) {
    if (source === 'copy-from' && index >= stage) {
      return err({
        line,
        message:
          `COPY at line ${line}: --from=${name} names a stage that is not defined before this one; ` +
          `move the stage "${name.toLowerCase()}" above`,
      });
    }
    return ok(undefined);
  }
  if (name === 'scratch') return ok(undefined);
  const parsed = parseReference(name);
  if (!parsed.ok)
    return err({
      line,
      message: `${label} at line ${line}: ${flagText}${name}: ${parsed.error}`,
    });
  return ok({ ref: name, line, kind: source });
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
