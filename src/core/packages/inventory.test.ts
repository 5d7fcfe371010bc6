import { describe, expect, it } from 'vitest';
import {
  addedPackages,
  inventoryScript,
  parseInventory,
  type InstalledPackage,
  type Inventory,
} from './inventory.js';

const T = (...fields: string[]) => ['KBI', ...fields].join('\t');

const parsed = (lines: string[]): Inventory => {
  const r = parseInventory(lines);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('parseInventory', () => {
  it('reads a dpkg image: os-release, configuration digest, installed packages sorted by name', () => {
    const inv = parsed([
      T('os', 'debian', '12'),
      T('manager', 'dpkg', 'c0ffee'),
      T('pkg', 'libc6', 'amd64', '2.36-9+deb12u7', 'glibc', 'ii '),
      T('pkg', 'apt', 'amd64', '2.6.1', 'apt', 'ii '),
      T('pkg', 'attr', 'amd64', '1:2.5.1-4', 'attr (1:2.5.1-4)', 'ii '),
      T('pkg', 'libc6', 'i386', '2.36-9+deb12u7', '', 'ii '),
    ]);
    expect(inv).toEqual({
      manager: 'dpkg',
      distro: 'debian',
      distroVersion: '12',
      config: 'c0ffee',
      packages: [
        { name: 'apt', arch: 'amd64', version: '2.6.1', source: 'apt' },
        // The source's own version in parentheses is dropped; an epoch is kept.
        { name: 'attr', arch: 'amd64', version: '1:2.5.1-4', source: 'attr' },
        { name: 'libc6', arch: 'amd64', version: '2.36-9+deb12u7', source: 'glibc' },
        // No source package: the package is its own source.
        { name: 'libc6', arch: 'i386', version: '2.36-9+deb12u7', source: 'libc6' },
      ],
    });
  });

  it('counts only installed dpkg packages: removed ones whose configuration stays (rc) and half-installed ones are not', () => {
    const inv = parsed([
      T('os', 'debian', '12'),
      T('manager', 'dpkg', 'c'),
      T('pkg', 'curl', 'amd64', '7.88.1-10', 'curl', 'ii '),
      T('pkg', 'old-tool', 'amd64', '1.0-1', 'old-tool', 'rc '),
      T('pkg', 'broken', 'amd64', '2.0-1', 'broken', 'iH '),
      T('pkg', 'gone', 'amd64', '', '', 'un '),
    ]);
    expect(inv.packages.map((p) => p.name)).toEqual(['curl']);
  });

  it('reads an rpm image: epoch 0 is not written, another epoch is, the source rpm gives the source name', () => {
    const inv = parsed([
      T('os', 'rocky', '9.3'),
      T('manager', 'rpm', 'feed'),
      T('pkg', 'bash', 'x86_64', '0:5.1.8-6.el9', 'bash-5.1.8-6.el9.src.rpm', 'ii '),
      T('pkg', 'openssl', 'x86_64', '1:3.0.7-24.el9', 'openssl-3.0.7-24.el9.src.rpm', 'ii '),
      T('pkg', 'gpg-pubkey', '(none)', '(none):fd431d51-4ae0493b', '(none)', 'ii '),
    ]);
    expect(inv.manager).toBe('rpm');
    expect(inv.distro).toBe('rocky');
    expect(inv.packages).toEqual([
      { name: 'bash', arch: 'x86_64', version: '5.1.8-6.el9', source: 'bash' },
      // rpm's `(none)` source: the package is its own.
      { name: 'gpg-pubkey', arch: '(none)', version: 'fd431d51-4ae0493b', source: 'gpg-pubkey' },
      { name: 'openssl', arch: 'x86_64', version: '1:3.0.7-24.el9', source: 'openssl' },
    ]);
  });

  it('reads an image without a package database: manager none, no packages', () => {
    expect(parsed([T('os', '', ''), T('manager', 'none', '')])).toEqual({
      manager: 'none',
      packages: [],
      distro: '',
      distroVersion: '',
      config: '',
    });
  });

  it('ignores lines that are not the script’s (engine noise on stderr, CRLF endings)', () => {
    const inv = parsed([
      'WARNING: The requested image platform does not match the detected host platform',
      T('os', 'debian', '12') + '\r',
      'debconf: unable to initialize frontend',
      T('manager', 'dpkg', 'c') + '\r',
      'KBIX\tpkg\tfake\tamd64\t1\tfake\tii ',
      T('pkg', 'apt', 'amd64', '2.6.1', 'apt', 'ii ') + '\r',
      '',
    ]);
    expect(inv.packages).toEqual([{ name: 'apt', arch: 'amd64', version: '2.6.1', source: 'apt' }]);
    expect(inv.distroVersion).toBe('12');
  });

  it('fails when the image printed no inventory, or an unknown manager', () => {
    const none = parseInventory(['sh: not found']);
    expect(none).toEqual({ ok: false, error: expect.stringMatching(/no package inventory/) });
    const odd = parseInventory([T('manager', 'apk', '')]);
    expect(odd).toEqual({ ok: false, error: "unknown package manager 'apk'" });
  });

  it('the script is one sh -c text that tags every line it prints', () => {
    const script = inventoryScript();
    expect(script).toContain('dpkg-query -W');
    expect(script).toContain('rpm -qa');
    expect(script.split('\n').filter((l) => l.includes('printf')).length).toBeGreaterThan(2);
  });
});

describe('addedPackages', () => {
  const pkg = (name: string, version: string, arch = 'amd64'): InstalledPackage => ({
    name,
    arch,
    version,
    source: name,
  });
  const inv = (...packages: InstalledPackage[]): Inventory => ({
    manager: 'dpkg',
    packages,
    distro: 'debian',
    distroVersion: '12',
    config: 'c',
  });

  it('a root image (no family parent) answers for everything in it', () => {
    const base = inv(pkg('apt', '2.6.1'), pkg('bash', '5.2.15-2'));
    expect(addedPackages(base, [])).toEqual(base.packages);
  });

  it('a child added what no parent has, and what it changed (another version)', () => {
    const parent = inv(pkg('apt', '2.6.1'), pkg('bash', '5.2.15-2'), pkg('libssl3', '3.0.15-1'));
    const child = inv(
      pkg('apt', '2.6.1'),
      pkg('bash', '5.2.15-2'),
      pkg('curl', '7.88.1-10'),
      pkg('libssl3', '3.0.16-1'),
    );
    expect(addedPackages(child, [parent]).map((p) => `${p.name} ${p.version}`)).toEqual([
      'curl 7.88.1-10',
      'libssl3 3.0.16-1',
    ]);
  });

  it('a package any parent has at the same version is inherited; another architecture is not', () => {
    const a = inv(pkg('apt', '2.6.1'));
    const b = inv(pkg('zlib1g', '1:1.2.13'));
    const child = inv(
      pkg('apt', '2.6.1'),
      pkg('zlib1g', '1:1.2.13'),
      pkg('zlib1g', '1:1.2.13', 'i386'),
    );
    expect(addedPackages(child, [a, b])).toEqual([pkg('zlib1g', '1:1.2.13', 'i386')]);
  });

  it('a child that removed packages added nothing', () => {
    const parent = inv(pkg('apt', '2.6.1'), pkg('bash', '5.2.15-2'));
    expect(addedPackages(inv(pkg('bash', '5.2.15-2')), [parent])).toEqual([]);
  });
});
