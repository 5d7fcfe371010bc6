// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Folders and what they may not import (DESIGN.md, "Rule of imports"). */
const nodeIo = [
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
];
const ioModules = [
  ...nodeIo,
  ...nodeIo.map((m) => `node:${m}`),
  ...nodeIo.map((m) => `node:${m}/*`),
  ...nodeIo.map((m) => `${m}/*`),
  'execa',
  'fast-glob',
];

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
          paths: ioModules.map((name) => ({
            name,
            message: 'src/core is pure: do I/O in src/adapters and pass data in.',
          })),
          patterns: [
            {
              group: ['../run/*', '../adapters/*', '../report/*', '../cli/*'],
              message: 'src/core imports nothing of ours outside src/core.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'src/core is pure: no process access.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'src/core is pure: pass the clock in.' },
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
          paths: ioModules.map((name) => ({
            name,
            message: 'src/run talks to the world only through ports.',
          })),
          patterns: [
            {
              group: ['../adapters/*', '../report/*', '../cli/*'],
              message: 'src/run imports core and port interfaces only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/adapters/**/*.ts', 'src/report/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../cli/*'], message: 'only src/cli wires things together.' }] },
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
