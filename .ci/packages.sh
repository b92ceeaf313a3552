# Sourced by the CI scripts: `ensure_packages LABEL PKG...` installs the Debian
# packages of the list that are not installed yet (nothing when all are), so
# each leg also runs on its own on a fresh machine.
ensure_packages() {
  local label=$1 pkg
  shift
  local need=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
  done
  [ "${#need[@]}" -gt 0 ] || return 0
  echo "$label: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
}
