// The runtime's install step. Where a prebuilt addon fits this machine
// (linux-x64 and linux-arm64 with glibc) it checks that it loads and does
// nothing else. Elsewhere (musl, other architectures) it builds the addon
// from the shipped sources (native/) with node-gyp, into native/build/Release/,
// where the runtime loads it from; with no compiler it fails and says what to
// install. Run it by hand (node <this file>) when npm skipped install scripts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(packageRoot, 'native');
const self = join(packageRoot, 'scripts', 'install.js');

// A checkout of the repository: `npm run build` builds the prebuilds there.
if (existsSync(join(packageRoot, 'scripts', 'build-native.js'))) process.exit(0);

const libc = process.report?.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
const platform = `${process.platform}-${process.arch} (${libc})`;

function loads(file) {
  if (!existsSync(file)) return false;
  try {
    process.dlopen({ exports: {} }, file);
    return true;
  } catch (error) {
    console.error(`sd-daemon-runtime: ${file} does not load here: ${String(error?.message ?? error).split('\n')[0]}`);
    return false;
  }
}

const prebuild = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, `node.napi.${libc}.node`);
const built = join(nativeDir, 'build', 'Release', 'sd_daemon_native.node');
if (loads(prebuild) || loads(built)) process.exit(0);

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

const fix =
  'Install a C++ compiler, make and python3 (Alpine: apk add build-base python3; Debian/Ubuntu: apt-get install g++ make python3; ' +
  `Fedora/RHEL: dnf install gcc-c++ make python3), then run: node ${self}\n` +
  'Without the addon the runtime still imports, but cannot notify systemd, adopt sockets or daemonize.';

const cxx = process.env.CXX?.split(/\s+/)[0];
const missing = [
  (cxx ? onPath(cxx) || existsSync(cxx) : ['c++', 'g++', 'clang++'].some(onPath)) ? null : 'a C++ compiler',
  onPath('make') ? null : 'make',
  onPath('python3') || onPath('python') ? null : 'python3',
].filter((x) => x !== null);
if (missing.length > 0) {
  console.error(
    `sd-daemon-runtime: no prebuilt addon for ${platform}, and it cannot be built here (missing: ${missing.join(', ')}).\n${fix}`,
  );
  process.exit(1);
}

// npm tells install scripts where its bundled node-gyp is; by hand, look
// beside the running node for the same file, then on PATH.
const nodeDir = resolve(dirname(process.execPath), '..');
const bundledGyp = join(nodeDir, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp ?? (existsSync(bundledGyp) ? bundledGyp : null);
const env = { ...process.env };
// The running Node's own headers when installed beside it; otherwise
// node-gyp downloads them (that needs the network).
if (!env.npm_config_nodedir && existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = nodeDir;

console.error(`sd-daemon-runtime: no prebuilt addon for ${platform}; building it from source with node-gyp`);
const result = gyp
  ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: nativeDir, stdio: 'inherit', env })
  : spawnSync('node-gyp', ['rebuild'], { cwd: nativeDir, stdio: 'inherit', env });
if (result.error || result.status !== 0 || !loads(built)) {
  const why = result.error
    ? `${result.error.message}${gyp ? '' : ' (node-gyp not found: npm install -g node-gyp)'}`
    : `node-gyp exited ${result.status ?? result.signal}`;
  console.error(`sd-daemon-runtime: building the addon for ${platform} failed: ${why}.\n${fix}`);
  process.exit(1);
}
console.error(`sd-daemon-runtime: built ${built}`);
