import { describe, expect, it } from 'vitest';
import { parseProject, projectSchema } from '../config/config.js';
import type { Digest } from '../model.js';
import {
  decideRetention,
  isFingerprintTag,
  newestFirst,
  tagDate,
  tagPattern,
  type RetentionRule,
  type TaggedManifest,
} from './retention.js';
import { toJsonSchema } from '../config/schema.js';
import { attachmentSubject, attachmentTag } from './attachments.js';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0); // 2026-11-28T12:00Z
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const d = (n: number) => `sha256:${String(n).padStart(64, '0')}` as Digest;
const fp = (n: number) => `fp-${String(n).padStart(24, '0')}`;

/** Rules as kbuild.yaml would give them. */
function rules(yaml: string): RetentionRule[] {
  const r = parseProject(yaml, 'kbuild.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return [...r.value.retention];
}

const BRIEF = rules(`retention:
  - tags: "master-*"
    keep_days: 90
  - tags: "/^v\\\\d+\\\\.\\\\d+\\\\.\\\\d+$/"
    keep_newest: 5
  - tags: "*"
    keep_days: 7
`);

/** tag -> [keep, reason] of a decision. */
function decide(
  tags: readonly TaggedManifest[],
  r: readonly RetentionRule[],
  children: ReadonlyMap<Digest, readonly Digest[]> = new Map(),
) {
  const plan = decideRetention({ tags, rules: r, children, now: NOW });
  return {
    kept: plan.decisions.filter((x) => x.keep).map((x) => x.tag),
    deleted: plan.decisions.filter((x) => !x.keep).map((x) => x.tag),
    reason: (tag: string) => plan.decisions.find((x) => x.tag === tag)!.reason,
    deleteDigests: plan.deleteDigests,
  };
}

describe('tagDate', () => {
  it('reads YYYYMMDD, YYYY-MM-DD and YYYY.MM.DD, with an optional time, as UTC', () => {
    expect(tagDate('master-20261101')).toBe(day('2026-11-01'));
    expect(tagDate('nightly-2026-11-01')).toBe(day('2026-11-01'));
    expect(tagDate('2026.11.01-rc')).toBe(day('2026-11-01'));
    expect(tagDate('build-20261101T0315Z')).toBe(Date.UTC(2026, 10, 1, 3, 15));
    expect(tagDate('build-2026-11-01T03:15:42Z')).toBe(Date.UTC(2026, 10, 1, 3, 15, 42));
    expect(tagDate('b20261101031542')).toBe(Date.UTC(2026, 10, 1, 3, 15, 42));
    expect(tagDate('master-20261101-7-g1a2b3c')).toBe(day('2026-11-01'));
  });

  it('finds no date where there is none, or where digits only look like one', () => {
    for (const tag of [
      'latest',
      'v1.2.3',
      'master',
      'master-2026110',
      'build-202611011', // nine digits: a number, not a date
      'master-20261301', // month 13
      'master-20260231', // 31 February
      '2026-1101', // mixed separators
      'x-18991231', // before 1900
    ]) {
      expect([tag, tagDate(tag)]).toEqual([tag, undefined]);
    }
  });
});

describe('tag patterns and ordering', () => {
  it('globs match the whole tag; /regex/ is a regular expression', () => {
    expect(tagPattern('master-*').test('master-20261101')).toBe(true);
    expect(tagPattern('master-*').test('x-master-1')).toBe(false);
    expect(tagPattern('/^v\\d+$/').test('v12')).toBe(true);
    expect(tagPattern('/rc/').test('v1.0.0-rc.1')).toBe(true);
    expect(isFingerprintTag(fp(1))).toBe(true);
    expect(isFingerprintTag('fp-latest')).toBe(false);
  });

  it('newest first: versions by semver (highest first), then tags by the date in their name', () => {
    expect(
      newestFirst([
        'v1.2.3',
        'v1.10.0',
        'v1.10.0-rc.1',
        '2.0.0',
        'master-20261101',
        'master-20261127',
        'latest',
      ]),
    ).toEqual(['2.0.0', 'v1.10.0', 'v1.10.0-rc.1', 'v1.2.3', 'master-20261127', 'master-20261101']);
  });
});

describe('retention rules in kbuild.yaml', () => {
  it('parses the rules with where each is written', () => {
    expect(BRIEF.map((r) => [r.tags, r.keepDays, r.keepNewest, r.where])).toEqual([
      ['master-*', 90, undefined, 'kbuild.yaml:2'],
      ['/^v\\d+\\.\\d+\\.\\d+$/', undefined, 5, 'kbuild.yaml:4'],
      ['*', 7, undefined, 'kbuild.yaml:6'],
    ]);
    expect(parseProject('namespace: x\n', 'kbuild.yaml').ok && true).toBe(true);
    const none = parseProject(undefined, 'kbuild.yaml');
    expect(none.ok && none.value.retention).toEqual([]);
  });

  it('reports every problem with its line and what to do', () => {
    const r = parseProject(
      'retention:\n  - keep_days: 3\n  - tags: "/([/"\n    keep_days: 1\n  - tags: x\n    keep_newest: 2.5\n  - tags: y\n    keep_dayz: 3\n  - tags: z\n    keep_days: -1\n  - notamap\n',
      'kbuild.yaml',
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.map((p) => `${p.line}: ${p.message}${p.hint ? ` — ${p.hint}` : ''}`)).toEqual([
      "8: unknown key 'keep_dayz' in 'retention.3'" + " — did you mean 'keep_days'?",
      "10: 'retention.4.keep_days' must be a number >= 0, not -1",
      '11: \'retention.5\' must be a mapping (key: value), not string "notamap"',
    ]);
    const semantic = parseProject(
      'retention:\n  - keep_days: 3\n  - tags: "/([/"\n    keep_days: 1\n  - tags: x\n    keep_newest: 2.5\n',
      'kbuild.yaml',
    );
    expect(semantic.ok).toBe(false);
    if (semantic.ok) return;
    expect(semantic.error.map((p) => [p.line, p.message, p.hint])).toEqual([
      [2, "retention[0]: no 'tags'", 'add tags: a glob (master-*) or /regex/'],
      [
        3,
        'retention[1]: /([/ is not a valid regular expression: Invalid regular expression: /([/: Unterminated character class',
        'fix the /regex/, or write a glob',
      ],
      [6, 'retention[2]: keep_newest must be a whole number, not 2.5', 'e.g. keep_newest: 5'],
    ]);
  });

  it('are part of the JSON Schema of kbuild.yaml', () => {
    const schema = toJsonSchema(projectSchema) as {
      properties: { retention: { type: string; items: { properties: Record<string, unknown> } } };
    };
    expect(schema.properties.retention.type).toBe('array');
    expect(Object.keys(schema.properties.retention.items.properties)).toEqual([
      'tags',
      'keep_days',
      'keep_newest',
    ]);
  });
});

describe('decideRetention', () => {
  it('the first matching rule wins; a tag no rule matches is kept', () => {
    const tags = [
      ['master-20261101', 1], // 27 days: < 90
      ['master-20260601', 2], // 180 days
      ['v1.0.0', 3],
      ['v1.1.0', 4],
      ['v1.2.0', 5],
      ['v1.3.0', 6],
      ['v1.4.0', 7],
      ['v1.5.0', 8],
      ['v1.5', 9], // not x.y.z: falls to "*", no date in its name: kept
      ['pr-20261125', 10], // 3 days < 7
      ['pr-20261115', 11], // 13 days
    ].map(([tag, n]) => ({ tag: tag as string, digest: d(n as number) }));
    const r = decide(tags, BRIEF);
    expect(r.deleted).toEqual(['master-20260601', 'v1.0.0', 'pr-20261115']);
    expect(r.reason('master-20261101')).toBe(
      'dated 2026-11-01, 27 day(s) old < 90: rule 1 (master-*, kbuild.yaml:2)',
    );
    expect(r.reason('master-20260601')).toBe(
      'dated 2026-06-01, 180 day(s) old >= 90: rule 1 (master-*, kbuild.yaml:2)',
    );
    expect(r.reason('v1.5.0')).toBe(
      'newest 5 (#1): rule 2 (/^v\\d+\\.\\d+\\.\\d+$/, kbuild.yaml:4)',
    );
    expect(r.reason('v1.0.0')).toBe(
      'not among the newest 5 (#6): rule 2 (/^v\\d+\\.\\d+\\.\\d+$/, kbuild.yaml:4)',
    );
    expect(r.reason('v1.5')).toBe('no date in its name: rule 3 (*, kbuild.yaml:6)');
    expect(r.deleteDigests).toEqual([d(2), d(3), d(11)]);

    const unmatched = decide(
      [{ tag: 'stable', digest: d(1) }],
      rules('retention:\n  - tags: "master-*"\n    keep_days: 1\n'),
    );
    expect(unmatched.kept).toEqual(['stable']);
    expect(unmatched.reason('stable')).toBe('no rule matches');
  });

  it('a rule with neither keep_days nor keep_newest protects its tags from a later catch-all', () => {
    const r = decide(
      [
        { tag: 'release-20200101', digest: d(1) },
        { tag: 'old-20200101', digest: d(2) },
      ],
      rules('retention:\n  - tags: "release-*"\n  - tags: "*"\n    keep_days: 30\n'),
    );
    expect(r.kept).toEqual(['release-20200101']);
    expect(r.reason('release-20200101')).toBe(
      'rule 1 (release-*, kbuild.yaml:2) keeps every tag it matches',
    );
    expect(r.deleted).toEqual(['old-20200101']);
  });

  it('keep_days and keep_newest together keep what either keeps; the age limit is exclusive', () => {
    const r = decide(
      ['n-20261128', 'n-20261121', 'n-20261101', 'n-20261001', 'n-20260101'].map((tag, i) => ({
        tag,
        digest: d(i),
      })),
      rules('retention:\n  - tags: "n-*"\n    keep_days: 7\n    keep_newest: 3\n'),
    );
    // n-20261121 is 7 days and 12 hours old: not < 7 days, but among the newest 3.
    expect(r.kept).toEqual(['n-20261128', 'n-20261121', 'n-20261101']);
    expect(r.reason('n-20261121')).toBe('newest 3 (#2): rule 1 (n-*, kbuild.yaml:2)');
    expect(r.reason('n-20260101')).toBe(
      'not among the newest 3 (#5); dated 2026-01-01, 331 day(s) old >= 7: rule 1 (n-*, kbuild.yaml:2)',
    );
  });

  it('keep_newest cannot order a tag with neither a version nor a date: it is kept', () => {
    const r = decide(
      ['a', 'b-20261101', 'b-20261001'].map((tag, i) => ({ tag, digest: d(i) })),
      rules('retention:\n  - tags: "*"\n    keep_newest: 1\n'),
    );
    expect(r.kept).toEqual(['a', 'b-20261101']);
    expect(r.reason('a')).toMatch(/^neither a version nor a date in its name to order it by/);
  });

  it('fp tags follow the tags of their manifest: kept while one is, deleted with the last', () => {
    const r = decide(
      [
        { tag: 'pr-20261127', digest: d(1) },
        { tag: fp(1), digest: d(1) },
        { tag: 'pr-20261001', digest: d(2) },
        { tag: fp(2), digest: d(2) },
        { tag: fp(3), digest: d(3) }, // an older build of the image, untagged otherwise
      ],
      BRIEF,
    );
    expect(r.kept).toEqual(['pr-20261127', fp(1)]);
    expect(r.reason(fp(1))).toBe(
      'fingerprint tag: its manifest is also tagged pr-20261127, which is kept',
    );
    expect(r.reason(fp(3))).toBe('fingerprint tag: no kept tag points at its manifest');
    expect(r.deleteDigests).toEqual([d(2), d(3)]);
  });

  it('a tag to delete whose manifest a kept tag shares is kept: the registry deletes manifests', () => {
    const r = decide(
      [
        { tag: 'pr-20260101', digest: d(1) },
        { tag: 'v1.0.0', digest: d(1) },
        { tag: 'pr-20260102', digest: d(2) },
      ],
      BRIEF,
    );
    expect(r.kept).toEqual(['pr-20260101', 'v1.0.0']);
    expect(r.reason('pr-20260101')).toBe(
      'its manifest is also tagged v1.0.0, which is kept (else: dated 2026-01-01, 331 day(s) old >= 7: rule 3 (*, kbuild.yaml:6))',
    );
    expect(r.deleteDigests).toEqual([d(2)]);
  });

  it('never deletes a manifest a kept index names; a deleted index takes its unshared children', () => {
    const children = new Map<Digest, Digest[]>([
      [d(10), [d(11), d(12)]], // kept index
      [d(20), [d(12), d(21), d(22)]], // deleted index sharing d(12) with the kept one
    ]);
    const r = decide(
      [
        { tag: 'pr-20261127', digest: d(10) },
        { tag: 'pr-20261127-amd64', digest: d(11) }, // dated within 7 days anyway
        { tag: 'pr-20260101-arm64', digest: d(12) }, // old, but a kept index names it
        { tag: fp(12), digest: d(12) },
        { tag: 'pr-20260101', digest: d(20) },
        { tag: 'pr-20260101-s390x', digest: d(22) },
      ],
      BRIEF,
      children,
    );
    expect(r.deleted).toEqual(['pr-20260101', 'pr-20260101-s390x']);
    expect(r.reason('pr-20260101-arm64')).toMatch(
      /^its manifest is part of the index kept tag pr-20261127 names \(else: dated 2026-01-01/,
    );
    expect(r.reason(fp(12))).toBe(
      'fingerprint tag: its manifest is part of the index kept tag pr-20261127 names',
    );
    // The index first, then its children that nothing kept names (d(12) stays).
    expect(r.deleteDigests).toEqual([d(20), d(21), d(22)]);
  });

  it('with no rules every tag is kept and nothing is deleted', () => {
    const r = decide(
      [
        { tag: 'x', digest: d(1) },
        { tag: fp(1), digest: d(1) },
      ],
      [],
    );
    expect(r.kept).toEqual(['x', fp(1)]);
    expect(r.deleteDigests).toEqual([]);
  });

  it("keeps cosign's signatures and attestations of kept manifests and deletes those of deleted ones, after them", () => {
    const children = new Map<Digest, Digest[]>([[d(10), [d(11)]]]); // a kept index
    const r = decide(
      [
        { tag: 'master-20261127', digest: d(10) },
        { tag: 'master-20260101', digest: d(20) },
        { tag: attachmentTag(d(10), 'sig'), digest: d(90) },
        { tag: attachmentTag(d(11), 'sig'), digest: d(91) }, // a platform of the kept index
        { tag: attachmentTag(d(20), 'sig'), digest: d(92) },
        { tag: attachmentTag(d(20), 'att'), digest: d(93) },
        { tag: attachmentTag(d(30), 'sig'), digest: d(94) }, // its manifest is not tagged here
      ],
      // Even a rule matching every tag does not decide about attachments.
      rules(`retention:\n  - tags: "*"\n    keep_days: 30\n`),
      children,
    );
    expect(r.deleted).toEqual([
      'master-20260101',
      attachmentTag(d(20), 'sig'),
      attachmentTag(d(20), 'att'),
    ]);
    expect(r.reason(attachmentTag(d(11), 'sig'))).toMatch(
      /^signature of sha256:0+…, kept by master-20261127$/,
    );
    expect(r.reason(attachmentTag(d(20), 'att'))).toMatch(/^attestation of .*, which is deleted$/);
    expect(r.reason(attachmentTag(d(30), 'sig'))).toMatch(/which no tag here names$/);
    // Subjects first; each attachment says whose it is, so it is not deleted when that failed.
    expect(r.deleteDigests).toEqual([d(20), d(92), d(93)]);
    const plan = decideRetention({
      tags: [
        { tag: 'master-20260101', digest: d(20) },
        { tag: attachmentTag(d(20), 'sig'), digest: d(92) },
      ],
      rules: rules(`retention:\n  - tags: "*"\n    keep_days: 30\n`),
      children: new Map(),
      now: NOW,
    });
    expect([...plan.attachedTo]).toEqual([[d(92), d(20)]]);
  });

  it("a signature manifest also under a kept digest's .sig tag (copied there) is not deleted with the deleted digest", () => {
    const r = decide(
      [
        { tag: 'v1', digest: d(10) },
        { tag: 'master-20200101', digest: d(20) },
        { tag: attachmentTag(d(10), 'sig'), digest: d(90) },
        { tag: attachmentTag(d(20), 'sig'), digest: d(90) },
        { tag: attachmentTag(d(20), 'att'), digest: d(93) },
      ],
      rules(`retention:\n  - tags: "master-*"\n    keep_days: 30\n`),
    );
    expect(r.deleted).toEqual(['master-20200101', attachmentTag(d(20), 'att')]);
    expect(r.reason(attachmentTag(d(20), 'sig'))).toMatch(
      /which is deleted, but its manifest is also sha256-0+10\.sig, which is kept$/,
    );
    expect(r.deleteDigests).toEqual([d(20), d(93)]);
  });

  it('reads attachment tags back', () => {
    expect(attachmentSubject(attachmentTag(d(7), 'att'))).toEqual({ digest: d(7), kind: 'att' });
    expect(attachmentSubject('sha256-abc.sig')).toBeUndefined();
    expect(attachmentSubject('latest')).toBeUndefined();
    expect(() => attachmentTag('sha512:00', 'sig')).toThrow(TypeError);
  });
});
