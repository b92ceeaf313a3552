#!/usr/bin/env bash
# CI leg: the long environment-fuzzing soak, 10,000 fresh processes
# (`npm test` runs the first 500 of the same seeded cases). RELIABILITY_CASES,
# RELIABILITY_SEED and RELIABILITY_JOBS still apply. Needs `npm ci` done and
# built, as after `npm test`; python3 is the fuzzer's notify receiver.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/packages.sh
ensure_packages soak python3
start=$(date +%s)
npm run test:soak
echo "soak: wall $(( $(date +%s) - start )) s"
