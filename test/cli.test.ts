import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runCli } from './helpers/run-cli.js';

const mini = fixture('mini');

describe('kbuild graph / list / plan on a small family', () => {
  it('gives the graph as json with parents, externals and depth', async () => {
    const r = await runCli(['graph', '--profile', 'deb', '--format', 'json'], mini);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const g = JSON.parse(r.stdout) as {
      profile: string;
      nodes: { name: string; parents: string[]; external: string[]; depth: number }[];
      edges: string[][];
    };
    expect(g.profile).toBe('deb');
    expect(g.nodes).toEqual([
      { name: 'base', parents: [], external: ['debian:bookworm'], depth: 0 },
      { name: 'mid-a', parents: ['base'], external: [], depth: 1 },
      { name: 'mid-b', parents: ['base'], external: [], depth: 1 },
      { name: 'leaf-1', parents: ['mid-a'], external: [], depth: 2 },
      // ARG default resolved, stage alias `build` not an image, COPY --from=build not a dependency
      { name: 'leaf-2', parents: ['mid-b', 'mid-a'], external: [], depth: 2 },
      { name: 'leaf-3', parents: ['leaf-1'], external: [], depth: 3 },
    ]);
    expect(g.edges).toContainEqual(['mid-b', 'leaf-2']);
    expect(g.edges).toHaveLength(6);
  });

  it('prints tree, dot and mermaid forms', async () => {
    const tree = await runCli(['graph', '-p', 'deb', '--format', 'tree'], mini);
    expect(tree.stdout).toBe(
      [
        'base',
        '├── mid-a',
        '│   ├── leaf-1',
        '│   │   └── leaf-3',
        '│   └── leaf-2',
        '└── mid-b',
        '    └── leaf-2 (see above)',
        '',
      ].join('\n'),
    );
    const dot = await runCli(['graph', '-p', 'deb', '--format', 'dot'], mini);
    expect(dot.stdout).toContain('"mid-a" -> "leaf-1";');
    const mermaid = await runCli(['graph', '-p', 'deb', '--format', 'mermaid'], mini);
    expect(mermaid.stdout).toContain('mid_a --> leaf_1');
  });

  it('lists a selection with ancestors, and honours --skip-parents, --with-descendants and groups', async () => {
    const names = async (...args: string[]) => {
      const r = await runCli(['list', '-p', 'deb', '--json', ...args], mini);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { images: { name: string }[] }).images.map((i) => i.name);
    };
    expect(await names('leaf-1')).toEqual(['base', 'mid-a', 'leaf-1']);
    expect(await names('leaf-1', '--skip-parents')).toEqual(['leaf-1']);
    expect(await names('mid-b', '--with-descendants')).toEqual([
      'base',
      'mid-a',
      'mid-b',
      'leaf-2',
    ]);
    expect(await names('leaves', '--skip-parents', '--exclude', 'leaf-3')).toEqual([
      'leaf-1',
      'leaf-2',
    ]);
    expect(await names('/^mid-/', '--skip-parents')).toEqual(['mid-a', 'mid-b']);
  });

  it('marks images unbuildable for a profile, and their descendants', async () => {
    const r = await runCli(['plan', '-p', 'deb-src', '--json', '--no-engine'], mini);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      steps: { name: string; action: string; reason: string }[];
      waves: string[][];
      criticalPath: string[];
    };
    const byName = Object.fromEntries(plan.steps.map((s) => [s.name, s]));
    expect(byName['mid-b']).toMatchObject({ action: 'unbuildable', reason: 'no source build yet' });
    expect(byName['leaf-2']).toMatchObject({
      action: 'unbuildable',
      reason: "parent 'mid-b' cannot be built: no source build yet",
    });
    expect(byName['leaf-3']).toBeUndefined(); // excluded by the profile
    expect(plan.waves).toEqual([['base'], ['mid-a'], ['leaf-1']]); // waves count builds only
    expect(plan.criticalPath).toEqual(['base', 'mid-a', 'leaf-1']);
  });

  it('renders Dockerfiles with the profile, overrides and customizable lists, and writes the build context', async () => {
    const work = mkdtempSync(join(tmpdir(), 'kbuild-render-'));
    try {
      const r = await runCli(
        [
          'render',
          '-p',
          'deb',
          '--work-dir',
          work,
          '--tag',
          'v1',
          '--var',
          'greeting=hi there',
          'leaf-1',
          'leaf-2',
        ],
        mini,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(join(work, 'leaf-1/Dockerfile'), 'utf8')).toBe(
        'FROM acme/debian-mid-a:v1\nRUN echo hi there\n',
      );
      expect(readFileSync(join(work, 'leaf-2/Dockerfile'), 'utf8')).toContain(
        'RUN apt-get install -y jq curl',
      );
      expect(readFileSync(join(work, 'base/hello.txt'), 'utf8')).toBe('hello from base\n');
      expect(existsSync(join(work, 'base/Dockerfile.j2'))).toBe(false);
      expect(existsSync(join(work, 'leaf-3'))).toBe(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('kbuild validate', () => {
  it('passes on the small family', async () => {
    const r = await runCli(['validate', '--all-profiles'], mini);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      'profile deb: ok (6 images, 0 unbuildable)\nprofile deb-src: ok (6 images, 3 unbuildable)\n',
    );
    expect(r.code).toBe(0);
  });

  it('prints the cycle path and exits 1', async () => {
    const r = await runCli(['validate'], fixture('cycle'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('images depend on each other in a cycle: a → b → c → a');
  });

  it('prints template:line for a template syntax error and exits 1', async () => {
    const r = await runCli(['validate', '--profile', 'p'], fixture('template-error'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/images\/broken\/Dockerfile\.j2:5(:\d+)?: template error/);
  });

  it('prints file:line:column and a suggestion for a misspelt profile key, and exits 2', async () => {
    const r = await runCli(['validate'], fixture('bad-profile'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "profiles/p.yaml:3:1: unknown key 'instal_type' in the file — did you mean 'install_type'?",
    );
  });
});

describe('usage errors', () => {
  it('exits 2 for an unknown profile, with a suggestion', async () => {
    const r = await runCli(['list', '-p', 'debb'], mini);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no profile named 'debb' — did you mean 'deb'?");
  });

  it('exits 2 when no profile is given, listing the profiles', async () => {
    const r = await runCli(['list'], mini);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('available: deb, deb-src');
  });

  it('exits 2 for an unknown image in the selection, with a suggestion', async () => {
    const r = await runCli(['list', '-p', 'deb', 'leaf1'], mini);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "the command line: 'leaf1' matches no image or group — did you mean 'leaf-1'?",
    );
  });

  it('exits 2 for an unknown option, and 0 for --help', async () => {
    expect((await runCli(['list', '--nope'], mini)).code).toBe(2);
    const help = await runCli(['graph', '--help'], mini);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--format <format>');
  });
});

describe('kbuild test (usage; real runs are in smoke.integration.test.ts)', () => {
  it('takes the run options, and never adds ancestors (no --skip-parents)', async () => {
    const help = await runCli(['test', '--help'], mini);
    expect(help.code).toBe(0);
    for (const o of ['--threads <n>', '--summary-json <file>', '--logs-dir <dir>', '--engine'])
      expect(help.stdout).toContain(o);
    expect(help.stdout).toContain('--progress <mode>');
    expect(help.stdout).not.toContain('--skip-parents');
    expect((await runCli(['test', '-p', 'deb', '--skip-parents'], mini)).code).toBe(2);
  });

  it('exits 2 for a bad thread count or an unknown image, before looking for an engine', async () => {
    const threads = await runCli(['test', '-p', 'deb', '-j', '0'], mini);
    expect(threads.code).toBe(2);
    expect(threads.stderr).toContain("--threads expects a whole number >= 1, got '0'");
    const unknown = await runCli(['test', '-p', 'deb', 'leaf1'], mini);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("'leaf1' matches no image or group — did you mean 'leaf-1'?");
  });

  it('build takes --test', async () => {
    const help = await runCli(['build', '--help'], mini);
    expect(help.stdout).toMatch(/--test +smoke-test each image after its build, before its\s+push/);
  });
});

describe('the installed bin', () => {
  const bin = fixture('../../bin/kbuild.js');
  afterAll(() => undefined);
  it('runs as a whole process from the compiled dist', () => {
    const out = execFileSync(process.execPath, [bin, 'list', '-p', 'deb', '--json', 'leaf-3'], {
      cwd: mini,
      encoding: 'utf8',
    });
    expect((JSON.parse(out) as { images: unknown[] }).images).toHaveLength(4);
  });
});

describe('plugins and template overrides', () => {
  const dir = fixture('plugins');
  it('gives templates the filters, tests and globals that plugin modules export', async () => {
    const r = await runCli(['render', '-p', 'p', '--stdout'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('LABEL vendor="ACME!"\nEXPOSE 8080\nRUN echo even\n');
  });

  it('stacks override files: each extends the one before, super() reaches down', async () => {
    const r = await runCli(
      [
        'render',
        '-p',
        'p',
        '--stdout',
        '--template-override',
        'overrides/one.j2',
        '--template-override',
        'overrides/two.j2',
      ],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('FROM debian:bookworm\nRUN echo header-one\n');
    expect(r.stdout).toContain('RUN echo footer-one\nRUN echo footer-two\n');
  });

  it('reports a missing override file as a configuration error', async () => {
    const r = await runCli(
      ['render', '-p', 'p', '--stdout', '--template-override', 'nope.j2'],
      dir,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("template override 'nope.j2' does not exist");
  });
});

describe('problems in the image tree, all reported at once', () => {
  it('names both paths of a duplicate image name', async () => {
    const r = await runCli(['validate'], fixture('unknown-parent'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "two images are named 'app': images/app/Dockerfile.j2 and images/dup/app/Dockerfile.j2",
    );
  });

  it('suggests the nearest image for a family-looking FROM, and for settings of unknown images', async () => {
    const work = mkdtempSync(join(tmpdir(), 'kbuild-up-'));
    try {
      // Same tree without the duplicate, so the profile is checked too.
      execFileSync('cp', ['-r', `${fixture('unknown-parent')}/.`, work]);
      rmSync(join(work, 'images/dup'), { recursive: true });
      const r = await runCli(['validate'], work);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        "images/app/Dockerfile.j2 (rendered):2: app is built FROM 'fam/bsae:latest', which looks like an image of this family but names none — did you mean 'base'?",
      );
      expect(r.stderr).toContain("profiles/p.yaml:4:3: no image named 'nginz'");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('--changed-since', () => {
  const git = (dir: string, ...args: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.email=t@t', '-c', 'user.name=t', ...args], {
      encoding: 'utf8',
    });
  const listed = async (dir: string, ...args: string[]) => {
    const r = await runCli(['list', '-p', 'deb', '--json', ...args], dir);
    expect(r.code).toBe(0);
    return {
      names: (JSON.parse(r.stdout) as { images: { name: string }[] }).images.map((i) => i.name),
      note: r.stderr,
    };
  };

  it('selects what a change of a shared macro, a context file or a profile setting reaches, with descendants', async () => {
    const work = mkdtempSync(join(tmpdir(), 'kbuild-since-'));
    try {
      execFileSync('cp', ['-r', `${mini}/.`, work]);
      git(work, 'init', '-q');
      git(work, 'add', '.');
      git(work, 'commit', '-qm', 'start');
      expect((await listed(work, '--changed-since', 'HEAD')).names).toEqual([]);

      // macros.j2 is imported by mid-a and leaf-2; leaf-1 and leaf-3 descend from mid-a.
      execFileSync('sed', [
        '-i',
        's/install -y/install -y --quiet/',
        join(work, 'images/macros.j2'),
      ]);
      const macros = await listed(work, '--changed-since', 'HEAD', '--skip-parents');
      expect(macros.names).toEqual(['mid-a', 'leaf-1', 'leaf-2', 'leaf-3']);
      expect(macros.note).toContain('changed since HEAD: mid-a, leaf-2');
      git(work, 'commit', '-qam', 'macros');

      // A context file of the base: everything.
      execFileSync('sh', ['-c', `echo more >> ${join(work, 'images/base/hello.txt')}`]);
      expect((await listed(work, '--changed-since', 'HEAD')).names).toHaveLength(6);
      git(work, 'commit', '-qam', 'base');

      // A profile setting of one image; patterns narrow the changed set.
      execFileSync('sed', [
        '-i',
        's/extra_packages: \\[curl\\]/extra_packages: [curl, git]/',
        join(work, 'profiles/deb.yaml'),
      ]);
      expect((await listed(work, '--changed-since', 'HEAD', '--skip-parents')).names).toEqual([
        'leaf-2',
      ]);
      // Since the start the base changed, so everything is reached; a pattern narrows that.
      expect(
        (await listed(work, '--changed-since', 'HEAD~2', 'leaf-1', '--skip-parents')).names,
      ).toEqual(['leaf-1']);
      expect((await listed(work, '--changed-since', 'HEAD~2', 'leaf-1')).names).toEqual([
        'base',
        'mid-a',
        'leaf-1',
      ]);

      const bad = await runCli(['list', '-p', 'deb', '--changed-since', 'no-such-ref'], work);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("'no-such-ref' names no commit");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('kbuild schema', () => {
  it('prints the JSON Schema validation itself uses: every key, nothing else', async () => {
    const r = await runCli(['schema', 'profile'], mini);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as {
      properties: Record<string, { enum?: string[] }>;
      additionalProperties: boolean;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties['install_type']!.enum).toEqual(['binary', 'source']);
    expect(Object.keys(schema.properties)).toContain('image_settings');
    expect((await runCli(['schema', 'nope'], mini)).code).toBe(2);
  });
});
