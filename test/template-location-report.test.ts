/** Issue 15 item 3: a failed build names the template line of its failing instruction. */
import { describe, expect, it } from 'vitest';
import { imageName, type TemplateLocation } from '../src/core/model.js';
import { jsonLinesReporter } from '../src/report/json-lines.js';
import { junitReport } from '../src/report/junit.js';
import { plainReporter } from '../src/report/plain.js';
import { ttyReporter } from '../src/report/tty.js';
import type { RunEvent } from '../src/run/events.js';
import type { EngineInfo } from '../src/run/ports.js';
import type { RunSummary } from '../src/run/summary.js';

const engine = {
  kind: 'docker',
  serverVersion: '27.0',
  buildPath: 'buildkit',
} as unknown as EngineInfo;
const b = imageName('b');
const template: TemplateLocation = {
  file: 'images/b/Dockerfile.j2',
  line: 3,
  macro: { name: 'install', file: 'images/macros.j2', line: 2 },
};

const summary = {
  runId: 'r',
  profile: 'p',
  tag: 't',
  registry: '',
  threads: 1,
  start: '2026-01-01T00:00:00.000Z',
  seconds: 1,
  engine,
  interrupted: false,
  ok: false,
  counts: { failed: 1 },
  images: [
    {
      name: b,
      status: 'failed',
      reason: 'engine-exit',
      message: 'engine exited with 1',
      planReason: 'new',
      log: '/logs/b.FAILED.log',
      tags: [],
      template,
    },
  ],
} as unknown as RunSummary;

const events: RunEvent[] = [
  {
    type: 'run-start',
    runId: 'r',
    profile: 'p',
    images: [b],
    unbuildable: new Map(),
    threads: 1,
    push: false,
    engine,
    logsDir: '/logs',
  },
  { type: 'scheduler', event: { type: 'build-start', name: b, attempt: 1 } },
  {
    type: 'log',
    name: b,
    line: 'kbuild: the failing instruction is at images/b/Dockerfile.j2:3',
  },
  {
    type: 'scheduler',
    event: {
      type: 'done',
      outcome: {
        name: b,
        status: 'failed',
        reason: 'engine-exit',
        message: 'engine exited with 1',
        buildAttempts: 1,
        pushAttempts: 0,
        template,
      },
    },
  },
  { type: 'run-end', summary },
];

function run(githubGroups: boolean): string {
  let out = '';
  const r = plainReporter({ write: (t) => (out += t), showLogs: 'all', githubGroups });
  events.forEach(r);
  return out;
}

describe('a failed build in the plain log', () => {
  it("names the template line under the table, and in GitHub Actions' annotation", () => {
    expect(run(false)).toContain(
      'kbuild: b failed at images/b/Dockerfile.j2:3 (macro install at images/macros.j2:2); full log: /logs/b.FAILED.log\n',
    );
    expect(run(true)).toContain(
      '::error file=images/b/Dockerfile.j2,line=3,title=kbuild: b failed::engine exited with 1\n',
    );
  });
});

describe('a failed build in JUnit', () => {
  it('has the template file and line on its testcase and leading its failure', () => {
    const xml = junitReport([{ platform: null, summary }], () => ['#9 ERROR: exit code: 1']);
    expect(xml).toContain('name="b" file="images/b/Dockerfile.j2" line="3"');
    expect(xml).toContain(
      '>at images/b/Dockerfile.j2:3 (macro install at images/macros.j2:2)\n#9 ERROR: exit code: 1\n</failure>',
    );
  });
});

describe('a failed build, live and as JSON lines', () => {
  it("has the template line on the TTY's failure line and in image-end", () => {
    let tty = '';
    const live = ttyReporter({
      write: (t) => (tty += t),
      columns: () => 200,
      now: () => 0,
      color: false,
    });
    events.forEach(live.report);
    expect(tty).toContain(
      '✗ b failed at images/b/Dockerfile.j2:3 (macro install at images/macros.j2:2): engine exited with 1\n',
    );
    let json = '';
    const r = jsonLinesReporter({ write: (t) => (json += t), now: () => 0, logs: false });
    events.forEach(r);
    const end = json
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e['event'] === 'image-end');
    expect(end).toMatchObject({ name: 'b', template });
  });
});
