/**
 * An image's package inventory: what its own package database (dpkg or rpm) says is installed,
 * read by a small shell script run in a throwaway container of the image (no network), and the
 * digest of its package-manager configuration (apt sources, preferences, keys, apt.conf): images
 * whose configuration digests are equal get the same candidate versions from the archive.
 * Pure: the script is text, its output is parsed here.
 */
import type { Result } from '../model.js';

export type PackageManager = 'dpkg' | 'rpm' | 'none';

export interface InstalledPackage {
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  /** The source package (dpkg: source:Package; rpm: the source rpm's name). */
  readonly source: string;
}

export interface Inventory {
  readonly manager: PackageManager;
  /** Sorted by name, then architecture. */
  readonly packages: readonly InstalledPackage[];
  /** os-release ID and VERSION_ID, e.g. debian / 12 ('' when the image has no os-release). */
  readonly distro: string;
  readonly distroVersion: string;
  /**
   * sha256 of the package manager's configuration files (apt: sources, preferences, apt.conf,
   * keyrings; rpm: yum.repos.d, dnf.conf); '' when there is no package manager.
   */
  readonly config: string;
  /**
   * Why the image could not be asked at all (no shell to run the script in): the inventory is
   * then empty with manager `none`. Absent when the image answered.
   */
  readonly unreadable?: string;
}

/** Every line the script prints for the parser starts with this (engines mix stderr in). */
const MARK = 'KBI';

/**
 * The script, for `sh -c`: prints os-release, the configuration digest and one line per package,
 * each line tagged. Works with busybox sh; a missing package database prints `none`.
 */
export function inventoryScript(): string {
  const out = (fields: string) => `printf '${MARK}\\t${fields}\\n'`;
  return [
    `if [ -r /etc/os-release ]; then . /etc/os-release; fi`,
    `${out('os\\t%s\\t%s')} "\${ID:-}" "\${VERSION_ID:-}"`,
    `digest() { if command -v sha256sum >/dev/null 2>&1; then find "$@" -type f 2>/dev/null | LC_ALL=C sort | while read -r f; do echo "$f"; cat "$f"; done | sha256sum | cut -d' ' -f1; fi; }`,
    `if command -v dpkg-query >/dev/null 2>&1; then`,
    `  ${out('manager\\tdpkg\\t%s')} "$(digest /etc/apt/sources.list /etc/apt/sources.list.d /etc/apt/preferences /etc/apt/preferences.d /etc/apt/apt.conf /etc/apt/apt.conf.d /etc/apt/trusted.gpg /etc/apt/trusted.gpg.d /etc/apt/keyrings /usr/share/keyrings)"`,
    `  dpkg-query -W -f='${MARK}\\tpkg\\t\${Package}\\t\${Architecture}\\t\${Version}\\t\${source:Package}\\t\${db:Status-Abbrev}\\n'`,
    `elif rpm -qa --qf '' >/dev/null 2>&1; then`,
    `  ${out('manager\\trpm\\t%s')} "$(digest /etc/yum.repos.d /etc/dnf/dnf.conf /etc/yum.conf /etc/pki/rpm-gpg)"`,
    `  rpm -qa --qf '${MARK}\\tpkg\\t%{NAME}\\t%{ARCH}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{SOURCERPM}\\tii \\n'`,
    `else`,
    `  ${out('manager\\tnone\\t')}`,
    `fi`,
  ].join('\n');
}

/** Parses the script's output (other lines, e.g. engine noise on stderr, are ignored). */
export function parseInventory(lines: readonly string[]): Result<Inventory, string> {
  let manager: PackageManager | undefined;
  let config = '';
  let distro = '';
  let distroVersion = '';
  const packages: InstalledPackage[] = [];
  for (const line of lines) {
    const f = line.replace(/\r$/, '').split('\t');
    if (f[0] !== MARK) continue;
    if (f[1] === 'os') {
      distro = f[2] ?? '';
      distroVersion = f[3] ?? '';
    } else if (f[1] === 'manager') {
      const m = f[2];
      if (m !== 'dpkg' && m !== 'rpm' && m !== 'none') return err(`unknown package manager '${m}'`);
      manager = m;
      config = f[3] ?? '';
    } else if (f[1] === 'pkg') {
      const [, , name = '', arch = '', version = '', source = '', status = ''] = f;
      // dpkg lists removed-but-configured packages too: only installed ones count.
      if (!name || (manager === 'dpkg' && !status.startsWith('ii'))) continue;
      packages.push({ name, arch, version: rpmVersion(version), source: sourceName(source, name) });
    }
  }
  if (!manager) return err('the image printed no package inventory (does it have a shell?)');
  packages.sort((a, b) => a.name.localeCompare(b.name) || a.arch.localeCompare(b.arch));
  return { ok: true, value: { manager, packages, distro, distroVersion, config } };
}

const err = (error: string): { ok: false; error: string } => ({ ok: false, error });

/** rpm's `0:1.2-3` is `1.2-3` (no epoch written when it is 0, as rpm and dnf print it). */
const rpmVersion = (v: string) => v.replace(/^0:/, '').replace(/^\(none\):/, '');

/** dpkg's source may carry a version in parentheses; an rpm's is `name-ver-rel.src.rpm`. */
function sourceName(source: string, name: string): string {
  const s = source.trim().replace(/\s*\(.*\)$/, '');
  if (!s) return name;
  const rpm = /^(.+)-[^-]+-[^-]+\.src\.rpm$/.exec(s);
  return rpm ? rpm[1]! : s;
}

const key = (p: InstalledPackage) => `${p.name}:${p.arch}`;

/**
 * The packages an image added or changed relative to its parents: those not in any parent at the
 * same version. An image with no family parent answers for everything in it (inherited from its
 * external base included).
 */
export function addedPackages(image: Inventory, parents: readonly Inventory[]): InstalledPackage[] {
  if (parents.length === 0) return [...image.packages];
  const inherited = new Map<string, Set<string>>();
  for (const p of parents.flatMap((i) => i.packages))
    inherited.set(key(p), new Set([...(inherited.get(key(p)) ?? []), p.version]));
  return image.packages.filter((p) => !inherited.get(key(p))?.has(p.version));
}
