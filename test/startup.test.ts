/**
 * Start-up stays lazy: `kbuild --version` and `--help` load commander and kbuild's command
 * declarations only, and `kbuild graph` loads what rendering a family takes, not the engine,
 * registry or archive code. Checked by what the process loads, never by how long it takes (the
 * times are bench/startup.js's): the compiled bin runs in a child process whose every module
 * resolution is written down by a module loader hook. The bin runs the esbuild bundle of dist/
 * (scripts/bundle.js), where a loaded chunk stands for every module esbuild put in it (its
 * metafile says which): so a heavy module imported eagerly still shows up here, as one of the
 * modules of a chunk the command loaded.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from './helpers/run-cli.js';

const bin = fileURLToPath(new URL('../bin/kbuild.js', import.meta.url));
const root = new URL('../', import.meta.url);
const bundleDir = new URL('dist/bundle/', root).href;
const scratch = mkdtempSync(join(tmpdir(), 'kbuild-startup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Resolves every module as usual and appends its URL to the file given at registration. */
const hooks = `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(log, r.url + '\\n');
  return r;
}`;
const dataUrl = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

let runs = 0;
/** The URLs of every module `kbuild ARGS` loads (the bin run as users run it, in `cwd`). */
function loadedBy(args: string[], cwd: string): string[] {
  const log = join(scratch, `imports-${++runs}.txt`);
  const register = `import { register } from 'node:module';
register(${JSON.stringify(dataUrl(hooks))}, { data: { log: ${JSON.stringify(log)} } });`;
  execFileSync(process.execPath, ['--import', dataUrl(register), bin, ...args], {
    cwd,
    stdio: 'ignore',
  });
  const urls = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
  expect(
    urls.filter((u) => u.startsWith(bundleDir)),
    'bin/kbuild.js ran the unbundled dist/: the bundle is missing or older than it (npm run build)',
  ).not.toEqual([]);
  return urls.flatMap((u) => (u.startsWith(bundleDir) ? modulesOfChunk(u) : [u]));
}

/** The URLs of the modules esbuild put in one chunk of dist/bundle/ (from its metafile). */
function modulesOfChunk(url: string): string[] {
  const meta = JSON.parse(readFileSync(new URL('dist/bundle/meta.json', root), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const chunk = meta.outputs[`dist/bundle/${url.slice(bundleDir.length)}`];
  expect(chunk, `${url} is not in dist/bundle/meta.json`).toBeDefined();
  return Object.keys(chunk!.inputs).map((input) => new URL(input, root).href);
}

/** The npm packages among `urls` (`semver/functions/valid.js` counts as `semver/functions`). */
const packagesOf = (urls: readonly string[]) =>
  [
    ...new Set(
      urls.flatMap((u) => {
        const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(u);
        return m ? [m[1]!] : [];
      }),
    ),
  ].sort();

/** kbuild's own compiled modules among `urls`, as paths under dist/. */
const ownModules = (urls: readonly string[]) =>
  urls.flatMap((u) => {
    const m = /\/dist\/(.*)$/.exec(u);
    return m && !u.includes('/node_modules/') ? [m[1]!] : [];
  });

describe('start-up loads only what the command needs', () => {
  const mini = fixture('mini');

  it.each([[['--version']], [['--help']], [['build', '--help']], [['graph', '--help']]])(
    'kbuild %j: commander and the command declarations, nothing else',
    (args) => {
      const urls = loadedBy(args, mini);
      expect(packagesOf(urls)).toEqual(['commander']);
      // Declarations only: no command's work, no family loading, no core or run module.
      const own = ownModules(urls);
      expect(own).toContain('cli/commands/build.js');
      expect(
        own.filter(
          (f) =>
            /^(core|run|cli\/actions)\//.test(f) ||
            ['cli/load.js', 'cli/commands/shared.js', 'cli/build-run.js'].includes(f),
        ),
      ).toEqual([]);
    },
  );

  it('kbuild graph: the template and yaml libraries, not the engine, registry, glob or archive code', () => {
    const urls = loadedBy(['graph', '-p', 'deb'], mini);
    const packages = packagesOf(urls);
    expect(packages).toEqual(expect.arrayContaining(['commander', 'nunjucks', 'yaml']));
    for (const heavy of ['execa', 'fast-glob', 'tar', '@balena/dockerignore'])
      expect(packages, `graph loaded ${heavy}`).not.toContain(heavy);
    // semver's index loads all of semver; only retention's two functions are needed.
    expect(urls.filter((u) => /\/node_modules\/semver\/index\.js$/.test(u))).toEqual([]);
    const own = ownModules(urls);
    expect(own).toContain('cli/actions/graph.js');
    expect(own.filter((f) => /^(run|adapters\/registry)\//.test(f))).toEqual([]);
    expect(own.filter((f) => /^cli\/actions\/(?!graph\.js)/.test(f))).toEqual([]);
  });
});
