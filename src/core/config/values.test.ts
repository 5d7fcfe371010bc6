import { describe, expect, it } from 'vitest';
import { maskCredentials, networkProblem, registryProblem } from './values.js';

describe('networkProblem', () => {
  it('takes host, none, default and docker network names', () => {
    for (const v of ['host', 'none', 'default', 'bridge', 'my-net', 'ci_net.2'])
      expect(networkProblem(v)).toBeUndefined();
  });
  it('refuses what no engine takes', () => {
    for (const v of ['5', '', 'bad net', '-x', 'a/b', 'container:x'])
      expect(networkProblem(v)?.message).toContain('neither host, none, default');
  });
});

describe('registryProblem', () => {
  it('takes host[:port] with an optional path', () => {
    for (const v of [
      '',
      '127.0.0.1:5000',
      'localhost',
      'quay.io/team',
      '[::1]:5000',
      'r.example.com/a/b',
    ])
      expect(registryProblem(v)).toBeUndefined();
  });
  it('refuses schemes, bad hosts and paths', () => {
    expect(registryProblem('http://127.0.0.1:5000')?.message).toContain('starts with a scheme');
    expect(registryProblem('bad host!')?.message).toContain('not a registry host');
    expect(registryProblem('host:port')?.message).toContain('must be a number');
    expect(registryProblem('quay.io/Team')?.message).toContain('lowercase');
    expect(registryProblem('/x')?.message).toContain('not a registry host');
  });
  it('refuses credentials without repeating the password', () => {
    for (const v of ['u:pw@h', 'https://u:pw@h/x', 'u:p@w@h:5000', 'tok:pw@h']) {
      const p = registryProblem(v);
      expect(p?.message).toContain('holds credentials');
      expect(`${p?.message} ${p?.hint}`).not.toMatch(/pw|p@w/);
      expect(p?.hint).toContain('docker login h');
    }
  });
  it('masks a userinfo up to its last @', () => {
    expect(maskCredentials('u:p@ss@host/x@y')).toBe('u:***@host/x@y');
    expect(maskCredentials('token@host')).toBe('***@host');
    expect(maskCredentials('https://u:p@h')).toBe('https://u:***@h');
    expect(maskCredentials('host:5000')).toBe('host:5000');
  });
});
