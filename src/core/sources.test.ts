import { describe, expect, it } from 'vitest';
import { parseProject, resolveProfile, type ProfileSource } from './config/config.js';
import { archiveSuffix, entryEscapes, sourceArchiveName, sourceTemplateValue } from './sources.js';

const SHA = 'a'.repeat(64);
const project = (yaml: string) => parseProject(yaml, 'kbuild.yaml');

describe('sources in kbuild.yaml', () => {
  it('reads url, git and local sources', () => {
    const r = project(
      [
        'sources:',
        '  memcached:',
        '    type: url',
        '    url: https://example.org/memcached-1.6.tar.gz',
        `    sha256: ${SHA.toUpperCase()}`,
        '  app:',
        '    type: git',
        '    url: ../app.git',
        '    reference: v1.2',
        '  site:',
        '    type: local',
        '    path: site',
        '  vendored:',
        '    type: local',
        '    path: vendor/x.tgz',
        `    sha256: ${SHA}`,
      ].join('\n'),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.sources['memcached']).toMatchObject({ type: 'url', sha256: SHA });
    expect(r.value.sources['app']).toMatchObject({
      type: 'git',
      url: '../app.git',
      reference: 'v1.2',
    });
    expect(r.value.sources['site']).toMatchObject({ type: 'local', path: 'site' });
    expect(r.value.sources['site']).not.toHaveProperty('sha256');
    expect(r.value.sources['vendored']).toMatchObject({ type: 'local', sha256: SHA });
  });

  it('names the file and line of every incomplete or wrong source', () => {
    const lines = [
      'sources:',
      '  a:',
      '    type: url',
      '    url: https://example.org/a.zip',
      `    sha256: ${SHA}`,
      '  b:',
      '    type: url',
      '    url: https://example.org/b.tar.gz',
      '  c:',
      '    type: git',
      '    url: https://example.org/c.git',
      '  d:',
      '    type: local',
      '    path: d.tar.xz',
      '  e:',
      '    url: x',
      '  f:',
      '    type: url',
      '    url: ftp://example.org/f.tar',
      `    sha256: ${SHA}`,
      '  g:',
      '    type: url',
      '    url: https://example.org/g.tar',
      '    sha256: 1234',
    ];
    // The schema catches a type it does not know first (and only that)...
    const r = project([...lines, '  h:', '    type: svn'].join('\n'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.map((p) => `${p.file}:${p.line} ${p.message}`)).toEqual([
      expect.stringMatching(/^kbuild.yaml:26 .*type.*must be one of.*url, git, local/),
    ]);
    // ...the rest is checked once the file is valid, every problem at once.
    const fixed = project(lines.join('\n'));
    expect(fixed.ok).toBe(false);
    if (fixed.ok) return;
    expect(fixed.error.map((p) => `${p.file}:${p.line} ${p.message}`)).toEqual([
      "kbuild.yaml:4 sources.a: 'https://example.org/a.zip' does not name a tar archive",
      "kbuild.yaml:6 sources.b: an archive needs its 'sha256'",
      "kbuild.yaml:9 sources.c: type 'git' needs 'reference'",
      "kbuild.yaml:12 sources.d: an archive needs its 'sha256'",
      "kbuild.yaml:15 sources.e: no 'type'",
      "kbuild.yaml:19 sources.f: 'ftp://example.org/f.tar' is not an http(s) URL",
      "kbuild.yaml:24 sources.g: '1234' is not a sha256",
    ]);
  });
});

describe('an all-digit sha256 (issue 13, defect 11)', () => {
  it('is read as written, not as the yaml number it also is', () => {
    for (const sha of ['0'.repeat(64), '1'.repeat(64), `00${'9'.repeat(62)}`]) {
      const r = project(
        [
          'sources:',
          '  a:',
          '    type: url',
          '    url: https://x.org/a.tar',
          `    sha256: ${sha}`,
        ].join('\n'),
      );
      expect(r.ok ? r.value.sources['a'] : r.error).toMatchObject({ type: 'url', sha256: sha });
    }
  });

  it('too short, it is still refused as the digits written', () => {
    const r = project(
      [
        'sources:',
        '  a:',
        '    type: url',
        '    url: https://x.org/a.tar',
        '    sha256: 000123',
      ].join('\n'),
    );
    expect(r.ok ? [] : r.error.map((p) => p.message)).toEqual([
      "sources.a: '000123' is not a sha256",
    ]);
  });
});

describe('sources in profiles', () => {
  const profiles = (files: Record<string, string>) =>
    new Map<string, ProfileSource>(
      Object.entries(files).map(([name, text]) => [
        name,
        { name, file: `profiles/${name}.yaml`, text },
      ]),
    );

  it('replace the profiles they extend image by image', () => {
    const r = resolveProfile(
      'child',
      profiles({
        parent: `distro: debian\ndistro_tag: bookworm\nsources:\n  a: {type: local, path: a}\n  b: {type: local, path: b}\n`,
        child: `extends: parent\nsources:\n  b: {type: git, url: b.git, reference: main}\n`,
      }),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.sources['a']).toMatchObject({ type: 'local', path: 'a' });
    expect(r.value.sources['b']).toMatchObject({ type: 'git', reference: 'main' });
    expect(r.value.sources['b']!.at(['sources', 'b'], 'key')).toEqual({
      file: 'profiles/child.yaml',
      line: 3,
      column: 3,
    });
  });
});

describe('archive names', () => {
  it('normalises suffixes so a template can glob <image>.tar.*', () => {
    expect(archiveSuffix('https://h/x-1.0.tgz?download=1')).toBe('.tar.gz');
    expect(archiveSuffix('x.tar.xz')).toBe('.tar.xz');
    expect(archiveSuffix('x.tbz2')).toBe('.tar.bz2');
    expect(archiveSuffix('x.tar.zst')).toBe('.tar.zst');
    expect(archiveSuffix('x.tar')).toBe('.tar');
    expect(archiveSuffix('x.zip')).toBeUndefined();
    const at = () => ({ file: 'kbuild.yaml' });
    expect(
      sourceArchiveName('redis', { type: 'url', url: 'https://h/r.tgz', sha256: SHA, at }),
    ).toBe('kbuild-sources/redis.tar.gz');
    expect(sourceArchiveName('app', { type: 'git', url: 'u', reference: 'main', at })).toBe(
      'kbuild-sources/app.tar',
    );
    expect(sourceTemplateValue('app', { type: 'local', path: 'src', at })).toEqual({
      type: 'local',
      archive: 'kbuild-sources/app.tar',
      suffix: '.tar',
      path: 'src',
    });
  });
});

describe('entryEscapes', () => {
  const file = (path: string) => ({ path, type: 'File' });
  const link = (path: string, linkpath: string, type = 'SymbolicLink') => ({
    path,
    type,
    linkpath,
  });

  it('lets entries that stay inside through', () => {
    for (const e of [
      file('app/a.txt'),
      file('./app/b/../c'),
      link('app/lib/x.so', 'x.so.1'),
      link('app/bin/tool', '../lib/tool'),
      link('app/hard', 'app/a.txt', 'Link'),
    ]) {
      expect(entryEscapes(e)).toBeUndefined();
    }
  });

  it('refuses absolute paths, climbing out and links outward', () => {
    expect(entryEscapes(file('/etc/passwd'))).toMatch(/absolute path/);
    expect(entryEscapes(file('../x'))).toMatch(/climbs out/);
    expect(entryEscapes(file('app/../../x'))).toMatch(/climbs out/);
    expect(entryEscapes(link('app/evil', '/etc/shadow'))).toMatch(/absolute path/);
    expect(entryEscapes(link('app/evil', '../../x'))).toMatch(/links outside/);
    expect(entryEscapes(link('up', '..'))).toMatch(/links outside/);
    expect(entryEscapes(link('app/hard', '../x', 'Link'))).toMatch(/links outside/);
  });
});
