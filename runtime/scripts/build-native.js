// Builds the N-API addon from ./native into ./prebuilds/linux-<arch>/node.napi.glibc.node
// for the host and, when its cross compiler is installed, for the other Linux
// architecture we ship (x64 <-> arm64), where native.ts loads it by that exact
// path, in the repo and in the packed tarball alike (so installing the runtime
// on those platforms never needs a compiler).
//
// Without the cross compiler only the host prebuild is built, with a one-line
// note: enough to develop and test. Publishing refuses that (prepublishOnly
// runs scripts/check-prebuilds.js), and under CI=true test/prebuilds.test.ts fails.
//
// It also copies node-addon-api's headers (a devDependency) into
// native/node-addon-api/, where binding.gyp includes them from: they ship in
// the tarball, so an install-time build (scripts/install.js) needs nothing
// from the registry.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const runtimeDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(runtimeDir, 'native');
const require = createRequire(import.meta.url);
const prebuildify = join(dirname(require.resolve('prebuildify/package.json')), 'bin.js');

const addonApi = dirname(require.resolve('node-addon-api/package.json'));
mkdirSync(join(nativeDir, 'node-addon-api'), { recursive: true });
for (const file of ['napi.h', 'napi-inl.h', 'napi-inl.deprecated.h', 'LICENSE.md']) {
  copyFileSync(join(addonApi, file), join(nativeDir, 'node-addon-api', file));
}

// Build against the headers of the running Node when they are installed
// beside it, so the build works without downloading anything. N-API headers
// are the same for every architecture, so they serve the cross build too.
const env = { ...process.env };
const localHeaders = resolve(dirname(process.execPath), '..');
if (!env.npm_config_nodedir && existsSync(join(localHeaders, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = localHeaders;
}

// npm tells its scripts where its bundled node-gyp is; outside npm, look
// beside the running node for the same file.
const bundledGyp = join(localHeaders, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
env.PREBUILD_NODE_GYP ??= env.npm_config_node_gyp ?? (existsSync(bundledGyp) ? bundledGyp : 'node-gyp');

// The GNU triplet of each architecture we ship a prebuild for (Debian's
// cross compilers are named <triplet>-g++).
const triplets = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

function build(arch, extraEnv) {
  const result = spawnSync(
    process.execPath,
    [prebuildify, '--napi', '--strip', '--tag-libc', '--name=node.napi', `--arch=${arch}`, '--cwd', nativeDir, '--out', runtimeDir],
    { stdio: 'inherit', env: { ...env, ...extraEnv } },
  );
  if (result.status !== 0) {
    console.error(`build-native: prebuildify --arch=${arch} failed (exit ${result.status ?? result.signal}) in ${nativeDir}`);
    process.exit(1);
  }
}

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

// Cross builds first: prebuildify builds in native/build, which then keeps
// the host's build (a checkout can load it from there).
if (process.platform === 'linux' && process.arch in triplets) {
  for (const [arch, triplet] of Object.entries(triplets)) {
    if (arch === process.arch) continue;
    if (!onPath(`${triplet}-g++`)) {
      console.error(
        `build-native: ${triplet}-g++ not found, so no linux-${arch} prebuild (apt-get install g++-${triplet}); fine for development, required to publish`,
      );
      continue;
    }
    // prebuildify strips with the host's strip, which cannot read another
    // architecture: point it at the cross toolchain's.
    build(arch, { CC: `${triplet}-gcc`, CXX: `${triplet}-g++`, PREBUILD_STRIP_BIN: `${triplet}-strip` });
  }
}

build(process.arch, {});
