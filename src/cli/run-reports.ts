/**
 * A build's report files (--report, --junit, --metadata-file): written after the summary, however
 * the run ended (failed or interrupted too), each atomically.
 */
import { dirname, resolve } from 'node:path';
import { gitStateOf } from '../adapters/git-snapshot.js';
import { readLogTail } from '../adapters/logs.js';
import { writeFileAtomically } from '../adapters/state.js';
import type { Fingerprinted } from '../core/plan/freshness.js';
import type { BuildGraph, ImageName } from '../core/model.js';
import type { Plan } from '../core/plan/plan.js';
import { buildMetadata } from '../report/build-metadata.js';
import { htmlReport } from '../report/html-report.js';
import { junitReport } from '../report/junit.js';
import { TAIL_LINES } from '../run/image-logs.js';
import type { PlatformsPublished } from '../run/publish-platforms.js';
import { succeeded, type RunSummary } from '../run/summary.js';
import type { Io } from './io.js';
import type { ReportFlags } from './options.js';

/** One platform's run with what the reports need beside its summary. */
export interface ReportedRun {
  readonly platform: string;
  readonly summary: RunSummary;
  readonly plan: Plan;
  readonly graph: BuildGraph;
  readonly fingerprints: ReadonlyMap<ImageName, Fingerprinted>;
}

export async function writeRunReports(
  io: Io,
  flags: ReportFlags,
  runs: readonly ReportedRun[],
  end: { ok: boolean; interrupted: boolean; manifests?: PlatformsPublished },
  root: string,
): Promise<void> {
  // A single-platform run's report does not name its platform (it is in the header's engine).
  const sections = runs.map((r) => ({ ...r, platform: runs.length > 1 ? r.platform : null }));
  // The failed images' last log lines: the HTML report's failures and the JUnit failures.
  const failedLogs = runs.flatMap((r) =>
    r.summary.images.filter((i) => i.log && !succeeded(i.status)).map((i) => i.log!),
  );
  const tails =
    flags.report || flags.junit
      ? new Map(
          await Promise.all(
            failedLogs.map(async (p) => [p, await readLogTail(p, TAIL_LINES)] as const),
          ),
        )
      : new Map<string, readonly string[]>();
  const logTail = (p: string) => tails.get(p) ?? [];
  if (flags.report) {
    const path = resolve(io.cwd, flags.report);
    const source = await gitStateOf(root);
    await writeFileAtomically(
      path,
      htmlReport({
        sections,
        ...end,
        dir: dirname(path),
        logTail,
        source,
        // The process's own arguments: what was typed, before commander's reading of them.
        command: commandLine(process.argv.slice(2)),
      }),
    );
  }
  if (flags.junit) {
    await writeFileAtomically(resolve(io.cwd, flags.junit), junitReport(sections, logTail));
  }
  if (flags.metadataFile) {
    const metadata = buildMetadata(runs, end.manifests);
    await writeFileAtomically(
      resolve(io.cwd, flags.metadataFile),
      `${JSON.stringify(metadata, null, 2)}\n`,
    );
  }
}

/** `kbuild ARGS…` as a shell would take it back: arguments with spaces or quotes quoted. */
export function commandLine(args: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return ['kbuild', ...args.map(quote)].join(' ');
}
