import { describe, expect, it } from 'vitest';
import { clip, quote } from './clip.js';

describe('clip and quote', () => {
  it('keep short text whole', () => {
    expect(clip('abc')).toBe('abc');
    expect(quote('a"b')).toBe('"a\\"b"');
  });
  it('cut long text to the limit and say so', () => {
    expect(clip('x'.repeat(100))).toBe(`${'x'.repeat(80)}…`);
    expect(quote('x'.repeat(100))).toBe(`"${'x'.repeat(80)}…"`);
    expect(clip('é'.repeat(5), 3)).toBe('ééé…');
  });
  it('never cut inside an escape', () => {
    const q = quote(`${'x'.repeat(78)}\u0001yyyy`);
    expect(q).toBe(`"${'x'.repeat(78)}…"`);
  });
});
