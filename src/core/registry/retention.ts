/**
 * Retention rules (`retention:` in kbuild.yaml) and the decision which registry tags of an image
 * to keep and which to delete. Pure: tags, digests, rules and the time in; a decision with its
 * reason per tag, and the manifests to delete, out.
 *
 * Dates come from the tag's name (`master-20261101`, `nightly-2026-11-01T0300Z`): Docker
 * Distribution 2.8 keeps no time a client can read for a tag or a manifest (no Last-Modified,
 * only the answer's own Date), and the image's `created` says when its content was first built,
 * not when the tag was pushed (kbuild retags an unchanged image without building it). A tag
 * whose name holds no date is never deleted for its age.
 *
 * Registries delete manifests, not tags: deleting a digest removes every tag pointing at it. So
 * a tag is only deleted when every tag of its manifest is, and never when a kept tag's manifest,
 * or an index a kept tag names, references it.
 */
// The two functions, not the package: semver's index loads its every module, and config loading
// (every command that reads kbuild.yaml) comes through this file.
import rcompare from 'semver/functions/rcompare.js';
import valid from 'semver/functions/valid.js';
import type { ConfigProblem, Digest, Locate, RetentionRule } from '../model.js';
import type { Schema } from '../config/schema.js';
import { globToRegExp } from '../select.js';
import { attachmentSubject } from './attachments.js';

export type { RetentionRule };

const ruleField = (doc: string, min?: number): Schema =>
  min === undefined ? { kind: 'string', doc } : { kind: 'number', doc, min };

export const retentionSchema: Schema = {
  kind: 'list-of',
  doc: 'Which registry tags `kbuild prune --registry` keeps; the first rule matching a tag decides, a tag no rule matches is kept. fp-<hex> tags follow the tags of their manifest.',
  item: {
    kind: 'object',
    doc: 'One rule. With neither keep_days nor keep_newest it keeps every tag it matches.',
    fields: {
      tags: ruleField('Tags the rule applies to: a glob (master-*) or /regex/.'),
      keep_days: ruleField(
        'Keep tags whose name dates them (YYYYMMDD or YYYY-MM-DD, UTC) less than this many days ago; tags with no date in their name are kept.',
        0,
      ),
      keep_newest: ruleField(
        'Keep the newest N matching tags: by version (semver) when the tag is one, else by the date in its name.',
        0,
      ),
    },
  },
};

type Raw = Record<string, unknown>;

/**
 * The typed rules of a validated `retention:` list (the schema checked field types already);
 * problems for what the schema cannot say: a missing `tags`, a regex that does not compile, a
 * count that is not whole.
 */
export function parseRetention(
  raw: unknown,
  locate: Locate,
): { rules: RetentionRule[]; problems: ConfigProblem[] } {
  const rules: RetentionRule[] = [];
  const problems: ConfigProblem[] = [];
  const items = Array.isArray(raw) ? (raw as unknown[]) : [];
  items.forEach((item, i) => {
    const r = (item ?? {}) as Raw;
    const at = (key?: string) => locate(key ? ['retention', i, key] : ['retention', i]);
    const problem = (key: string | undefined, message: string, hint: string) =>
      problems.push({ ...at(key), message: `retention[${i}]: ${message}`, hint });
    const tags =
      typeof r['tags'] === 'string' || typeof r['tags'] === 'number' ? String(r['tags']) : '';
    if (!tags) {
      problem(undefined, "no 'tags'", 'add tags: a glob (master-*) or /regex/');
      return;
    }
    let pattern: RegExp;
    try {
      pattern = tagPattern(tags);
    } catch (e) {
      problem(
        'tags',
        `${tags} is not a valid regular expression: ${(e as Error).message}`,
        'fix the /regex/, or write a glob',
      );
      return;
    }
    const keepNewest = r['keep_newest'];
    if (typeof keepNewest === 'number' && !Number.isInteger(keepNewest)) {
      problem(
        'keep_newest',
        `keep_newest must be a whole number, not ${keepNewest}`,
        'e.g. keep_newest: 5',
      );
      return;
    }
    const where = at();
    rules.push({
      tags,
      pattern,
      ...(typeof r['keep_days'] === 'number' ? { keepDays: r['keep_days'] } : {}),
      ...(typeof keepNewest === 'number' ? { keepNewest } : {}),
      where: where.line ? `${where.file}:${where.line}` : where.file,
    });
  });
  return { rules, problems };
}

/** `/regex/` as a regular expression; anything else as a glob over the whole tag. */
export function tagPattern(p: string): RegExp {
  return p.length > 2 && p.startsWith('/') && p.endsWith('/')
    ? new RegExp(p.slice(1, -1))
    : globToRegExp(p);
}

/** kbuild's own tags: one per fingerprint (see fingerprintTag). */
export const isFingerprintTag = (tag: string) => /^fp-[0-9a-f]{24}$/.test(tag);

