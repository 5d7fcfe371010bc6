/**
 * The architecture DESIGN.md promises, checked: the lint rules that hold the folder boundaries
 * really fire (probe files linted against eslint.config.js), and the source tree keeps its shape
 * (small files, small folders, no import cycles, a pure core). Fast: no engine, no type-checking.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Lint probes
// ---------------------------------------------------------------------------------------------

const boundaryRules = [
  'no-restricted-imports',
  'no-restricted-globals',
  'no-restricted-properties',
  'no-restricted-syntax',
] as const;
type BoundaryRule = (typeof boundaryRules)[number];

/** One line of probe source and the rule that must report it (null: no boundary rule may). */
interface Construct {
  what: string;
  code: string;
  rule: BoundaryRule | null;
}

interface Probe {
  /** Where the probe pretends to live; it is never written to disk. */
  filePath: string;
  constructs: Construct[];
}

const imports = 'no-restricted-imports';
const globalsRule = 'no-restricted-globals';
const properties = 'no-restricted-properties';
const syntax = 'no-restricted-syntax';

/** What src/core may not do. `up` is the relative path from the probe's folder to src/. */
function impureCore(up: string): Construct[] {
  return [
    {
      what: "import 'node:fs/promises'",
      code: "import { readFile } from 'node:fs/promises';",
      rule: imports,
    },
    {
      what: "import 'fs/promises'",
      code: "import { writeFile } from 'fs/promises';",
      rule: imports,
    },
    { what: "import 'node:fs'", code: "import { statSync } from 'node:fs';", rule: imports },
    {
      what: "import 'node:child_process'",
      code: "import { execFile } from 'node:child_process';",
      rule: imports,
    },
    {
      what: "import 'node:dns/promises'",
      code: "import { lookup } from 'node:dns/promises';",
      rule: imports,
    },
    { what: "import 'execa'", code: "import { execa } from 'execa';", rule: imports },
    {
      what: "import 'node:process'",
      code: "import { env as processEnv } from 'node:process';",
      rule: imports,
    },
    {
      what: "import 'node:timers/promises'",
      code: "import { setTimeout as sleep } from 'node:timers/promises';",
      rule: imports,
    },
    {
      what: "import('node:fs/promises')",
      code: "export const lazyFs = import('node:fs/promises');",
      rule: syntax,
    },
    {
      what: `import '${up}run/build.js'`,
      code: `import { runBuild } from '${up}run/build.js';`,
      rule: imports,
    },
    {
      what: `import type '${up}run/ports.js'`,
      code: `import type { Engine } from '${up}run/ports.js';`,
      rule: imports,
    },
    {
      what: `export from '${up}adapters/docker.js'`,
      code: `export { detectDocker } from '${up}adapters/docker.js';`,
      rule: imports,
    },
    {
      what: `import '${up}report/tty.js'`,
      code: `import { ttyReporter } from '${up}report/tty.js';`,
      rule: imports,
    },
    {
      what: `import '${up}cli/main.js'`,
      code: `import { main } from '${up}cli/main.js';`,
      rule: imports,
    },
    {
      what: `import('${up}run/build.js')`,
      code: `export const lazyRun = import('${up}run/build.js');`,
      rule: syntax,
    },
    { what: 'Date.now()', code: 'export const now = Date.now();', rule: properties },
    { what: 'Math.random()', code: 'export const dice = Math.random();', rule: properties },
    { what: 'new Date()', code: 'export const today = new Date();', rule: syntax },
    { what: 'Date()', code: 'export const todayText = Date();', rule: syntax },
    {
      what: 'performance.now()',
      code: 'export const tick = performance.now();',
      rule: globalsRule,
    },
    {
      what: 'fetch(...)',
      code: "export const page = fetch('http://127.0.0.1/');",
      rule: globalsRule,
    },
    { what: 'process.env', code: 'export const env = process.env;', rule: globalsRule },
    {
      what: 'globalThis.process',
      code: 'export const proc = globalThis.process;',
      rule: properties,
    },
    {
      what: 'setTimeout',
      code: 'export const timer = setTimeout(() => undefined, 1);',
      rule: globalsRule,
    },
    {
      what: 'setInterval',
      code: 'export const beat = setInterval(() => undefined, 1);',
      rule: globalsRule,
    },
  ];
}

