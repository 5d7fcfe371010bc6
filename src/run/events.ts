/** What a build or test run tells its reporters. Logic emits these; reporters render them. */
import type { ImageName } from '../core/model.js';
import type { StepAction } from '../core/plan/plan.js';
import type { EngineInfo } from './ports.js';
import type { SchedulerEvent } from './scheduler.js';
import type { SmokeResult, SmokeSummary } from './smoke-result.js';
import type { RunSummary } from './summary.js';

export type RunEvent =
  | {
      readonly type: 'run-start';
      readonly runId: string;
      readonly profile: string;
      /** Images that will be worked on, in order. */
      readonly images: readonly ImageName[];
      /** Selected images that cannot be built with this profile, with the reason. */
      readonly unbuildable: ReadonlyMap<ImageName, string>;
      readonly threads: number;
      readonly push: boolean;
      readonly engine: EngineInfo;
      readonly logsDir: string;
      /**
       * Per image worked on: the plan's action and why (the plan step's reason: `new`,
       * `context-changed (hello.sh)`, `up to date`, ...), its parents in the run, and what its
       * build took last time (0: nothing to build; null: never built) — for ETAs, the header's
       * counts and fresh images' status.
       */
      readonly expected?: readonly {
        readonly name: ImageName;
        readonly action: StepAction;
        readonly reason: string;
        readonly parents: readonly ImageName[];
        readonly seconds: number | null;
      }[];
    }
  | { readonly type: 'log'; readonly name: ImageName; readonly line: string }
  /** An image's log file is complete (after its `done`): where it is, renamed when it failed. */
  | {
      readonly type: 'log-closed';
      readonly name: ImageName;
      readonly path: string;
      readonly failed: boolean;
    }
  | { readonly type: 'scheduler'; readonly event: SchedulerEvent }
  | { readonly type: 'interrupt'; readonly signal: string }
  | { readonly type: 'run-end'; readonly summary: RunSummary }
  // `kbuild test`: smoke tests of built images (a build's own tests go to its images' logs).
  | {
      readonly type: 'test-run-start';
      readonly runId: string;
      readonly profile: string;
      readonly images: readonly ImageName[];
      readonly threads: number;
      readonly engine: EngineInfo;
      readonly logsDir: string;
    }
  | { readonly type: 'test-start'; readonly name: ImageName }
  | { readonly type: 'test-end'; readonly result: SmokeResult }
  | { readonly type: 'test-run-end'; readonly summary: SmokeSummary };

export type Reporter = (e: RunEvent) => void;
