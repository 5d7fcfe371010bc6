/**
 * What the registry client's tests share: bytes <-> text, a fetch that records every request, a
 * sleep that records instead of sleeping, and the unwrapping of a client result that must be a
 * success (`value`) or a failure (`failure`).
 */
import type { RegistryClientOptions } from '../../src/adapters/registry/index.js';
import type { RegistryFailure } from '../../src/run/ports.js';

export const text = (b: Uint8Array) => new TextDecoder().decode(b);
export const bytes = (s: string) => new TextEncoder().encode(s);

export const urlOf = (input: Parameters<typeof fetch>[0]): string =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

/** A fetch that records `METHOD url` of every request before passing it on. */
export function recordingFetch(log: string[]): typeof fetch {
  return (input, init) => {
    log.push(`${init?.method ?? 'GET'} ${urlOf(input)}`);
    return fetch(input, init);
  };
}

/** Sleeps recorded, not slept. */
export function fakeSleep(): {
  sleeps: number[];
  sleep: NonNullable<RegistryClientOptions['sleep']>;
} {
  const sleeps: number[] = [];
  return { sleeps, sleep: (ms) => (sleeps.push(ms), Promise.resolve()) };
}

/** The failure of a result that must have failed (throws on a success). */
export function failure<T>(
  r: { ok: true; value: T } | { ok: false; error: RegistryFailure },
): RegistryFailure {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.value)}`);
  return r.error;
}

/** The value of a result that must have succeeded (throws on a failure). */
export function value<T>(r: { ok: true; value: T } | { ok: false; error: RegistryFailure }): T {
  if (!r.ok) throw new Error(`expected success, got ${JSON.stringify(r.error)}`);
  return r.value;
}
