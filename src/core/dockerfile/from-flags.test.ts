/** parseDockerfile on COPY --from and RUN --mount from= (from-flags.ts). */
import { describe, expect, it } from 'vitest';
import { df, refs, problem } from '../../../test/helpers/parse-dockerfile.js';

describe('parseDockerfile', () => {
  describe('COPY --from', () => {
    it('skips stage names (any case) and indexes, keeps images', () => {
      const text = df(
        'FROM golang:1.22 AS build',
        'FROM debian',
        'COPY --from=build /a /a',
        'COPY --from=BUILD /a /a',
        'COPY --from=0 /a /a',
        'COPY --from=nginx:1.25 /etc/nginx /etc/nginx',
        'COPY --chown=1:1 --from=docker.io/library/busybox:1.36 /bin/busybox /bin/',
        'COPY --from=scratch / /',
        'COPY --from= a b',
        'COPY --from=build ["/a b", "/c"]',
      );
      expect(refs(text)).toEqual([
        'from golang:1.22 @1',
        'from debian @2',
        'copy-from nginx:1.25 @6',
        'copy-from docker.io/library/busybox:1.36 @7',
      ]);
    });

    it('rejects a stage that is not defined before the copying stage', () => {
      expect(problem(df('FROM debian AS a', 'COPY --from=b /x /x', 'FROM alpine AS b'))).toEqual({
        line: 2,
        message:
          'COPY at line 2: --from=b names a stage that is not defined before this one; move the stage "b" above',
      });
      expect(problem(df('FROM debian AS a', 'COPY --from=a /x /x')).line).toBe(2);
    });

    it('rejects a stage index that is out of range or not earlier', () => {
      expect(problem(df('FROM a', 'FROM b', 'COPY --from=5 / /')).message).toBe(
        'COPY at line 3: --from=5 names no stage; stages are numbered from 0 to 1',
      );
      expect(problem(df('FROM a', 'COPY --from=0 / /')).message).toMatch(
        /must name a stage defined before/,
      );
      expect(problem(df('FROM a', 'FROM b', 'COPY --from=-1 / /')).message).toMatch(
        /names no stage/,
      );
    });

    it('rejects variables in --from, as BuildKit does', () => {
      const p = problem(df('ARG IMG=nginx', 'FROM debian', 'COPY --from=$IMG /a /a'));
      expect(p.line).toBe(3);
      expect(p.message).toMatch(/--from=\$IMG cannot use variables.*FROM \$\{IMAGE\} AS src/);
    });

    it('rejects --from without a value and ADD --from', () => {
      expect(problem(df('FROM a', 'COPY --from b /x /x')).message).toMatch(/--from needs a value/);
      expect(problem(df('FROM a', 'ADD --from=b /x /x')).message).toBe(
        'ADD at line 2 has --from, which only COPY supports: use COPY --from=…',
      );
    });

    it('rejects an invalid image reference in --from', () => {
      expect(problem(df('FROM a', 'COPY --from=Nginx /x /x')).message).toMatch(
        /^COPY at line 2: --from=Nginx: invalid image reference "Nginx": .*lowercase/,
      );
    });

    it('stops reading flags at the first non-flag word or at --', () => {
      expect(refs(df('FROM a', 'COPY x --from=img /y', 'COPY -- --from=img2 /y'))).toEqual([
        'from a @1',
      ]);
    });
  });

  describe('RUN --mount from=', () => {
    it('keeps images, skips stages, scratch caches and tmpfs', () => {
      const text = df(
        'FROM golang:1.22 AS build',
        'FROM debian',
        'RUN --mount=type=bind,from=golang:1.22,source=/usr/local/go,target=/go go version',
        'RUN --mount=from=build,target=/x --mount=type=cache,target=/root/.cache true',
        'RUN --mount=type=cache,from=cachebase:1,target=/c true',
        'RUN --mount=type=TMPFS,from=ignored:1,target=/t true',
        'RUN --network=none --mount="type=bind,from=quay.io/a/b:2,target=/b" --mount=from=Build,target=/y true',
        'RUN --mount=type=bind,"from=img:3",target=/z true',
      );
      expect(refs(text)).toEqual([
        'from golang:1.22 @1',
        'from debian @2',
        'mount-from golang:1.22 @3',
        'mount-from cachebase:1 @5',
        'mount-from quay.io/a/b:2 @7',
        'mount-from img:3 @8',
      ]);
    });

    it('lets a mount name a stage defined later (not an image)', () => {
      expect(refs(df('FROM a AS x', 'RUN --mount=from=y,target=/y true', 'FROM b AS y'))).toEqual([
        'from a @1',
        'from b @3',
      ]);
    });

    it('rejects variables in from=, a missing value, and a secret with from=', () => {
      expect(
        problem(df('FROM a', 'RUN --mount=type=bind,from=$IMG,target=/x true')).message,
      ).toMatch(/from=\$IMG cannot use variables/);
      expect(problem(df('FROM a', 'RUN --mount true')).message).toMatch(/--mount needs a value/);
      expect(problem(df('FROM a', 'RUN --mount=type=secret,id=x,from=img true')).message).toMatch(
        /secret mount cannot have from=/,
      );
      expect(problem(df('FROM a', "RUN --mount='type=bind,\"from=a' true")).message).toMatch(
        /quoted-field/,
      );
    });
  });
});
