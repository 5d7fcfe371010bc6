/**
 * An image's package inventory as a CycloneDX 1.5 JSON SBOM: the image is the document's subject
 * (a `container` component), its installed packages are `library` components named by package
 * URLs (`pkg:deb/debian/apt@2.6.1?arch=amd64&distro=debian-12`). No timestamp and no random
 * serial number: the same image and inventory give the same bytes, so an SBOM can be diffed and
 * committed. Pure.
 */
import type { InstalledPackage, Inventory } from './inventory.js';

/** The image an SBOM describes. */
export interface SbomSubject {
  /** Its repository, e.g. `kbuild/base` (the component's name). */
  readonly repository: string;
  /** The shared tag (the component's version). */
  readonly tag: string;
  /** Registry host[:port][/path] and the manifest digest there, when pushed: its `pkg:oci` purl. */
  readonly registry?: string;
  readonly digest?: string;
  /** kbuild's own facts, kept as properties. */
  readonly fingerprint?: string;
  readonly imageId?: string;
  readonly profile?: string;
}

/** The tool named in metadata.tools. */
export interface SbomTool {
  readonly name: string;
  readonly version: string;
}

interface Property {
  readonly name: string;
  readonly value: string;
}

interface Component {
  readonly type: 'container' | 'library';
  readonly 'bom-ref': string;
  readonly name: string;
  readonly version: string;
  readonly purl?: string;
  readonly properties?: readonly Property[];
}

/** The document, as much of CycloneDX 1.5 as kbuild writes. */
export interface CycloneDxBom {
  readonly $schema: string;
  readonly bomFormat: 'CycloneDX';
  readonly specVersion: '1.5';
  readonly version: 1;
  readonly metadata: {
    readonly tools: {
      readonly components: readonly { type: 'application'; name: string; version: string }[];
    };
    readonly component: Component;
  };
  readonly components: readonly Component[];
  readonly dependencies: readonly { ref: string; dependsOn: readonly string[] }[];
}

/**
 * Percent-encodes a purl component: everything but the alphanumerics and `.-_~` (so an epoch's
 * `:` is `%3A` and a `+` is `%2B`, as package-url implementations write versions).
 */
export function purlEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `key=value&…`, keys sorted, empty values left out (the canonical qualifier form). */
function qualifiers(q: Record<string, string>): string {
  const pairs = Object.entries(q)
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${purlEncode(v)}`);
  return pairs.length ? `?${pairs.join('&')}` : '';
}

/** `debian-12` (the purl `distro` qualifier), '' when the image has no os-release. */
const distroQualifier = (i: Inventory) =>
  [i.distro, i.distroVersion].filter(Boolean).join('-').toLowerCase();

/**
 * A package's purl: `pkg:deb/<distro>/<name>@<version>?arch=…&distro=…` (namespace and name
 * lowercased, as the deb type says); `pkg:rpm/<distro>/<name>@<version-release>?arch=…&epoch=…`
 * (the epoch is a qualifier for rpm). Undefined for an inventory without a package manager.
 */
export function packagePurl(p: InstalledPackage, inventory: Inventory): string | undefined {
  const distro = distroQualifier(inventory);
  const vendor = inventory.distro.toLowerCase();
  switch (inventory.manager) {
    case 'dpkg':
      return `pkg:deb/${purlEncode(vendor || 'debian')}/${purlEncode(p.name.toLowerCase())}@${purlEncode(p.version)}${qualifiers({ arch: p.arch, distro })}`;
    case 'rpm': {
      const m = /^(\d+):(.*)$/.exec(p.version);
      const [epoch, version] = m ? [m[1]!, m[2]!] : ['', p.version];
      const ns = vendor ? `${purlEncode(vendor)}/` : '';
      return `pkg:rpm/${ns}${purlEncode(p.name)}@${purlEncode(version)}${qualifiers({ arch: p.arch, distro, epoch })}`;
    }
    case 'none':
      return undefined;
  }
}

/** `pkg:oci/<last path segment>@<digest>?repository_url=…&tag=…`, for an image in a registry. */
export function imagePurl(s: SbomSubject): string | undefined {
  if (!s.digest) return undefined;
  const name = (s.repository.split('/').at(-1) ?? s.repository).toLowerCase();
  const url = s.registry ? `${s.registry}/${s.repository}` : '';
  return `pkg:oci/${purlEncode(name)}@${purlEncode(s.digest)}${qualifiers({ repository_url: url, tag: s.tag })}`;
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const props = (entries: [string, string | undefined][]): { properties?: Property[] } => {
  const properties = entries.flatMap(([name, value]) => (value ? [{ name, value }] : []));
  return properties.length ? { properties } : {};
};

/** The CycloneDX 1.5 document of an image and its inventory. */
export function cycloneDx(
  subject: SbomSubject,
  inventory: Inventory,
  tool: SbomTool,
): CycloneDxBom {
  const purl = imagePurl(subject);
  const imageRef = purl ?? `${subject.repository}:${subject.tag}`;
  const seen = new Set<string>([imageRef]);
  const components: Component[] = [];
  const sorted = [...inventory.packages].sort(
    (a, b) =>
      byCodePoint(a.name, b.name) ||
      byCodePoint(a.arch, b.arch) ||
      byCodePoint(a.version, b.version),
  );
  for (const p of sorted) {
    const pkgPurl = packagePurl(p, inventory);
    const ref = pkgPurl ?? `${p.name}@${p.version}:${p.arch}`;
    if (seen.has(ref)) continue;
    seen.add(ref);
    components.push({
      type: 'library',
      'bom-ref': ref,
      name: p.name,
      version: p.version,
      ...(pkgPurl ? { purl: pkgPurl } : {}),
      ...props([['kbuild:package:source', p.source !== p.name ? p.source : undefined]]),
    });
  }
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.5.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    version: 1,
    metadata: {
      tools: { components: [{ type: 'application', name: tool.name, version: tool.version }] },
      component: {
        type: 'container',
        'bom-ref': imageRef,
        name: subject.repository,
        version: subject.tag,
        ...(purl ? { purl } : {}),
        ...props([
          ['kbuild:profile', subject.profile],
          ['kbuild:fingerprint', subject.fingerprint],
          ['kbuild:image-id', subject.imageId],
          ['kbuild:package-manager', inventory.manager],
          ['kbuild:distro', [inventory.distro, inventory.distroVersion].filter(Boolean).join(' ')],
          ['kbuild:packages-unreadable', inventory.unreadable],
        ]),
      },
    },
    components,
    dependencies: [{ ref: imageRef, dependsOn: components.map((c) => c['bom-ref']) }],
  };
}

/** The document's bytes: two-space JSON and a final newline (stable for the same input). */
export const sbomJson = (bom: CycloneDxBom): string => `${JSON.stringify(bom, null, 2)}\n`;
