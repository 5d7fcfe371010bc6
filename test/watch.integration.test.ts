/**
 * `kbuild watch` on the real engine (issue 15 item 10): a busybox family w-base → w-a → w-b, and
 * w-c on w-base, watched by the compiled bin in its own process group. What was rebuilt is read
 * from the builds' --progress json events, never from timing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  kbuild,
  logSays,
  processesMatching,
  randomTag,
  removeImages,
  requireHost,
} from './helpers/host.js';

const dir = mkdtempSync(join(tmpdir(), 'kbuild-watch-'));
const namespace = `kbuild-watch-${randomTag()}`;
const lockFile = join(dir, '.kbuild', 'locks', 'w.lock');
const PARENTS: Record<string, string> = {
  'w-base': '{{ base_image }}',
  'w-a': "{{ image_ref('w-base') }}",
  'w-b': "{{ image_ref('w-a') }}",
  'w-c': "{{ image_ref('w-base') }}",
};
const template = (name: string) => join(dir, 'images', name, 'Dockerfile.j2');
const macros = join(dir, 'images', 'macros.j2');
const MACROS = `{% macro step(name) -%}
RUN echo "{{ name }} built" > /etc/{{ name }}.txt
{%- endmacro %}
`;

beforeAll(() => {
  requireHost();
  writeFileSync(join(dir, 'kbuild.yaml'), `namespace: ${namespace}\ntag: "{{ profile }}"\n`);
  mkdirSync(join(dir, 'profiles'));
  mkdirSync(join(dir, 'images'));
  writeFileSync(
    join(dir, 'profiles', 'w.yaml'),
    'distro: busybox\ndistro_tag: latest\npackage_manager: apt\nbase_image: busybox:latest\nnetwork: none\n',
  );
  writeFileSync(macros, MACROS);
  for (const [name, from] of Object.entries(PARENTS)) {
    mkdirSync(join(dir, 'images', name));
    writeFileSync(
      template(name),
      `{% import "macros.j2" as m with context %}\nFROM ${from}\nCOPY ctx.txt /etc/ctx-${name}.txt\n{{ m.step(image_name) }}\n`,
    );
    // Content of this run only: no other run's image can make these look fresh.
    writeFileSync(join(dir, 'images', name, 'ctx.txt'), `${name} ${namespace}\n`);
  }
});
afterAll(async () => {
  await removeImages((r) => r.startsWith(`${namespace}/`));
  rmSync(dir, { recursive: true, force: true });
});

interface JsonEvent {
  event: string;
  name?: string;
  status?: string;
  interrupted?: boolean;
}

/** `kbuild watch` running in its own process group, its output read as it comes. */
class Watch {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, 'watch', ...args], {
      cwd: dir,
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      detached: true, // its own process group, as a shell's job: Ctrl-C goes to all of it
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => resolve({ code, signal })),
    );
  }

  /** The JSON events of the builds so far. */
  events(): JsonEvent[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as JsonEvent);
  }

  /** The builds that ran to their end so far: each one's image statuses, by name. */
  builds(): Record<string, string>[] {
    const out: Record<string, string>[] = [];
    let current: Record<string, string> = {};
    for (const e of this.events()) {
      if (e.event === 'run-start') current = {};
      if (e.event === 'image-end') current[e.name!] = e.status!;
      if (e.event === 'run-end') out.push(current);
    }
    return out;
  }

  /** How many times stderr says it is watching (after each build, ok or not). */
  waits = () => this.stderr.split('\n').filter((l) => / watching \d+ files \(Ctrl-C/.test(l));

  async until(what: string, ok: () => boolean, seconds = 120): Promise<void> {
    for (let i = 0; i < seconds * 10; i++) {
      if (ok()) return;
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `kbuild watch: no ${what}\n--- stderr ---\n${this.stderr}\n--- stdout ---\n${this.stdout.slice(-3000)}`,
    );
  }

  /** Waits for the next build's end (and the watch waiting again after it). */
  async nextBuild(what: string): Promise<Record<string, string>> {
    const builds = this.builds().length;
    const waits = this.waits().length;
    await this.until(what, () => this.builds().length > builds && this.waits().length > waits);
    return this.builds().at(-1)!;
  }
}

