/**
 * The command line's build inputs of issue 15 item 10: `--set IMAGE.args.KEY=VALUE`,
 * `--set IMAGE.tags=…`, extra `-t` tags and `--secret`: how they are parsed, and what they do to
 * fingerprints (an arg and a secret's id are inputs, a secret's content and the tags are not).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashContext } from '../src/adapters/context-hash.js';
import { parseSet, splitTags, type SetOverride } from '../src/cli/image-overrides.js';
import { resolveSets } from '../src/cli/set-images.js';
import { UsageError } from '../src/cli/io.js';
import { loadProfileFamily, loadWorkspace, type ProfileOptions } from '../src/cli/load.js';
import { parseSecret, resolveSecrets, type SecretFlag } from '../src/cli/secrets.js';
import { fingerprintFamily } from '../src/core/plan/freshness.js';
import { diffRecords, formatReason } from '../src/core/plan/fingerprint.js';
import type { ImageName } from '../src/core/model.js';
import { fixture, runCli } from './helpers/run-cli.js';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'kbuild-inputs-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The usage error `f` throws (its message), or undefined. */
const usageError = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  return undefined;
};

const names = ['base', 'mid-a', 'mid-b', 'leaf-1', 'leaf-2', 'leaf-3'] as ImageName[];
const groups = { leaves: ['leaf-*'] };

describe('--set', () => {
  it('parses IMAGE.args.KEY=VALUE and IMAGE.tags=TAG,TAG (the value may hold = and .)', () => {
    expect(parseSet('leaf-1.args.URL=http://x/?a=b')).toEqual({
      flag: "--set 'leaf-1.args.URL=http://x/?a=b'",
      pattern: 'leaf-1',
      key: 'args',
      arg: 'URL',
      value: 'http://x/?a=b',
    });
    expect(parseSet('*.args.EMPTY=')).toMatchObject({ pattern: '*', arg: 'EMPTY', value: '' });
    expect(parseSet('nova-*.tags=a, b')).toMatchObject({ pattern: 'nova-*', key: 'tags' });
  });

  it.each([
    ['child.target=x', "'target' is not a key kbuild sets per image"],
    ['child.foo', "no '='"],
    ['child.args.X', "no '='"],
    ['child.arg.X=1', "did you mean 'child.args.X=1'?"],
    ['child.tag=v1', "did you mean 'child.tags=v1'?"],
    ['child.args=1', "IMAGE.args needs the arg's name: child.args.KEY=1"],
    ['child.args.A B=1', "'A B' is not a build arg name"],
    ['child.tags=a,,b', 'IMAGE.tags needs one or more tags'],
    ['tags=x', "'tags' names no IMAGE.KEY"],
  ])('%s: a usage error naming the value and the accepted forms', (v, why) => {
    const m = usageError(() => parseSet(v));
    expect(m).toContain(`--set '${v}': ${why}`);
    expect(m).toContain('--set takes IMAGE.args.KEY=VALUE or IMAGE.tags=TAG[,TAG...]');
  });

  it('matches IMAGE with the selection matcher: names, globs, * and groups; later values win', () => {
    const sets: SetOverride[] = [
      parseSet('*.args.A=all'),
      parseSet('leaf-*.args.A=leaf'),
      parseSet('leaf-2.args.B=two'),
      parseSet('leaves.tags=l1,l2'),
      parseSet('base.tags=b'),
    ];
    const r = resolveSets(sets, names, groups);
    expect(r.imageArgs).toEqual({
      base: { A: 'all' },
      'mid-a': { A: 'all' },
      'mid-b': { A: 'all' },
      'leaf-1': { A: 'leaf' },
      'leaf-2': { A: 'leaf', B: 'two' },
      'leaf-3': { A: 'leaf' },
    });
    expect(Object.keys(r.imageTags).sort()).toEqual(['base', 'leaf-1', 'leaf-2', 'leaf-3']);
    expect(r.imageTags['leaf-1']).toEqual([
      { tag: 'l1', from: "--set 'leaves.tags=l1,l2'" },
      { tag: 'l2', from: "--set 'leaves.tags=l1,l2'" },
    ]);
  });

  it('an IMAGE that matches nothing is a usage error with the nearest name', () => {
    expect(usageError(() => resolveSets([parseSet('leaf1.args.X=1')], names, groups))).toBe(
      "--set 'leaf1.args.X=1': 'leaf1' matches no image (did you mean 'leaf-1'?) — --set takes IMAGE.args.KEY=VALUE or IMAGE.tags=TAG[,TAG...] (IMAGE: an image name, a group, a glob like 'nova-*', or '*' for every image)",
    );
    expect(usageError(() => resolveSets([parseSet('nova-*.tags=x')], names, groups))).toContain(
      "'nova-*' matches no image",
    );
  });
});

