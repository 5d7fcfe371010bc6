/**
 * The fuzz suites' one property, "a result or a located error, never an exception", as checks
 * on kbuild's failure values: every problem names a file, and a file whose text is known (the
 * input has lines) gets a line of that text and a column of at least 1.
 */
import { expect } from 'vitest';
import type { ConfigProblem, Failure } from '../../src/core/model.js';
import type { TemplateError } from '../../src/core/jinja/render.js';
import { lineCount } from './fuzz-params.js';

/** Texts by the file name failures use for them ("kbuild.yaml", "images/a/Dockerfile.j2"). */
export type Texts = ReadonlyMap<string, string>;

/** Messages that betray a bug of kbuild rather than a mistake of the input. */
const INTERNAL =
  /internal error|Cannot read propert|Cannot set propert|is not a constructor|is not defined|\[object \w+\]|Cannot convert|Invalid array length|Maximum call stack|Symbol\(Symbol/;

function position(
  where: string,
  file: string,
  line: number | undefined,
  column: number | undefined,
  texts: Texts,
): void {
  expect(typeof file, where).toBe('string');
  expect(file.length, where).toBeGreaterThan(0);
  const text = texts.get(file);
  if (text === undefined) {
    if (line !== undefined) expect(Number.isInteger(line) && line >= 1, where).toBe(true);
    return;
  }
  expect(line, `${where}: no line in ${file}`).toBeDefined();
  expect(Number.isInteger(line), where).toBe(true);
  expect(line!, where).toBeGreaterThanOrEqual(1);
  expect(line!, where).toBeLessThanOrEqual(lineCount(text));
  if (column !== undefined) expect(Number.isInteger(column) && column >= 1, where).toBe(true);
}

export function expectLocatedProblem(p: ConfigProblem, texts: Texts): void {
  const where = `${p.file}:${p.line}:${p.column}: ${p.message}`;
  position(where, p.file, p.line, p.column, texts);
  expect(p.message.trim().length, where).toBeGreaterThan(0);
  expect(p.message, where).not.toMatch(INTERNAL);
}

/**
 * Left alone (known): `x in y` with y neither a sequence, a string nor a mapping gives nunjucks'
 * own located message, which prints y as JavaScript does ("[object Object]").
 */
const KNOWN = /^Cannot use "in" operator to search for /;

export function expectLocatedTemplateError(e: TemplateError, texts: Texts): void {
  const where = `${e.file}:${e.line}:${e.column}: ${e.message}`;
  position(where, e.file, e.line, e.column, texts);
  expect(e.message.trim().length, where).toBeGreaterThan(0);
  if (!KNOWN.test(e.message)) expect(e.message, where).not.toMatch(INTERNAL);
}

export function expectLocatedFailure(f: Failure, texts: Texts): void {
  switch (f.reason) {
    case 'config-invalid':
      expect(f.problems.length).toBeGreaterThan(0);
      for (const p of f.problems) expectLocatedProblem(p, texts);
      return;
    case 'template-error':
      expectLocatedTemplateError(f, texts);
      return;
    case 'dockerfile-invalid':
    case 'unknown-parent': {
      const where = `${f.file}:${f.line}: ${JSON.stringify(f)}`;
      position(where, f.file, f.line, undefined, texts);
      if (f.reason === 'dockerfile-invalid') expect(f.message, where).not.toMatch(INTERNAL);
      return;
    }
    case 'cycle':
      expect(f.path.length).toBeGreaterThan(1);
      return;
    case 'duplicate-image':
      expect(f.paths.length).toBeGreaterThan(1);
      return;
    case 'profile-not-found':
    case 'selection-unknown':
    case 'plugin-invalid':
      return;
  }
}
