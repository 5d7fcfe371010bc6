import { describe, expect, it } from 'vitest';
import type { Digest } from '../model.js';
import { aboutList, provenancePlatform } from './list-statements.js';
import { PREDICATE_SLSA_PROVENANCE_V1 } from './statements.js';
import { statementIsAbout } from './in-toto.js';

const LIST = `sha256:${'a'.repeat(64)}` as Digest;
const ARM = `sha256:${'b'.repeat(64)}` as Digest;
const provenance = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'r/app', digest: { sha256: 'b'.repeat(64) } }],
  predicateType: PREDICATE_SLSA_PROVENANCE_V1,
  predicate: { buildDefinition: { externalParameters: { platform: 'linux/arm64' } } },
};

describe('aboutList', () => {
  it('puts the list first among the subjects and keeps the platform manifest and predicate', () => {
    const s = aboutList(provenance, { name: 'r/app', digest: LIST });
    expect(s.subject).toEqual([
      { name: 'r/app', digest: { sha256: 'a'.repeat(64) } },
      provenance.subject[0],
    ]);
    expect(statementIsAbout(s, LIST) && statementIsAbout(s, ARM)).toBe(true);
    expect(s.predicate).toBe(provenance.predicate);
    expect(provenancePlatform(s)).toBe('linux/arm64');
    // Made twice, it names the list once.
    expect(aboutList(s, { name: 'r/app', digest: LIST }).subject).toHaveLength(2);
  });
});