describe('-t a -t b', () => {
  it('the first is the shared tag, the others extra tags', () => {
    expect(splitTags([])).toEqual({ extraTags: [] });
    expect(splitTags(['t1', 't2', 't3'])).toEqual({
      tag: 't1',
      extraTags: [
        { tag: 't2', from: '-t t2' },
        { tag: 't3', from: '-t t3' },
      ],
    });
  });
});

describe('--secret', () => {
  it("parses docker's forms", () => {
    expect(parseSecret('id=tok,src=./a')).toEqual({
      flag: "--secret 'id=tok,src=./a'",
      id: 'tok',
      src: './a',
    });
    expect(parseSecret('id=tok,source=/a,type=file')).toMatchObject({ id: 'tok', src: '/a' });
    expect(parseSecret('type=env,id=tok,env=TOKEN')).toMatchObject({ id: 'tok', env: 'TOKEN' });
  });

  it.each([
    ['src=/a', 'no id'],
    ['id=tok', "no src=PATH or env=VAR for 'tok'"],
    ['id=tok,src=/a,env=B', 'give src or env, not both'],
    ['id=tok,foo=1', "unknown key 'foo'"],
    ['id=tok,src=/a,id=x', "'id' given twice"],
    ['id=a b,src=/a', "id 'a b' is not letters"],
    ['tok', "'tok' is not key=value"],
    ['id=tok,type=ssh,src=/a', "type 'ssh' is neither file nor env"],
  ])('%s: a usage error naming the value and the accepted forms', (v, why) => {
    const m = usageError(() => parseSecret(v));
    expect(m).toContain(`--secret '${v}': ${why}`);
    expect(m).toContain('--secret takes id=ID,src=PATH or id=ID,env=VAR');
  });

  it('a src file that does not exist, an unset variable, an id given twice: usage errors naming them', () => {
    const d = temp();
    writeFileSync(join(d, 'tok'), 'x');
    const flags = (...v: string[]): SecretFlag[] => v.map(parseSecret);
    expect(resolveSecrets(d, { T: 'v' }, flags('id=a,src=tok', 'id=b,env=T'))).toEqual([
      { id: 'a', src: join(d, 'tok') },
      { id: 'b', env: 'T' },
    ]);
    expect(usageError(() => resolveSecrets(d, {}, flags('id=a,src=missing')))).toBe(
      `--secret 'id=a,src=missing': no such file: ${join(d, 'missing')}`,
    );
    expect(usageError(() => resolveSecrets(d, {}, flags('id=a,src=.')))).toContain('is not a file');
    expect(usageError(() => resolveSecrets(d, {}, flags('id=b,env=NOPE')))).toContain(
      'the environment variable NOPE is not set',
    );
    expect(
      usageError(() => resolveSecrets(d, {}, flags('id=a,src=tok', 'id=a,src=tok'))),
    ).toContain("the secret id 'a' is given twice");
  });
});

