/**
 * Bad input never ends in an internal error: each case of issue 13's defects gives a located
 * message (file:line), says what to do, and exits 2 for configuration, 1 for an invalid tree.
 * Every project here is `kbuild init`'s scaffold (base on busybox, hello on base), then broken.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kbuild-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
/** A fresh scaffolded family: images base (FROM busybox:latest) and hello (FROM base). */
async function family(): Promise<string> {
  const name = `fam${++count}`;
  const r = await runCli(['init', name, '--base-image', 'busybox:latest'], dir);
  expect(r.code).toBe(0);
  return join(dir, name);
}

const PROFILE = 'busybox-binary';

/** Replaces line `n` (1-based) of a file; n = 0 prepends. */
function setLine(file: string, n: number, text: string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (n === 0) lines.unshift(text);
  else lines[n - 1] = text;
  writeFileSync(file, lines.join('\n'));
}

function noInternalError(r: { stdout: string; stderr: string }): void {
  expect(r.stderr).not.toContain('internal error');
  expect(r.stdout).not.toContain('internal error');
}

describe('defect 1: an image whose Dockerfile does not parse is still a node of the graph', () => {
  it.each([['FROM'], ['FROM a:b:c'], ['FROM x AS'], ['RUN true']])(
    'the parent says %s: its file:line, no toposort error',
    async (first) => {
      const fam = await family();
      setLine(join(fam, 'images/base/Dockerfile.j2'), 1, first);
      for (const args of [['validate'], ['plan', '-p', PROFILE, '--no-engine']]) {
        const r = await runCli(args, fam);
        noInternalError(r);
        expect(r.stderr).not.toContain('Unknown node');
        expect(r.stderr).toContain('images/base/Dockerfile.j2 (rendered):');
        expect(r.code).toBe(1);
      }
    },
  );
});

/** A "billion laughs": nine levels of nine aliases each, starting at `line` of the file. */
const aliasBomb = (indent: string): string =>
  [
    `${indent}a0: &a0 [x, x, x, x, x, x, x, x, x]`,
    ...Array.from(
      { length: 9 },
      (_, i) => `${indent}a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`,
    ),
  ].join('\n');

describe('defect 2: a yaml alias bomb is a located config error (exit 2)', () => {
  const profile = 'distro: busybox\ndistro_tag: latest\npackage_manager: apt\n';
  it.each([
    ['a profile', `profiles/${PROFILE}.yaml`, `${profile}vars:\n`],
    ['kbuild.yaml', 'kbuild.yaml', 'namespace: min\ngroups:\n'],
    ['an image.yaml', 'images/hello/image.yaml', 'labels:\n'],
  ])('in %s', async (_what, file, before) => {
    const fam = await family();
    writeFileSync(join(fam, file), `${before}${aliasBomb('  ')}\n`);
    const first = before.split('\n').length + 1; // the first line with an alias
    const r = await runCli(['validate'], fam);
    noInternalError(r);
    const at = new RegExp(`${file.replace(/\./g, '\\.')}:(\\d+):\\d+: yaml: `).exec(r.stderr);
    expect(r.stderr, 'names the file and line').toMatch(/: yaml: .*alias/);
    expect(Number(at?.[1])).toBeGreaterThanOrEqual(first);
    expect(Number(at?.[1])).toBeLessThan(first + 9);
    expect(r.stderr).toMatch(/alias/);
    expect(r.code).toBe(2);
  });
});

