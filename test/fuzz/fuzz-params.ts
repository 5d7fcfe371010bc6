/**
 * How many cases the fuzz suites run, and from which seed. The default run is small and fixed
 * (the same cases on every machine, a few seconds in all); `KBUILD_FUZZ_RUNS=20000` runs more,
 * and `KBUILD_FUZZ_SEED=<n>` starts elsewhere (a failure prints the seed and path to replay it).
 */
import fc from 'fast-check';

const env = (name: string): number | undefined => {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got '${v}'`);
  return n;
};

/** Cases per property when KBUILD_FUZZ_RUNS is set (every property runs that many). */
const RUNS = env('KBUILD_FUZZ_RUNS');
const SEED = env('KBUILD_FUZZ_SEED') ?? 20_240_613;

/** fast-check parameters for one property: `runs` cases by default. */
export function fuzzParams<T>(runs: number): fc.Parameters<T> {
  return { seed: SEED, numRuns: RUNS ?? runs, endOnFailure: false };
}

/** A test timeout that grows with KBUILD_FUZZ_RUNS (ms). */
export const fuzzTimeout = (runs: number): number =>
  Math.max(60_000, ((RUNS ?? runs) / runs) * 30_000);

/** Number of lines of a text as kbuild counts them (`\n` separated; an empty text is one line). */
export const lineCount = (text: string): number => text.split('\n').length;
