import { describe, expect, it } from 'vitest';
import { namespaceFrom, scaffoldFamily } from './scaffold.js';

describe('scaffoldFamily', () => {
  it('names the profile after the base image, and writes the package manager only when unknown', () => {
    const deb = scaffoldFamily({ baseImage: 'debian:bookworm', namespace: 'acme' });
    const bb = scaffoldFamily({
      baseImage: '127.0.0.1:5000/kbuild-bases/busybox',
      namespace: 'acme',
    });
    if (!deb.ok || !bb.ok) throw new Error('scaffold refused a valid base image');
    expect(deb.profile).toBe('debian-binary');
    expect(bb.profile).toBe('busybox-binary');
    const profile = (r: typeof bb) => r.files.find((f) => f.path.startsWith('profiles/'))!.text;
    expect(profile(deb)).toContain('# package_manager: apt    # the default for debian\n');
    expect(profile(bb)).toContain('distro_tag: latest\n');
    expect(profile(bb)).toMatch(/^package_manager: apt$/m);
  });

  it('refuses what is no image reference or no file name', () => {
    expect(scaffoldFamily({ baseImage: 'Debian', namespace: 'x' })).toMatchObject({ ok: false });
    expect(
      scaffoldFamily({ baseImage: 'debian:bookworm', namespace: 'x', profile: '../p' }),
    ).toMatchObject({ ok: false, message: "--profile: '../p' is not a usable file name" });
  });

  it('makes a namespace of a folder name', () => {
    expect(namespaceFrom('My Family_2')).toBe('my-family-2');
    expect(namespaceFrom('---')).toBe('family');
  });
});
