#!/usr/bin/env bash
# CI leg: our journal records against libsystemd's own. Compiles
# test/journal-oracle/sendv.c (sd_journal_sendv) with gcc and libsystemd-dev,
# then sends the same fields through both into a socket bound at
# /run/systemd/journal/socket in a private mount namespace and compares the
# bytes (test/journal-oracle/libsystemd.oracle.ts). Needs root (unshare);
# run after `npm ci` (it uses the built runtime).
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"

. .ci/packages.sh
ensure_packages journal-oracle gcc libsystemd-dev util-linux

[ -d node_modules ] || npm ci --no-audit --no-fund
npx mocha test/journal-oracle/libsystemd.oracle.ts
