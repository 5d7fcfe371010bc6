/** Where the CLI writes: real streams in production, buffers in tests. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const processIo = (): Io => ({
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  cwd: process.cwd(),
  env: process.env,
});

/** What the host does not allow (a full disk, a read-only mount): printed as is, exit code 1. */
export class HostError extends Error {
  override readonly name = 'HostError';
}

/** A usage or configuration mistake: printed as is, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
