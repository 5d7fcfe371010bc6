/**
 * Issue 15 item 3 on the real engine: in a fresh `kbuild init` family, a failing `RUN false`
 * appended to images/hello/Dockerfile.j2 is reported as images/hello/Dockerfile.j2:<its line>,
 * with BuildKit and with the legacy builder (DOCKER_BUILDKIT=0); a failing RUN in a template
 * override names the override, one a macro wrote names its call site and the macro.
 */
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kbuild, randomTag, removeImages, requireHost } from './helpers/host.js';

const parent = mkdtempSync(join(tmpdir(), 'kbuild-failure-template-'));
const dir = join(parent, 'fam');
const namespace = `kbuild-failure-template-${randomTag()}`;
const P = ['-p', 'busybox-binary', '--tag', randomTag()];
let line = 0;

beforeAll(async () => {
  requireHost();
  const init = await kbuild(
    ['init', 'fam', '--base-image', 'busybox:latest', '--namespace', namespace],
    parent,
  );
  expect(init.code).toBe(0);
  const template = join(dir, 'images', 'hello', 'Dockerfile.j2');
  const text = readFileSync(template, 'utf8');
  const lines = text.endsWith('\n') ? text.split('\n').length : text.split('\n').length + 1;
  appendFileSync(template, `${text.endsWith('\n') ? '' : '\n'}RUN false\n`);
  line = lines;
});
afterAll(async () => {
  await removeImages((r) => r.startsWith(`${namespace}/`));
  rmSync(parent, { recursive: true, force: true });
});

describe('a failing RUN appended to a template', () => {
  for (const [path, env] of [
    ['BuildKit', {}],
    ['the legacy builder', { DOCKER_BUILDKIT: '0' }],
  ] as const) {
    it(`is reported at its template line (${path})`, async () => {
      const summaryFile = join(parent, `summary-${path.length}.json`);
      const where = `images/hello/Dockerfile.j2:${line}`;
      const r = await kbuild(
        ['build', ...P, '--force', '--summary-json', summaryFile, '--progress', 'plain'],
        dir,
        undefined,
        { ...env, CI: 'true', GITHUB_ACTIONS: 'true' },
      );
      expect(r.code).not.toBe(0);
      // In the log (and so its tail), under the summary table, in the annotation.
      expect(r.stdout).toContain(`kbuild: the failing instruction is at ${where}\n`);
      expect(r.stdout).toContain(`kbuild: hello failed at ${where}`);
      expect(r.stdout).toContain(`::error file=images/hello/Dockerfile.j2,line=${line},title=`);
      const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as {
        images: { name: string; status: string; template?: unknown }[];
      };
      const hello = summary.images.find((i) => i.name === 'hello');
      expect(hello).toMatchObject({
        status: 'failed',
        template: { file: 'images/hello/Dockerfile.j2', line },
      });
      expect(summary.images.find((i) => i.name === 'base')?.template).toBeUndefined();
    }, 180_000);
  }

  it('is reported in the template override that wrote it', async () => {
    mkdirSync(join(dir, 'overrides'), { recursive: true });
    writeFileSync(
      join(dir, 'overrides', 'site.j2'),
      '{% extends parent_template %}\n{% block hello_footer %}\nRUN false\n{% endblock %}\n',
    );
    const r = await kbuild(
      ['build', ...P, '--force', '--template-override', 'overrides/site.j2', '--progress', 'plain'],
      dir,
      undefined,
      { CI: 'true' },
    );
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('kbuild: hello failed at overrides/site.j2:3');
  }, 180_000);

  it("is reported at the macro's call site, with the macro's own line", async () => {
    const macros = join(dir, 'images', 'macros.j2');
    const text = readFileSync(macros, 'utf8');
    const stamp = 'RUN echo "{{ name }} built for {{ profile }}" > /etc/kbuild-{{ name }}.txt';
    expect(text).toContain(stamp);
    writeFileSync(
      macros,
      text.replace(stamp, `${stamp}{% if name == 'hello' %} && false{% endif %}`),
    );
    const macroLine = text.split('\n').findIndex((l) => l.includes(stamp)) + 1;
    const hello = readFileSync(join(dir, 'images', 'hello', 'Dockerfile.j2'), 'utf8');
    const callLine = hello.split('\n').findIndex((l) => l.includes('macros.stamp(')) + 1;
    const r = await kbuild(['build', ...P, '--force', '--progress', 'plain'], dir, undefined, {
      CI: 'true',
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain(
      `kbuild: hello failed at images/hello/Dockerfile.j2:${callLine} (macro stamp at images/macros.j2:${macroLine})`,
    );
  }, 180_000);
});
