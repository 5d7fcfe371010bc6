import { describe, expect, it } from 'vitest';
import type { BaseReference } from '../model.js';
import { df, parse, refs, problem } from '../../../test/helpers/parse-dockerfile.js';

describe('parseDockerfile', () => {
  describe('FROM and stages', () => {
    it('reads a single FROM', () => {
      expect(parse('FROM debian:bookworm\nRUN true\n')).toEqual({
        refs: [{ ref: 'debian:bookworm', line: 1, kind: 'from' }],
        stages: [],
      });
    });

    it('reads a file without a final newline', () => {
      expect(refs('FROM debian')).toEqual(['from debian @1']);
    });

    it('reads every stage of a multi-stage build and resolves aliases away', () => {
      const text = df(
        'FROM golang:1.22 AS build',
        'RUN go build -o /out/app .',
        '',
        'FROM build AS test',
        'RUN go test ./...',
        '',
        'FROM debian:bookworm-slim',
        'COPY --from=build /out/app /usr/bin/app',
      );
      expect(parse(text)).toEqual({
        refs: [
          { ref: 'golang:1.22', line: 1, kind: 'from' },
          { ref: 'debian:bookworm-slim', line: 7, kind: 'from' },
        ],
        stages: ['build', 'test'],
      });
    });

    it('accepts instructions and AS in any letter case, and lowercases stage names', () => {
      const text = df(
        'from debian as Base',
        'From base AS Final',
        'fRoM alpine aS other',
        'copy --from=FINAL /a /b',
      );
      expect(parse(text)).toEqual({
        refs: [
          { ref: 'debian', line: 1, kind: 'from' },
          { ref: 'alpine', line: 3, kind: 'from' },
        ],
        stages: ['base', 'final', 'other'],
      });
    });

    it('lists each stage name once', () => {
      expect(parse(df('FROM a AS x', 'FROM b AS x', 'FROM x')).stages).toEqual(['x']);
    });

    it('treats a FROM naming a later stage as an image, as Docker does', () => {
      expect(refs(df('FROM later AS first', 'FROM alpine AS later'))).toEqual([
        'from later @1',
        'from alpine @2',
      ]);
    });

    it('does not treat a stage named like its base as a reference to itself', () => {
      expect(parse(df('FROM debian AS debian', 'FROM debian'))).toEqual({
        refs: [{ ref: 'debian', line: 1, kind: 'from' }],
        stages: ['debian'],
      });
    });

    it('excludes FROM scratch', () => {
      expect(refs(df('FROM scratch', 'COPY x /', 'FROM scratch AS s2', 'FROM alpine'))).toEqual([
        'from alpine @4',
      ]);
    });

    it('keeps duplicate references, in order', () => {
      expect(refs(df('FROM debian AS a', 'FROM debian AS b', 'COPY --from=debian /x /x'))).toEqual([
        'from debian @1',
        'from debian @2',
        'copy-from debian @3',
      ]);
    });

    it('records --platform, substituted', () => {
      const text = df(
        'ARG PLAT=linux/riscv64',
        'FROM --platform=$BUILDPLATFORM golang:1.22 AS build',
        'FROM --platform=linux/amd64 debian',
        'FROM --platform=${PLAT} alpine',
        'FROM busybox',
      );
      expect(parse(text).refs).toEqual<BaseReference[]>([
        { ref: 'golang:1.22', line: 2, kind: 'from', platform: '$BUILDPLATFORM' },
        { ref: 'debian', line: 3, kind: 'from', platform: 'linux/amd64' },
        { ref: 'alpine', line: 4, kind: 'from', platform: 'linux/riscv64' },
        { ref: 'busybox', line: 5, kind: 'from' },
      ]);
      expect(parse(text, { BUILDPLATFORM: 'linux/arm64' }).refs[0]?.platform).toBe('linux/arm64');
      expect(parse(text, { PLAT: 'linux/s390x' }).refs[2]?.platform).toBe('linux/s390x');
    });

    it('records --platform on a FROM whose flags are quoted', () => {
      expect(parse('FROM --platform="linux/arm64" debian\n').refs[0]?.platform).toBe('linux/arm64');
      // A quoted word is not a flag (BuildKit looks for a leading "--").
      expect(problem('FROM "--platform=linux/arm64" debian\n').message).toMatch(
        /must be "FROM <image>/,
      );
    });

    it('unquotes and unescapes the image name', () => {
      expect(refs(df('FROM "debian:12"', "FROM 'alpine'", 'FROM busy\\box'))).toEqual([
        'from debian:12 @1',
        'from alpine @2',
        'from busybox @3',
      ]);
    });
  });

  describe('ARG before the first FROM', () => {
    it('substitutes defaults', () => {
      const text = df(
        'ARG BASE=debian:bookworm',
        'ARG TAG',
        'FROM $BASE',
        'FROM alpine:${TAG:-3.20}',
      );
      expect(refs(text)).toEqual(['from debian:bookworm @3', 'from alpine:3.20 @4']);
    });

    it('lets build args override declared ARGs', () => {
      const text = df(
        'ARG BASE=debian:bookworm',
        'ARG TAG',
        'FROM $BASE',
        'FROM alpine:${TAG:-3.20}',
      );
      expect(refs(text, { BASE: 'ubuntu:24.04', TAG: 'edge' })).toEqual([
        'from ubuntu:24.04 @3',
        'from alpine:edge @4',
      ]);
    });

    it('does not apply a build arg whose ARG is not declared', () => {
      expect(refs('FROM debian:${TAG:-12}\n', { TAG: '13' })).toEqual(['from debian:12 @1']);
    });

    it('does not let an ARG declared inside a stage reach a later FROM', () => {
      const text = df('FROM debian AS a', 'ARG BASE=ubuntu', 'FROM ${BASE:-alpine}');
      expect(refs(text, { BASE: 'fedora' })).toEqual(['from debian @1', 'from alpine @3']);
    });

    it('removes quotes from defaults', () => {
      const text = df(
        'ARG IMG="debian:bookworm"',
        "ARG T='3.20'",
        'ARG X="a b" Y="${X// /-}"',
        'FROM $IMG',
        'FROM alpine:$T',
        'FROM img:$Y',
      );
      expect(refs(text)).toEqual([
        'from debian:bookworm @4',
        'from alpine:3.20 @5',
        'from img:a-b @6',
      ]);
      // FROM splits on blanks before expanding, so a value with a blank is not an image.
      expect(problem(df('ARG X="a b"', 'FROM $X')).message).toMatch(
        /invalid image reference "a b"/,
      );
    });

    it('reads several ARGs on one line and defaults that use earlier ARGs', () => {
      const text = df(
        'ARG DISTRO=debian RELEASE=bookworm',
        'ARG BASE=${DISTRO}:${RELEASE}-slim',
        'FROM $BASE',
      );
      expect(refs(text)).toEqual(['from debian:bookworm-slim @3']);
      expect(refs(text, { RELEASE: 'trixie' })).toEqual(['from debian:trixie-slim @3']);
    });

    it('takes a build arg value literally', () => {
      expect(refs(df('ARG BASE=x', 'FROM $BASE'), { BASE: 'quay.io/a/b:1' })).toEqual([
        'from quay.io/a/b:1 @2',
      ]);
    });

    it('supports ${VAR:-default}, ${VAR-default}, ${VAR:+alt}', () => {
      const text = df(
        'ARG SUFFIX=slim',
        'ARG EMPTY=',
        'ARG UNSET',
        'FROM debian:bookworm${SUFFIX:+-$SUFFIX}',
        'FROM a:${EMPTY:-1}',
        'FROM b:${UNSET-2}',
        'FROM c:x${EMPTY-3}',
      );
      expect(refs(text)).toEqual([
        'from debian:bookworm-slim @4',
        'from a:1 @5',
        'from b:2 @6',
        'from c:x @7',
      ]);
      expect(refs(text, { SUFFIX: '' })[0]).toBe('from debian:bookworm @4');
    });

    it('does not substitute an escaped \\$', () => {
      const p = problem(df('ARG X=1', 'FROM img:v\\$X'));
      expect(p.line).toBe(2);
      expect(p.message).toContain('"img:v$X"');
      expect(refs(df('ARG X=1', 'FROM img:v$X'))).toEqual(['from img:v1 @2']);
    });

    it('keeps BuildKit automatic platform args as written unless given', () => {
      const text = df('ARG TARGETARCH', 'FROM --platform=$TARGETPLATFORM img-$TARGETARCH:1');
      expect(parse(text).refs).toEqual([
        { ref: 'img-$TARGETARCH:1', line: 2, kind: 'from', platform: '$TARGETPLATFORM' },
      ]);
      expect(parse(text, { TARGETARCH: 'arm64', TARGETPLATFORM: 'linux/arm64' }).refs).toEqual([
        { ref: 'img-arm64:1', line: 2, kind: 'from', platform: 'linux/arm64' },
      ]);
      // Usable without a declaration, like in Docker.
      expect(refs('FROM img-${TARGETARCH}\n', { TARGETARCH: 'amd64' })).toEqual([
        'from img-amd64 @1',
      ]);
    });

    it('reports a FROM that resolves to nothing, naming the ARG', () => {
      expect(problem(df('ARG BASE', 'FROM $BASE'))).toEqual({
        line: 2,
        message:
          'FROM at line 2 resolves to an empty image reference; declare a default for ARG BASE or pass --build-arg BASE=…',
      });
      expect(refs(df('ARG BASE', 'FROM $BASE'), { BASE: 'debian' })).toEqual(['from debian @2']);
    });

    it('says why an undeclared or stage-scoped ARG does not help', () => {
      expect(problem('FROM $BASE\n', { BASE: 'debian' }).message).toMatch(
        /empty image reference; --build-arg BASE only applies to a declared ARG: declare ARG BASE=<default> before the first FROM/,
      );
      expect(problem('FROM ${BASE}\n').message).toMatch(
        /BASE is not declared: declare ARG BASE=<default>/,
      );
      expect(problem(df('FROM a', 'ARG BASE=b', 'FROM $BASE')).message).toMatch(
        /ARG BASE is declared inside a stage, which FROM does not see/,
      );
    });

    it('explains an invalid reference left by an empty ARG', () => {
      const p = problem(df('ARG TAG', 'FROM debian:$TAG'));
      expect(p.line).toBe(2);
      expect(p.message).toMatch(/FROM at line 2: invalid image reference "debian:": .*no tag/);
      expect(p.message).toMatch(
        /TAG is empty: declare a default for ARG TAG or pass --build-arg TAG=…/,
      );
    });

    it('reports a --platform that resolves to nothing', () => {
      expect(problem(df('ARG P', 'FROM --platform=$P debian')).message).toMatch(
        /--platform=\$P resolves to nothing; declare a default for ARG P/,
      );
    });

    it('reports expansion syntax errors', () => {
      expect(problem('FROM debian:${TAG\n')).toEqual({
        line: 1,
        message: `FROM at line 1: cannot expand "debian:\${TAG": syntax error: missing '}'`,
      });
      expect(problem(df('ARG X="a', 'FROM x')).message).toMatch(
        /ARG at line 1: cannot expand the default of X/,
      );
      expect(problem('FROM ${X:?required}\n').message).toMatch(/X: required/);
    });
  });

  describe('other instructions', () => {
    it('is not confused by JSON-form instructions', () => {
      const text = df(
        'FROM nginx:1.25',
        'COPY ["nginx.conf", "/etc/nginx/"]',
        'RUN ["apt-get", "install", "-y", "FROM"]',
        'ENTRYPOINT ["/docker-entrypoint.sh"]',
        'CMD ["nginx", "-g", "daemon off;"]',
        'HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]',
        'SHELL ["/bin/bash", "-c"]',
        'VOLUME ["/data"]',
        'LABEL a="b" c=d',
        'ENV A=1 B="2 3"',
        'ONBUILD COPY --from=builder /x /x',
        'FROM alpine',
      );
      expect(refs(text)).toEqual(['from nginx:1.25 @1', 'from alpine @12']);
    });
  });

  describe('problems', () => {
    it('FROM without an image', () => {
      expect(problem(df('FROM debian', 'RUN x', 'FROM'))).toEqual({
        line: 3,
        message: 'FROM at line 3 names no image: write FROM <image> [AS <name>]',
      });
      expect(problem(df('FROM --platform=linux/amd64')).line).toBe(1);
    });

    it('FROM ... AS without a name', () => {
      expect(problem(df('FROM debian AS'))).toEqual({
        line: 1,
        message: 'FROM at line 1 ends with AS but names no stage: write FROM debian AS <name>',
      });
    });

    it('FROM with the wrong number of words', () => {
      expect(problem('FROM debian bookworm\n').message).toBe(
        'FROM at line 1 must be "FROM <image> [AS <name>]", not "FROM debian bookworm"',
      );
      expect(problem('FROM a AS b c\n').line).toBe(1);
    });

    it('an invalid stage name', () => {
      expect(problem('FROM a AS 1st\n').message).toMatch(/"1st" is not a valid stage name/);
    });

    it('an invalid image reference, with a hint for a stage in the wrong case', () => {
      expect(problem(df('FROM debian AS base', 'FROM Base')).message).toMatch(
        /FROM at line 2: invalid image reference "Base": .*lowercase.*write it in lowercase: FROM base/,
      );
      expect(problem('FROM a//b\n').message).toMatch(/empty path component/);
    });

    it('--platform without a value', () => {
      expect(problem('FROM --platform linux/amd64 debian\n').message).toMatch(
        /--platform needs a value/,
      );
    });

    it('an instruction before the first FROM', () => {
      expect(problem(df('ARG A=1', 'RUN echo', 'FROM debian'))).toEqual({
        line: 2,
        message: 'RUN at line 2 comes before the first FROM; only ARG may come before FROM',
      });
    });

    it('an ARG without a name', () => {
      expect(problem(df('ARG', 'FROM a')).message).toMatch(/ARG at line 1 needs a name/);
      expect(problem(df('ARG =x', 'FROM a')).message).toMatch(/has no name before "="/);
    });

    it('no FROM at all', () => {
      expect(problem('# nothing here\n').message).toMatch(/no FROM instruction/);
      expect(problem('').line).toBe(1);
    });
  });

  it('parses a large file in one pass', () => {
    const parts: string[] = ['ARG BASE=debian:bookworm'];
    for (let i = 0; i < 2000; i++) {
      parts.push(
        `FROM \${BASE} AS s${i}`,
        'RUN <<EOF',
        'FROM evil',
        'EOF',
        `COPY --from=s${i === 0 ? 'cratch' : i - 1} /a /a`,
      );
    }
    parts.push('FROM s1999');
    const result = parse(df(...parts));
    expect(result.refs).toHaveLength(2000);
    expect(result.stages).toHaveLength(2000);
    expect(result.refs[1999]).toEqual({ ref: 'debian:bookworm', line: 2 + 1999 * 5, kind: 'from' });
  });
});
