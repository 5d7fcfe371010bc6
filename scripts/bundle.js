// Bundles the compiled CLI (dist/cli/main.js, tsc's output) into dist/bundle/ with esbuild, for
// start-up time (issue 14): Node 20 has no compile cache for modules, and resolving, reading and
// compiling the ~200 modules of a `kbuild graph` (kbuild's own, yaml's 73 CommonJS files,
// nunjucks', commander) one by one cost about a third of it. Run by `npm run build` (and so by
// `npm ci` through `prepare`) right after tsc.
//
// Code-split: dist/bundle/main.js holds the command line and the command declarations only; each
// command's work (the `import()` of src/cli/actions/*) is a chunk of its own, loaded when the
// command runs, with the code several commands share in common chunks. Not minified (stack traces
// stay readable). The metafile (dist/bundle/meta.json) says which modules each chunk holds:
// test/startup.test.ts reads it to check what a command loads.
//
// bin/kbuild.js takes the bundle only when it is at least as new as dist/cli/main.js, so a bare
// `npx tsc -p tsconfig.build.json` after it (a stale bundle) runs the unbundled dist/ instead.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli/main.js'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The npm packages kbuild depends on are CommonJS mostly; their require() of node's modules needs
  // a real require in an ES module bundle.
  banner: {
    js: "import { createRequire as kbuildCreateRequire } from 'node:module';\nconst require = kbuildCreateRequire(import.meta.url);",
  },
  // nunjucks requires these for its file watcher only (never used by kbuild; not installed).
  external: ['chokidar', 'fsevents'],
  // tsc's `//# sourceMappingURL` comments point to files that are not next to the chunks.
  sourcemap: false,
  legalComments: 'inline',
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(`${outdir}/meta.json`, JSON.stringify(result.metafile));
