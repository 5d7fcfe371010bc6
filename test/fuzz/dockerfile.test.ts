/**
 * Fuzzing the Dockerfile parser (src/core/dockerfile/) with the entry point a real run uses
 * (parseDockerfile, as core/family.ts calls it on every rendered Dockerfile). The property:
 * a result or a located problem, never an exception — a problem's line is a line of the text,
 * and so is every reference's. Texts are built from realistic fragments (FROM with --platform
 * and AS, ARG with and without defaults, ${VAR} forms, continuations, comments, parser
 * directives, heredocs, COPY --from, RUN --mount, odd whitespace and unicode), then also
 * arbitrary strings. Runs and seed: fuzz-params.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../src/core/dockerfile/dockerfile.js';
import { fuzzParams, fuzzTimeout, lineCount } from './fuzz-params.js';

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

const varName = pick('BASE', 'TAG', 'X', 'TARGETARCH', 'BUILDPLATFORM', 'TARGETPLATFORM', 'é', '_');
const space = pick(' ', ' ', ' ', '  ', '\t', '\u00a0', '\u3000', ' \\\n  ', ' \\\n# c\n ', '');
const word = fc.oneof(
  pick('debian', 'alpine:3.19', 'quay.io/a/b:1', 'busybox@sha256:' + 'a'.repeat(64), 'scratch'),
  pick('a:b:c', 'UPPER', 'x/', '/x', '-', '""', "'q'", '"debian:12"', 'busy\\box', 'img:v\\$X'),
  pick('0', '1', '-1', '99', 'stage', 'Stage', 'builder', 'ünïcödé', '😀', 'a b'),
  fc.string({ maxLength: 8 }),
);
const substitution = fc.oneof(
  varName.map((v) => `$${v}`),
  varName.map((v) => `\${${v}}`),
  fc
    .tuple(varName, pick(':-', '-', ':+', '+', ':?', '?', '#', '%', '/', '//', ''), word)
    .map(([v, op, w]) => `\${${v}${op}${w}}`),
  pick('${', '${}', '$', '${X', '${X:-${Y}}', '${X:-$}', '$$', '\\$X', '${X/a/b}'),
);
const value = fc
  .array(fc.oneof(word, substitution), { minLength: 1, maxLength: 3 })
  .map((xs) => xs.join(''));
const platform = fc.oneof(
  pick('linux/amd64', 'linux/arm64/v8', '$BUILDPLATFORM', '${TARGETPLATFORM}', '', 'bogus'),
  value,
);

const from = fc
  .tuple(
    pick('FROM', 'from', 'From', 'FROM\t'),
    fc.option(platform.map((p) => `--platform=${p}`)),
    fc.option(pick('--other=x', '--platform', '--', '-x')),
    fc.option(value),
    fc.option(fc.tuple(pick('AS', 'as', 'As', 'AS AS'), fc.option(word)), { freq: 2 }),
    space,
  )
  .map(([kw, plat, flag, img, as, sp]) =>
    [kw, plat, flag, img, as ? `${as[0]}${as[1] !== null ? ` ${as[1]}` : ''}` : null]
      .filter((x) => x !== null)
      .join(sp || ' '),
  );

const arg = fc
  .tuple(
    pick('ARG', 'arg'),
    fc.array(
      fc.tuple(
        fc.oneof(varName, pick('', '=', '1X', 'a-b')),
        fc.option(fc.oneof(value, pick('"a b"', '"a', "'x'", '', '"${X}"'))),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([kw, vars]) => [kw, ...vars.map(([n, v]) => (v === null ? n : `${n}=${v}`))].join(' '));

const fromFlag = fc.oneof(value, pick('0', '1', '-1', '7', 'stage', 'BUILDER', ''));
const copy = fc
  .tuple(
    pick('COPY', 'copy', 'ADD'),
    fc.option(fromFlag.map((f) => `--from=${f}`)),
    fc.option(pick('--chown=1:1', '--link', '--from', '--from=', '--parents')),
    pick('/a /b', 'x y z', '["/a", "/b"]', '<<EOF /x', '', '. .'),
  )
  .map((xs) => xs.filter((x) => x !== null).join(' '));
const mount = fc
  .tuple(
    pick('type=cache', 'type=bind', 'type=tmpfs', 'type=secret', 'type=bogus', ''),
    fc.option(fromFlag.map((f) => `from=${f}`)),
    fc.option(pick('target=/x', 'source=/y', 'id=a', 'x', '"from=q"', 'ro')),
  )
  .map((xs) => `--mount=${xs.filter((x) => x !== null).join(',')}`);
const run = fc
  .tuple(
    pick('RUN', 'run', 'ONBUILD RUN'),
    fc.array(mount, { maxLength: 2 }),
    pick('true', 'echo $X', '<<EOF', '<<-EOT cat', '<<"EOF" <<EOT', '["sh", "-c", "x"]', ''),
  )
  .map(([kw, ms, rest]) => [kw, ...ms, rest].join(' '));
const heredocBody = fc
  .tuple(
    fc.array(fc.oneof(word, pick('FROM x', 'ARG Y', '\tEOF', 'EOT')), { maxLength: 3 }),
    pick('EOF', 'EOT', '\tEOF', ''),
  )
  .map(([body, end]) => [...body, end].join('\n'));
const directive = pick(
  '# escape=`',
  '# escape=\\',
  '# escape=x',
  '# syntax=docker/dockerfile:1',
  '#syntax=x',
  '# check=skip=all',
  '# directive=unknown',
  '# ESCAPE=`',
);
const other = pick(
  '',
  '   ',
  '# a comment',
  '  # indented comment',
  'ENV A=1',
  'WORKDIR /x',
  'LABEL a=b',
  'ONBUILD COPY --from=x / /',
  'HEALTHCHECK CMD true',
  'MAINTAINER me',
  'CMD ["x"]',
  '\\',
  '`',
  '\uFEFFFROM x',
  '\u2028',
  'RUN a \\',
  'RUN a `',
);

/** Mostly well-formed: directives, ARGs before the first FROM, then stages of FROM and body. */
const clean = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: bad });
const cleanImage = pick(
  'debian',
  'debian:12',
  'alpine',
  'busybox:latest',
  'alpine:3.19',
  'quay.io/a/b:1',
  '$BASE',
  '${BASE}',
  '${BASE:-debian}',
  'img:$TAG',
  'kbuild/base:x',
  'builder',
  'stage',
);
const cleanFrom = fc
  .tuple(
    fc.option(
      pick('--platform=linux/amd64', '--platform=$BUILDPLATFORM', '--platform=${TARGETPLATFORM}'),
    ),
    cleanImage,
    fc.option(pick('builder', 'stage', 'Stage', 'base', 'debian')),
  )
  .map(([p, i, as]) =>
    ['FROM', p, i, as !== null ? `AS ${as}` : null].filter((x) => x !== null).join(' '),
  );
