/**
 * Which line of the Dockerfile a failed build stopped at, read from the builder's output as it
 * streams (a long instruction's error block can be longer than any kept tail):
 *
 * - BuildKit ends a failed build with the instruction quoted from the file:
 *   `Dockerfile:12` / `--------------------` / `  12 | >>> RUN false`;
 * - older BuildKit (docker's built-in builder) says only which step of which stage failed:
 *   `#9 [5/5] RUN false` … `#9 ERROR: …` (`[stage-1 2/3]`, `[builder 2/3]` in multi-stage
 *   files); a stage's steps are its FROM and the instructions that make a layer or a directory
 *   (RUN, COPY, ADD, WORKDIR);
 * - the legacy builder (and buildah, podman) number every instruction of the file in order:
 *   `Step 4/4 : RUN false`, `STEP 4/4: RUN false`; the last step begun is the one that failed.
 */
import { InstructionReader, type Instruction } from './instruction-reader.js';

export interface FailedStepReader {
  /** Reads one line of the build's output. */
  read(line: string): void;
  /** The 1-based line of `dockerfile` (the file built) the build failed at, if the output said. */
  line(dockerfile: string): number | undefined;
}

const STEP = /^(?:Step|STEP) (\d+)\/\d+ ?: /;
const HEADER = /^\S+:(\d+)$/;
const RULE = /^-{8,}$/;
const QUOTED = /^\s*(\d+) \| >>> /;
/** `#9 [stage-1 5/5] RUN false`: a vertex of a stage's step. */
const VERTEX = /^#(\d+) \[(?:(\S+) )?(\d+)\/(\d+)\] (\S+)/;
const VERTEX_ERROR = /^#(\d+) ERROR\b/;
/** ` > [stage-1 5/5] RUN false:` in BuildKit's closing error block. */
const FAILED_VERTEX = /^\s*> \[(?:(\S+) )?(\d+)\/(\d+)\] (\S+)/;
const LAYER_STEPS = new Set(['from', 'run', 'copy', 'add', 'workdir']);

/** A step of a stage as BuildKit numbers it. */
interface StageStep {
  readonly stage: string | undefined;
  readonly step: number;
  readonly of: number;
  readonly keyword: string;
}

export function failedStepReader(): FailedStepReader {
  let step: number | undefined;
  let header: number | undefined;
  let pending: number | undefined;
  let quoted: number | undefined;
  const vertices = new Map<string, StageStep>();
  let failedStep: StageStep | undefined;
  const stageStep = (m: RegExpExecArray, at: number): StageStep => ({
    stage: m[at],
    step: Number(m[at + 1]),
    of: Number(m[at + 2]),
    keyword: (m[at + 3] ?? '').toLowerCase(),
  });
  return {
    read(raw) {
      const text = raw.trimEnd();
      const v = VERTEX.exec(text);
      if (v) vertices.set(v[1] ?? '', stageStep(v, 2));
      const e = VERTEX_ERROR.exec(text);
      if (e) failedStep ??= vertices.get(e[1] ?? '');
      const f = failedStep ? undefined : FAILED_VERTEX.exec(text);
      if (f) failedStep = stageStep(f, 1);
      const s = STEP.exec(text);
      if (s) {
        step = Number(s[1]);
        return;
      }
      if (pending !== undefined && RULE.test(text)) {
        header = pending;
        quoted = undefined;
      }
      const h = HEADER.exec(text);
      pending = h ? Number(h[1]) : undefined;
      if (header !== undefined && quoted === undefined) {
        const q = QUOTED.exec(text);
        if (q) quoted = Number(q[1]);
      }
    },
    line(dockerfile) {
      if (header !== undefined) return quoted ?? header;
      if (failedStep) return stageStepLine(dockerfile, failedStep);
      if (step === undefined) return undefined;
      return nthInstructionLine(dockerfile, step);
    },
  };
}

/** The line the n-th instruction (1-based, all stages) starts on. */
export function nthInstructionLine(dockerfile: string, n: number): number | undefined {
  const reader = new InstructionReader(dockerfile);
  let i = 0;
  for (let r = reader.next(); r !== undefined; r = reader.next()) {
    if (!r.ok) return undefined;
    if (++i === n) return r.value.line;
  }
  return undefined;
}

/** The line of a stage's step (BuildKit's numbering), if the file has such a step. */
function stageStepLine(dockerfile: string, s: StageStep): number | undefined {
  const stages: { name: string | undefined; steps: Instruction[] }[] = [];
  const reader = new InstructionReader(dockerfile);
  for (let r = reader.next(); r !== undefined; r = reader.next()) {
    if (!r.ok) return undefined;
    const i = r.value;
    if (i.keyword === 'from') {
      const as = /\s[Aa][Ss]\s+(\S+)\s*$/.exec(i.args);
      stages.push({ name: as?.[1]?.toLowerCase(), steps: [] });
    }
    if (LAYER_STEPS.has(i.keyword)) stages[stages.length - 1]?.steps.push(i);
  }
  const named = s.stage?.toLowerCase();
  const index = named && /^stage-\d+$/.test(named) ? Number(named.slice(6)) : undefined;
  const candidates = stages.filter((st, n) =>
    named === undefined ? st.steps.length === s.of : st.name === named || n === index,
  );
  // Unnamed: the stage built last (the target) among those with that many steps.
  const stage = candidates[candidates.length - 1];
  const found = stage?.steps[s.step - 1];
  return found && found.keyword === s.keyword ? found.line : undefined;
}
