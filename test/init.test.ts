import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kbuild-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kbuild init (the real build is in init.integration.test.ts)', () => {
  it('scaffolds a family that validates: two images, one on the other, a profile on debian:bookworm', async () => {
    const init = await runCli(['init', 'fam'], dir);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('kbuild build -p debian-binary --test');
    const fam = join(dir, 'fam');
    expect(readFileSync(join(fam, 'profiles', 'debian-binary.yaml'), 'utf8')).toContain(
      'base_image: debian:bookworm',
    );
    expect(readFileSync(join(fam, 'kbuild.yaml'), 'utf8')).toContain("tag: '{{ profile }}'");
    expect(readFileSync(join(fam, '.gitignore'), 'utf8')).toContain('.kbuild/');
    const validate = await runCli(['validate'], fam);
    expect(validate.stderr).toBe('');
    expect(validate.stdout).toBe('profile debian-binary: ok (2 images, 0 unbuildable)\n');
    const graph = await runCli(['graph', '-p', 'debian-binary', '--format', 'json'], fam);
    expect(JSON.parse(graph.stdout)).toMatchObject({
      nodes: [
        { name: 'base', parents: [], external: ['debian:bookworm'] },
        { name: 'hello', parents: ['base'], external: [] },
      ],
    });
    const groups = await runCli(['list', '-p', 'debian-binary', 'apps', '--skip-parents'], fam);
    expect(groups.code).toBe(0);
  });

  it('refuses to overwrite, listing what exists (exit 2), unless --force', async () => {
    const fam = join(dir, 'fam');
    writeFileSync(join(fam, 'images', 'hello', 'hello.sh'), 'mine\n');
    const again = await runCli(['init', 'fam'], dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('not overwriting what is in');
    expect(again.stderr).toContain('kbuild.yaml, profiles/debian-binary.yaml, images/macros.j2');
    expect(readFileSync(join(fam, 'images', 'hello', 'hello.sh'), 'utf8')).toBe('mine\n');
    const forced = await runCli(['init', 'fam', '--force'], dir);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(fam, 'images', 'hello', 'hello.sh'), 'utf8')).toContain('GREETING');
  });

  it('names the profile after another base, and adds to an existing .gitignore', async () => {
    const fam = join(dir, 'bb');
    const first = await runCli(['init', 'bb', '--base-image', 'busybox:latest'], dir);
    expect(first.code).toBe(0);
    writeFileSync(join(fam, '.gitignore'), 'node_modules/');
    rmSync(join(fam, 'kbuild.yaml'));
    const r = await runCli(['init', '.', '--base-image', 'busybox:latest', '--force'], fam);
    expect(r.code).toBe(0);
    expect(readFileSync(join(fam, '.gitignore'), 'utf8')).toBe('node_modules/\n.kbuild/\n');
    const profile = readFileSync(join(fam, 'profiles', 'busybox-binary.yaml'), 'utf8');
    expect(profile).toContain('distro: busybox\ndistro_tag: latest\nbase_image: busybox:latest\n');
    expect(profile).toContain('package_manager: apt'); // busybox has no default
    expect(existsSync(join(fam, 'profiles', 'debian-binary.yaml'))).toBe(false);
    expect((await runCli(['validate'], fam)).code).toBe(0);
  });

  it('exits 2 for a base image that is no image reference', async () => {
    const r = await runCli(['init', 'bad', '--base-image', 'Not A Ref'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--base-image: invalid image reference');
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});
