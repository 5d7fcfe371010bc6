/**
 * What V8 compiled of each cached template, kept beside it (`<key>.v8` next to `<key>.js` in
 * .kbuild/cache/templates), so the next run neither parses the template's code nor compiles its
 * functions again: with every template cached, that was most of a `kbuild graph` (issue 14).
 *
 * The data is made after the templates ran (on the next turn of the event loop after the first
 * evaluation, by when a whole family has rendered), so it holds the functions V8 compiled lazily
 * while rendering, not only the top level. V8 itself refuses data of another V8 version or other
 * flags (then it is made again); it cannot tell two sources of the same length apart, so each file
 * starts with a line naming the jinja layer's hash and the code's length, as the .js files do: a
 * key and a layer name one code. Same trust as the .js files (see template-cache.ts); nothing here
 * fails a command: unreadable or unwritable data just means compiling as without it.
 */
import { readFileSync } from 'node:fs';
import { replaceFile } from './replace-file.js';
import { Script } from 'node:vm';

const HEADER = 'kbuild v8 code cache ';

/**
 * A function that runs template code as `new Function(code)()` does, through V8 data kept in
 * `fileOf(key)` (undefined: not kept). Data is written only when it was missing or refused.
 */
export function codeCacheRunner(
  fileOf: (key: string) => string | undefined,
  layerHash: string,
): (key: string, code: string) => unknown {
  let pending: { script: Script; path: string; header: string }[] = [];
  let writable = true;

  function writePending(): void {
    const scripts = pending;
    pending = [];
    for (const { script, path, header } of scripts) {
      if (!writable) return;
      // Read-only or full: no more writes this run.
      writable = replaceFile(path, Buffer.concat([Buffer.from(header), script.createCachedData()]));
    }
  }

  return (key, code) => {
    const path = fileOf(key);
    const header = `${HEADER}${layerHash} ${code.length}\n`;
    let cachedData: Buffer | undefined;
    if (path !== undefined) {
      try {
        const data = readFileSync(path);
        if (data.subarray(0, header.length).toString('latin1') === header)
          cachedData = data.subarray(header.length);
      } catch {
        // none yet
      }
    }
    // The body of `new Function(code)`, as a script whose value is that function.
    const script = new Script(`(function () {\n${code}\n})`, {
      filename: path ?? 'kbuild-template',
      ...(cachedData ? { cachedData } : {}),
    });
    if (path !== undefined && writable && (!cachedData || script.cachedDataRejected)) {
      if (pending.length === 0) setImmediate(writePending);
      pending.push({ script, path, header });
    }
    return (script.runInThisContext() as () => unknown)();
  };
}
