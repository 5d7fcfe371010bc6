// Cold builds of the shipped family with the real CLI (issue 14, items 2 and 3), written to the
// `cold` section of bench/RESULTS.md. Each run is `kbuild build -p debian-binary --force -j N` on a
// fresh copy of the project, after the family's images are removed, in one of two modes:
//   warm-cache  the builder's layer cache pruned, its cache mounts kept (apt's lists and .debs
//               from the previous run): no layer is reused, no package downloaded again;
//   cold        the whole builder cache pruned (`docker builder prune -af`): nothing is left
//               but the external base.
// While a run goes, the host is sampled once a second: CPU time by state (/proc/stat), pressure
// stall (/proc/pressure), the CPU of the build containers (the cgroup the engine puts them in,
// COLD_CGROUP) and of dockerd itself (COLD_DOCKERD_PID). Afterwards each image's BuildKit log is
// split into phases (bench/build-log-phases.js).
//
// `docker builder prune -af` during other builds can crash a 20.10 daemon: point DOCKER_HOST at an
// engine of the benchmark's own (a second dockerd with --cgroup-parent, see test/helpers/
// second-dockerd.ts), which must have debian:bookworm. Environment:
//   COLD_RUNS    mode:threads,... in order, e.g. cold:4,warm-cache:4,cold:1 (default)
//   COLD_LABEL   the rows' label, e.g. before / after (default: this checkout)
//   COLD_SOURCE  the project to copy (kbuild.yaml, images/, profiles/; default: this checkout)
//   COLD_BIN     the kbuild to run (default: bin/kbuild.js of this checkout)
//   COLD_CGROUP  cpuacct cgroup of the engine's build containers (e.g. kb14bench)
//   COLD_DOCKERD_PID  the engine's dockerd pid (export and snapshot work are done there)
// Rows accumulate in bench/out/cold-rows.json; the section shows all of them.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PHASES, runPhases } from './build-log-phases.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..');
const rowsFile = join(here, 'out', 'cold-rows.json');
const docker = (...args) =>
  execFileSync('/usr/bin/docker', args, { encoding: 'utf8', maxBuffer: 64 << 20 });

/** Host counters worth differencing over a run. */
function sample(cgroup, dockerdPid) {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu.map(Number);
  const psi = (what) =>
    Number(
      /some avg10=\S+ avg60=\S+ avg300=\S+ total=(\d+)/.exec(
        readFileSync(`/proc/pressure/${what}`, 'utf8'),
      )?.[1] ?? 0,
    ) / 1e6;
  const read = (f) => (existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : 0);
  let dockerd = 0;
  if (dockerdPid && existsSync(`/proc/${dockerdPid}/stat`)) {
    const f = readFileSync(`/proc/${dockerdPid}/stat`, 'utf8').split(') ')[1].split(' ');
    dockerd = (Number(f[11]) + Number(f[12])) / 100; // utime + stime, USER_HZ ticks
  }
  return {
    t: performance.now() / 1000,
    busy: (user + nice + system + irq + softirq + steal) / 100,
    iowait: iowait / 100,
    idle: idle / 100,
    psiCpu: psi('cpu'),
    psiIo: psi('io'),
    containers: cgroup ? read(`/sys/fs/cgroup/cpuacct/${cgroup}/cpuacct.usage`) / 1e9 : 0,
    dockerd,
    load: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
  };
}

/** A fresh copy of the project under bench/out/cold. */
function projectCopy(source) {
  const dir = join(here, 'out', 'cold');
  rmSync(dir, { recursive: true, force: true });
  for (const f of ['kbuild.yaml', 'images', 'profiles'])
    cpSync(join(source, f), join(dir, f), { recursive: true });
  return dir;
}

/**
 * Brings the engine to the mode's starting point: the family's images removed, then the whole
 * builder cache (cold) or all of it but the cache mounts (warm-cache: layer records and build
 * contexts only). BuildKit's --no-cache would not do for warm-cache: it ignores, and drops, cache
 * mounts too (moby/buildkit#1213), so warm-cache builds with --force alone on an empty layer cache.
 */
function prepare(mode) {
  const ours = docker('images', '--format', '{{.Repository}}:{{.Tag}}')
    .split('\n')
    .filter((r) => r.startsWith('kbuild/'));
  if (ours.length) docker('rmi', '-f', ...ours);
  if (mode === 'cold') docker('builder', 'prune', '-af');
  else
    for (const type of ['regular', 'source.local'])
      docker('builder', 'prune', '-af', '--filter', `type=${type}`);
}