describe('fingerprints', () => {
  const io = (cwd: string) => ({
    out: () => undefined,
    err: () => undefined,
    cwd,
    env: { TOKEN: 'env content' },
  });
  async function family(dir: string, opts: Partial<ProfileOptions> = {}) {
    const ws = await loadWorkspace(io(dir), { project: dir, templateOverride: [] });
    if (!ws.ok) throw new Error(JSON.stringify(ws.failures));
    const fam = loadProfileFamily(
      io(dir),
      ws.value,
      { var: [], buildArg: [], templateOverride: [], tag: 'deb', ...opts },
      'deb',
    );
    if (!fam.ok) throw new Error(JSON.stringify(fam.failures));
    return fam.value;
  }
  async function fingerprints(dir: string, opts: Partial<ProfileOptions> = {}) {
    const fam = await family(dir, opts);
    const all = new Set(fam.graph.order);
    const contexts = new Map<ImageName, Record<string, string>>();
    for (const n of all)
      contexts.set(n, await hashContext(join(dir, 'images', fam.images.get(n)!.spec.dir)));
    return fingerprintFamily(fam, all, {
      contexts,
      bases: new Map([['debian:bookworm', 'sha256:1']]),
      engine: 'docker',
      labels: () => ({}),
    });
  }
  const changedBetween = (
    a: Awaited<ReturnType<typeof fingerprints>>,
    b: Awaited<ReturnType<typeof fingerprints>>,
  ) => [...a.keys()].filter((k) => a.get(k)?.fingerprint !== b.get(k)?.fingerprint).sort();
  const mini = () => {
    const d = temp();
    cpSync(fixture('mini'), d, { recursive: true });
    return d;
  };

  it('--set IMAGE.args changes that image and its descendants, and plan says why', async () => {
    const d = mini();
    const before = await fingerprints(d);
    const after = await fingerprints(d, { set: [parseSet('mid-a.args.GREETING=hi')] });
    expect(changedBetween(before, after)).toEqual(['leaf-1', 'leaf-2', 'leaf-3', 'mid-a']);
    const why = (n: string) =>
      diffRecords(before.get(n as ImageName)!.record, after.get(n as ImageName)!.record).map(
        formatReason,
      );
    expect(why('mid-a')).toEqual(['build-args-changed (GREETING)']);
    expect(why('leaf-1')).toEqual(['parent-changed (mid-a)']);
    // The same value again: the same fingerprints (nothing to rebuild).
    const again = await fingerprints(d, { set: [parseSet('mid-a.args.GREETING=hi')] });
    expect(changedBetween(after, again)).toEqual([]);
  });

  it('--set args win over --build-arg and the profile, and apply to FROM like any build arg', async () => {
    const d = mini();
    const fam = await family(d, {
      buildArg: ['HTTP_PROXY=global'],
      set: [
        parseSet('leaf-2.args.HTTP_PROXY=mine'),
        parseSet('leaf-2.args.BUILDER=debian:bookworm'),
      ],
    });
    expect(fam.images.get('leaf-1' as ImageName)!.buildArgs).toEqual({ HTTP_PROXY: 'global' });
    expect(fam.images.get('leaf-2' as ImageName)!.buildArgs).toMatchObject({ HTTP_PROXY: 'mine' });
    // leaf-2's `ARG BUILDER=<mid-b>` / `FROM $BUILDER` now names an external image: mid-b is no parent.
    expect(fam.graph.nodes.get('leaf-2' as ImageName)!.parents).toEqual(['mid-a']);
  });

  it("a secret's id is an input of the images that mount it; its content is not", async () => {
    const d = mini();
    writeFileSync(
      join(d, 'images/leaf-1/Dockerfile.j2'),
      "FROM {{ image_ref('mid-a') }}\nRUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c\n",
    );
    writeFileSync(join(d, 'secret-a'), 'first content');
    writeFileSync(join(d, 'secret-b'), 'second content');
    const none = await fingerprints(d);
    const a = await fingerprints(d, { secret: [parseSecret('id=tok,src=secret-a')] });
    const b = await fingerprints(d, { secret: [parseSecret('id=tok,src=secret-b')] });
    const env = await fingerprints(d, { secret: [parseSecret('id=tok,env=TOKEN')] });
    // Other content, or another source of the same id: the same fingerprints.
    expect(changedBetween(a, b)).toEqual([]);
    expect(changedBetween(a, env)).toEqual([]);
    // The id given or not: the image mounting it and its descendants.
    expect(changedBetween(none, a)).toEqual(['leaf-1', 'leaf-3']);
    const record = a.get('leaf-1' as ImageName)!.record;
    expect(record.secrets).toEqual(['tok']);
    expect(JSON.stringify(record)).not.toContain('content');
    expect(diffRecords(none.get('leaf-1' as ImageName)!.record, record).map(formatReason)).toEqual([
      'secrets-changed (tok)',
    ]);
    // An id no image mounts changes nothing.
    const unused = await fingerprints(d, { secret: [parseSecret('id=other,src=secret-a')] });
    expect(changedBetween(none, unused)).toEqual([]);
  });

  it('extra tags change no fingerprint; every image carries them after the shared tag', async () => {
    const d = mini();
    const opts = {
      extraTags: splitTags(['deb', 'v1', 'latest']).extraTags,
      set: [parseSet('leaf-1.tags=special,v1')],
    };
    const before = await fingerprints(d);
    expect(changedBetween(before, await fingerprints(d, opts))).toEqual([]);
    const { naming } = await family(d, { ...opts, registry: 'reg:5000' });
    expect(naming.extraTags('leaf-1')).toEqual(['v1', 'latest', 'special']);
    expect(naming.tags('base')).toEqual([
      'acme/debian-base:deb',
      'reg:5000/acme/debian-base:deb',
      'acme/debian-base:v1',
      'reg:5000/acme/debian-base:v1',
      'acme/debian-base:latest',
      'reg:5000/acme/debian-base:latest',
    ]);
  });
});

