#!/usr/bin/env node
// Thin launcher. `npm run build` (run by `npm ci` through the prepare script) compiles src/ into
// dist/ with tsc, then bundles dist/cli/main.js into dist/bundle/ (scripts/bundle.js: a few
// chunks instead of ~200 modules, for start-up time). The bundle is taken only when it is at least
// as new as the tsc output it is made from: after a bare `npx tsc -p tsconfig.build.json` (the
// bundle then stale) kbuild runs the unbundled dist/ instead.
import { statSync } from 'node:fs';

const mtime = (path) =>
  statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = mtime('../dist/bundle/main.js') >= mtime('../dist/cli/main.js');
// A reader that stops early (`kbuild --help | head -1`) closes the pipe: stop quietly, as a
// program killed by SIGPIPE would, instead of an unhandled 'error' event's stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import(bundled ? '../dist/bundle/main.js' : '../dist/cli/main.js');

process.exitCode = await main(process.argv.slice(2));
