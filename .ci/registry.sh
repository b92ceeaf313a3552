#!/usr/bin/env bash
# CI leg: the three packages published to a real private registry (verdaccio,
# installed into .tmp/verdaccio, proxying registry.npmjs.org) and installed
# from it by an unprivileged user with an empty npm cache and no checkout,
# through `npm init sd-daemon` and `yo sd-daemon` (test/registry/). Needs root
# (useradd, runuser) and the network; run after `npm ci` (the repository's
# own install builds what `npm publish` packs).
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"

. .ci/packages.sh
ensure_packages registry passwd util-linux

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run test:registry