/** What src/run may not do. */
function impureRun(up: string): Construct[] {
  return [
    { what: 'process.env', code: 'export const env = process.env;', rule: globalsRule },
    {
      what: 'globalThis.process',
      code: 'export const proc = globalThis.process;',
      rule: properties,
    },
    { what: "import 'node:process'", code: "import { argv } from 'node:process';", rule: imports },
    { what: "import 'process'", code: "import { cwd } from 'process';", rule: imports },
    {
      what: "import 'node:fs/promises'",
      code: "import { readFile } from 'node:fs/promises';",
      rule: imports,
    },
    {
      what: "import 'child_process'",
      code: "import { spawn } from 'child_process';",
      rule: imports,
    },
    { what: "import 'fast-glob'", code: "import glob from 'fast-glob';", rule: imports },
    {
      what: "import('node:net')",
      code: "export const lazyNet = import('node:net');",
      rule: syntax,
    },
    {
      what: `import '${up}adapters/docker.js'`,
      code: `import { detectDocker } from '${up}adapters/docker.js';`,
      rule: imports,
    },
    {
      what: `import type '${up}report/tty.js'`,
      code: `import type { TtyOptions } from '${up}report/tty.js';`,
      rule: imports,
    },
    {
      what: `export from '${up}cli/main.js'`,
      code: `export { main } from '${up}cli/main.js';`,
      rule: imports,
    },
  ];
}

/** adapters and report never import cli. */
function wiringOutsideCli(up: string): Construct[] {
  return [
    {
      what: `import '${up}cli/main.js'`,
      code: `import { main } from '${up}cli/main.js';`,
      rule: imports,
    },
    {
      what: `import('${up}cli/main.js')`,
      code: `export const lazyMain = import('${up}cli/main.js');`,
      rule: syntax,
    },
  ];
}

const clean = (what: string, code: string): Construct => ({ what, code, rule: null });

/** Probes that break a rule on every line. */
const violating: Probe[] = [
  { filePath: 'src/core/plan/lint-probe.ts', constructs: impureCore('../../') },
  { filePath: 'src/core/lint-probe.ts', constructs: impureCore('../') },
  { filePath: 'src/core/jinja/deeper/lint-probe.ts', constructs: impureCore('../../../') },
  { filePath: 'src/run/lint-probe.ts', constructs: impureRun('../') },
  { filePath: 'src/run/pool/lint-probe.ts', constructs: impureRun('../../') },
  { filePath: 'src/adapters/lint-probe.ts', constructs: wiringOutsideCli('../') },
  { filePath: 'src/adapters/registry/lint-probe.ts', constructs: wiringOutsideCli('../../') },
  { filePath: 'src/report/lint-probe.ts', constructs: wiringOutsideCli('../') },
];

/** Probes that stay inside the rules: not one message of any rule. */
const allowed: Probe[] = [
  {
    filePath: 'src/core/plan/lint-probe.ts',
    constructs: [
      clean("import 'node:path'", "import { join } from 'node:path';"),
      clean("import 'node:crypto' (hashing is pure)", "import { createHash } from 'node:crypto';"),
      clean("import '../model.js'", "import type { ImageName } from '../model.js';"),
      clean(
        "import '../registry/…' (core's own registry folder)",
        "import { parseRetention } from '../registry/retention.js';",
      ),
      clean("import '../jinja/…'", "import { createRenderer } from '../jinja/render.js';"),
      clean("import './plan.js'", "export { planBuild } from './plan.js';"),
      clean('new Date(value)', 'export const epoch = new Date(0);'),
      clean(
        'Date.UTC / Date.parse',
        "export const day = Date.UTC(2020, 0, 1) + Date.parse('2020-01-01');",
      ),
      clean('uses', 'export const used = [join, createHash, parseRetention, createRenderer];'),
      clean('type use', 'export type Name = ImageName;'),
    ],
  },
  {
    filePath: 'src/core/plan/lint-probe.test.ts',
    constructs: [
      clean('a core test may read files', "import { readFile } from 'node:fs/promises';"),
      clean(
        'a core test may take the time',
        'export const now = Date.now() + new Date().getTime();',
      ),
      clean('a core test may read the env', 'export const env = [process.env, readFile];'),
    ],
  },
  {
    filePath: 'src/run/lint-probe.ts',
    constructs: [
      clean("import '../core/…'", "import { buildGraph } from '../core/graph.js';"),
      clean("import './ports.js'", "import type { Engine } from './ports.js';"),
      clean(
        'run may wait (timers are not process access)',
        'export const later = setTimeout(() => buildGraph, 1);',
      ),
      clean('run may take the time', 'export const at = Date.now();'),
      clean('type use', 'export type E = Engine;'),
    ],
  },
  {
    filePath: 'src/adapters/lint-probe.ts',
    constructs: [
      clean('adapters do I/O', "import { readFile } from 'node:fs/promises';"),
      clean('adapters run tools', "import { execa } from 'execa';"),
      clean('adapters implement ports', "import type { Engine } from '../run/ports.js';"),
      clean('adapters may read the env', 'export const env = process.env;'),
      clean('uses', 'export const used = [readFile, execa];'),
      clean('type use', 'export type E = Engine;'),
    ],
  },
];

