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

need=()
for pkg in passwd util-linux; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "registry.sh: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run test:registry