describe('on the command line', () => {
  const project = () => {
    const d = temp();
    cpSync(fixture('mini'), d, { recursive: true });
    return d;
  };

  it('plan --set shows the override; malformed values, unknown images and bad tags exit 2', async () => {
    const d = project();
    const ok = await runCli(
      [
        'plan',
        '-p',
        'deb',
        '--no-engine',
        '--json',
        '--set',
        'leaf-2.args.BUILDER=debian:bookworm',
      ],
      d,
    );
    expect(ok.code, ok.stderr).toBe(0);
    const steps = (JSON.parse(ok.stdout) as { steps: { name: string; parents: string[] }[] }).steps;
    expect(steps.find((s) => s.name === 'leaf-2')?.parents).toEqual(['mid-a']);
    for (const [args, text] of [
      [['--set', 'leaf-1.target=x'], "--set 'leaf-1.target=x': 'target' is not a key"],
      [['--set', 'lef-1.args.X=1'], "'lef-1' matches no image (did you mean 'leaf-1'?)"],
      [['--set', 'leaf-1.tags=repo:v1'], '--set \'leaf-1.tags=repo:v1\': tag "repo:v1"'],
      [['-t', 'deb', '-t', '-bad'], '-t -bad:'],
      [['--secret', 'id=tok,src=nope'], `no such file: ${join(d, 'nope')}`],
    ] as const) {
      const r = await runCli(['plan', '-p', 'deb', '--no-engine', ...args], d);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(text);
    }
  });

  it("build --help describes --set, repeated -t and --secret; plan, explain, verify and prune take --secret too (their fingerprints are build's)", async () => {
    const help = (await runCli(['build', '--help'], project())).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--set <IMAGE.args.KEY=VALUE|IMAGE.tags=TAG,…> per-image override');
    expect(help).toContain(
      'repeated (-t a -t b): the first is the shared tag, the others extra tags',
    );
    expect(help).toContain(
      '--secret <id=ID,src=PATH|env=VAR> build secret for RUN --mount=type=secret',
    );
    for (const cmd of ['plan', 'explain', 'verify', 'prune'])
      expect((await runCli([cmd, '--help'], project())).stdout).toContain('--secret <id=ID');
    expect((await runCli(['test', '--help'], project())).stdout).not.toContain('--set');
  });

  it('kbuild test takes one -t (extra tags are made by build)', async () => {
    const r = await runCli(['test', '-p', 'deb', '-t', 'a', '-t', 'b'], project());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('kbuild test takes one -t/--tag (got 2)');
  });
});
