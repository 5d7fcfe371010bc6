/**
 * A tiny apt repository on loopback for the update check's tests: `.deb` packages made with
 * `dpkg-deb --build` (Debian's dpkg-dev, installed by scripts/setup-host.sh), laid out as a flat
 * repository (`deb [trusted=yes] http://127.0.0.1:PORT/ ./`) and served by a node:http static
 * server on 127.0.0.1. A test can publish a newer version of a package (the index is rebuilt) and
 * make the repository go away (apt-get update then fails to reach it).
 *
 * Flat repositories and apt (bookworm), checked by hand:
 * - Without a `Release` file apt accepts a `[trusted=yes]` flat repository, but it guesses the
 *   index's compression: it asks for Packages.xz, .bz2 and .lzma before Packages.gz, and prints an
 *   `Err: … Packages 404` line for each miss while exiting 0. A check that reads `Err:` lines as
 *   failures would call a healthy repository broken. With a `Release` listing the indices (SHA256,
 *   size), apt asks for InRelease and Release.gpg (`Ign:`, unsigned is fine with trusted=yes), then
 *   only the index it chose: no `Err:` line.
 * - Filenames in `Packages` are `./name_version_all.deb`, so apt asks for `/./Release`,
 *   `/./name_version_all.deb`: the server normalises the path.
 * - A repository that cannot be reached makes `apt-get update` print `Err:` and `W: Failed to
 *   fetch … Connection refused` and still exit 0.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

/** A package to build: one file, /usr/share/kbt/<name>.version, holds its version. */
export interface DebPackage {
  readonly name: string;
  readonly version: string;
  /** The control file's Depends field, e.g. `kbt-alpha (>= 1.0)`. */
  readonly depends?: string;
}

export interface AptRepo {
  /** The port it serves on (fixed for its life, also after stop()). */
  readonly port: number;
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** The sources.list line for it: `deb [trusted=yes] http://127.0.0.1:PORT/ ./` */
  readonly sourcesLine: string;
  /** Every request's method and path, in arrival order (e.g. `GET /./Release`). */
  readonly requests: string[];
  /** Builds the package and publishes it, replacing any other version of it; rebuilds the index. */
  publish(pkg: DebPackage): Promise<void>;
  /** Stops serving: connections to the port are refused from now on. */
  stop(): Promise<void>;
  /** Stops serving and removes every file it made. Safe to call twice. */
  close(): Promise<void>;
}

const MAINTAINER = 'kbuild tests <tests@kbuild.invalid>';

/** Builds the packages, writes the index and serves it on a free port of 127.0.0.1. */
export async function startAptRepo(packages: readonly DebPackage[]): Promise<AptRepo> {
  const dir = mkdtempSync(join(tmpdir(), 'kbuild-apt-repo-'));
  const repo = join(dir, 'repo');
  const work = join(dir, 'build');
  mkdirSync(repo);
  mkdirSync(work);
  let server: Server | undefined;
  try {
    for (const p of packages) await addDeb(work, repo, p);
    await writeIndex(repo);
    const requests: string[] = [];
    server = serve(repo, requests);
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = s.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/`;
    let serving = true;
    const stop = async () => {
      if (!serving) return;
      serving = false;
      // apt keeps its connections open: close them, or close() waits for them.
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    };
    return {
      port,
      url,
      sourcesLine: `deb [trusted=yes] ${url} ./`,
      requests,
      publish: async (p) => {
        await addDeb(work, repo, p);
        await writeIndex(repo);
      },
      stop,
      close: async () => {
        await stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Builds `<name>_<version>_all.deb` into the repository, removing the package's other versions. */
async function addDeb(work: string, repo: string, p: DebPackage): Promise<void> {
  if (!/^[a-z0-9][a-z0-9+.-]+$/.test(p.name)) throw new Error(`bad package name '${p.name}'`);
  if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(p.version)) throw new Error(`bad version '${p.version}'`);
  const root = join(work, `${p.name}_${p.version}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr/share/kbt'), { recursive: true });
  writeFileSync(join(root, 'usr/share/kbt', `${p.name}.version`), `${p.version}\n`);
  const control = [
    `Package: ${p.name}`,
    `Version: ${p.version}`,
    'Architecture: all',
    `Maintainer: ${MAINTAINER}`,
    'Section: misc',
    'Priority: optional',
    ...(p.depends ? [`Depends: ${p.depends}`] : []),
    `Description: kbuild test package ${p.name}`,
    ` Holds /usr/share/kbt/${p.name}.version (${p.version}).`,
    '',
  ].join('\n');
  writeFileSync(join(root, 'DEBIAN/control'), control);
  const deb = `${p.name}_${p.version}_all.deb`;
  // Built beside the repository, then moved in: apt never sees half a file.
  await run('dpkg-deb', ['--build', '--root-owner-group', '-Zgzip', root, join(work, deb)]);
  for (const f of readdirSync(repo))
    if (f.startsWith(`${p.name}_`) && f.endsWith('_all.deb') && f !== deb) rmSync(join(repo, f));
  renameSync(join(work, deb), join(repo, deb));
  rmSync(root, { recursive: true, force: true });
}

/**
 * Packages, Packages.gz and a Release listing both (see the header: without it apt prints `Err:`
 * lines for the compressions it guesses). Release is written last: it names the others' hashes.
 */
async function writeIndex(repo: string): Promise<void> {
  const { stdout } = await run('dpkg-scanpackages', ['--multiversion', '.'], {
    cwd: repo,
    maxBuffer: 16 * 1024 * 1024,
  });
  const packages = Buffer.from(stdout);
  const files: [string, Buffer][] = [
    ['Packages', packages],
    ['Packages.gz', gzipSync(packages, { level: 9 })],
  ];
  const sum = (algo: string) =>
    files.map(([n, b]) => ` ${createHash(algo).update(b).digest('hex')} ${b.length} ${n}`);
  const release = [
    'Origin: kbuild-tests',
    'Label: kbuild-tests',
    // RFC 1123 in UTC, as apt reads it; a Date in the future would make apt refuse the file.
    `Date: ${new Date().toUTCString()}`,
    'MD5Sum:',
    ...sum('md5'),
    'SHA256:',
    ...sum('sha256'),
    '',
  ].join('\n');
  for (const [name, body] of [...files, ['Release', Buffer.from(release)] as const]) {
    writeFileSync(join(repo, `.${name}.tmp`), body);
    renameSync(join(repo, `.${name}.tmp`), join(repo, name));
  }
}

/** A static server for the repository's top-level files (GET and HEAD; anything else 404s). */
function serve(repo: string, requests: string[]): Server {
  return createServer((req, res) => {
    const method = req.method ?? 'GET';
    let path: string;
    try {
      path = posix.normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    } catch {
      path = '/';
    }
    requests.push(`${method} ${path}`);
    const name = path.replace(/^\/+/, '');
    // Flat: only plain top-level names; no dot files (the index's temp files), no directories.
    if ((method !== 'GET' && method !== 'HEAD') || !/^[A-Za-z0-9][A-Za-z0-9_.+~-]*$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(join(repo, name));
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      // Every answer is current: apt must not keep an index from before a publish.
      'cache-control': 'no-store',
    });
    res.end(method === 'HEAD' ? undefined : body);
  });
}
