#!/usr/bin/env bash
# CI leg: the generated OpenRC runscript under openrc-run with OpenRC's own
# start-stop-daemon (the one Alpine and Gentoo use), which Debian's openrc
# package replaces with dpkg's. Builds it from OpenRC's source at the version
# of the installed openrc (its librc is the system's), then runs
# test/openrc/ with it mounted over Debian's inside the test's namespace.
# Run after `npm ci` (the repository built); idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=true

need=()
for pkg in openrc iproute2 util-linux meson ninja-build gcc git ca-certificates pkg-config; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "ci: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# 0.45.2-2+deb12u1 -> 0.45.2
version=$(dpkg-query -W -f='${Version}' openrc | sed 's/-.*//')
src=${TMPDIR:-/tmp}/openrc-$version
ssd=$src/build/src/start-stop-daemon/start-stop-daemon
if [ ! -x "$ssd" ]; then
  rm -rf "$src"
  git clone --quiet --depth 1 --branch "$version" https://github.com/OpenRC/openrc.git "$src"
  meson setup --quiet "$src/build" "$src" -Daudit=disabled -Dpam=false -Dselinux=disabled -Dcapabilities=disabled -Dtermcap=
  ninja -C "$src/build" src/start-stop-daemon/start-stop-daemon
fi
"$ssd" --version

OPENRC_SSD=$ssd npx mocha test/openrc/openrc.test.ts