describe('defect 3: network is validated where it is written (exit 2)', () => {
  it.each([['5'], ["'bad net!'"], ['[host]']])('network: %s', async (value) => {
    const fam = await family();
    const file = join(fam, `profiles/${PROFILE}.yaml`);
    const line = readFileSync(file, 'utf8').split('\n').indexOf('network: host') + 1;
    setLine(file, line, `network: ${value}`);
    const r = await runCli(['validate'], fam);
    noInternalError(r);
    expect(r.stderr).toContain(`profiles/${PROFILE}.yaml:${line}:10: 'network`);
    expect(r.code).toBe(2);
  });

  it('takes host, none, default and a named network', async () => {
    const fam = await family();
    const file = join(fam, `profiles/${PROFILE}.yaml`);
    const line = readFileSync(file, 'utf8').split('\n').indexOf('network: host') + 1;
    for (const value of ['none', 'default', 'kbuild-net_1']) {
      setLine(file, line, `network: ${value}`);
      const r = await runCli(['validate'], fam);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });
});

describe('defect 4: registry values are validated, and credentials in them never printed', () => {
  const SECRET = 's3cr3t-Pa55';
  const cases = [
    ['bad host!', /not a registry host/],
    [
      'http://127.0.0.1:5000',
      /starts with a scheme.*give host\[:port\] only, e\.g\. "127\.0\.0\.1:5000"/,
    ],
    [
      `user:${SECRET}@127.0.0.1:5000`,
      /"user:\*\*\*@127\.0\.0\.1:5000" holds credentials.*docker login 127\.0\.0\.1:5000/,
    ],
    [`https://user:${SECRET}@quay.io/team`, /holds credentials.*credential store/],
  ] as const;

  it.each(cases)('--registry %s: exit 2 naming the flag', async (value, message) => {
    const fam = await family();
    for (const args of [
      ['plan', '-p', PROFILE, '--no-engine', '--registry', value],
      ['validate', '--registry', value],
      ['build', '-p', PROFILE, '--push', '--registry', value],
    ]) {
      const r = await runCli(args, fam);
      noInternalError(r);
      expect(r.stderr).toMatch(/--registry: registry /);
      expect(r.stderr).toMatch(message);
      expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET);
      expect(r.code).toBe(2);
    }
  });

  it.each(cases)(
    'registry: %s in kbuild.yaml and in a profile: file:line',
    async (value, message) => {
      const fam = await family();
      const project = join(fam, 'kbuild.yaml');
      const line = readFileSync(project, 'utf8').split('\n').indexOf("registry: ''") + 1;
      setLine(project, line, `registry: '${value}'`);
      let r = await runCli(['validate'], fam);
      noInternalError(r);
      expect(r.stderr).toContain(`kbuild.yaml:${line}:11: 'registry': registry `);
      expect(r.stderr).toMatch(message);
      expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET);
      expect(r.code).toBe(2);

      setLine(project, line, "registry: ''");
      setLine(join(fam, `profiles/${PROFILE}.yaml`), 0, `registry: '${value}'`);
      r = await runCli(['plan', '-p', PROFILE, '--no-engine'], fam);
      expect(r.stderr).toContain(`profiles/${PROFILE}.yaml:1:11: 'registry': registry `);
      expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET);
      expect(r.code).toBe(2);
    },
  );

  it('takes host[:port] with a path, and promote checks --to-registry too', async () => {
    const fam = await family();
    for (const value of ['127.0.0.1:5000', 'localhost', 'quay.io/team/sub', '[::1]:5000']) {
      const r = await runCli(['validate', '--registry', value], fam);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const r = await runCli(
      ['promote', '-p', PROFILE, '--from', 'a', '--to', 'b', '--to-registry', `u:${SECRET}@h`],
      fam,
    );
    expect(r.stderr).toMatch(/--to-registry: registry "u:\*\*\*@h" holds credentials/);
    expect(r.stderr).not.toContain(SECRET);
    expect(r.code).toBe(2);
  });
});

describe('defect 5: namespace, tag and image_prefix are one located error, not one per Dockerfile', () => {
  it.each([
    ['namespace', 'namespace: RelTest', /namespace "RelTest" .*lowercase/],
    ['tag', "tag: 'bad tag!'", /tag "bad tag!" may only contain/],
    ['image_prefix', "image_prefix: 'Up-'", /image_prefix .*"Up-".*lowercase/],
  ])('%s in kbuild.yaml: kbuild.yaml:LINE, exit 2', async (key, text, message) => {
    const fam = await family();
    const file = join(fam, 'kbuild.yaml');
    const lines = readFileSync(file, 'utf8').split('\n');
    let line = lines.findIndex((l) => l.startsWith(`${key}:`)) + 1;
    if (line === 0) line = lines.push(text);
    else lines[line - 1] = text;
    writeFileSync(file, lines.join('\n'));
    const r = await runCli(['validate'], fam);
    noInternalError(r);
    expect(r.stderr).toMatch(new RegExp(`^  kbuild\\.yaml:${line}:\\d+: `, 'm'));
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('profile busybox-binary: 1 problem(s)');
    expect(r.stderr).not.toContain('(rendered)');
    expect(r.code).toBe(2);
  });

  it('in a profile and on the command line', async () => {
    const fam = await family();
    setLine(join(fam, `profiles/${PROFILE}.yaml`), 0, 'namespace: Team');
    let r = await runCli(['plan', '-p', PROFILE, '--no-engine'], fam);
    expect(r.stderr).toMatch(
      new RegExp(`^profiles/${PROFILE}\\.yaml:1:\\d+: namespace "Team"`, 'm'),
    );
    expect(r.stderr).not.toContain('(rendered)');
    expect(r.code).toBe(2);
    r = await runCli(
      ['plan', '-p', PROFILE, '--no-engine', '--namespace', 'ok', '--tag', 'x y'],
      fam,
    );
    expect(r.stderr).toMatch(/^--tag: tag "x y" may only contain/m);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(2);
  });
});

