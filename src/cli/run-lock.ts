/** `build`'s lock per project and profile, with what it says while it waits or takes over. */
import { recordProcesses } from '../adapters/exec.js';
import { fileRecorder, processDir, reapLeftovers } from '../adapters/process-ledger.js';
import { describeHolder, runLockFile, takeRunLock, type HeldLock } from '../adapters/run-lock.js';
import { hostIoProblem } from '../adapters/io-errors.js';
import { HostError, UsageError, type Io } from './io.js';
import { defaultLockTimeoutSeconds } from './options.js';

/**
 * Takes the run lock of `profile` in the project at `root`, waiting up to `timeoutSeconds` for
 * another run; a usage error (exit 2) naming the holder when it is still held then.
 */
export async function holdRunLock(
  io: Io,
  root: string,
  profile: string,
  timeoutSeconds = defaultLockTimeoutSeconds,
): Promise<HeldLock> {
  const file = runLockFile(root, profile);
  const taken = await takeRunLock(file, {
    timeoutSeconds,
    onWait: (h) =>
      io.err(
        `kbuild: waiting for the run of PID ${h.pid} (started ${h.started}, on ${h.host}) to finish (--lock-timeout ${timeoutSeconds}s)\n`,
      ),
    onStale: (h) =>
      io.err(
        `kbuild: taking over the lock of profile '${profile}' from ${describeHolder(h)}: that process is gone\n`,
      ),
  }).catch((e: unknown) => {
    const problem = hostIoProblem(e, file);
    if (!problem) throw e;
    throw new HostError(`${problem}; nothing was built (the run lock could not be taken)`);
  });
  if (taken.ok) return taken.lock;
  throw new UsageError(
    `profile '${profile}' is being built by another run: ${describeHolder(taken.holder)}; ${
      timeoutSeconds === 0
        ? '--lock-timeout 0 does not wait'
        : `still running after --lock-timeout ${timeoutSeconds}s`
    } (lock file ${file})`,
  );
}

/**
 * Once the lock is held: stops what an earlier run of it, killed with SIGKILL, left running (its
 * `docker build` clients, its `docker run` containers), says so, and from now on writes down what
 * this run starts, so that the next run can do the same for it. `recordProcesses(undefined)` ends it.
 */
export async function stopLeftovers(io: Io, lock: HeldLock): Promise<void> {
  const dir = processDir(lock.file);
  for (const l of await reapLeftovers(dir)) {
    io.err(
      `kbuild: ${l.stopped ? 'stopped' : 'cleaned up after'} ${l.command} (PID ${l.pid}), left running by the run of PID ${l.owner}, which was killed\n`,
    );
  }
  recordProcesses(fileRecorder(dir));
}