async function coldRun({ mode, threads, label, source, bin, cgroup, dockerdPid }) {
  prepare(mode);
  const dir = projectCopy(source);
  const summaryFile = join(dir, 'summary.json');
  const samples = [sample(cgroup, dockerdPid)];
  const timer = setInterval(() => samples.push(sample(cgroup, dockerdPid)), 1000);
  const t0 = performance.now();
  // Not --no-cache, though the layer cache is gone anyway: with BuildKit it starts every build
  // with empty cache mounts too (COLD_NO_CACHE=1 adds it, to show what that costs).
  const args = ['build', '-p', 'debian-binary', '--force', '-j', String(threads)];
  if (process.env.COLD_NO_CACHE === '1') args.push('--no-cache');
  const code = await new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [bin, ...args, '-q', '--summary-json', summaryFile, '-C', dir],
      { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.on('error', reject);
    child.on('exit', resolve);
  });
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  samples.push(sample(cgroup, dockerdPid));
  const s = JSON.parse(readFileSync(summaryFile, 'utf8'));
  const built = s.images.filter((i) => i.status === 'built');
  const logsRoot = join(dir, '.kbuild', 'logs');
  const logs = runPhases(join(logsRoot, readdirSync(logsRoot).sort().at(-1)));
  const first = samples[0];
  const last = samples.at(-1);
  const d = (k) => last[k] - first[k];
  const cores = d('busy') + d('iowait') + d('idle');
  const sizeOf = (ref) => {
    try {
      return Number(docker('image', 'inspect', '-f', '{{.Size}}', ref).trim());
    } catch {
      return undefined;
    }
  };
  const sizes = Object.fromEntries(built.map((i) => [i.name, sizeOf(i.tags?.[0] ?? i.imageId)]));
  const row = {
    label: process.env.COLD_NO_CACHE === '1' ? `${label}, --no-cache` : label,
    mode,
    threads,
    exit: code,
    ok: s.ok,
    seconds,
    built: built.length,
    work: built.reduce((t, i) => t + (i.buildSeconds ?? 0), 0),
    host: {
      cores: cores / seconds,
      busy: d('busy') / cores,
      iowait: d('iowait') / cores,
      idle: d('idle') / cores,
      psiCpu: d('psiCpu') / seconds,
      psiIo: d('psiIo') / seconds,
      load: samples.reduce((t, x) => t + x.load, 0) / samples.length,
    },
    cpu: { containers: d('containers'), dockerd: d('dockerd') },
    phases: logs.total,
    indexGets: logs.indexGets,
    releaseGets: logs.releaseGets,
    indexGetsPerImage: Object.fromEntries(
      Object.entries(logs.images).map(([n, r]) => [n, r.indexGets + r.releaseGets]),
    ),
    sizes,
    date: new Date().toISOString(),
  };
  console.log(
    `cold ${label} ${mode} -j${threads}: ${seconds.toFixed(0)} s wall, ${row.work.toFixed(0)} s summed, ${row.built} built, containers ${row.cpu.containers.toFixed(0)} s CPU, dockerd ${row.cpu.dockerd.toFixed(0)} s CPU, host busy ${(row.host.busy * 100).toFixed(0)}% iowait ${(row.host.iowait * 100).toFixed(0)}%, index Get: ${row.indexGets}`,
  );
  return row;
}

const min = (x) => `${(x / 60).toFixed(2)} min`;
/**
 * Index files fetched in a run. Rows measured before the parser told them apart counted every
 * `Get:` of an update: each update here fetches 3 InRelease files, the rest are index files.
 * (releaseGets null: a row whose per-image counts are index files only; its updates not counted.)
 */
const indexFiles = (r) =>
  r.releaseGets !== undefined
    ? r.indexGets
    : Object.values(r.indexGetsPerImage).reduce((t, n) => t + Math.max(0, n - 3), 0);
const updates = (r) => Object.values(r.indexGetsPerImage).filter((n) => n > 0).length;
const pct = (x) => `${(x * 100).toFixed(0)}%`;

