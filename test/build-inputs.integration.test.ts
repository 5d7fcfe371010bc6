/**
 * Issue 15 item 10 with the real engine (BuildKit) and the real registry on 127.0.0.1:5000:
 * `--set IMAGE.args.KEY=VALUE`, `-t shared -t extra`, `--secret id=ID,src=FILE` on a two-image
 * busybox family written in a temp dir. The secret's content must reach the RUN step that mounts
 * it and nothing else: not the image's layers or config, .kbuild/ (state, logs), the output or the
 * summary, nor the fingerprint (new content plans nothing; a new arg plans a build).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  kbuild,
  randomTag,
  readSummary,
  REGISTRY,
  registryDigest,
  removeImages,
  requireHost,
  sh,
} from './helpers/host.js';

const dir = mkdtempSync(join(tmpdir(), 'kbuild-inputs-'));
const ns = `kbuild-inputs-${randomTag()}`;
const [t1, t2] = [randomTag(), randomTag()];
const SECRET = `s3cret-${randomTag()}-${randomTag()}`;
const secretFile = join(dir, 'token.txt');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function write(path: string, text: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
}

/** Every file under `root`, recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

beforeAll(() => {
  requireHost();
  write('kbuild.yaml', `namespace: ${ns}\ntag: "{{ profile }}"\n`);
  write(
    'profiles/bb.yaml',
    'distro: busybox\ndistro_tag: latest\npackage_manager: apt\nbase_image: busybox:latest\nnetwork: none\n',
  );
  // This run's own base layer: BuildKit keys a RUN step's cache without its secrets' content, so
  // an earlier run's step (another secret) would otherwise be reused.
  write('images/base/Dockerfile.j2', `FROM {{ base_image }}\nRUN echo base ${ns} > /base.txt\n`);
  write(
    'images/child/Dockerfile.j2',
    [
      "FROM {{ image_ref('base') }}",
      'ARG GREETING=hello',
      'RUN echo "$GREETING" > /greeting.txt',
      // Only a hash of the secret is kept, where a test can read it.
      "RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -d' ' -f1 > /tok.sha256",
      // A secret that is not given: BuildKit leaves the mount out, the build goes on.
      "RUN --mount=type=secret,id=absent sh -c 'ls /run/secrets > /absent.txt'",
      '',
    ].join('\n'),
  );
  writeFileSync(secretFile, SECRET);
});
afterAll(async () => {
  await removeImages((ref) => ref.includes(`${ns}/`));
  rmSync(dir, { recursive: true, force: true });
});

const flags = (greeting: string) => [
  '-p',
  'bb',
  '--set',
  `child.args.GREETING=${greeting}`,
  '-t',
  t1,
  '-t',
  t2,
  '--secret',
  `id=tok,src=${secretFile}`,
];

describe('--set, extra -t and --secret with BuildKit', () => {
  it('builds with the arg, both tags and the secret; the secret is kept out of everything else', async () => {
    const summaryFile = join(dir, 'summary.json');
    const r = await kbuild(
      ['build', ...flags('hi'), '--push', '--registry', REGISTRY, '--summary-json', summaryFile],
      dir,
    );
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const summary = readSummary(summaryFile) as ReturnType<typeof readSummary> & {
      engine: { buildPath: string };
    };
    expect(['buildkit', 'buildx']).toContain(summary.engine.buildPath);
    expect(summary).toMatchObject({ tag: t1, extraTags: [t2] });
    expect(r.stdout).toContain(`(profile bb, tag ${t1}, extra tags ${t2})`);
    const child = summary.images.find((i) => i.name === 'child')!;
    expect(child.tags).toEqual([
      `${ns}/child:${t1}`,
      `${REGISTRY}/${ns}/child:${t1}`,
      `${ns}/child:${t2}`,
      `${REGISTRY}/${ns}/child:${t2}`,
    ]);

    // The arg took effect, the secret reached its RUN step, the absent one did not stop the build.
    const inside = (tag: string, file: string) =>
      sh('docker', ['run', '--rm', '--network', 'none', `${ns}/child:${tag}`, 'cat', file]);
    expect(await inside(t1, '/greeting.txt')).toBe('hi\n');
    expect(await inside(t2, '/tok.sha256')).toBe(`${sha(SECRET)}\n`);
    expect(await inside(t2, '/absent.txt')).toBe('');
    // Both tags name the same image, locally and in the registry.
    const id = (ref: string) => sh('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]);
    expect(await id(`${ns}/child:${t2}`)).toBe(await id(`${ns}/child:${t1}`));
    for (const name of ['base', 'child']) {
      const d1 = await registryDigest(REGISTRY, `${ns}/${name}`, t1);
      expect(d1).toMatch(/^sha256:/);
      expect(await registryDigest(REGISTRY, `${ns}/${name}`, t2)).toBe(d1);
    }

    // The content is nowhere but in the RUN step: not in .kbuild/ (state, logs, build dirs),
    // the output, the summary, the image's history or config.
    const kept = filesUnder(join(dir, '.kbuild')).filter((f) => readFileSync(f).includes(SECRET));
    expect(kept).toEqual([]);
    expect(filesUnder(join(dir, '.kbuild', 'logs')).length).toBeGreaterThan(0);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(readFileSync(summaryFile, 'utf8')).not.toContain(SECRET);
    const history = await sh('docker', ['history', '--no-trunc', `${ns}/child:${t1}`]);
    expect(history).toContain('GREETING');
    expect(history).not.toContain(SECRET);
    expect(await sh('docker', ['image', 'inspect', `${ns}/child:${t1}`])).not.toContain(SECRET);
    // The layers (uncompressed tars inside `docker save`'s tar) hold the hash, not the content.
    const saved = (text: string) =>
      sh('sh', ['-c', `docker save ${ns}/child:${t1} | grep -ac '${text}' || true`]);
    expect((await saved(sha(SECRET))).trim()).not.toBe('0');
    expect((await saved(SECRET)).trim()).toBe('0');

    // New content under the same id: nothing to rebuild. A new arg value: child is rebuilt.
    writeFileSync(secretFile, `${SECRET}-rotated`);
    const same = await kbuild(['plan', ...flags('hi'), '--registry', REGISTRY, '--json'], dir);
    expect(same.code, same.stderr).toBe(0);
    const steps = (out: string) =>
      Object.fromEntries(
        (
          JSON.parse(out) as { steps: { name: string; action: string; reason: string }[] }
        ).steps.map((s) => [s.name, `${s.action}: ${s.reason}`]),
      );
    expect(steps(same.stdout)).toEqual({ base: 'fresh: up to date', child: 'fresh: up to date' });
    const changed = await kbuild(['plan', ...flags('bye'), '--registry', REGISTRY, '--json'], dir);
    expect(changed.code, changed.stderr).toBe(0);
    expect(steps(changed.stdout)).toEqual({
      base: 'fresh: up to date',
      child: 'build: build-args-changed (GREETING)',
    });
  });

  it('the legacy builder cannot take --secret: refused before anything is built, naming DOCKER_BUILDKIT', async () => {
    const r = await kbuild(['build', ...flags('legacy')], dir, undefined, { DOCKER_BUILDKIT: '0' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--secret needs BuildKit');
    expect(r.stderr).toContain('DOCKER_BUILDKIT');
    expect(r.stdout).not.toContain('----- child -----');
  });
});
