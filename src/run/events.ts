/** What a build run tells its reporters. Logic emits these; reporters render them. */
import type { ImageName } from '../core/model.js';
import type { EngineInfo } from './ports.js';
import type { SchedulerEvent } from './scheduler.js';
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
    }
  | { readonly type: 'log'; readonly name: ImageName; readonly line: string }
  | { readonly type: 'scheduler'; readonly event: SchedulerEvent }
  | { readonly type: 'interrupt'; readonly signal: string }
  | { readonly type: 'run-end'; readonly summary: RunSummary };

export type Reporter = (e: RunEvent) => void;