const sourceOf = (probe: Probe): string => probe.constructs.map((c) => c.code).join('\n') + '\n';

interface Found {
  ruleId: string | null;
  line: number;
  message: string;
}

/** Lint results by probe (one path may carry a violating and an allowed probe). */
const results = new Map<Probe, Found[]>();

beforeAll(async () => {
  const eslint = new ESLint({
    cwd: repoRoot,
    // The probes are not in the TS project (they exist only here), and the boundary rules need
    // no types: lint them untyped. Everything else of eslint.config.js applies as written.
    overrideConfig: [
      {
        files: ['**/lint-probe.ts', '**/lint-probe.test.ts'],
        ...tseslint.configs.disableTypeChecked,
      },
    ] as Linter.Config[],
  });
  for (const probe of [...violating, ...allowed]) {
    const [result] = await eslint.lintText(sourceOf(probe), {
      filePath: join(repoRoot, probe.filePath),
    });
    const found = (result?.messages ?? []).map((m) => ({
      ruleId: m.ruleId,
      line: m.line,
      message: m.message,
    }));
    // A probe that does not parse or is ignored proves nothing.
    expect(result, `${probe.filePath}: no lint result`).toBeDefined();
    expect(
      found.filter((m) => m.ruleId === null),
      `${probe.filePath}: parse error or ignored`,
    ).toEqual([]);
    results.set(probe, found);
  }
});

const isBoundary = (ruleId: string | null): boolean =>
  (boundaryRules as readonly (string | null)[]).includes(ruleId);