const cleanArg = fc
  .tuple(
    pick('BASE', 'TAG', 'X', 'TARGETARCH'),
    fc.option(pick('debian', 'alpine', '1', '${TAG}', '"a"', 'x-$X')),
  )
  .map(([n, v]) => (v === null ? `ARG ${n}` : `ARG ${n}=${v}`));
const cleanBody = pick(
  'RUN true',
  'RUN --mount=type=cache,target=/c true',
  'RUN --mount=type=bind,from=builder,target=/b true',
  'RUN --mount=from=alpine,target=/a ls',
  'COPY --from=builder /a /b',
  'COPY --from=0 /a /b',
  'COPY --from=quay.io/x/y:1 /a /b',
  'COPY . /src',
  'ENV A=1',
  'WORKDIR /x',
  '# comment',
  '',
  'RUN <<EOF\nFROM not-an-image\nEOF',
  'RUN <<-EOT sh\n\tCOPY --from=nope / /\n\tEOT',
  'COPY <<EOF /x\nbody\nEOF',
  'RUN a \\\n  && b',
  'RUN a \\\n# comment inside\n  b',
  'ONBUILD RUN x',
);
const stage = fc
  .tuple(
    clean(cleanFrom, from),
    fc.array(
      fc.oneof(
        { weight: 6, arbitrary: cleanBody },
        { weight: 1, arbitrary: clean(cleanArg, arg) },
        { weight: 2, arbitrary: fc.oneof(copy, run, heredocBody, other) },
      ),
      { maxLength: 5 },
    ),
  )
  .map(([f, body]) => [f, ...body]);
const ending = pick('\n', '\n', '\n', '\n', '\r\n', '\r', ' \\\n', '`\n', '\n\n');
const dockerfile = fc
  .tuple(
    fc.option(pick('\uFEFF', '# escape=`\n', '# syntax=x\n# escape=`\n', '# check=skip=all\n')),
    fc.array(clean(cleanArg, fc.oneof(arg, directive, other)), { maxLength: 3 }),
    fc.array(stage, { minLength: 1, maxLength: 4 }),
    fc.array(
      fc.oneof({ weight: 8, arbitrary: fc.constant('\n') }, { weight: 1, arbitrary: ending }),
      { minLength: 30, maxLength: 30 },
    ),
  )
  .map(([head, args, stages, ends]) => {
    const lines = [...args, ...stages.flat()];
    return (head ?? '') + lines.map((l, i) => l + (ends[i % ends.length] ?? '\n')).join('');
  });

const buildArgs = fc.oneof(
  fc.constant({ BASE: 'debian', TAG: '12' }),
  fc.dictionary(
    fc.oneof(varName, fc.string({ maxLength: 4 })),
    fc.oneof(word, pick('', 'a b', '${X}', 'debian')),
    { maxKeys: 3 },
  ),
);

/** The property: parseDockerfile returns a value or a problem at a line of the text. */
function holds(text: string, args: Record<string, string>): void {
  const r = parseDockerfile(text, args);
  const lines = lineCount(text);
  if (r.ok) {
    for (const ref of r.value.refs) {
      expect(
        Number.isInteger(ref.line) && ref.line >= 1 && ref.line <= lines,
        `ref line ${ref.line}`,
      ).toBe(true);
      expect(typeof ref.ref).toBe('string');
    }
    return;
  }
  const { line, message } = r.error;
  expect(Number.isInteger(line), `line ${line}`).toBe(true);
  expect(line, message).toBeGreaterThanOrEqual(1);
  expect(line, message).toBeLessThanOrEqual(lines);
  expect(message.trim().length).toBeGreaterThan(0);
  expect(message).not.toMatch(/internal error|undefined|\[object /);
}

describe('fuzz: the Dockerfile parser gives refs or a located problem, never an exception', () => {
  it('Dockerfiles built from realistic fragments', { timeout: fuzzTimeout(3000) }, () => {
    fc.assert(fc.property(dockerfile, buildArgs, holds), fuzzParams(3000));
  });

  it(
    'arbitrary strings, and fragments with arbitrary strings spliced in',
    { timeout: fuzzTimeout(2000) },
    () => {
      const spliced = fc
        .tuple(dockerfile, fc.nat(), fc.string({ unit: 'binary', maxLength: 20 }))
        .map(([t, at, s]) => t.slice(0, at % (t.length + 1)) + s + t.slice(at % (t.length + 1)));
      const text = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ maxLength: 200 }),
        spliced,
      );
      fc.assert(fc.property(text, buildArgs, holds), fuzzParams(2000));
    },
  );
});
