/**
 * The official CycloneDX 1.5 JSON schema (test/fixtures/cyclonedx, with the spdx and jsf schemas
 * it references) compiled once with ajv and its formats: what kbuild's SBOMs are checked against.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fixture } from './run-cli.js';

const schema = (file: string) =>
  JSON.parse(readFileSync(fixture(`cyclonedx/${file}`), 'utf8')) as Record<string, unknown>;

let validate: ValidateFunction | undefined;

/** The schema's complaints about a document (`path: message`); empty when it is valid. */
export function cycloneDxErrors(doc: unknown): string[] {
  if (!validate) {
    // strictSchema: no keyword or format of the schema is ignored. The schema's own style
    // (`required` inside oneOf branches, unions of types) is not ajv's business here.
    const ajv = new Ajv({
      allErrors: true,
      strictSchema: true,
      strictRequired: false,
      strictTypes: false,
      strictTuples: false,
    });
    addFormats.default(ajv);
    // spdx.schema.json describes each licence id under this annotation (no validation in it).
    ajv.addKeyword('meta:enum');
    // The two formats of the schema that ajv-formats lacks, from the ones it has: an IRI is a URI
    // once its non-ASCII characters are percent-encoded (RFC 3987, 3.1); an internationalised
    // address is an address with a non-ASCII local part or domain.
    const uriReference = ajv.formats['uri-reference'];
    const email = ajv.formats['email'];
    if (!(uriReference instanceof RegExp) || !(email instanceof RegExp))
      throw new Error('ajv-formats no longer gives uri-reference and email as patterns');
    ajv.addFormat('iri-reference', (s) => uriReference.test(s.replace(/[^\0-\x7f]+/gu, encodeURI)));
    ajv.addFormat('idn-email', (s) => email.test(s.replace(/[^\0-\x7f]/gu, 'a')));
    ajv.addSchema(schema('spdx.schema.json'));
    ajv.addSchema(schema('jsf-0.82.schema.json'));
    validate = ajv.compile(schema('bom-1.5.schema.json'));
  }
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword}`);
}
