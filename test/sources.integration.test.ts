/**
 * Sources on the real engine: a git repository and an archive served over HTTP on 127.0.0.1 are
 * fetched into two images' build contexts and unpacked by their Dockerfiles; a new commit rebuilds
 * only the image that uses it; a checksum mismatch or a missing git reference fails only that image.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  byName,
  kbuild,
  projectCopy,
  randomTag,
  readSummary,
  removeImages,
  requireHost,
  sh,
} from './helpers/host.js';

const project = projectCopy('bb');
const tag = randomTag();
const repo = join(project.dir, 'upstream.git-work');
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
    cwd: repo,
    encoding: 'utf8',
  });
let archive = Buffer.alloc(0);
const server = createServer((req, res) => {
  if (req.url === '/data-1.0.tar.gz') res.writeHead(200).end(archive);
  else res.writeHead(404).end();
});
let url = '';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** kbuild.yaml's sources section, rewritten per test. */
function setSources(gitRef: string, archiveSha: string) {
  const file = join(project.dir, 'kbuild.yaml');
  const kept = readFileSync(file, 'utf8').replace(/\n# sources:[\s\S]*$/, '');
  writeFileSync(
    file,
    `${kept}\n# sources:\nsources:\n  bb-app1:\n    type: git\n    url: upstream.git-work\n    reference: ${gitRef}\n` +
      `  bb-app2:\n    type: url\n    url: ${url}/data-1.0.tar.gz\n    sha256: ${archiveSha}\n`,
  );
}

async function build(...images: string[]) {
  const file = join(project.dir, `summary-${randomTag()}.json`);
  const r = await kbuild(
    ['build', '-p', 'bb', '--tag', tag, '-q', '--summary-json', file, ...images],
    project.dir,
  );
  return { ...r, images: byName(readSummary(file)) };
}
const cat = (image: string, path: string) =>
  sh('docker', ['run', '--rm', '--network', 'none', `kbuild-test/${image}:${tag}`, 'cat', path]);

beforeAll(async () => {
  requireHost();
  mkdirSync(repo);
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(repo, 'version.txt'), 'one\n');
  git('add', '.');
  git('commit', '--quiet', '-m', 'one');
  const src = join(project.dir, 'archive-src');
  mkdirSync(join(src, 'data-1.0'), { recursive: true });
  writeFileSync(join(src, 'data-1.0', 'data.txt'), 'served over http\n');
  await tar.c({ file: join(src, 'a.tar.gz'), cwd: src, gzip: true, portable: true }, ['data-1.0']);
  archive = readFileSync(join(src, 'a.tar.gz'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Each template unpacks its source when kbuild.yaml gives it one.
  for (const image of ['bb-app1', 'bb-app2']) {
    appendFileSync(
      join(project.dir, 'images', image, 'Dockerfile.j2'),
      `\n{% set src = sources[image_name] %}\n{% if src %}\nCOPY {{ src.archive }} /tmp/src{{ src.suffix }}\n` +
        // busybox tar does not detect gzip by itself.
        `RUN mkdir -p /opt/src && {% if src.suffix == '.tar.gz' %}gzip -dc{% else %}cat{% endif %} /tmp/src{{ src.suffix }} | tar -x -C /opt/src && rm /tmp/src{{ src.suffix }}\n{% endif %}\n`,
    );
  }
  setSources('main', sha(archive));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await removeImages((r) => r.startsWith('kbuild-test/') && r.endsWith(`:${tag}`));
  project.remove();
});

describe('sources', () => {
  it('fetches a git branch and a checked download into the images that use them', async () => {
    const r = await build('bb-app1', 'bb-app2');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.images['bb-app1']!.status).toBe('built');
    expect(r.images['bb-app2']!.status).toBe('built');
    expect(await cat('bb-app1', '/opt/src/bb-app1/version.txt')).toBe('one\n');
    expect(await cat('bb-app2', '/opt/src/data-1.0/data.txt')).toBe('served over http\n');
  });

  it('rebuilds only the image whose source moved, and says why', async () => {
    writeFileSync(join(repo, 'version.txt'), 'two\n');
    git('commit', '--quiet', '-am', 'two');
    const plan = await kbuild(
      ['plan', '-p', 'bb', '--tag', tag, 'bb-app1', 'bb-app2'],
      project.dir,
    );
    expect(plan.stdout).toMatch(/bb-app1\s+build\s+\d+\s+source-changed \(git:/);
    expect(plan.stdout).toMatch(/bb-app2\s+fresh/);
    const r = await build('bb-app1', 'bb-app2');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.images['bb-app1']!.status).toBe('built');
    expect(r.images['bb-app2']!.status).toBe('fresh');
    expect(await cat('bb-app1', '/opt/src/bb-app1/version.txt')).toBe('two\n');
  });

  it('a checksum mismatch fails only that image, naming kbuild.yaml and both digests', async () => {
    setSources('main', 'e'.repeat(64));
    const r = await build('bb-app1', 'bb-app2');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.images['bb-app1']!.status).toBe('fresh');
    const app2 = r.images['bb-app2']!;
    expect(app2.status).toBe('failed');
    expect(app2.reason).toBe('source-failed');
    expect(app2.message).toMatch(/^kbuild\.yaml:\d+: sources\.bb-app2: checksum mismatch/);
    expect(app2.message).toContain(sha(archive));
    expect(app2.message).toContain('e'.repeat(64));
  });

  it('a git reference that does not exist fails that image before any build', async () => {
    setSources('no-such-branch', sha(archive));
    const r = await build('bb-app1', 'bb-app2');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain("git reference 'no-such-branch' does not exist");
    const app1 = r.images['bb-app1']!;
    expect(app1.status).toBe('failed');
    expect(app1.reason).toBe('source-failed');
    expect(r.images['bb-app2']!.status).toBe('fresh');
  });
});
