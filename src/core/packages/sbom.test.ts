import { describe, expect, it } from 'vitest';
import { cycloneDxErrors } from '../../../test/helpers/cyclonedx.js';
import type { InstalledPackage, Inventory } from './inventory.js';
import {
  cycloneDx,
  imagePurl,
  packagePurl,
  purlEncode,
  sbomJson,
  type SbomSubject,
} from './sbom.js';

const pkg = (name: string, version: string, source = name, arch = 'amd64'): InstalledPackage => ({
  name,
  arch,
  version,
  source,
});
const debian: Inventory = {
  manager: 'dpkg',
  distro: 'debian',
  distroVersion: '12',
  config: 'c0ffee',
  packages: [
    pkg('apt', '2.6.1'),
    pkg('attr', '1:2.5.1-4'),
    pkg('base-files', '12.4+deb12u7'),
    pkg('libc6', '2.36-9+deb12u7', 'glibc'),
    pkg('libc6', '2.36-9+deb12u7', 'glibc', 'i386'),
  ],
};
const subject: SbomSubject = {
  repository: 'kbuild/base',
  tag: 'debian-binary',
  registry: '127.0.0.1:5000',
  digest: `sha256:${'ab'.repeat(32)}`,
  fingerprint: 'f'.repeat(64),
  imageId: `sha256:${'cd'.repeat(32)}`,
  profile: 'debian-binary',
};
const tool = { name: 'kbuild', version: '0.1.0' };

describe('CycloneDX SBOM', () => {
  it('is valid against the official CycloneDX 1.5 JSON schema', () => {
    const bom = cycloneDx(subject, debian, tool);
    expect(cycloneDxErrors(JSON.parse(sbomJson(bom)))).toEqual([]);
    // An image never pushed (no oci purl), and one without a package database.
    const local = cycloneDx({ repository: 'kbuild/app', tag: 't' }, debian, tool);
    expect(cycloneDxErrors(local)).toEqual([]);
    const empty = cycloneDx(
      subject,
      { manager: 'none', packages: [], distro: '', distroVersion: '', config: '' },
      tool,
    );
    expect(cycloneDxErrors(empty)).toEqual([]);
    expect(empty.components).toEqual([]);
  });

  it('the schema check fails a document that breaks the schema (the check is not vacuous)', () => {
    const bom = cycloneDx(subject, debian, tool);
    const [first, ...rest] = bom.components;
    const broken = { ...bom, components: [{ ...first, type: 'package' }, ...rest] };
    expect(cycloneDxErrors(broken)).toContainEqual(
      expect.stringMatching(/^\/components\/0\/type: must be equal to one of the allowed values/),
    );
    const { name: _name, ...nameless } = bom.metadata.component;
    expect(cycloneDxErrors({ ...bom, metadata: { ...bom.metadata, component: nameless } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\/metadata\/component: .*'name'/)]),
    );
    expect(cycloneDxErrors({ ...bom, specVersion: 1.5 })).not.toEqual([]);
  });

  it('describes the image as a container component and its packages as libraries with purls and bom-refs', () => {
    const bom = cycloneDx(subject, debian, tool);
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1 });
    const image = bom.metadata.component;
    expect(image).toMatchObject({
      type: 'container',
      name: 'kbuild/base',
      version: 'debian-binary',
      purl: `pkg:oci/base@sha256%3A${'ab'.repeat(32)}?repository_url=127.0.0.1%3A5000%2Fkbuild%2Fbase&tag=debian-binary`,
    });
    expect(image['bom-ref']).toBe(image.purl);
    expect(image.properties).toContainEqual({ name: 'kbuild:fingerprint', value: 'f'.repeat(64) });
    expect(bom.metadata.tools.components).toEqual([
      { type: 'application', name: 'kbuild', version: '0.1.0' },
    ]);
    expect(bom.components.map((c) => c.purl)).toEqual([
      'pkg:deb/debian/apt@2.6.1?arch=amd64&distro=debian-12',
      // An epoch's ':' and a '+' are percent-encoded.
      'pkg:deb/debian/attr@1%3A2.5.1-4?arch=amd64&distro=debian-12',
      'pkg:deb/debian/base-files@12.4%2Bdeb12u7?arch=amd64&distro=debian-12',
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12',
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=i386&distro=debian-12',
    ]);
    for (const c of bom.components) {
      expect(c.type).toBe('library');
      expect(c['bom-ref']).toBe(c.purl);
    }
    // The version is the package's own, unencoded; a different source package is said.
    expect(bom.components[1]).toMatchObject({ name: 'attr', version: '1:2.5.1-4' });
    expect(bom.components[3]!.properties).toEqual([
      { name: 'kbuild:package:source', value: 'glibc' },
    ]);
    expect(bom.dependencies).toEqual([
      { ref: image['bom-ref'], dependsOn: bom.components.map((c) => c['bom-ref']) },
    ]);
  });

  it('gives the same bytes for the same image, whatever order the packages come in: no timestamp, no serial number', () => {
    const once = sbomJson(cycloneDx(subject, debian, tool));
    const shuffled = { ...debian, packages: [...debian.packages].reverse() };
    expect(sbomJson(cycloneDx(subject, shuffled, tool))).toBe(once);
    expect(once).not.toMatch(/timestamp|serialNumber|urn:uuid/);
    expect(once.endsWith('}\n')).toBe(true);
  });

  it('names rpm packages pkg:rpm/<distro>/… with the epoch as a qualifier', () => {
    const rocky: Inventory = {
      manager: 'rpm',
      distro: 'rocky',
      distroVersion: '9.3',
      config: 'c',
      packages: [pkg('openssl', '1:3.0.7-24.el9', 'openssl', 'x86_64')],
    };
    expect(packagePurl(rocky.packages[0]!, rocky)).toBe(
      'pkg:rpm/rocky/openssl@3.0.7-24.el9?arch=x86_64&distro=rocky-9.3&epoch=1',
    );
    expect(packagePurl(pkg('bash', '5.1.8-6.el9', 'bash', 'x86_64'), rocky)).toBe(
      'pkg:rpm/rocky/bash@5.1.8-6.el9?arch=x86_64&distro=rocky-9.3',
    );
    expect(cycloneDxErrors(cycloneDx(subject, rocky, tool))).toEqual([]);
  });

  it('lowercases deb names, and encodes what the purl spec does not allow', () => {
    expect(packagePurl(pkg('Foo', '1.0~rc1'), { ...debian, distro: 'Debian' })).toBe(
      'pkg:deb/debian/foo@1.0~rc1?arch=amd64&distro=debian-12',
    );
    expect(purlEncode("a b!'()*:+/@?")).toBe('a%20b%21%27%28%29%2A%3A%2B%2F%40%3F');
    expect(imagePurl({ repository: 'kbuild/base', tag: 't' })).toBeUndefined();
  });
});
