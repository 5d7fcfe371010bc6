import { describe, expect, it } from 'vitest';
import {
  canonicalName,
  formatReference,
  parseReference,
  type ImageReference,
} from './reference.js';

const SHA = 'sha256:' + 'a'.repeat(64);

function parsed(ref: string): ImageReference {
  const r = parseReference(ref);
  if (!r.ok) throw new Error(`expected ${ref} to parse: ${r.error}`);
  return r.value;
}

function problem(ref: string): string {
  const r = parseReference(ref);
  if (r.ok) throw new Error(`expected ${ref} to be invalid, got ${JSON.stringify(r.value)}`);
  return r.error;
}

describe('parseReference', () => {
  it.each<[string, ImageReference]>([
    ['debian', { path: 'debian' }],
    ['debian:bookworm', { path: 'debian', tag: 'bookworm' }],
    ['kbuild/base', { path: 'kbuild/base' }],
    ['kbuild/base:debian-binary', { path: 'kbuild/base', tag: 'debian-binary' }],
    ['a/b/c/d:1', { path: 'a/b/c/d', tag: '1' }],
    ['quay.io/openstack/nova:2024.1', { domain: 'quay.io', path: 'openstack/nova', tag: '2024.1' }],
    ['docker.io/library/debian', { domain: 'docker.io', path: 'library/debian' }],
    ['localhost/x', { domain: 'localhost', path: 'x' }],
    ['localhost:5000/x:t', { domain: 'localhost:5000', path: 'x', tag: 't' }],
    [
      '127.0.0.1:5000/kbuild/base:tag',
      { domain: '127.0.0.1:5000', path: 'kbuild/base', tag: 'tag' },
    ],
    ['registry:5000/x', { domain: 'registry:5000', path: 'x' }],
    ['[::1]:5000/x:1', { domain: '[::1]:5000', path: 'x', tag: '1' }],
    ['[fe80::1]/x', { domain: '[fe80::1]', path: 'x' }],
    ['my-registry.example.com/team/app', { domain: 'my-registry.example.com', path: 'team/app' }],
    ['REGISTRY.example.com/x', { domain: 'REGISTRY.example.com', path: 'x' }],
  ])('%s', (ref, expected) => {
    expect(parsed(ref)).toEqual(expected);
  });

  it('treats a lone host:port as name:tag, as Docker does', () => {
    expect(parsed('localhost:5000')).toEqual({ path: 'localhost', tag: '5000' });
    expect(parsed('localhost')).toEqual({ path: 'localhost' });
  });

  it('keeps what the user wrote (no docker.io/library normalisation)', () => {
    expect(parsed('debian')).toEqual({ path: 'debian' });
    expect(parsed('library/debian')).toEqual({ path: 'library/debian' });
  });

  it('parses digests, with or without a tag', () => {
    expect(parsed(`debian@${SHA}`)).toEqual({ path: 'debian', digest: SHA });
    expect(parsed(`debian:12@${SHA}`)).toEqual({ path: 'debian', tag: '12', digest: SHA });
    expect(parsed(`127.0.0.1:5000/kbuild/base:t@${SHA}`)).toEqual({
      domain: '127.0.0.1:5000',
      path: 'kbuild/base',
      tag: 't',
      digest: SHA,
    });
    expect(parsed(`localhost:5000/x@${SHA}`)).toEqual({
      domain: 'localhost:5000',
      path: 'x',
      digest: SHA,
    });
    const sha512 = 'sha512:' + '0'.repeat(128);
    expect(parsed(`x@${sha512}`)).toEqual({ path: 'x', digest: sha512 });
  });

  it('accepts every path separator Docker accepts', () => {
    expect(parsed('a.b/c_d/e__f/g-h/i---j').path).toBe('a.b/c_d/e__f/g-h/i---j'.slice(4));
    expect(parsed('x/a.b_c__d-e---f9').path).toBe('x/a.b_c__d-e---f9');
  });

  it('accepts tags of letters, digits, _, . and - up to 128 characters', () => {
    expect(parsed('x:_a.B-9').tag).toBe('_a.B-9');
    expect(parsed(`x:${'t'.repeat(128)}`).tag).toHaveLength(128);
  });

  describe('invalid references', () => {
    it('empty', () => {
      expect(problem('')).toMatch(/empty/);
    });

    it('uppercase in the path', () => {
      expect(problem('UPPER/case')).toMatch(/must be lowercase \("UPPER"\)/);
      expect(problem('Debian:12')).toMatch(/must be lowercase/);
      expect(problem('quay.io/Team/app')).toMatch(/must be lowercase \("Team"\)/);
    });

    it('empty path components', () => {
      expect(problem('a//b')).toMatch(/empty path component/);
      expect(problem('/a')).toMatch(/empty path component/);
      expect(problem('a/')).toMatch(/empty path component/);
      expect(problem('quay.io/')).toMatch(/empty path component/);
    });

    it('a trailing ":" with no tag', () => {
      expect(problem('debian:')).toMatch(/ends with ":" but has no tag/);
      expect(problem('localhost:5000/x:')).toMatch(/no tag/);
    });

    it('no repository name', () => {
      expect(problem(':tag')).toMatch(/no repository name/);
      expect(problem(`@${SHA}`)).toMatch(/no repository name/);
    });

    it.each(['a..b', 'a_-b', 'a___b', '-a', 'a-', '.a', 'a.', 'a b', 'a+b', 'a$b'])(
      'bad path component %s',
      (ref) => {
        expect(problem(ref)).toMatch(/not a valid path component/);
      },
    );

    it.each(['x:-tag', 'x:.tag', 'x:a!b', 'x:a+b', `x:${'t'.repeat(129)}`, 'x:a:b'])(
      'bad tag %s',
      (ref) => {
        expect(problem(ref)).toMatch(/tag|path component/);
      },
    );

    it('bad digests', () => {
      expect(problem('x@sha256:abc')).toMatch(/64 lowercase hex/);
      expect(problem(`x@sha256:${'A'.repeat(64)}`)).toMatch(/64 lowercase hex/);
      expect(problem(`x@md5:${'a'.repeat(32)}`)).toMatch(/not supported/);
      expect(problem('x@')).toMatch(/sha256:<64 hex/);
      expect(problem('x@sha256:')).toMatch(/sha256:<64 hex/);
    });

    it('bad registry hosts and ports', () => {
      expect(problem('exa_mple.com/x')).toMatch(/not a valid host name/);
      expect(problem('-bad.com/x')).toMatch(/not a valid host name/);
      expect(problem('bad..com/x')).toMatch(/not a valid host name/);
      expect(problem('localhost:port/x')).toMatch(/port "port" must be a number/);
      expect(problem('localhost:/x')).toMatch(/must be a number/);
      expect(problem('[::1/x')).toMatch(/unclosed/);
      expect(problem('[zz]:5000/x')).toMatch(/IPv6/);
      expect(problem('[::1]x/y')).toMatch(/after "\]"/);
    });

    it('names longer than 255 characters', () => {
      expect(problem(`x/${'a'.repeat(254)}`)).toMatch(/longer than 255/);
      expect(parsed(`x/${'a'.repeat(253)}`).path).toHaveLength(255);
    });

    it('a bare image id', () => {
      expect(problem('f'.repeat(64))).toMatch(/image id/);
      expect(parsed(`${'f'.repeat(64)}:1`).tag).toBe('1');
    });

    it('names the reference in the message', () => {
      expect(problem('a//b')).toMatch(/^invalid image reference "a\/\/b": /);
    });
  });
});

