import { describe, expect, it } from 'vitest';
import {
  applyOverrides,
  parseImageMeta,
  parseKeyValues,
  parseProject,
  resolveProfile,
  type ProfileSource,
} from './config.js';

const profiles = (files: Record<string, string>) =>
  new Map<string, ProfileSource>(
    Object.entries(files).map(([name, text]) => [
      name,
      { name, file: `profiles/${name}.yaml`, text },
    ]),
  );

describe('parseProject', () => {
  it('applies defaults when there is no kbuild.yaml', () => {
    const r = parseProject(undefined, 'kbuild.yaml');
    expect(r.ok && r.value).toMatchObject({
      imagesDir: 'images',
      profilesDir: 'profiles',
      registry: '',
      tag: 'latest',
      file: '',
    });
  });

  it('reads every key', () => {
    const r = parseProject(
      'images_dir: imgs\nprofiles_dir: p\nregistry: 127.0.0.1:5000\nnamespace: acme\nimage_prefix: "{{ distro }}-"\ntag: "{{ profile }}"\nmaintainer: me\nplugins: [./x.js]\ngroups:\n  infra: [a, "b-*"]\n',
      'kbuild.yaml',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({
      imagesDir: 'imgs',
      registry: '127.0.0.1:5000',
      namespace: 'acme',
      imagePrefix: '{{ distro }}-',
      plugins: ['./x.js'],
    });
    expect(r.value.groups).toEqual({ infra: ['a', 'b-*'] });
    expect(r.value.locate(['groups', 'infra'])).toEqual({
      file: 'kbuild.yaml',
      line: 10,
      column: 10,
    });
  });

  it('reports every problem with its position and a suggestion', () => {
    const r = parseProject(
      'namespase: x\nregistry: [a]\ngroups:\n  infra: notalist\n',
      'kbuild.yaml',
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toEqual([
      {
        file: 'kbuild.yaml',
        line: 1,
        column: 1,
        message: "unknown key 'namespase' in the file",
        hint: "did you mean 'namespace'?",
      },
      {
        file: 'kbuild.yaml',
        line: 2,
        column: 11,
        message: "'registry' must be a string, not a list",
      },
      {
        file: 'kbuild.yaml',
        line: 4,
        column: 10,
        message: `'groups.infra' must be a list of strings, not string "notalist"`,
      },
    ]);
  });

  it('reports yaml syntax errors with a position', () => {
    const r = parseProject('a: [1\nb: 2\n', 'kbuild.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error[0]).toMatchObject({ file: 'kbuild.yaml', line: expect.any(Number) as number });
    expect(r.error[0]!.message).toMatch(/^yaml: /);
  });
});

describe('resolveProfile', () => {
  const base =
    'distro: debian\ndistro_tag: bookworm\ninstall_type: binary\nvars: {a: 1, b: 2}\nbuild_args: {X: "1"}\nimages: [infra]\nimage_settings:\n  nginx: {extra_packages: [curl], disabled: false}\n';

  it('fills defaults: package manager from the distro, base image from distro and tag', () => {
    const r = resolveProfile('p', profiles({ p: 'distro: debian\ndistro_tag: bookworm\n' }));
    expect(r.ok && r.value).toMatchObject({
      baseImage: 'debian:bookworm',
      packageManager: 'apt',
      installType: 'binary',
      network: 'host',
    });
  });

  it('merges an extends chain: maps key by key, the rest replaced', () => {
    const r = resolveProfile(
      'child',
      profiles({
        base,
        child:
          'extends: base\ninstall_type: source\nvars: {b: 3}\nimages: [nginx]\nimage_settings:\n  nginx: {disabled: "no source tarball"}\n',
      }),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({
      name: 'child',
      file: 'profiles/child.yaml',
      installType: 'source',
      distro: 'debian',
      images: ['nginx'],
    });
    expect(r.value.vars).toEqual({ a: 1, b: 3 });
    expect(r.value.buildArgs).toEqual({ X: '1' });
    expect(r.value.imageSettings['nginx']).toMatchObject({
      disabled: 'no source tarball',
      extraPackages: ['curl'],
    });
    // Positions are found in the file that defines the value.
    expect(r.value.locate(['distro_tag'])).toEqual({
      file: 'profiles/base.yaml',
      line: 2,
      column: 13,
    });
    expect(r.value.locate(['images'])).toEqual({ file: 'profiles/child.yaml', line: 4, column: 9 });
  });

  it('suggests the nearest key for a typo, and collects problems from the whole chain', () => {
    const r = resolveProfile(
      'child',
      profiles({
        base: 'distro: debian\ndistro_tag: x\ninstall_type: binery\n',
        child: 'extends: base\ninstal_type: source\n',
      }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContainEqual({
      file: 'profiles/child.yaml',
      line: 2,
      column: 1,
      message: "unknown key 'instal_type' in the file",
      hint: "did you mean 'install_type'?",
    });
    expect(r.error).toContainEqual({
      file: 'profiles/base.yaml',
      line: 3,
      column: 15,
      message: `'install_type' is "binery"; it must be one of binary, source`,
      hint: "did you mean 'binary'?",
    });
  });

  it('reports an extends cycle and an unknown parent profile', () => {
    const cyc = resolveProfile('a', profiles({ a: 'extends: b\n', b: 'extends: a\n' }));
    expect(!cyc.ok && cyc.error[0]!.message).toBe(
      'profiles extend each other in a cycle: a → b → a',
    );
    const unknown = resolveProfile(
      'a',
      profiles({
        a: 'extends: debain-binary\n',
        'debian-binary': 'distro: debian\ndistro_tag: x\n',
      }),
    );
    expect(!unknown.ok && unknown.error[0]).toEqual({
      file: 'profiles/a.yaml',
      line: 1,
      column: 10,
      message: "profile 'debain-binary' does not exist",
      hint: "did you mean 'debian-binary'?",
    });
  });

  it('says what is missing and where to add it', () => {
    const r = resolveProfile('p', profiles({ p: 'distro: gentoo\n' }));
    expect(!r.ok && r.error.map((e) => e.message)).toEqual([
      "profile 'p' has no 'distro_tag'",
      "profile 'p': no default package manager is known for distro 'gentoo'",
    ]);
    const pm = resolveProfile('p', profiles({ p: 'distro: gentoo\ndistro_tag: x\n' }));
    expect(!pm.ok && pm.error[0]!.hint).toBe(
      "set 'package_manager: apt' or 'package_manager: dnf'",
    );
  });

  it('lets command-line values win', () => {
    const r = resolveProfile('base', profiles({ base }));
    if (!r.ok) throw new Error('invalid');
    const p = applyOverrides(r.value, {
      tag: 't',
      baseImage: 'local/deb:1',
      vars: { b: 'x' },
      buildArgs: { Y: '2' },
    });
    expect(p).toMatchObject({
      tag: 't',
      baseImage: 'local/deb:1',
      vars: { a: 1, b: 'x' },
      buildArgs: { X: '1', Y: '2' },
    });
  });
});

describe('parseKeyValues', () => {
  it('splits on the first =', () => {
    expect(parseKeyValues(['a=1', 'b=x=y', 'c='], '--var')).toEqual({
      ok: true,
      value: { a: '1', b: 'x=y', c: '' },
    });
    expect(parseKeyValues(['nope'], '--var')).toEqual({
      ok: false,
      error: "--var expects key=value, got 'nope'",
    });
  });
});

describe('parseImageMeta', () => {
  it('turns a shell-form test into argv', () => {
    const r = parseImageMeta(
      'unsupported_distros: [ubuntu]\nlabels: {a: 1}\ntest:\n  command: "nginx -t"\n',
      'images/nginx/image.yaml',
    );
    expect(r.ok && r.value).toEqual({
      unsupportedDistros: ['ubuntu'],
      unsupportedInstallTypes: [],
      platforms: [],
      labels: { a: '1' },
      test: { command: ['sh', '-c', 'nginx -t'], timeoutSeconds: 60 },
    });
  });

  it('rejects unknown keys with a suggestion', () => {
    const r = parseImageMeta('test:\n  comand: [x]\n', 'images/x/image.yaml');
    expect(!r.ok && r.error[0]).toMatchObject({
      line: 2,
      column: 3,
      hint: "did you mean 'command'?",
    });
  });
});
