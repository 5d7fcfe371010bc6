#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine (as root) and runs every test:
# host (engine, registry, base images), npm ci, then lint + type check + unit + integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh "$@"
echo "== npm ci"
npm ci --no-audit --no-fund
echo "== npm test"
status=0
npm test || status=$?
# One plain closing line with the counts (vitest's own summary is not in a form CI reads).
# shellcheck disable=SC2016  # a JavaScript template literal, not shell
node -e '
  const r = JSON.parse(require("fs").readFileSync(".kbuild/test-results.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' 2>/dev/null || echo "0 passed, 1 failed (no test report: lint, type check or build failed before the tests)"
exit "$status"
