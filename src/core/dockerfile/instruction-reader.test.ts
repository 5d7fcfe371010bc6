/** parseDockerfile on how lines are read: continuations, comments, directives, heredocs. */
import { describe, expect, it } from 'vitest';
import { df, parse, refs, problem } from '../../../test/helpers/parse-dockerfile.js';

describe('parseDockerfile', () => {
  describe('lines', () => {
    it('joins continued lines and reports the line where the instruction starts', () => {
      const text = df(
        'FROM \\',
        '    debian:bookworm \\',
        '    AS base',
        'RUN a \\',
        '  && b',
        'FROM \\  ',
        'alpine',
      );
      expect(parse(text)).toEqual({
        refs: [
          { ref: 'debian:bookworm', line: 1, kind: 'from' },
          { ref: 'alpine', line: 6, kind: 'from' },
        ],
        stages: ['base'],
      });
    });

    it('drops comment lines and empty lines inside a continued instruction', () => {
      const text = df(
        'FROM debian',
        'RUN apt-get update && \\',
        '# FROM not-an-image',
        '    # FROM indented-comment',
        '',
        '    apt-get install -y curl',
        'FROM \\',
        '# comment',
        '  alpine AS a',
      );
      expect(parse(text)).toEqual({
        refs: [
          { ref: 'debian', line: 1, kind: 'from' },
          { ref: 'alpine', line: 7, kind: 'from' },
        ],
        stages: ['a'],
      });
    });

    it('ignores comments and blank lines', () => {
      expect(
        refs(df('# FROM evil', '', '   # FROM evil2', '\t', 'FROM debian', '#FROM evil3')),
      ).toEqual(['from debian @5']);
      // A # after an instruction is not a comment: Docker sees three words.
      expect(problem('FROM debian # comment\n').message).toMatch(
        /must be "FROM <image> \[AS <name>\]"/,
      );
    });

    it('joins a lone continuation character with the next line, as Docker does', () => {
      expect(refs(df('FROM debian', '\\', '', 'FROM alpine'))).toEqual([
        'from debian @1',
        'from alpine @2',
      ]);
      expect(refs(df('FROM debian', '\\'))).toEqual(['from debian @1']);
    });

    it('does not continue a line ending in an escaped escape', () => {
      expect(refs(df('FROM debian', 'RUN echo \\\\', 'FROM alpine'))).toEqual([
        'from debian @1',
        'from alpine @3',
      ]);
    });

    it('handles CRLF line endings and a byte-order mark', () => {
      expect(refs('\uFEFFFROM debian AS a\r\nRUN x \\\r\n  y\r\nFROM alpine\r\n')).toEqual([
        'from debian @1',
        'from alpine @4',
      ]);
    });

    it('switches the escape character with # escape=`', () => {
      const text = df(
        '# escape=`',
        'FROM mcr.microsoft.com/windows/servercore:ltsc2022 `',
        '  AS base',
        'RUN dir c:\\',
        'FROM base',
        'COPY --from=base c:\\a c:\\b',
        'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022',
      );
      expect(parse(text)).toEqual({
        refs: [
          { ref: 'mcr.microsoft.com/windows/servercore:ltsc2022', line: 2, kind: 'from' },
          { ref: 'mcr.microsoft.com/windows/nanoserver:ltsc2022', line: 7, kind: 'from' },
        ],
        stages: ['base'],
      });
      // Without the directive, the trailing backslash continues into the next FROM.
      expect(refs(df('FROM a AS base', 'RUN dir c:\\', 'FROM base', 'FROM b'))).toEqual([
        'from a @1',
        'from b @4',
      ]);
      expect(
        refs(df('# escape=`', 'FROM a AS base', 'RUN dir c:\\', 'FROM base', 'FROM b')),
      ).toEqual(['from a @2', 'from b @5']);
    });

    it('escapes with the backtick in FROM expansion too', () => {
      expect(problem(df('# escape=`', 'ARG X=1', 'FROM img:v`$X')).message).toContain('"img:v$X"');
    });

    it('reads parser directives only at the very top', () => {
      // After a blank line, "# escape=`" is a comment: the backslash still continues lines.
      expect(refs(df('', '# escape=`', 'FROM a \\', 'AS x'))).toEqual(['from a @3']);
      // After an instruction too.
      expect(refs(df('FROM a', '# escape=`', 'RUN x \\', 'FROM b'))).toEqual(['from a @1']);
      // After an unknown directive too.
      expect(refs(df('# foo=bar', '# escape=`', 'FROM a \\', 'AS x'))).toEqual(['from a @3']);
      // syntax and check are directives: escape may follow them.
      expect(
        refs(
          df('# syntax=docker/dockerfile:1', '#check=skip=all', '# escape=`', 'FROM a `', 'AS x'),
        ),
      ).toEqual(['from a @4']);
    });

    it('rejects a repeated or invalid directive', () => {
      expect(problem(df('# escape=`', '# escape=\\', 'FROM a'))).toEqual({
        line: 2,
        message: 'line 2: only one "# escape=" parser directive can be used; remove this one',
      });
      expect(problem(df('# escape=x', 'FROM a')).message).toMatch(
        /escape parser directive must be/,
      );
    });
  });

  describe('heredocs', () => {
    it('skips heredoc bodies, even lines that look like FROM', () => {
      const text = df(
        'FROM debian',
        'RUN <<EOF',
        'FROM evil:1',
        'apt-get update',
        'EOF',
        'COPY <<EOF /etc/motd',
        'FROM evil:2',
        'EOF',
        'RUN <<-EOT',
        '\tFROM evil:3',
        '\tEOT',
        `RUN cat <<'EOF' >/x && cat <<"END" >/y`,
        'FROM evil:4',
        'EOF',
        'FROM evil:5',
        'END',
        'add <<eof /x',
        'FROM evil:6',
        'eof',
        'RUN python3 2<<PY',
        'FROM evil:7',
        'PY',
        'ONBUILD RUN <<EOF',
        'FROM evil:8',
        'EOF',
        'FROM alpine',
      );
      expect(refs(text)).toEqual(['from debian @1', 'from alpine @26']);
    });

    it('only ends a heredoc at a line that is exactly the terminator', () => {
      const text = df(
        'FROM debian',
        'RUN <<EOF',
        ' EOF',
        'EOF ',
        'FROM evil',
        'EOF',
        'FROM alpine',
      );
      expect(refs(text)).toEqual(['from debian @1', 'from alpine @7']);
    });

    it('reads heredocs after a continued instruction line', () => {
      const text = df(
        'FROM debian',
        'RUN --mount=type=cache,target=/c \\',
        '    sh <<EOF',
        'FROM evil',
        'EOF',
        'FROM alpine',
      );
      expect(refs(text)).toEqual(['from debian @1', 'from alpine @6']);
    });

    it('does not see heredocs where Docker does not', () => {
      const text = df(
        'FROM debian',
        'RUN ["sh", "-c", "cat <<EOF"]',
        'FROM a',
        'RUN echo "<<EOF" \'<<EOF\' \\<<EOF x<<EOF',
        'FROM b',
        'CMD cat <<EOF',
        'FROM c',
        'RUN cat << EOF',
        'FROM d',
      );
      expect(refs(text)).toEqual([
        'from debian @1',
        'from a @3',
        'from b @5',
        'from c @7',
        'from d @9',
      ]);
    });

    it('reports an unterminated heredoc at its instruction', () => {
      expect(problem(df('FROM debian', 'RUN echo hi', 'RUN <<EOF', 'echo', 'EOT'))).toEqual({
        line: 3,
        message:
          'RUN at line 3 opens the heredoc <<EOF but it is never closed: add a line containing only EOF',
      });
      expect(problem(df('FROM debian', 'RUN <<A <<B', 'A', 'b')).line).toBe(2);
    });
  });
});
