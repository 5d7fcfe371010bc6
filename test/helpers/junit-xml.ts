/** JUnit XML as tests read it: checked well-formed first, then parsed. */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { expect } from 'vitest';

export interface JunitCase {
  classname: string;
  name: string;
  time: string;
  failure?: { type: string; message: string; '#text'?: string };
  error?: { type: string; message: string };
  skipped?: { message: string };
  'system-out'?: string;
}
export interface JunitSuite {
  name: string;
  tests: string;
  failures: string;
  errors: string;
  skipped: string;
  testcase: JunitCase[];
  properties: { property: { name: string; value: string }[] };
}

/** Parses JUnit XML after checking it is well-formed and holds only characters XML allows. */
export function parseJunit(xml: string): {
  testsuites: Record<string, string> & { testsuite: JunitSuite[] };
} {
  expect(XMLValidator.validate(xml)).toBe(true);
  // eslint-disable-next-line no-control-regex
  expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    htmlEntities: true, // numeric character references (&#39;) too
    isArray: (tag) => ['testsuite', 'testcase', 'property'].includes(tag),
  });
  return parser.parse(xml) as { testsuites: Record<string, string> & { testsuite: JunitSuite[] } };
}

/** A suite's testcases by name. */
export const casesByName = (s: JunitSuite) =>
  Object.fromEntries(s.testcase.map((c) => [c.name, c]));
