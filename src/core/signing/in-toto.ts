/**
 * In-toto statements (v1, https://in-toto.io/Statement/v1): what an attestation says, about
 * which subjects (by digest). kbuild signs them into DSSE envelopes (dsse.ts) and reads them back
 * from `.att` manifests; what their predicates contain is statements.ts's business. Pure.
 */
import { err, ok, type Digest, type Result } from '../model.js';
import { goJson } from './simple-signing.js';

export interface InTotoSubject {
  readonly name: string;
  /** Algorithm -> hex, e.g. `{ sha256: "ab…" }`. */
  readonly digest: Readonly<Record<string, string>>;
}

export interface InTotoStatement {
  /** `https://in-toto.io/Statement/v1` (v0.1 statements are read too). */
  readonly _type: string;
  readonly subject: readonly InTotoSubject[];
  readonly predicateType: string;
  readonly predicate: unknown;
}

/** The statement's bytes as signed: JSON in the order `_type, subject, predicateType, predicate`. */
export function serializeStatement(statement: InTotoStatement): Uint8Array {
  return new TextEncoder().encode(
    goJson({
      _type: statement._type,
      subject: statement.subject,
      predicateType: statement.predicateType,
      predicate: statement.predicate,
    }),
  );
}

/** Reads a statement: `_type`, a subject list and a predicateType must be there. */
export function parseStatement(bytes: Uint8Array): Result<InTotoStatement, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return err('the statement is not UTF-8 JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return err('the statement is not a JSON object');
  }
  const o = doc as Record<string, unknown>;
  if (typeof o._type !== 'string' || !o._type.startsWith('https://in-toto.io/Statement/')) {
    return err(`the statement's _type is ${JSON.stringify(o._type)}, not an in-toto statement`);
  }
  if (typeof o.predicateType !== 'string' || o.predicateType === '') {
    return err('the statement has no predicateType');
  }
  if (!Array.isArray(o.subject)) return err('the statement has no subject list');
  const subject: InTotoSubject[] = [];
  for (const s of o.subject as unknown[]) {
    const rec = typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : {};
    const d = rec.digest;
    const digest: Record<string, string> = {};
    if (typeof d === 'object' && d !== null) {
      for (const [k, v] of Object.entries(d)) if (typeof v === 'string') digest[k] = v;
    }
    subject.push({ name: typeof rec.name === 'string' ? rec.name : '', digest });
  }
  return ok({ _type: o._type, subject, predicateType: o.predicateType, predicate: o.predicate });
}

/** Whether one of the statement's subjects is `digest` (as cosign checks: its sha256). */
export function statementIsAbout(statement: InTotoStatement, digest: Digest): boolean {
  const hex = digest.startsWith('sha256:') ? digest.slice('sha256:'.length) : undefined;
  return hex !== undefined && statement.subject.some((s) => s.digest.sha256 === hex);
}
