#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine (as root) and runs every test:
# host (engine, registry, base images), npm ci, then lint + type check + unit + integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh "$@"
echo "== npm ci"
npm ci --no-audit --no-fund
echo "== npm test"
npm test
