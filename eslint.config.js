// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/*
 * The folder boundaries of DESIGN.md ("Rule of imports", "core is PURE") said as lint rules.
 * test/architecture.test.ts lints probe files against this config and proves that each rule
 * fires: weaken a rule here and that test says what stopped being enforced.
 */

/** Modules that reach the outside world: node's (with or without `node:`) and the I/O packages. */
const ioModules = [
  'fs',
  'child_process',
  'net',
  'http',
  'https',
  'os',
  'readline',
  'worker_threads',
  'dgram',
  'dns',
  'tls',
  'execa',
  'fast-glob',
];

/**
 * A regex source matching each module, with or without `node:`, and every sub-path of it
 * (`fs/promises`, `node:dns/promises`, `execa/x`). A pattern, because `paths` matches exact
 * names only. `/` is written `\/` so that the same source also works in an esquery selector.
 * @param {string[]} modules
 */
const modulesRegex = (modules) => `^(?:node:)?(?:${modules.join('|')})(?:\\/|$)`;

/**
 * A regex source matching a relative import that goes through a folder of one of these names,
 * at any depth (`../run/x.js`, `../../run/x.js`). This holds only while src/core has no folder
 * named like the ones banned for it (run, adapters, report, cli, test, bench, scripts) and
 * src/run none named adapters, report, cli: keep it so (src/core/registry is fine).
 * @param {string[]} folders
 */
const throughFolderRegex = (folders) => `^\\.\\.?\\/(?:.*\\/)?(?:${folders.join('|')})(?:\\/|$)`;

/**
 * The no-restricted-syntax entry for `import('node:fs/promises')` and the like, which
 * no-restricted-imports does not look at.
 * @param {string} regex
 * @param {string} message
 */
const dynamicImportBan = (regex, message) => ({
  selector: `ImportExpression[source.value=/${regex}/]`,
  message,
});

const corePure = 'src/core is pure: do I/O in src/adapters and pass data in.';
/** Core has no clock, no timers, no process either. */
const coreBannedModules = modulesRegex([...ioModules, 'process', 'timers', 'perf_hooks']);
const coreBannedFolders = throughFolderRegex([
  'run',
  'adapters',
  'report',
  'cli',
  'test',
  'bench',
  'scripts',
]);
const coreOutside = 'src/core imports nothing of ours outside src/core.';
const coreClock = 'src/core is pure: take the time (or the random value) as an argument.';

const runPorts = 'src/run talks to the world only through ports (and takes env/argv from src/cli).';
const runBannedModules = modulesRegex([...ioModules, 'process']);
const runBannedFolders = throughFolderRegex(['adapters', 'report', 'cli']);
const runOutside = 'src/run imports core and the port interfaces only.';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'bench/out/**',
      'coverage/**',
      'test/fixtures/**',
      'images/**',
      '.scratch*/**',
      '.kbuild/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['bin/*.js', 'eslint.config.js', 'bench/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: coreBannedModules, caseSensitive: true, message: corePure },
            { regex: coreBannedFolders, caseSensitive: true, message: coreOutside },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: corePure },
        { name: 'fetch', message: corePure },
        { name: 'performance', message: coreClock },
        { name: 'setTimeout', message: 'src/core is pure: no timers.' },
        { name: 'setInterval', message: 'src/core is pure: no timers.' },
        { name: 'setImmediate', message: 'src/core is pure: no timers.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: coreClock },
        { object: 'Math', property: 'random', message: coreClock },
        { object: 'globalThis', property: 'process', message: corePure },
        { object: 'globalThis', property: 'fetch', message: corePure },
        { object: 'globalThis', property: 'performance', message: coreClock },
        { object: 'crypto', property: 'randomUUID', message: coreClock },
        { object: 'crypto', property: 'getRandomValues', message: coreClock },
      ],
      'no-restricted-syntax': [
        'error',
        {
          // new Date(x) of a given value is pure (src/core/registry/retention.ts uses it).
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: `${coreClock} (new Date(value) is fine)`,
        },
        {
          selector: "CallExpression[callee.name='Date']",
          message: `${coreClock} (Date() is the current time as a string)`,
        },
        dynamicImportBan(coreBannedModules, corePure),
        dynamicImportBan(coreBannedFolders, coreOutside),
      ],
    },
  },
  {
    files: ['src/run/**/*.ts'],
    ignores: ['src/run/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: runBannedModules, caseSensitive: true, message: runPorts },
            { regex: runBannedFolders, caseSensitive: true, message: runOutside },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: runPorts }],
      'no-restricted-properties': [
        'error',
        { object: 'globalThis', property: 'process', message: runPorts },
      ],
      'no-restricted-syntax': [
        'error',
        dynamicImportBan(runBannedModules, runPorts),
        dynamicImportBan(runBannedFolders, runOutside),
      ],
    },
  },
  {
    files: ['src/adapters/**/*.ts', 'src/report/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: throughFolderRegex(['cli']),
              caseSensitive: true,
              message: 'only src/cli wires things together.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        dynamicImportBan(throughFolderRegex(['cli']), 'only src/cli wires things together.'),
      ],
    },
  },
  {
    files: [
      'src/cli/**/*.ts',
      'src/report/**/*.ts',
      'bench/**',
      'scripts/**',
      'test/**',
      '**/*.test.ts',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.js'], languageOptions: { globals: globals.node } },
);
