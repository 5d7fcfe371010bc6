/**
 * The SLSA provenance v1 JSON schema (test/fixtures/schemas: written from the spec text, SLSA has
 * no official JSON schema; its README says from which commits) compiled once with ajv and its
 * formats: what kbuild's provenance statements are checked against.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fixture } from './run-cli.js';

const SCHEMA_ID = 'https://kbuild.dev/schemas/slsa-provenance-v1.schema.json';

let compiled: { statement: ValidateFunction; predicate: ValidateFunction } | undefined;

function validators() {
  if (!compiled) {
    // strict, but `required` inside anyOf branches (the ResourceDescriptor rule) is its style.
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    addFormats.default(ajv);
    ajv.addSchema(
      JSON.parse(readFileSync(fixture('schemas/slsa-provenance-v1.schema.json'), 'utf8')) as Record<
        string,
        unknown
      >,
    );
    compiled = {
      statement: ajv.getSchema(SCHEMA_ID)!,
      predicate: ajv.getSchema(`${SCHEMA_ID}#/definitions/Provenance`)!,
    };
  }
  return compiled;
}

const complaints = (v: ValidateFunction, doc: unknown) =>
  v(doc) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword}`);

/** The schema's complaints about an in-toto statement of SLSA provenance v1; empty when valid. */
export const slsaStatementErrors = (doc: unknown): string[] =>
  complaints(validators().statement, doc);

/** The schema's complaints about a provenance predicate alone; empty when valid. */
export const slsaPredicateErrors = (doc: unknown): string[] =>
  complaints(validators().predicate, doc);