/** The section's tables from every recorded row. */
export function coldSection(rows) {
  const main = rows.map(
    (r) =>
      `| ${r.label} | ${r.mode} | ${r.threads} | ${r.built}${r.ok ? '' : ' (some failed)'} | ${min(r.seconds)} | ${min(r.work)} | ${(r.work / r.seconds).toFixed(2)} | ${indexFiles(r)}${r.releaseGets === null ? '' : ` in ${updates(r)} updates`} |`,
  );
  const where = rows.map(
    (r) =>
      `| ${r.label} | ${r.mode} | ${r.threads} | ${PHASES.map((p) => r.phases[p].toFixed(0)).join(' | ')} |`,
  );
  const cpu = rows.map(
    (r) =>
      `| ${r.label} | ${r.mode} | ${r.threads} | ${r.seconds.toFixed(0)} | ${r.cpu.containers.toFixed(0)} | ${r.cpu.dockerd.toFixed(0)} | ${((r.cpu.containers + r.cpu.dockerd) / r.seconds).toFixed(2)} | ${pct(r.host.busy)} | ${pct(r.host.iowait)} | ${pct(r.host.idle)} | ${pct(r.host.psiCpu)} | ${pct(r.host.psiIo)} | ${r.host.load.toFixed(1)} |`,
  );
  return [
    '## Cold builds of the shipped family (real engine, no layer cache)',
    '',
    "`node bench/cold.js`: `kbuild build -p debian-binary --force -j N` (the real CLI, not pushed) on a second dockerd 20.10 of the benchmark's own (BuildKit), the family's images removed first. **warm-cache**: the builder's layer cache pruned (`docker builder prune -af --filter type=regular`), its cache mounts kept from the previous run; **cold**: `docker builder prune -af` (nothing left but debian:bookworm). Not `--no-cache`: with BuildKit it drops cache mounts too (the `--no-cache` row shows it). Summed = the images' build times added up (summary JSON); parallelism = summed / wall; index files fetched = the `Get:` lines of Packages files in the `apt-get update`s of the run's logs (each update also fetches bookworm's three InRelease files, 240 kB, as the mirror's CDN answers every request in full).",
    '',
    '| checkout | mode | threads | built | wall | summed | parallelism | index files fetched |',
    '|---|---|---|---|---|---|---|---|',
    ...main,
    '',
    "Where the summed build time goes (seconds, from each image's BuildKit log; apt steps split at apt's and dpkg's own lines: update = index download, resolve = reading lists and the dependency tree, download = .debs, unpack, configure = maintainer scripts and triggers; export = writing the image):",
    '',
    `| checkout | mode | threads | ${PHASES.join(' | ')} |`,
    `|---|---|---|${PHASES.map(() => '---|').join('')}`,
    ...where,
    '',
    "CPU during the run: seconds used by the build containers (their cgroup) and by the engine's dockerd (export, snapshots), and their sum per wall second (cores kept busy by the build, of 2); the whole host's CPU by state (/proc/stat: other work on the shared host included), pressure stall (share of wall time some task waited for CPU / for I/O) and mean load average:",
    '',
    '| checkout | mode | threads | wall s | containers CPU s | dockerd CPU s | build cores | host busy | iowait | idle | PSI cpu | PSI io | load |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...cpu,
  ].join('\n');
}

/** Writes the section into bench/RESULTS.md (same markers as bench/run.js). */
export function writeColdSection(body, note = '') {
  const file = join(here, 'RESULTS.md');
  let text = readFileSync(file, 'utf8');
  const block = `<!-- cold:start -->\n${body}${note ? `\n\n${note}` : ''}\n\n_Measured ${new Date().toISOString().slice(0, 10)}._\n<!-- cold:end -->`;
  const re = /<!-- cold:start -->[\s\S]*<!-- cold:end -->/;
  text = re.test(text) ? text.replace(re, block) : `${text}${block}\n\n`;
  writeFileSync(file, text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = (process.env.COLD_RUNS ?? 'cold:4,warm-cache:4,cold:1').split(',').map((x) => {
    const [mode, threads] = x.split(':');
    if (mode !== 'cold' && mode !== 'warm-cache') throw new Error(`COLD_RUNS: mode ${mode}?`);
    return { mode, threads: Number(threads ?? 4) };
  });
  const common = {
    label: process.env.COLD_LABEL ?? 'this checkout',
    source: process.env.COLD_SOURCE ?? repo,
    bin: process.env.COLD_BIN ?? join(repo, 'bin', 'kbuild.js'),
    cgroup: process.env.COLD_CGROUP,
    dockerdPid: process.env.COLD_DOCKERD_PID,
  };
  const rows = existsSync(rowsFile) ? JSON.parse(readFileSync(rowsFile, 'utf8')) : [];
  for (const r of runs) {
    rows.push(await coldRun({ ...common, ...r }));
    writeFileSync(rowsFile, JSON.stringify(rows, null, 2));
  }
  if (process.env.COLD_WRITE !== '0') writeColdSection(coldSection(rows));
}
