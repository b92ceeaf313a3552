// What every prebuilt addon must be to load wherever Node 20+ runs on Linux:
// the ELF machine its directory names, and no symbol version newer than the
// oldest systems we promise (glibc 2.28: RHEL 8, Debian 10, Node's own
// baseline; libstdc++ of GCC 8, RHEL 8's). Read with readelf, which handles
// every architecture's ELF.
//
// `node scripts/check-prebuilds.js` (prepublishOnly) also requires a prebuild
// for every platform we promise one for, and the headers the install-time
// build needs; test/prebuilds.test.ts uses inspectPrebuilds().
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The platforms that ship prebuilt: prebuilds/<dir>/node.napi.glibc.node. */
export const promised = ['linux-x64', 'linux-arm64'];

/** readelf's "Machine:" text for each architecture directory. */
export const machines = { 'linux-x64': 'Advanced Micro Devices X86-64', 'linux-arm64': 'AArch64' };

/** The newest version of each versioned library a prebuild may need (libstdc++ and libgcc_s: GCC 8's). */
export const bounds = { GLIBC: '2.28', GLIBCXX: '3.4.25', CXXABI: '1.3.11', GCC: '7.0.0' };

/** The only shared libraries a prebuild may link (Node itself needs them all). */
export const allowedLibraries = ['libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'libm.so.6'];

function newer(version, bound) {
  const a = version.split('.').map(Number);
  const b = bound.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return false;
}

/**
 * Every .node under prebuilds/, with its problems: a machine that does not
 * match its directory, a library outside allowedLibraries, and each symbol it
 * needs at a version newer than its bound (e.g. "fstat64@GLIBC_2.33").
 */
export function inspectPrebuilds(runtimeDir) {
  const root = join(runtimeDir, 'prebuilds');
  const found = [];
  for (const dir of existsSync(root) ? readdirSync(root).sort() : []) {
    for (const name of readdirSync(join(root, dir))
      .filter((n) => n.endsWith('.node'))
      .sort()) {
      const file = join(root, dir, name);
      const problems = [];
      const header = execFileSync('readelf', ['-h', '-W', file], { encoding: 'utf8' });
      const machine = /Machine:\s*(.+)/.exec(header)?.[1]?.trim() ?? '(none)';
      if (machines[dir] === undefined) problems.push(`${dir} is not a platform we ship (${Object.keys(machines).join(', ')})`);
      else if (machine !== machines[dir]) problems.push(`machine is ${machine}, but ${dir} needs ${machines[dir]}`);
      const dynamic = execFileSync('readelf', ['-d', '-W', file], { encoding: 'utf8' });
      for (const [, library] of dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)) {
        if (!allowedLibraries.includes(library)) problems.push(`links ${library}, which is not one of ${allowedLibraries.join(', ')}`);
      }
      const symbols = execFileSync('readelf', ['--dyn-syms', '-W', file], { encoding: 'utf8' });
      const needs = [];
      for (const line of symbols.split('\n')) {
        const fields = line.trim().split(/\s+/);
        // Num: Value Size Type Bind Vis Ndx Name
        if (fields[6] !== 'UND' || !fields[7]?.includes('@')) continue;
        const [symbol, version] = fields[7].split(/@+/);
        const match = /^([A-Z]+)_([\d.]+)$/.exec(version);
        if (!match) continue;
        needs.push(`${symbol}@${version}`);
        const bound = bounds[match[1]];
        if (bound === undefined) problems.push(`${symbol}@${version}: no bound known for ${match[1]}`);
        else if (newer(match[2], bound)) problems.push(`${symbol}@${version} is newer than ${match[1]}_${bound}`);
      }
      found.push({ file, dir, machine, needs, problems });
    }
  }
  return found;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const runtimeDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = [];
  const found = inspectPrebuilds(runtimeDir);
  for (const dir of promised) {
    if (!found.some((p) => p.dir === dir))
      problems.push(
        `prebuilds/${dir}: missing (run npm run build:native with the cross compiler installed: apt-get install g++-aarch64-linux-gnu)`,
      );
  }
  for (const p of found) for (const problem of p.problems) problems.push(`${p.file}: ${problem}`);
  if (!existsSync(join(runtimeDir, 'native', 'node-addon-api', 'napi.h'))) {
    problems.push('native/node-addon-api/napi.h: missing (npm run build:native copies it), so an install-time build could not compile');
  }
  if (problems.length > 0) {
    console.error(`check-prebuilds: refusing to publish:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  for (const p of found) console.log(`check-prebuilds: ${p.dir}/${p.file.split('/').pop()} ok (${p.machine})`);
}
