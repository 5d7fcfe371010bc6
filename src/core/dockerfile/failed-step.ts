/**
 * Which line of the Dockerfile a failed build stopped at, read from the builder's output as it
 * streams (a long instruction's error block can be longer than any kept tail):
 *
 * - BuildKit ends a failed build with the instruction quoted from the file:
 *   `Dockerfile:12` / `--------------------` / `  12 | >>> RUN false`;
 * - the legacy builder (and buildah, podman) number every instruction of the file in order:
 *   `Step 4/4 : RUN false`, `STEP 4/4: RUN false`; the last step begun is the one that failed.
 */
import { InstructionReader } from './instruction-reader.js';

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

export function failedStepReader(): FailedStepReader {
  let step: number | undefined;
  let header: number | undefined;
  let pending: number | undefined;
  let quoted: number | undefined;
  return {
    read(raw) {
      const text = raw.trimEnd();
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
