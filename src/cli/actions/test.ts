/** `kbuild test`: the smoke tests (image.yaml 'test') of built images. */
import { resolve } from 'node:path';
import { createLogStore } from '../../adapters/logs.js';
import { writeFileAtomically } from '../../adapters/state.js';
import { smokeJunitReport } from '../../report/junit.js';
import { runSmokeTests } from '../../run/smoke.js';
import type { Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { wholeNumber, type OutputFlags } from '../options.js';
import { interruptible, startRun, writeSummaryJson } from '../run-session.js';
import { loadSelected } from '../commands/shared.js';

export interface TestFlags extends ProfileOptions, SelectionOptions, OutputFlags {
  threads: string | number;
  junit?: string;
}

export async function testCommand(io: Io, patterns: string[], flags: TestFlags): Promise<number> {
  const threads = wholeNumber('--threads', flags.threads, 1);
  // A test needs its image, not the image's parents: never add ancestors.
  const { family, selection, root } = await loadSelected(
    io,
    { ...flags, skipParents: true },
    patterns,
  );
  // Images named on the command line are all reported (`no-test` where there is none).
  const names = patterns.length
    ? selection.images
    : selection.images.filter(
        (n) => family.images.get(n)?.spec.meta.test && !family.unbuildable.has(n),
      );
  // Loaded here, not at start-up: only the commands that run an engine need its adapters.
  const { detectEngine } = await import('../../adapters/engines.js');
  const detected = await detectEngine(flags.engine);
  if (!detected.ok) {
    io.err(`kbuild: no container engine: ${detected.error.message}\n`);
    return 1;
  }
  const session = startRun(io, root, flags);
  return interruptible(session.report, async (signal) => {
    const summary = await runSmokeTests(
      family,
      names,
      { threads },
      {
        engine: detected.value.engine,
        engineInfo: detected.value.info,
        logs: createLogStore(session.logsDir),
        now: () => performance.now(),
      },
      { runId: session.runId, startedAt: session.started.toISOString() },
      signal,
      session.report,
    );
    session.stop();
    if (session.live) io.out(''); // the live view printed the table on stderr
    await writeSummaryJson(io, flags.summaryJson, summary);
    if (flags.junit) {
      await writeFileAtomically(resolve(io.cwd, flags.junit), smokeJunitReport(summary));
    }
    return summary.interrupted ? 130 : summary.ok ? 0 : 1;
  });
}
