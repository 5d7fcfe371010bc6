/**
 * Bad input never ends in an internal error: each case of issue 13's defects gives a located
 * message (file:line), says what to do, and exits 2 for configuration, 1 for an invalid tree.
 * Every project here is `kbuild init`'s scaffold (base on busybox, hello on base), then broken.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
