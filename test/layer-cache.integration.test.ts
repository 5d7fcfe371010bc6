/**
 * Layers across hosts: an image built on one engine and pushed carries BuildKit's inline cache
 * metadata; a fresh engine (a second dockerd of the test's own: no images, no build cache) that must
 * rebuild it after its last instruction changed takes every earlier layer from the registry and
 * runs only that instruction.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtraRegistry, type ExtraRegistry } from './helpers/extra-registry.js';
import {
  byName,
  kbuild,
  projectCopy,
  randomTag,
  readSummary,
  removeImages,
  requireHost,
} from './helpers/host.js';
import { startSecondDockerd, type SecondEngine } from './helpers/second-dockerd.js';

const project = projectCopy('bb');
const tag = randomTag();
let registry: ExtraRegistry;
let engine: SecondEngine;

beforeAll(async () => {
  requireHost();
  registry = await startExtraRegistry();
  engine = await startSecondDockerd(['busybox:latest']);
});
afterAll(async () => {
  await engine?.stop();
  await registry?.stop();
  await removeImages((r) => r.includes(`:${tag}`));
  project.remove();
});

const images = ['bb-base', 'bb-lib', 'bb-app3'];
async function build(file: string, env?: Record<string, string>) {
  const args = ['build', '-p', 'bb', ...images, '--tag', tag, '--push', '--registry'];
  const r = await kbuild(
    [...args, registry.host, '-q', '--summary-json', join(project.dir, file)],
    project.dir,
    undefined,
    env,
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return byName(readSummary(join(project.dir, file)));
}

describe('layers across hosts (BuildKit inline cache)', () => {
  it('a fresh engine rebuilding an image whose last instruction changed runs only that instruction', async () => {
    const first = await build('first.json');
    for (const i of images) expect(first[i]?.status).toBe('pushed');

    appendFileSync(
      join(project.dir, 'images/bb-app3/Dockerfile.j2'),
      `\nRUN echo "changed ${tag}" > /etc/changed.txt\n`,
    );
    const second = await build('second.json', { DOCKER_HOST: engine.dockerHost });
    expect(second['bb-base']?.status).toBe('fresh');
    expect(second['bb-lib']?.status).toBe('fresh');
    expect(second['bb-app3']?.status).toBe('pushed');
    const log = readFileSync(second['bb-app3']!.log!, 'utf8');
    expect(log).toContain(
      `importing cache manifest from ${registry.host}/kbuild-test/bb-app3:${tag}`,
    );
    // Each step's header, then whether it ran: the earlier two come from the registry's layers.
    const step = (what: string) => {
      const id = new RegExp(`^(#\\d+) \\[\\d+/\\d+\\] ${what}`, 'm').exec(log)?.[1];
      expect(id, `${what} in\n${log}`).toBeDefined();
      return log.split('\n').filter((l) => l.startsWith(`${id!} `));
    };
    expect(step('COPY bb-app3.txt')).toContain(
      `${step('COPY bb-app3.txt')[0]!.split(' ')[0]} CACHED`,
    );
    expect(step('RUN echo "bb-app3 built').some((l) => l.endsWith(' CACHED'))).toBe(true);
    expect(step('RUN echo "changed').some((l) => l.endsWith(' CACHED'))).toBe(false);
    expect(step('RUN echo "changed').some((l) => /^#\d+ DONE/.test(l))).toBe(true);
  });
});
