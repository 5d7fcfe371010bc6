/**
 * File system failures the host causes, not kbuild (a full disk, a read-only mount, a
 * permission): said in words with the path and what to do, never as an internal error.
 */

const WORDS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
};

const HINT: Readonly<Record<string, string>> = {
  ENOSPC: 'free some space there',
  EDQUOT: 'free some space there',
  EROFS: 'make it writable',
  EACCES: 'check its owner and permissions',
  EPERM: 'check its owner and permissions',
};

/**
 * `cannot write .kbuild/state/bb.json: no space left on device (ENOSPC); free some space there`
 * for a file system failure of the host's making (`file`: what was being written, when the error
 * does not say: a failed write on an open file names no path); undefined for anything else (a
 * bug, to be reported as one).
 */
export function hostIoProblem(e: unknown, file?: string): string | undefined {
  const x = e as NodeJS.ErrnoException | undefined;
  const code = typeof x?.code === 'string' ? x.code : undefined;
  if (!code || !WORDS[code]) return undefined;
  const path = file ?? x?.path;
  const hint = HINT[code] ? `; ${HINT[code]}` : '';
  return `${path ? `cannot write ${path}: ` : ''}${WORDS[code]} (${code})${hint}`;
}

/** Waits for `work`: undefined when it succeeded, the problem when the host failed it (else throws). */
export async function hostProblemOf(
  work: Promise<unknown>,
  file?: string,
): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (e) {
    const problem = hostIoProblem(e, file);
    if (problem === undefined) throw e;
    return problem;
  }
}
