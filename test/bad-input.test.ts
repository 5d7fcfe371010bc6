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
