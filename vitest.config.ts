import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets scripts/test.sh end with a plain 'N passed, N failed' line for CI.
    reporters: ['default', 'json'],
    outputFile: { json: '.kbuild/test-results.json' },
  },
});
