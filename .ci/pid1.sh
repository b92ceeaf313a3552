#!/usr/bin/env bash
# CI leg: generated system-scope projects under a real PID-1 systemd 247
# (Debian 11), 252 (this machine's root) and 257 (Debian 13), booted with
# systemd-nspawn (test/pid1/). Needs root. Installs what it needs, builds the
# repository if that has not happened yet, builds the debootstrap trees once
# (cached under /var/cache/sd-daemon-test-roots, reused by later runs), then
# runs `npm run test:pid1`. Artefacts: .tmp/pid1-artifacts/<version>/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"
started=$(date +%s)

# systemd-nspawn, debootstrap, nsenter and flock (util-linux), curl (the 252
# container is this machine's /usr, and the tests knock on sockets with curl).
. .ci/packages.sh
ensure_packages pid1 systemd-container debootstrap util-linux curl

[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f generators/app/index.js ] || npm run build

# Both trees at once (the downloads overlap), before the tests need them.
npx tsx test/pid1/build-roots.ts bullseye trixie
roots=$(date +%s)
echo "pid1: trees ready after $((roots - started)) s"

status=0
npm run test:pid1 || status=$?
echo "pid1: leg finished in $(( $(date +%s) - started )) s (tests $(( $(date +%s) - roots )) s), exit $status"
exit "$status"