const DAY_MS = 86_400_000;
/**
 * The first date in a tag's name: YYYYMMDD, YYYY-MM-DD or YYYY.MM.DD, with an optional time
 * (THHMM[SS][Z], or HHMMSS right after a compact date). Not inside a longer run of digits.
 */
const DATE_IN_TAG =
  /(?<!\d)((?:19|20)\d\d)([-.]?)(\d\d)\2(\d\d)(?:(?:T|(?=\d{4}))(\d\d):?(\d\d)(?::?(\d\d))?Z?)?(?!\d)/;

/** When a tag's name says it was made (ms since the epoch, UTC); undefined when it says nothing. */
export function tagDate(tag: string): number | undefined {
  const m = DATE_IN_TAG.exec(tag);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[3], m[4], m[5], m[6], m[7]].map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(t);
  // Date.UTC rolls 2026-02-31 over into March: such a "date" is a number that only looks like one.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    return undefined;
  return t;
}

export interface TaggedManifest {
  readonly tag: string;
  readonly digest: Digest;
}

export interface RetentionInput {
  /** Every tag of one repository with the digest it points at. */
  readonly tags: readonly TaggedManifest[];
  /** The manifests each index (or manifest list) names, by the index's digest. */
  readonly children: ReadonlyMap<Digest, readonly Digest[]>;
  readonly rules: readonly RetentionRule[];
  /** Now, in ms since the epoch. */
  readonly now: number;
}

export interface TagDecision extends TaggedManifest {
  readonly keep: boolean;
  readonly reason: string;
}

export interface RetentionPlan {
  /** One per tag, in the order given. */
  readonly decisions: readonly TagDecision[];
  /**
   * Manifests to delete: those of deleted tags, then the children of deleted indexes no kept tag
   * needs, then the signatures and attestations of what is deleted.
   */
  readonly deleteDigests: readonly Digest[];
  /**
   * For each attachment (signature, attestation) to delete, the manifest it belongs to: it is
   * deleted only once that manifest is (a signature never outlives the delete of its subject
   * failing).
   */
  readonly attachedTo: ReadonlyMap<Digest, Digest>;
}

/** Applies the rules to one repository's tags; see the module comment for the guarantees. */
export function decideRetention(input: RetentionInput): RetentionPlan {
  const decided = new Map<string, { keep: boolean; reason: string }>();
  const byRule = new Map<number, TaggedManifest[]>();
  for (const t of input.tags) {
    if (isFingerprintTag(t.tag) || attachmentSubject(t.tag)) continue;
    const i = input.rules.findIndex((r) => r.pattern.test(t.tag));
    if (i < 0) decided.set(t.tag, { keep: true, reason: 'no rule matches' });
    else byRule.set(i, [...(byRule.get(i) ?? []), t]);
  }
  for (const [i, tags] of byRule) {
    for (const [tag, d] of applyRule(input.rules[i]!, i, tags, input.now)) decided.set(tag, d);
  }

  // A registry deletes manifests: keep every tag of a manifest a kept tag points at, and every
  // manifest a kept index names (and what those name in turn).
  const keptBy = new Map<Digest, string>();
  for (const t of input.tags) {
    if (decided.get(t.tag)?.keep && !keptBy.has(t.digest)) keptBy.set(t.digest, t.tag);
  }
  const protectedBy = new Map<Digest, string>();
  const protect = (digest: Digest, tag: string) => {
    if (protectedBy.has(digest)) return;
    protectedBy.set(digest, tag);
    for (const c of input.children.get(digest) ?? []) protect(c, tag);
  };
  for (const [digest, tag] of keptBy) protect(digest, tag);

  const images = input.tags.filter((t) => !attachmentSubject(t.tag));
  const decisions = images.map((t): TagDecision => {
    const own = decided.get(t.tag);
    const by = protectedBy.get(t.digest);
    if (by === undefined) {
      return own
        ? { ...t, ...own }
        : { ...t, keep: false, reason: 'fingerprint tag: no kept tag points at its manifest' };
    }
    if (own?.keep) return { ...t, ...own };
    const sibling = keptBy.get(t.digest);
    const why =
      sibling !== undefined
        ? `its manifest is also tagged ${sibling}, which is kept`
        : `its manifest is part of the index kept tag ${by} names`;
    return {
      ...t,
      keep: true,
      reason: own ? `${why} (else: ${own.reason})` : `fingerprint tag: ${why}`,
    };
  });

  const deleteDigests: Digest[] = [];
  const remove = (digest: Digest) => {
    if (protectedBy.has(digest) || deleteDigests.includes(digest)) return;
    deleteDigests.push(digest);
    for (const c of input.children.get(digest) ?? []) remove(c);
  };
  // Indexes before what they name: no moment where a remaining index names a deleted manifest.
  const doomed = decisions.filter((d) => !d.keep).map((d) => d.digest);
  for (const digest of doomed) if (input.children.has(digest)) remove(digest);
  for (const digest of doomed) remove(digest);
  const attachments = attachmentDecisions(input.tags, protectedBy, deleteDigests);
  const byTag = new Map([...decisions, ...attachments.decisions].map((d) => [d.tag, d]));
  return {
    decisions: input.tags.map((t) => byTag.get(t.tag)!),
    deleteDigests: [...deleteDigests, ...attachments.attachedTo.keys()],
    attachedTo: attachments.attachedTo,
  };
}