describe('defect 5: template and cycle errors are located', () => {
  it('an unclosed {% if %}: template:line of the tag, exit 1', async () => {
    const fam = await family();
    const file = join(fam, 'images/hello/Dockerfile.j2');
    const lines = readFileSync(file, 'utf8').split('\n');
    const line = lines.push('{% if greeting %}', 'RUN echo', '');
    writeFileSync(file, lines.join('\n'));
    const r = await runCli(['validate'], fam);
    noInternalError(r);
    expect(r.stderr).toContain(`images/hello/Dockerfile.j2:${line - 2}:4: template error`);
    expect(r.stderr).toContain('{% if %} is never closed');
    expect(r.code).toBe(1);
  });

  it('a FROM cycle names the file:line of each FROM that closes it', async () => {
    const fam = await family();
    setLine(
      join(fam, 'images/base/Dockerfile.j2'),
      1,
      "# a comment\nFROM {{ image_ref('hello') }}",
    );
    const r = await runCli(['validate'], fam);
    noInternalError(r);
    expect(r.stderr).toContain('images depend on each other in a cycle: base → hello → base');
    expect(r.stderr).toMatch(
      /\n {4}images\/hello\/Dockerfile\.j2 \(rendered\):1: hello: FROM fam\d+\/base:busybox-binary\n/,
    );
    expect(r.stderr).toMatch(
      /\n {4}images\/base\/Dockerfile\.j2 \(rendered\):2: base: FROM fam\d+\/hello:busybox-binary\n/,
    );
    expect(r.code).toBe(1);
  });
});

/** `n` pseudo-random bytes from `seed` (a linear congruential generator: the same every run). */
function garbage(seed: number, n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('defect 6: quoted input is cut to a readable length', () => {
  it('3 KB of random bytes in an image.yaml: short lines, exit 2', async () => {
    const fam = await family();
    const file = join(fam, 'images/hello/image.yaml');
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
      writeFileSync(file, garbage(seed, 3000));
      const r = await runCli(['validate'], fam);
      noInternalError(r);
      expect(r.stderr).toContain('images/hello/image.yaml:');
      const longest = Math.max(...r.stderr.split('\n').map((l) => l.length));
      expect(longest, r.stderr.slice(0, 300)).toBeLessThan(400);
      expect(r.code).toBe(2);
    }
  });

  it('a long value in a FROM line and a long unknown key are cut too', async () => {
    const fam = await family();
    setLine(join(fam, 'images/base/Dockerfile.j2'), 1, `FROM ${'x'.repeat(300)} AS a b c`);
    setLine(join(fam, `profiles/${PROFILE}.yaml`), 0, `${'k'.repeat(500)}: 1`);
    const r = await runCli(['validate'], fam);
    noInternalError(r);
    expect(r.stderr).toContain('…');
    expect(Math.max(...r.stderr.split('\n').map((l) => l.length))).toBeLessThan(400);
    writeFileSync(
      join(fam, `profiles/${PROFILE}.yaml`),
      'distro: busybox\ndistro_tag: latest\npackage_manager: apt\n',
    );
    const r2 = await runCli(['validate'], fam);
    expect(r2.stderr).toContain('(rendered):1: FROM at line 1 must be');
    expect(Math.max(...r2.stderr.split('\n').map((l) => l.length))).toBeLessThan(400);
  });
});

