/**
 * kbuild's command line: the one composition root. Parses flags, loads the project through the
 * adapters, runs the core, and turns failures into text and exit codes
 * (0 ok, 1 failed work or invalid tree, 2 usage or configuration error).
 */
import { Command, CommanderError } from 'commander';
import { formatFailure, exitCodeFor } from '../report/failures.js';
import { hostIoProblem } from '../adapters/io-errors.js';
import { HostError, processIo, UsageError, type Io } from './io.js';
import { registerBuild } from './commands/build.js';
import { registerDoctor } from './commands/doctor.js';
import { registerExplain } from './commands/explain.js';
import { registerGraph } from './commands/graph.js';
import { registerInit } from './commands/init.js';
import { registerList } from './commands/list.js';
import { registerLock } from './commands/lock.js';
import { registerPlan } from './commands/plan.js';
import { registerPromote } from './commands/promote.js';
import { registerPrune } from './commands/prune.js';
import { registerRender } from './commands/render.js';
import { registerSchema } from './commands/schema.js';
import { registerTest } from './commands/test.js';
import { registerValidate } from './commands/validate.js';
import { Failed, type Action } from './options.js';

export function buildProgram(io: Io, run: (a: Action) => void): Command {
  const program = new Command('kbuild')
    .description(
      'Build families of container images from Jinja-style Dockerfile templates, in dependency order.',
    )
    .version('0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 failed work or invalid image tree, 2 usage or configuration error.
Examples:
  kbuild --profile debian-binary --push --registry 127.0.0.1:5000   (build is the default command)
  kbuild build --profile debian-binary nginx --with-descendants
  kbuild test --profile debian-binary memcached nginx      (smoke tests of built images)
  kbuild validate --all-profiles
  kbuild init my-family --base-image busybox:latest      (a new family that builds)
  kbuild explain nginx --profile debian-binary           (what an image is made of, why it rebuilds)
  kbuild list --profile debian-binary
  kbuild graph --profile debian-binary --format tree
  kbuild render --profile debian-binary nginx --work-dir /tmp/r
  kbuild promote --profile debian-binary --from master-20261101 --to v1.2.0   (retag by digest)
  kbuild prune --registry --profile debian-binary                            (dry run; --yes deletes)`,
  );
  for (const register of [
    registerBuild,
    registerTest,
    registerList,
    registerRender,
    registerGraph,
    registerPlan,
    registerExplain,
    registerPromote,
    registerPrune,
    registerValidate,
    registerDoctor,
    registerLock,
    registerSchema,
    registerInit,
  ]) {
    register(program, run);
  }
  return program;
}

/** Runs kbuild with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let pending: Action | undefined;
  const program = buildProgram(io, (a) => {
    pending = a;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return pending ? await pending(io) : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every other parse error is a usage error.
      return e.exitCode === 0 ||
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version'
        ? 0
        : 2;
    }
    if (e instanceof UsageError) {
      io.err(`kbuild: ${e.message}\n`);
      return 2;
    }
    if (e instanceof Failed) {
      for (const f of e.failures) io.err(`${formatFailure(f)}\n`);
      return exitCodeFor(e.failures);
    }
    // A full disk or a read-only mount is the host's doing, not a bug.
    const host = e instanceof HostError ? e.message : hostIoProblem(e);
    if (host) {
      io.err(`kbuild: ${host}\n`);
      return 1;
    }
    io.err(
      `kbuild: internal error (a bug; please report it): ${(e as Error).stack ?? String(e)}\n`,
    );
    return 1;
  }
}
