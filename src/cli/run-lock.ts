/** `build`'s lock per project and profile, with what it says while it waits or takes over. */
import { describeHolder, runLockFile, takeRunLock, type HeldLock } from '../adapters/run-lock.js';
import { UsageError, type Io } from './io.js';

/** --lock-timeout's default: a generous wait (an hour). */
export const defaultLockTimeoutSeconds = 3600;

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
  const taken = await takeRunLock(runLockFile(root, profile), {
    timeoutSeconds,
    onWait: (h) =>
      io.err(
        `kbuild: waiting for the run of PID ${h.pid} (started ${h.started}, on ${h.host}) to finish (--lock-timeout ${timeoutSeconds}s)\n`,
      ),
    onStale: (h) =>
      io.err(
        `kbuild: taking over the lock of profile '${profile}' from ${describeHolder(h)}: that process is gone\n`,
      ),
  });
  if (taken.ok) return taken.lock;
  throw new UsageError(
    `profile '${profile}' is being built by another run: ${describeHolder(taken.holder)}; ${
      timeoutSeconds === 0
        ? '--lock-timeout 0 does not wait'
        : `still running after --lock-timeout ${timeoutSeconds}s`
    } (lock file ${runLockFile(root, profile)})`,
  );
}