/** Processes of process group `pgid` still running. */
function groupProcesses(pgid: number): string[] {
  return execFileSync('ps', ['-eo', 'pgid=,pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.split(/\s+/)[0] === String(pgid));
}

/** An editor's save: the new text to a temp file beside it, renamed over the original. */
function saveByRename(path: string, text: string): void {
  const temp = `${path}.kbuild-test~`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

describe('kbuild watch', () => {
  it("is listed by kbuild --help, and takes build's options and --debounce", async () => {
    const help = await kbuild(['--help'], dir);
    expect(help.stdout).toMatch(
      /^ {2}watch \[options\] \[images\.\.\.\] +build, then build again/m,
    );
    const own = await kbuild(['watch', '--help'], dir);
    expect(own.code).toBe(0);
    for (const flag of ['--push', '-j, --threads <n>', '--test', '--progress <mode>'])
      expect(own.stdout).toContain(flag);
    expect(own.stdout).toMatch(
      /--debounce <ms> +how long the files must be quiet[^(]*\(default: 300\)/,
    );
  });

  it('exits 2 at once on a wrong command line (no such profile or image): watching cannot mend it', async () => {
    for (const [args, said] of [
      [['-p', 'nope'], "no profile named 'nope'"],
      [['-p', 'w', 'nope'], "'nope' matches no image or group"],
    ] as const) {
      const r = await kbuild(['watch', ...args], dir);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(said);
      expect(r.stderr).not.toContain('watching');
    }
  });

  it('builds at start, rebuilds what changed and its descendants, survives a broken template, stops cleanly on SIGINT', async () => {
    const w = new Watch(['-p', 'w', '--progress', 'json', '--debounce', '200']);
    try {
      // The first build, at start: everything is new.
      const first = await w.nextBuild('first build');
      expect(first).toEqual({ 'w-base': 'built', 'w-a': 'built', 'w-b': 'built', 'w-c': 'built' });
      // kbuild.yaml, the profile, macros.j2, 4 templates, 4 context files.
      expect(w.waits()[0]).toContain('watching 11 files (Ctrl-C to stop)');

      // One of a's context files: a and its descendant b, nothing else.
      writeFileSync(join(dir, 'images', 'w-a', 'ctx.txt'), `w-a changed ${namespace}\n`);
      expect(await w.nextBuild('build after a context change')).toEqual({
        'w-base': 'fresh',
        'w-a': 'built',
        'w-b': 'built',
        'w-c': 'fresh',
      });
      expect(w.stderr).toContain('kbuild watch: changed images/w-a/ctx.txt\n');

      // a's template saved twice as editors do (temp file renamed over it): each save is heard,
      // and the temp file is not a change.
      for (const n of [1, 2]) {
        saveByRename(template('w-a'), `${readFileSync(template('w-a'), 'utf8')}# save ${n}\n`);
        expect(await w.nextBuild(`build after rename-over save ${n}`)).toEqual({
          'w-base': 'fresh',
          'w-a': 'built',
          'w-b': 'built',
          'w-c': 'fresh',
        });
      }
      expect(w.stderr.match(/kbuild watch: changed images\/w-a\/Dockerfile\.j2\n/g)).toHaveLength(
        2,
      );
      expect(w.stderr).not.toContain('kbuild-test~');

      // A broken include: the error at macros.j2's line, and still watching.
      const waits = w.waits().length;
      appendFileSync(macros, '{% if %}\n');
      await w.until('template error', () => w.waits().length > waits);
      expect(w.stderr).toMatch(/^images\/macros\.j2:4:\d+: template error/m);
      expect(w.child.exitCode).toBe(null);
      // Fixed: it builds again (the family as it was: nothing to rebuild).
      writeFileSync(macros, MACROS);
      expect(await w.nextBuild('build after the fix')).toEqual({
        'w-base': 'fresh',
        'w-a': 'fresh',
        'w-b': 'fresh',
        'w-c': 'fresh',
      });
      // A new file in c's context (watched from now on): c alone.
      writeFileSync(join(dir, 'images', 'w-c', 'new.txt'), 'new\n');
      expect(await w.nextBuild('build after a new context file')).toEqual({
        'w-base': 'fresh',
        'w-a': 'fresh',
        'w-b': 'fresh',
        'w-c': 'built',
      });
      expect(w.stderr).toContain('kbuild watch: changed images/w-c/new.txt\n');
      expect(w.waits().at(-1)).toContain('watching 12 files');
      // kbuild's own writes (.kbuild/: logs, state, rendered Dockerfiles) triggered nothing:
      // one build per change made here.
      expect(w.events().filter((e) => e.event === 'run-start')).toHaveLength(6);

      // Ctrl-C during a build: b's long RUN is cancelled as kbuild build's would be, exit 130.
      saveByRename(template('w-b'), `${readFileSync(template('w-b'), 'utf8')}RUN sleep 60\n`);
      await w.until('b building its sleep', () => logSays(dir, 'w-b', 'sleep 60'));
      expect(existsSync(lockFile)).toBe(true);
      process.kill(-w.child.pid!, 'SIGINT');
      const end = await w.exited;
      expect(end).toEqual({ code: 130, signal: null });
      const ends = w.events().filter((e) => e.event === 'image-end' && e.name === 'w-b');
      expect(ends.at(-1)?.status).toBe('cancelled');
      expect(
        w
          .events()
          .filter((e) => e.event === 'run-end')
          .at(-1)?.interrupted,
      ).toBe(true);
      // Nothing left running: not in its process group, nor a build of this project elsewhere.
      expect(groupProcesses(w.child.pid!)).toEqual([]);
      expect(processesMatching(dir)).toEqual([]);
      expect(existsSync(lockFile)).toBe(false);
      expect(w.stderr).toContain('kbuild watch: stopped\n');
    } finally {
      if (w.child.exitCode === null) process.kill(-w.child.pid!, 'SIGKILL');
    }

    // Ctrl-C while waiting: exit 0, as docker compose's and skaffold dev's stop.
    writeFileSync(
      template('w-b'),
      readFileSync(template('w-b'), 'utf8').replace('RUN sleep 60\n', ''),
    );
    const idle = new Watch(['-p', 'w', '--progress', 'json']);
    try {
      await idle.nextBuild('first build of the second watch');
      process.kill(-idle.child.pid!, 'SIGINT');
      expect(await idle.exited).toEqual({ code: 0, signal: null });
      expect(groupProcesses(idle.child.pid!)).toEqual([]);
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      if (idle.child.exitCode === null) process.kill(-idle.child.pid!, 'SIGKILL');
    }
  }, 600_000);
});
