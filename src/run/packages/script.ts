/** A script of kbuild's run in a throwaway container of an image: as root, with `sh`, its output captured (never logged). */
import { err, ok, type Result } from '../../core/model.js';
import type { Engine } from '../ports.js';

export interface ScriptRun {
  readonly lines: readonly string[];
  readonly exitCode: number;
}

/** Runs `script`; the engine's own failure (no such image, timeout, cancelled) as text. */
export async function runScript(
  engine: Engine,
  image: string,
  script: string,
  o: { readonly network: string; readonly signal: AbortSignal; readonly timeoutSeconds: number },
): Promise<Result<ScriptRun, string>> {
  const lines: string[] = [];
  const ran = await engine.run(
    { image, entrypoint: 'sh', command: ['-c', script], network: o.network, user: '0' },
    { signal: o.signal, log: (l) => lines.push(l), timeoutSeconds: o.timeoutSeconds },
  );
  if (ran.ok) return ok({ lines, exitCode: ran.value.exitCode });
  const f = ran.error;
  switch (f.reason) {
    case 'timeout':
      return err(`the script timed out after ${f.seconds} s`);
    case 'cancelled':
      return err('cancelled');
    case 'engine-exit':
    case 'engine-unavailable':
    case 'pull-failed':
    case 'push-failed':
      return err(f.message || f.reason);
  }
}