/**
 * Cosign's `sha256-<hex>.sig|.att|.sbom` tags follow the manifest they belong to: kept while it
 * is, deleted with it. One whose manifest is neither kept nor deleted here (not tagged in this
 * repository) is kept: kbuild did not decide about that manifest.
 */
function attachmentDecisions(
  tags: readonly TaggedManifest[],
  protectedBy: ReadonlyMap<Digest, string>,
  deleted: readonly Digest[],
): { decisions: TagDecision[]; attachedTo: Map<Digest, Digest> } {
  const attachedTo = new Map<Digest, Digest>();
  const first = tags.flatMap((t): TagDecision[] => {
    const subject = attachmentSubject(t.tag);
    if (!subject) return [];
    const what = `${subject.kind === 'sig' ? 'signature' : 'attestation'} of ${subject.digest.slice(0, 19)}…`;
    const by = protectedBy.get(subject.digest);
    if (by !== undefined) return [{ ...t, keep: true, reason: `${what}, kept by ${by}` }];
    if (!deleted.includes(subject.digest) || protectedBy.has(t.digest))
      return [{ ...t, keep: true, reason: `${what}, which no tag here names` }];
    return [{ ...t, keep: false, reason: `${what}, which is deleted` }];
  });
  // One manifest under two attachment tags (a .sig copied to another digest's tag): deleting it
  // for the deleted digest would take the kept one's tag along (a registry deletes by digest).
  const keptAs = new Map<Digest, string>();
  for (const d of first) if (d.keep && !keptAs.has(d.digest)) keptAs.set(d.digest, d.tag);
  const decisions = first.map((d): TagDecision => {
    if (d.keep) return d;
    const sibling = keptAs.get(d.digest);
    if (sibling !== undefined)
      return {
        ...d,
        keep: true,
        reason: `${d.reason}, but its manifest is also ${sibling}, which is kept`,
      };
    attachedTo.set(d.digest, attachmentSubject(d.tag)!.digest);
    return d;
  });
  return { decisions, attachedTo };
}

/** One rule over the tags it matched (first match): keep or delete, with why. */
function applyRule(
  rule: RetentionRule,
  index: number,
  tags: readonly TaggedManifest[],
  now: number,
): Map<string, { keep: boolean; reason: string }> {
  const name = `rule ${index + 1} (${rule.tags}, ${rule.where})`;
  const out = new Map<string, { keep: boolean; reason: string }>();
  if (rule.keepDays === undefined && rule.keepNewest === undefined) {
    for (const t of tags)
      out.set(t.tag, { keep: true, reason: `${name} keeps every tag it matches` });
    return out;
  }
  const rank = new Map(newestFirst(tags.map((t) => t.tag)).map((tag, i) => [tag, i] as const));
  for (const { tag } of tags) {
    const keep: string[] = [];
    const drop: string[] = [];
    const date = tagDate(tag);
    if (rule.keepNewest !== undefined) {
      const r = rank.get(tag);
      if (r === undefined) keep.push('neither a version nor a date in its name to order it by');
      else if (r < rule.keepNewest) keep.push(`newest ${rule.keepNewest} (#${r + 1})`);
      else drop.push(`not among the newest ${rule.keepNewest} (#${r + 1})`);
    }
    if (rule.keepDays !== undefined) {
      if (date === undefined) keep.push('no date in its name');
      else {
        const days = Math.floor((now - date) / DAY_MS);
        const on = new Date(date).toISOString().slice(0, 10);
        if (now - date < rule.keepDays * DAY_MS)
          keep.push(`dated ${on}, ${days} day(s) old < ${rule.keepDays}`);
        else drop.push(`dated ${on}, ${days} day(s) old >= ${rule.keepDays}`);
      }
    }
    out.set(
      tag,
      keep.length
        ? { keep: true, reason: `${keep.join('; ')}: ${name}` }
        : { keep: false, reason: `${drop.join('; ')}: ${name}` },
    );
  }
  return out;
}

/**
 * The tags that can be ordered, newest first: versions (semver, highest first) before tags
 * dated by their name (latest first). Tags with neither are left out.
 */
export function newestFirst(tags: readonly string[]): string[] {
  const versions = tags.filter((t) => valid(t) !== null);
  const dated = tags
    .filter((t) => valid(t) === null)
    .map((t) => [t, tagDate(t)] as const)
    .filter((x): x is readonly [string, number] => x[1] !== undefined);
  return [
    ...versions.sort((a, b) => rcompare(a, b) || (a < b ? -1 : 1)),
    ...dated.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([t]) => t),
  ];
}
