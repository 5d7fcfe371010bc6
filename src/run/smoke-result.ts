/**
 * What smoke tests give back: one test run, one image's result, a `kbuild test` run's summary.
 * Apart from smoke.ts (which runs the tests) so that the events and the run summary can name
 * these types without importing the runner, which imports them back.
 */
import type { ImageName } from '../core/model.js';
import type { EngineInfo } from './ports.js';

/** How one test run ended. */
export interface TestRun {
  readonly status: 'passed' | 'failed' | 'timeout' | 'cancelled';
  /** The test's exit code, when it ran to its end. */
  readonly exitCode: number | null;
  /** Why it did not pass, in one line. */
  readonly message: string | null;
}

export type SmokeStatus = TestRun['status'] | 'no-test' | 'not-built';

export interface SmokeResult {
  readonly name: ImageName;
  readonly status: SmokeStatus;
  /** The reference tested (or that could not be had). */
  readonly image: string;
  readonly exitCode: number | null;
  readonly message: string | null;
  /** Seconds the test ran (with the pull, when the image had to be pulled). */
  readonly seconds: number | null;
  /** The last lines of the test's output, when it did not pass. */
  readonly tail: readonly string[];
  readonly log: string | null;
}

export interface SmokeSummary {
  readonly runId: string;
  readonly profile: string;
  readonly tag: string;
  readonly threads: number;
  readonly start: string;
  readonly seconds: number;
  readonly engine: EngineInfo;
  readonly interrupted: boolean;
  /** True when every test passed (images without a test do not count). */
  readonly ok: boolean;
  readonly counts: Readonly<Record<SmokeStatus, number>>;
  readonly images: readonly SmokeResult[];
}
