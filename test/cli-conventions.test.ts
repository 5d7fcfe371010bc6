/**
 * The command line's conventions (issue 15 items 1, 6, 7): misspelt commands, defaults a user
 * expects, and the error outside a project.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'kbuild-conventions-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('outside a project', () => {
  it.each([[['build']], [['plan', '-p', 'x']], [['validate']], [['list']]])(
    'kbuild %j says there is no kbuild.yaml here or above, and how to make one (exit 2)',
    async (args) => {
      const r = await runCli(args, scratch);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`no kbuild.yaml in ${scratch} or any folder above it`);
      expect(r.stderr).toContain('kbuild init');
      expect(r.stderr).not.toContain('images directory');
    },
  );

  it('-C a folder without kbuild.yaml names that folder', async () => {
    const r = await runCli(['plan', '-C', scratch, '-p', 'x'], '/');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no kbuild.yaml in ${scratch} (-C)`);
  });
});