describe('defect 9: a family with no images is an error that says where kbuild looked', () => {
  it('an images directory with no Dockerfile.j2: exit 2, for validate, plan and build', async () => {
    const fam = await family();
    rmSync(join(fam, 'images'), { recursive: true });
    mkdirSync(join(fam, 'images', 'hello'), { recursive: true });
    writeFileSync(join(fam, 'images', 'macros.j2'), '');
    writeFileSync(join(fam, 'images', 'hello', 'Dockerfile'), 'FROM busybox\n');
    for (const args of [
      ['validate'],
      ['plan', '-p', PROFILE, '--no-engine'],
      ['build', '-p', PROFILE],
    ]) {
      const r = await runCli(args, fam);
      noInternalError(r);
      expect(r.stderr).toMatch(/^kbuild\.yaml:4:\d+: no images in 'images'/m);
      expect(r.stderr).toContain(join(fam, 'images'));
      expect(r.stderr).toContain('<name>/Dockerfile.j2');
      expect(r.code).toBe(2);
    }
  });

  it('a wrong images_dir names it', async () => {
    const fam = await family();
    mkdirSync(join(fam, 'imgs'));
    const file = join(fam, 'kbuild.yaml');
    setLine(file, 4, 'images_dir: imgs');
    const r = await runCli(['validate'], fam);
    expect(r.stderr).toMatch(/^kbuild\.yaml:4:13: no images in 'imgs'/m);
    expect(r.code).toBe(2);
  });
});

describe('defect 11: an all-digit sha256 is read as the string written', () => {
  it('validates (it said: "0" is not a sha256)', async () => {
    const fam = await family();
    const sha = '0'.repeat(64);
    const file = join(fam, 'kbuild.yaml');
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8')}\nsources:\n  hello:\n    type: url\n    url: https://example.org/hello-1.0.tar.gz\n    sha256: ${sha}\n`,
    );
    const r = await runCli(['validate'], fam);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('defect 8: templates are read only from inside the images directory', () => {
  it('a symlink to a file outside is refused, and the file never shown', async () => {
    const fam = await family();
    const secret = join(dir, `secret-${count}.txt`);
    writeFileSync(secret, 'TOP-SECRET-CONTENT\n');
    symlinkSync(secret, join(fam, 'images/hello/pw.j2'));
    const file = join(fam, 'images/hello/Dockerfile.j2');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{% include "pw.j2" %}\n`);
    for (const args of [['validate'], ['render', '-p', PROFILE, 'hello']]) {
      const r = await runCli(args, fam);
      noInternalError(r);
      expect(r.stderr).toMatch(/^images\/hello\/pw\.j2: .*outside the images directory/m);
      expect(r.stderr).toContain(secret);
      expect(`${r.stdout}${r.stderr}`).not.toContain('TOP-SECRET-CONTENT');
      expect(r.code).toBe(2);
    }
  });

  it('a symlinked directory leading out is refused; a link inside the images directory is fine', async () => {
    const fam = await family();
    const outside = mkdtempSync(join(dir, 'outside-'));
    writeFileSync(join(outside, 'x.j2'), 'RUN x\n');
    symlinkSync(outside, join(fam, 'images/shared'));
    let r = await runCli(['validate'], fam);
    expect(r.stderr).toMatch(/^images\/shared\/x\.j2: .*outside the images directory/m);
    expect(r.code).toBe(2);
    rmSync(join(fam, 'images/shared'));
    symlinkSync(join(fam, 'images/macros.j2'), join(fam, 'images/hello/macros-link.j2'));
    r = await runCli(['validate'], fam);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a --template-override directory may not lead out either', async () => {
    const fam = await family();
    const overrides = mkdtempSync(join(dir, 'overrides-'));
    writeFileSync(join(dir, `evil-${count}.j2`), '{% extends parent_template %}\n');
    symlinkSync(join(dir, `evil-${count}.j2`), join(overrides, 'a.j2'));
    const r = await runCli(['validate', '--template-override', overrides], fam);
    expect(r.stderr).toMatch(/a\.j2: .*outside the template override directory/);
    expect(r.code).toBe(2);
  });

  it('an include that climbs out names the paths really tried', async () => {
    const fam = await family();
    const file = join(fam, 'images/hello/Dockerfile.j2');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{% include "../hello/hello.sh" %}\n`);
    const r = await runCli(['validate'], fam);
    expect(r.stderr).toContain(
      "template '../hello/hello.sh' not found (looked for images/hello/hello.sh; '../hello/hello.sh' leaves the images directory from images/) — only *.j2 files under images/ are templates",
    );
    expect(r.code).toBe(1);
  });
});