describe('formatReference', () => {
  it.each([
    'debian',
    'debian:bookworm',
    'kbuild/base',
    'localhost/x',
    '127.0.0.1:5000/kbuild/base:tag',
    '[::1]:5000/x:1',
    `debian@${SHA}`,
    `quay.io/a/b:1@${SHA}`,
  ])('round-trips %s', (ref) => {
    expect(formatReference(parsed(ref))).toBe(ref);
  });
});

describe('canonicalName', () => {
  it.each([
    ['debian', 'docker.io/library/debian:latest'],
    ['debian:12', 'docker.io/library/debian:12'],
    ['library/debian', 'docker.io/library/debian:latest'],
    ['docker.io/debian', 'docker.io/library/debian:latest'],
    ['index.docker.io/debian:12', 'docker.io/library/debian:12'],
    ['kbuild/base:t', 'docker.io/kbuild/base:t'],
    ['localhost/x', 'localhost/x:latest'],
    ['127.0.0.1:5000/kbuild/base', '127.0.0.1:5000/kbuild/base:latest'],
    ['quay.io/x', 'quay.io/x:latest'],
    [`debian@${SHA}`, `docker.io/library/debian@${SHA}`],
    [`debian:12@${SHA}`, `docker.io/library/debian:12@${SHA}`],
  ])('%s -> %s', (ref, expected) => {
    expect(canonicalName(parsed(ref))).toBe(expected);
  });

  it('makes differently written references of one image equal', () => {
    const names = [
      'debian',
      'debian:latest',
      'docker.io/library/debian',
      'index.docker.io/library/debian:latest',
    ];
    expect(new Set(names.map((n) => canonicalName(parsed(n)))).size).toBe(1);
  });
});
