#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine (as root) and runs the main job: builds the shipped
# image family for a profile and pushes it to the local registry on 127.0.0.1:5000.
#   scripts/quickstart.sh [PROFILE] [extra kbuild flags...]     (default profile: debian-binary)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-debian-binary}
[ $# -gt 0 ] && shift
bash scripts/setup-host.sh
echo "== npm ci"
npm ci --no-audit --no-fund
echo "== kbuild --profile $profile --push --registry 127.0.0.1:5000"
exec node bin/kbuild.js --profile "$profile" --push --registry 127.0.0.1:5000 --summary-json ".kbuild/summary-$profile.json" "$@"
