/**
 * kbuild's command line: the one composition root. Parses flags, loads the project through the
 * adapters, runs the core, and turns failures into text and exit codes
 * (0 ok, 1 failed work or invalid tree, 2 usage or configuration error).
 */
import { Command, CommanderError } from 'commander';
import { closestTypo } from './did-you-mean.js';
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
import { registerVerify } from './commands/verify.js';
import { registerWatch } from './commands/watch.js';
import { Failed, type Action } from './options.js';

/**
 * Commander's command with kbuild's own suggestion for an unknown flag: commander's suggests any
 * flag within 60% of the letters (`--set` → `--test`, `--ssh` → `--push`); this one only a typo.
 */
class KbuildCommand extends Command {
  override createCommand(name?: string): Command {
    return new KbuildCommand(name);
  }

  /** Overrides commander's (private, so not in its types) unknown-option error. */
  unknownOption(flag: string): void {
    const flags: string[] = [];
    for (const c of [this, ...ancestorsOf(this)])
      for (const o of c.options) if (o.long && !o.hidden) flags.push(o.long.slice(2));
    const near = flag.startsWith('--') ? closestTypo(flag.slice(2), flags) : undefined;
    this.error(`error: unknown option '${flag}'${near ? `\n(Did you mean --${near}?)` : ''}`, {
      code: 'commander.unknownOption',
    });
  }
}

function ancestorsOf(cmd: Command): Command[] {
  return cmd.parent ? [cmd.parent, ...ancestorsOf(cmd.parent)] : [];
}

export function buildProgram(io: Io, run: (a: Action) => void): Command {
  const program = new KbuildCommand('kbuild')
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
  kbuild watch --profile debian-binary nginx          (rebuild nginx and what it needs as files change)
  kbuild test --profile debian-binary memcached nginx      (smoke tests of built images)
  kbuild validate --all-profiles
  kbuild verify --profile debian-binary --key pub.pem      (signatures, provenance and SBOMs in the registry)
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
    registerWatch,
    registerTest,
    registerList,
    registerRender,
    registerGraph,
    registerPlan,
    registerExplain,
    registerPromote,
    registerPrune,
    registerValidate,
    registerVerify,
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
  const args = commandFirst(program, argv);
  try {
    await program.parseAsync(args.argv, { from: 'user' });
    return pending ? await pending(io) : 0;
  } catch (e) {
    if (args.typo && isUnknownPattern(e, args.typo.word)) {
      io.err(
        `kbuild: unknown command '${args.typo.word}' — did you mean '${args.typo.command}'?\n`,
      );
      return 2;
    }
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
      if (args.typo)
        io.err(`kbuild: (or is '${args.typo.word}' meant to be '${args.typo.command}'?)\n`);
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

/**
 * The arguments with the command name first. The default command (build) takes every argument
 * when the first is an option, so `kbuild -C DIR plan` would build an image called 'plan':
 * options before a command name are moved after it. With no command name, build runs
 * implicitly, and a first positional that looks like a misspelt command is remembered: if it
 * turns out to name no image or group of the family, it was a command.
 */
function commandFirst(
  program: Command,
  argv: readonly string[],
): { argv: string[]; typo?: { word: string; command: string } } {
  const commands = new Set(['help']);
  const takesValue = new Set<string>();
  for (const c of [program, ...program.commands]) {
    if (c !== program) for (const n of [c.name(), ...c.aliases()]) commands.add(n);
    for (const o of c.options)
      if (o.required) for (const f of [o.short, o.long]) if (f) takesValue.add(f);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || a === '-V' || a === '--version') break;
    if (a.startsWith('-') && a.length > 1) {
      if (takesValue.has(a)) i++;
      continue;
    }
    if (commands.has(a)) return { argv: [a, ...argv.slice(0, i), ...argv.slice(i + 1)] };
    const command = closestTypo(a, [...commands]);
    return { argv: [...argv], ...(command ? { typo: { word: a, command } } : {}) };
  }
  return { argv: [...argv] };
}

/** Whether a run failed because `word`, given on the command line, names no image or group. */
function isUnknownPattern(e: unknown, word: string): boolean {
  return (
    e instanceof Failed &&
    e.failures.some(
      (f) =>
        f.reason === 'selection-unknown' && f.pattern === word && f.source === 'the command line',
    )
  );
}
