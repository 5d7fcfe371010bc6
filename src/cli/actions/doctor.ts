/** `kbuild doctor`: the host checked: engine and version, build path, registry, base images, emulation. */
import semver from 'semver';
import { formatFailure } from '../../report/failures.js';
import {
  emulatedArchitectures,
  isSetupRegistry,
  pingRegistry,
} from '../../adapters/host-checks.js';
import { isLoopbackHost } from '../../core/dockerfile/reference.js';
import { loadProfileFamily, loadWorkspace, type ProfileOptions } from '../load.js';
import { UsageError, type Io } from '../io.js';

/** Oldest engines kbuild is tested with (iidfile, BuildKit, digestfile). */
export const MINIMUM_VERSION = { docker: '20.10.0', podman: '4.0.0' } as const;
const OCI_ARCH_TO_QEMU: Readonly<Record<string, string>> = {
  arm64: 'aarch64',
  amd64: 'x86_64',
  arm: 'arm',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  '386': 'i386',
};
const FIX_HOST = 'run `sudo scripts/setup-host.sh`';

export interface DoctorFlags extends ProfileOptions {
  engine?: 'docker' | 'podman';
  builder?: string;
  /** --format json / --json: the checks as one JSON document. */
  json?: boolean;
}

/** One line of the doctor's answer. */
interface Finding {
  status: 'ok' | 'fail' | 'warn' | 'info';
  check: string;
  fix?: string;
}

export async function doctorCommand(io: Io, flags: DoctorFlags): Promise<number> {
  const findings: Finding[] = [];
  const say = (f: Finding) => {
    findings.push(f);
    if (flags.json) return;
    const label = { ok: 'ok  ', fail: 'FAIL', warn: 'warn', info: 'info' }[f.status];
    io.out(`${label}  ${f.check}${f.fix && f.status !== 'ok' ? `\n      fix: ${f.fix}` : ''}\n`);
  };
  const code = await diagnose(io, flags, say);
  const failed = findings.filter((f) => f.status === 'fail').length;
  if (flags.json) io.out(`${JSON.stringify({ ok: failed === 0, findings }, null, 2)}\n`);
  else io.out(failed ? `\n${failed} problem(s) found\n` : '\nall checks passed\n');
  return code;
}

async function diagnose(io: Io, flags: DoctorFlags, say: (f: Finding) => void): Promise<number> {
  let failed = 0;
  const check = (ok: boolean, what: string, fix?: string) => {
    say({ status: ok ? 'ok' : 'fail', check: what, ...(fix && !ok ? { fix } : {}) });
    if (!ok) failed++;
  };
  const note = (what: string) => say({ status: 'info', check: what });
  const warn = (ok: boolean, what: string, fix: string) =>
    ok ? check(true, what) : say({ status: 'warn', check: what, fix });

  const { detectEngine } = await import('../../adapters/engines.js');
  const detected = await detectEngine(
    flags.engine,
    flags.builder ? { builder: flags.builder } : {},
  );
  if (!detected.ok) {
    check(false, 'container engine', detected.error.message);
    return 1;
  }
  const { engine, info } = detected.value;
  const kind = info.kind === 'podman' ? 'podman' : 'docker';
  const version = semver.coerce(info.serverVersion)?.version;
  check(
    version !== undefined && semver.gte(version, MINIMUM_VERSION[kind]),
    `${info.kind} ${info.serverVersion} (client ${info.client} ${info.clientVersion}), platform ${info.platform}`,
    `kbuild needs ${kind} >= ${MINIMUM_VERSION[kind]}; ${FIX_HOST}`,
  );
  const paths = {
    buildx: 'buildx',
    buildkit: 'BuildKit built into the client (DOCKER_BUILDKIT=1)',
    legacy: 'the legacy builder',
    buildah: 'buildah (podman)',
  };
  // The path builds really take: DOCKER_BUILDKIT, when set, decides it as for the docker CLI.
  check(
    info.buildPath !== 'legacy' || info.buildPathWhy !== undefined,
    `build path: ${paths[info.buildPath]}${info.buildPathWhy ? ` (${info.buildPathWhy})` : ''}`,
    'install a docker client with BuildKit (docker.io 20.10+) or the buildx plugin: the legacy builder is slow and lacks --mount',
  );

  // Registry, base images and platforms depend on the project and profile, when there is one.
  // Outside any project (no kbuild.yaml) loading says so with a usage error: here it is a note.
  const ws = await loadWorkspace(io, flags).catch((e: unknown) => {
    if (e instanceof UsageError) return undefined;
    throw e;
  });
  if (!ws?.ok) {
    note('no readable kbuild project here: registry and base images not checked (use -C DIR)');
    return failed ? 1 : 0;
  }
  const profiles = flags.profile ? [flags.profile] : [...ws.value.profiles.keys()].sort();
  const registries = new Set<string>();
  const bases = new Map<string, string[]>();
  const platforms = new Set<string>();
  for (const name of profiles) {
    const fam = loadProfileFamily(io, ws.value, flags, name);
    if (!fam.ok) {
      check(
        false,
        `profile ${name} loads:\n${fam.failures.map((f) => `      ${formatFailure(f)}`).join('\n')}`,
        `fix the problems above (\`kbuild validate --profile ${name}\` lists them too)`,
      );
      continue;
    }
    if (fam.value.naming.registry) registries.add(fam.value.naming.registry);
    for (const p of fam.value.profile.platforms) platforms.add(p);
    for (const [img, node] of fam.value.graph.nodes) {
      if (fam.value.unbuildable.has(img)) continue;
      for (const ext of node.externals)
        bases.set(ext, [...new Set([...(bases.get(ext) ?? []), name])]);
    }
  }
  if (registries.size === 0)
    note('no registry configured (pass --registry or set it in kbuild.yaml to push)');
  for (const r of registries) {
    const ping = await pingRegistry(r);
    check(
      ping.ok,
      `registry ${r}: ${ping.detail}`,
      // The setup script starts one registry only: any other is the user's to start or reach.
      isSetupRegistry(r)
        ? FIX_HOST
        : isLoopbackHost(r)
          ? `start a registry on ${r}, or pass the --registry that is running`
          : `check that ${r} is reachable from this host, or pass another --registry`,
    );
  }
  const found = await engine.inspect([...bases.keys()]);
  // A base is required for a profile named with --profile; for the others it is only reported.
  const requireBases = flags.profile ? check : warn;
  for (const [base, users] of bases) {
    requireBases(
      found.has(base),
      `base image ${base} (profiles ${users.join(', ')}) ${found.has(base) ? 'present' : 'missing'} in ${info.kind}`,
      `pull it where a registry is reachable (${kind} pull ${base}), tag a local image as it (${kind} tag LOCAL ${base}), or build with --base-image LOCAL` +
        (base.startsWith('debian:') ? `; ${FIX_HOST} makes ${base} with debootstrap` : ''),
    );
  }
  const emulated = await emulatedArchitectures();
  note(`emulated architectures (qemu binfmt): ${emulated.length ? emulated.join(', ') : 'none'}`);
  const own = info.platform.split('/')[1];
  for (const p of platforms) {
    const arch = p.split('/')[1] ?? p;
    if (arch === own) continue;
    const qemu = OCI_ARCH_TO_QEMU[arch] ?? arch;
    check(
      emulated.includes(qemu),
      `platform ${p} can be built here`,
      `install qemu-user-static and binfmt-support (${FIX_HOST}), then \`update-binfmts --enable\``,
    );
  }
  return failed ? 1 : 0;
}
