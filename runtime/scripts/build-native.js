// Builds the N-API addon from ../native into ./prebuilds/<platform>-<arch>/
// as node.napi.<libc>.node (the tags node-gyp-build matches on any Node version),
// where node-gyp-build finds it at run time, in the repo and in the packed
// tarball alike (so installing the runtime never needs a compiler).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const runtimeDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = resolve(runtimeDir, '..', 'native');
const require = createRequire(import.meta.url);
const prebuildify = join(dirname(require.resolve('prebuildify/package.json')), 'bin.js');

// Build against the headers of the running Node when they are installed
// beside it, so the build works without downloading anything.
const env = { ...process.env };
const localHeaders = resolve(dirname(process.execPath), '..');
if (!env.npm_config_nodedir && existsSync(join(localHeaders, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = localHeaders;
}

// npm tells its scripts where its bundled node-gyp is; outside npm, look
// beside the running node for the same file.
const bundledGyp = join(localHeaders, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
env.PREBUILD_NODE_GYP ??= env.npm_config_node_gyp ?? (existsSync(bundledGyp) ? bundledGyp : 'node-gyp');

const result = spawnSync(
  process.execPath,
  [prebuildify, '--napi', '--strip', '--tag-libc', '--name=node.napi', '--cwd', nativeDir, '--out', runtimeDir],
  { stdio: 'inherit', env },
);
if (result.status !== 0) {
  console.error(`build-native: prebuildify failed (exit ${result.status ?? result.signal}) in ${nativeDir}`);
  process.exit(1);
}
