import { describe, expect, it } from 'vitest';
import { failedStepReader, nthInstructionLine } from './failed-step.js';

const DOCKERFILE = [
  '# syntax=docker/dockerfile:1', // 1
  'ARG BASE=busybox', // 2
  'FROM $BASE', // 3
  '', // 4
  'RUN echo one \\', // 5
  '    two', // 6
  '# a comment', // 7
  'RUN false', // 8
  '',
].join('\n');

const read = (lines: string[]) => {
  const r = failedStepReader();
  for (const l of lines) r.read(l);
  return r.line(DOCKERFILE);
};

describe('failedStepReader', () => {
  it("reads BuildKit's quoted instruction", () => {
    expect(
      read([
        '#7 [3/3] RUN false',
        '#7 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1',
        'Dockerfile:8',
        '--------------------',
        '   6 |         two',
        '   7 |     # a comment',
        '   8 | >>> RUN false',
        '--------------------',
        'ERROR: failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1',
      ]),
    ).toBe(8);
  });

  it("reads older BuildKit's failed stage step", () => {
    const lines = [
      '#6 [2/3] RUN echo one     two',
      '#7 [3/3] RUN false',
      '#7 ERROR: executor failed running [/bin/sh -c false]: exit code: 1',
      '------',
      ' > [3/3] RUN false:',
      '------',
    ];
    expect(read(lines)).toBe(8);
    expect(read(lines.slice(3))).toBe(8);
    const multi =
      'FROM a AS build\nRUN make\nFROM b\nWORKDIR /x\nCOPY --from=build /o /o\nRUN false\n';
    const r = failedStepReader();
    for (const l of ['#9 [stage-1 4/4] RUN false', '#9 ERROR: exit code: 1']) r.read(l);
    expect(r.line(multi)).toBe(6);
    const r2 = failedStepReader();
    for (const l of ['#5 [build 2/2] RUN make', '#5 ERROR: exit code: 2']) r2.read(l);
    expect(r2.line(multi)).toBe(2);
  });

  it("numbers the legacy builder's steps over the whole file", () => {
    expect(
      read([
        'Step 1/4 : ARG BASE=busybox',
        'Step 2/4 : FROM $BASE',
        'Step 3/4 : RUN echo one     two',
        'one two',
        'Step 4/4 : RUN false',
        "The command '/bin/sh -c false' returned a non-zero code: 1",
      ]),
    ).toBe(8);
    expect(
      read(['STEP 3/4: RUN echo one two', 'Error: building at STEP "RUN echo": exit status 1']),
    ).toBe(5);
  });

  it('says nothing when the output names no step', () => {
    expect(read(['ERROR: failed to solve: busybox: not found'])).toBeUndefined();
    expect(nthInstructionLine(DOCKERFILE, 9)).toBeUndefined();
  });
});
