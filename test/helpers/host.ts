/** Real-engine test helpers: a copy of a fixture project, the bin, the registry API. */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixture } from './run-cli.js';

export const BIN = fixture('../../bin/kbuild.js');
export const REGISTRY = '127.0.0.1:5000';
const run = promisify(execFile);

/** Fails (never skips) when the host is not set up, saying how to set it up. */
export function requireHost(): void {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    throw new Error(
      'no Docker engine answers: run `sudo scripts/setup-host.sh` (it installs and starts dockerd and the registry)',
    );
  }
  try {
    execFileSync('curl', ['-fsS', `http://${REGISTRY}/v2/`], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    throw new Error(`no registry answers on ${REGISTRY}: run \`sudo scripts/setup-host.sh\``);
  }
}

/**
 * A fixture project's files copied into `dir`, without the `.kbuild/` a test that loads the
 * fixture in place leaves there (its template cache): a copy starts as a fresh checkout would, and
 * a test that mounts something at `.kbuild` finds nothing in the way.
 */
export function copyFixture(name: string, dir: string): void {
  const output = join(fixture(name), '.kbuild');
  cpSync(fixture(name), dir, { recursive: true, filter: (src) => src !== output });
}

/**
 * A throw-away copy of a fixture project (builds write .kbuild/ into the project). A unique file
 * in every image directory makes its fingerprints its own: images are content-addressed, and
 * another run's images must not make this one's look fresh.
 */
export function projectCopy(name: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `kbuild-${name}-`));
  copyFixture(name, dir);
  const seed = `${Date.now()}-${Math.random()}\n`;
  for (const d of readdirSync(join(dir, 'images'), { withFileTypes: true })) {
    if (d.isDirectory()) writeFileSync(join(dir, 'images', d.name, '.test-seed'), seed);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real bin as a child process; `onOutput` may act on what it prints (e.g. send SIGINT);
 * `env` is added to the environment (e.g. DOCKER_HOST).
 */
export function kbuild(
  args: string[],
  cwd: string,
  onOutput?: (text: string, child: ReturnType<typeof spawn>) => void,
  env?: Readonly<Record<string, string>>,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onOutput?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export interface SummaryImage {
  name: string;
  status: string;
  reason: string | null;
  message: string | null;
  /** Why the plan built the image or left it alone. */
  planReason: string;
  digest: string | null;
  imageId: string | null;
  tags: string[];
  log: string | null;
  allowedToFail: boolean;
  test: string | null;
  testSeconds: number | null;
}
export interface Summary {
  ok: boolean;
  interrupted: boolean;
  images: SummaryImage[];
}
export const readSummary = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Summary;
export const byName = (s: Summary) => Object.fromEntries(s.images.map((i) => [i.name, i]));

/** The digest the registry serves for repo:tag (HEAD on the manifest). */
export async function registryDigest(
  registry: string,
  repo: string,
  tag: string,
): Promise<string | null> {
  const r = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      Accept: [
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
      ].join(', '),
    },
  });
  return r.ok ? r.headers.get('docker-content-digest') : null;
}

export async function sh(cmd: string, args: string[]): Promise<string> {
  return (await run(cmd, args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
}

/** Processes whose command line contains `marker` (other than this test's own). */
export function processesMatching(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', marker], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l && !l.includes('pgrep'));
  } catch {
    return [];
  }
}

/**
 * Whether the newest run's log of `image` in the project at `dir` has a line with `text` (e.g. a
 * RUN step that started: a `docker build` client waiting on a long step writes nothing, so it
 * outlives a kill of kbuild; one still printing dies of SIGPIPE).
 */
export function logSays(dir: string, image: string, text: string): boolean {
  try {
    const runs = readdirSync(join(dir, '.kbuild/logs')).sort();
    const log = readFileSync(join(dir, '.kbuild/logs', runs.at(-1)!, `${image}.log`), 'utf8');
    return log.includes(text);
  } catch {
    return false;
  }
}

export const randomTag = () => `t${Math.random().toString(36).slice(2, 10)}`;

/** Removes this engine's local images whose `repository:tag` matches (a test's own, afterwards). */
export async function removeImages(match: (ref: string) => boolean): Promise<void> {
  const refs = (await sh('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}']))
    .split('\n')
    .filter((r) => r && match(r));
  if (refs.length) await sh('docker', ['rmi', '-f', ...refs]).catch(() => '');
}
