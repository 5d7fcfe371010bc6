/**
 * What kbuild asks the engine per image, counted on the real engine: a docker on PATH that logs
 * each call's subcommand and runs /usr/bin/docker. A 3-image family built cold with both build
 * paths (DOCKER_BUILDKIT=1 and 0) must cost one `docker build` per image and nothing else per image
 * (no inventory container, no tag or inspect of each image), and the labels must reach the image
 * as they are, quotes, backslashes and `$` included, whichever path put them there. A count, never
 * a time: it cannot silently grow.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, randomTag, removeImages, requireHost, sh } from './helpers/host.js';

const dir = mkdtempSync(join(tmpdir(), 'kbuild-calls-'));
const namespace = `kbuild-calls-${randomTag()}`;
const wrapperDir = join(dir, 'bin');
const callLog = join(dir, 'calls.log');
const maintainer = `Jane "J" O'Brien \\ $HOME \${X} \`id\``;

function file(path: string, text: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
}

beforeAll(() => {
  requireHost();
  file(
    'project/kbuild.yaml',
    `namespace: ${namespace}\ntag: t\nmaintainer: '${maintainer.replace(/'/g, "''")}'\n`,
  );
  file(
    'project/profiles/p.yaml',
    'distro: busybox\ndistro_tag: latest\nbase_image: busybox:latest\nnetwork: none\npackage_manager: apt\n',
  );
  file('project/images/a/Dockerfile.j2', 'FROM {{ base_image }}\nRUN echo a > /a\n');
  for (const n of ['b', 'c'])
    file(`project/images/${n}/Dockerfile.j2`, `FROM {{ image_ref('a') }}\nRUN echo ${n} > /${n}\n`);
  // Subcommands only: the inventory script's lines would need quoting, and its `run` says enough.
  file('bin/docker', `#!/bin/sh\necho "$1 $2" >> '${callLog}'\nexec /usr/bin/docker "$@"\n`);
  chmodSync(join(wrapperDir, 'docker'), 0o755);
});
afterAll(async () => {
  await removeImages((ref) => ref.startsWith(`${namespace}/`));
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A cold build of the family on one build path (no image of it here, and no state unless
 * `keepState`: the last run's); the engine calls it made, counted by kind.
 */
async function coldBuild(buildkit: '0' | '1', keepState = false): Promise<Record<string, number>> {
  await removeImages((ref) => ref.startsWith(`${namespace}/`));
  if (!keepState) rmSync(join(dir, 'project', '.kbuild'), { recursive: true, force: true });
  rmSync(callLog, { force: true });
  await promisify(execFile)(process.execPath, [BIN, 'build', '-p', 'p', '-q', '--no-cache'], {
    cwd: join(dir, 'project'),
    env: {
      ...process.env,
      CI: 'true',
      DOCKER_BUILDKIT: buildkit,
      // The wrapper is the client kbuild finds first (and, with BuildKit built in, the one it uses).
      PATH: `${wrapperDir}:/usr/bin:${process.env['PATH'] ?? ''}`,
    },
  });
  const counts: Record<string, number> = {};
  for (const line of readFileSync(callLog, 'utf8').split('\n').filter(Boolean)) {
    const [cmd = '', sub = ''] = line.split(' ');
    // `build --help` is the BuildKit probe; a real build starts with its flags.
    const key = cmd === 'build' ? (sub === '--help' ? 'build --help' : 'build') : `${cmd} ${sub}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const labelsOf = async (ref: string) =>
  JSON.parse(
    await sh('/usr/bin/docker', ['inspect', '-f', '{{json .Config.Labels}}', ref]),
  ) as Record<string, string>;

describe('engine calls per image', () => {
  const labels: Record<string, Record<string, string>> = {};

  it.each(['1', '0'] as const)(
    'DOCKER_BUILDKIT=%s: one docker build per image, nothing else per image',
    async (buildkit) => {
      const counts = await coldBuild(buildkit);
      expect(counts).toEqual({
        // Once per run: which client, whether it has buildx or BuildKit (not asked when the
        // legacy builder is asked for), what is here (the bases, then the images their
        // fingerprints name: with no state, the bases' ids are not known before).
        'version --format': 1,
        ...(buildkit === '1' ? { 'buildx version': 1, 'build --help': 1 } : {}),
        'image inspect': 2,
        // Per image: its build, nothing more.
        build: 3,
      });
      labels[buildkit] = await labelsOf(`${namespace}/b:t`);
      expect(labels[buildkit]['org.opencontainers.image.authors']).toBe(maintainer);
      expect(labels[buildkit]['io.kbuild.image']).toBe('b');
    },
  );

  it("with the last run's state, the bases and the images are asked in one inspect", async () => {
    // The state says which base ids the last run fingerprinted: the fingerprints are known before
    // the engine is asked, so one inspect answers both (a base that moved would cost a second).
    expect(await coldBuild('0', true)).toEqual({
      'version --format': 1,
      'image inspect': 1,
      build: 3,
    });
  });

  it('the legacy builder gets the same labels in one LABEL step (not one container per label)', async () => {
    expect(labels['0']).toEqual(labels['1']);
    const history = await sh('/usr/bin/docker', [
      'history',
      '--no-trunc',
      '--format',
      '{{.CreatedBy}}',
      `${namespace}/b:t`,
    ]);
    // b's own steps: its RUN and one LABEL (a's are below them).
    expect(
      history
        .split('\n')
        .slice(0, 2)
        .map((l) => /LABEL|echo b/.exec(l)?.[0]),
    ).toEqual(['LABEL', 'echo b']);
  });
});