describe('lint enforces the folder boundaries', () => {
  for (const probe of violating) {
    describe(probe.filePath, () => {
      probe.constructs.forEach((construct, index) => {
        const line = index + 1;
        it(`${construct.what} is reported by ${construct.rule} (line ${line})`, () => {
          const onLine = results.get(probe)!.filter((m) => m.line === line && isBoundary(m.ruleId));
          expect(
            onLine.map((m) => m.ruleId),
            `${probe.filePath}:${line} \`${construct.code}\``,
          ).toContain(construct.rule);
        });
      });

      it('reports nothing but those constructs, each once', () => {
        const got = results
          .get(probe)!
          .filter((m) => isBoundary(m.ruleId))
          .map((m) => `${m.line} ${m.ruleId}`);
        const want = probe.constructs.map((c, index) => `${index + 1} ${c.rule}`);
        expect(got.sort()).toEqual(want.sort());
      });
    });
  }

  for (const probe of allowed) {
    it(`${probe.filePath}: ${probe.constructs.map((c) => c.what).join('; ')}: no message`, () => {
      const found = results.get(probe)!.map((m) => {
        const code = probe.constructs[m.line - 1]?.code ?? '?';
        return `${probe.filePath}:${m.line} ${m.ruleId}: ${m.message} \`${code}\``;
      });
      expect(found).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Shape of src/
// ---------------------------------------------------------------------------------------------

const maxLines = 700;
const maxTsPerFolder = 20;

/** Every .ts file under src/, as repo-relative paths with '/'. */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) out.push(toRepoPath(path));
    }
  };
  walk(join(repoRoot, 'src'));
  return out.sort();
}

const toRepoPath = (absolute: string): string => relative(repoRoot, absolute).split(sep).join('/');

function lineCount(text: string): number {
  if (text === '') return 0;
  const lines = text.split('\n').length;
  return text.endsWith('\n') ? lines - 1 : lines;
}

interface RelativeImport {
  from: string;
  specifier: string;
  /** Repo-relative path the specifier points at (resolved to the .ts file when one exists). */
  target: string;
  /** Whether target is a .ts file of src/ (a node of the import graph). */
  resolved: boolean;
  /** Whether target exists at all (a .json, a file outside src/ count). */
  exists: boolean;
}

/**
 * The relative imports of a file: `import … from`, `import type`, `export … from`, `import './x'`
 * and `import('./x')` (TypeScript's own scanner, so comments and strings are not mistaken).
 */
function relativeImports(file: string, text: string, known: ReadonlySet<string>): RelativeImport[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
    .map((specifier) => {
      const base = toRepoPath(resolve(repoRoot, dirname(file), specifier));
      const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`, base];
      const hit = candidates.find((c) => known.has(c));
      const target = hit ?? base;
      const exists = hit !== undefined || candidates.some((c) => existsSync(join(repoRoot, c)));
      return { from: file, specifier, target, resolved: hit !== undefined, exists };
    });
}

/** Strongly connected components of more than one file (or a file importing itself), each as one cycle path. */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  // Tarjan, recursive: src/ is a few hundred files.
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v))
        components.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  // One shortest cycle through the first file of each component, for the message.
  return components.map((component) => {
    const members = new Set(component);
    const start = component[0]!;
    const parent = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of graph.get(v) ?? []) {
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(parent.get(path[0]!)!);
          return [...path, start];
        }
        if (members.has(w) && !parent.has(w)) {
          parent.set(w, v);
          queue.push(w);
        }
      }
    }
    return component;
  });
}

describe('the shape of src/', () => {
  const files = sourceFiles();
  const known = new Set(files);
  const texts = new Map(files.map((f) => [f, readFileSync(join(repoRoot, f), 'utf8')]));
  const importsOf = new Map(files.map((f) => [f, relativeImports(f, texts.get(f)!, known)]));

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(existsSync(join(repoRoot, 'src/core/model.ts'))).toBe(true);
  });

  it(`has no file over ${maxLines} lines (tests included)`, () => {
    const offenders = files
      .map((f) => ({ file: f, lines: lineCount(texts.get(f)!) }))
      .filter((f) => f.lines > maxLines)
      .sort((a, b) => b.lines - a.lines)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(offenders, `files over ${maxLines} lines:\n  ${offenders.join('\n  ')}\n`).toEqual([]);
  });

  it(`has no test, bench or script file over ${maxLines} lines either`, () => {
    const walk = (dir: string): string[] =>
      readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? e.name === 'fixtures' || e.name === 'out'
            ? []
            : walk(`${dir}/${e.name}`)
          : /\.(ts|js|sh)$/.test(e.name)
            ? [`${dir}/${e.name}`]
            : [],
      );
    const offenders = ['test', 'bench', 'scripts']
      .flatMap(walk)
      .map((f) => ({ file: f, lines: lineCount(readFileSync(join(repoRoot, f), 'utf8')) }))
      .filter((f) => f.lines > maxLines)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(offenders, `files over ${maxLines} lines:\n  ${offenders.join('\n  ')}\n`).toEqual([]);
  });

  it(`has no folder with more than ${maxTsPerFolder} .ts files directly in it`, () => {
    const perFolder = new Map<string, number>();
    for (const f of files) {
      const folder = f.slice(0, f.lastIndexOf('/'));
      perFolder.set(folder, (perFolder.get(folder) ?? 0) + 1);
    }
    const offenders = [...perFolder]
      .filter(([, count]) => count > maxTsPerFolder)
      .map(([folder, count]) => `${folder}/: ${count} .ts files`);
    expect(offenders, `crowded folders:\n  ${offenders.join('\n  ')}\n`).toEqual([]);
  });

  it('has no import cycle (type-only imports included)', () => {
    const graph = new Map(
      files.map((f) => [
        f,
        importsOf
          .get(f)!
          .filter((i) => i.resolved)
          .map((i) => i.target),
      ]),
    );
    const offenders = importCycles(graph).map((cycle) => cycle.join(' -> '));
    expect(offenders, `import cycles:\n  ${offenders.join('\n  ')}\n`).toEqual([]);
  });

  it('src/core/model.ts imports nothing relative', () => {
    const offenders = importsOf.get('src/core/model.ts')!.map((i) => i.specifier);
    expect(offenders, `src/core/model.ts imports: ${offenders.join(', ')}`).toEqual([]);
  });

  it('nothing in src/core imports from outside src/core (its tests: test/helpers too)', () => {
    const offenders = files
      .filter((f) => f.startsWith('src/core/'))
      .flatMap((f) => importsOf.get(f)!)
      .filter(
        (i) =>
          !i.target.startsWith('src/core/') &&
          !(i.from.endsWith('.test.ts') && i.target.startsWith('test/helpers/')),
      )
      .map((i) => `${i.from}: '${i.specifier}' (${i.target})`);
    expect(offenders, `src/core imports from outside:\n  ${offenders.join('\n  ')}\n`).toEqual([]);
  });

  it('every relative import points at a file (else the checks above are blind)', () => {
    const offenders = [...importsOf.values()]
      .flat()
      .filter((i) => !i.exists)
      .map((i) => `${i.from}: '${i.specifier}'`);
    expect(offenders, `unresolved relative imports:\n  ${offenders.join('\n  ')}\n`).toEqual([]);
  });
});
