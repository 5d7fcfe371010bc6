/** DOCKER_BUILDKIT read as the docker CLI reads it (Go's strconv.ParseBool; empty is unset). */
import { describe, expect, it } from 'vitest';
import { buildkitWanted } from '../src/adapters/docker.js';

describe('buildkitWanted', () => {
  it.each(['1', 't', 'T', 'TRUE', 'true', 'True'])('%s: BuildKit', (v) => {
    expect(buildkitWanted(v)).toEqual({ ok: true, value: true });
  });
  it.each(['0', 'f', 'F', 'FALSE', 'false', 'False'])('%s: the legacy builder', (v) => {
    expect(buildkitWanted(v)).toEqual({ ok: true, value: false });
  });
  it('unset or empty: the client decides (kbuild: its best path)', () => {
    expect(buildkitWanted(undefined)).toEqual({ ok: true, value: undefined });
    expect(buildkitWanted('')).toEqual({ ok: true, value: undefined });
  });
  it.each(['yes', 'on', '2', ' 1', 'tRUE'])(
    '%j: an error naming the value, as the CLI says',
    (v) => {
      const r = buildkitWanted(v);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(`DOCKER_BUILDKIT=${v}:`);
    },
  );
});
