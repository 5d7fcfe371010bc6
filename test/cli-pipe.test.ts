/**
 * `kbuild --help | head -1`: the reader closes the pipe while kbuild still writes. kbuild stops
 * quietly (exit 0, nothing on stderr), not with an unhandled EPIPE 'error' event.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from './helpers/host.js';

/** Runs the bin with its stdout read up to the first chunk, then closed. */
function closedEarly(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a reader that closes the pipe early', () => {
  it('kbuild --help stops quietly, every time', async () => {
    // The race (the pipe closed before or after the last write) goes either way: several tries.
    for (let i = 0; i < 8; i++) {
      const r = await closedEarly(['--help']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });
});
