// The prebuilt addons load on every Linux we promise (glibc 2.28 and up, x64
// and arm64): each shipped .node is read with readelf (machine, libraries,
// symbol versions), so one needing fstat64@GLIBC_2.33 fails here, not on a
// user's RHEL 8. Where no prebuild fits, the packed runtime builds the addon
// from its shipped sources at install, or fails saying what to install.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

import { requireOrSkip } from './helpers/prerequisites.js';

const require = createRequire(import.meta.url);
const runtimeDir = dirname(require.resolve('sd-daemon-runtime/package.json'));

interface Prebuild {
  file: string;
  dir: string;
  machine: string;
  needs: string[];
  problems: string[];
}
// The one place that states the bounds, shared with `npm publish`'s check.
const check = (await import(pathToFileURL(join(runtimeDir, 'scripts', 'check-prebuilds.js')).href)) as {
  inspectPrebuilds(dir: string): Prebuild[];
  promised: string[];
  bounds: Record<string, string>;
};

describe('the prebuilt addons', function () {
  this.timeout(60_000);
  const found = check.inspectPrebuilds(runtimeDir);

  it('agree with their directory, link only libc/libstdc++/libgcc_s, and need glibc <= 2.28, GLIBCXX <= 3.4.25, CXXABI <= 1.3.11', function () {
    assert.equal(check.bounds.GLIBC, '2.28');
    assert.ok(found.length > 0, 'no prebuild under runtime/prebuilds (npm run build)');
    for (const prebuild of found) {
      assert.ok(prebuild.needs.length > 0, `${prebuild.file}: readelf listed no versioned symbols`);
      assert.deepEqual(prebuild.problems, [], `${prebuild.file} (${prebuild.machine}):\n  ${prebuild.problems.join('\n  ')}`);
    }
  });

  for (const dir of check.promised) {
    it(`exists for ${dir}`, function () {
      const cross = dir === `linux-${process.arch}` ? null : dir === 'linux-arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
      const present = found.some((p) => p.dir === dir);
      if (cross === null) assert.ok(present, `no prebuild for this machine's ${dir}`);
      else
        requireOrSkip(
          this,
          present,
          `no ${dir} prebuild: ${cross}-g++ was missing when the runtime was built (apt-get install g++-${cross}, then npm run build)`,
        );
    });
  }
});

describe('the packed runtime where no prebuild fits', function () {
  this.timeout(300_000);
  let dir: string;
  let unpacked: string;
  let tarball: string;

  before(function () {
    // The real tarball, without its prebuilds: what a musl or riscv64 machine
    // effectively gets.
    dir = mkdtempSync(join(tmpdir(), 'sd-no-prebuild-'));
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
        cwd: runtimeDir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as Array<{ filename: string }>;
    execFileSync('tar', ['xzf', join(dir, packed!.filename), '-C', dir]);
    unpacked = join(dir, 'package');
    rmSync(join(unpacked, 'prebuilds'), { recursive: true });
    mkdirSync(join(dir, 'stripped'));
    const [repacked] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', join(dir, 'stripped')], {
        cwd: unpacked,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as Array<{ filename: string }>;
    tarball = join(dir, 'stripped', repacked!.filename);
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('without a compiler, the install step fails naming the platform and the fix', function () {
    // PATH holds node alone: no c++, make or python3.
    const bin = join(dir, 'node-only');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const run = spawnSync(join(bin, 'node'), [join(unpacked, 'scripts', 'install.js')], { encoding: 'utf8', env: { PATH: bin } });
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `no prebuilt addon for linux-${process.arch} \\(glibc\\), and it cannot be built here \\(missing: a C\\+\\+ compiler, make, python3\\)`,
      ),
    );
    assert.match(run.stderr, /apt-get install g\+\+ make python3/);
    assert.match(
      run.stderr,
      new RegExp(`then run: node ${join(unpacked, 'scripts', 'install.js').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  });

  it('with a compiler, npm install builds the addon from the shipped sources, offline, and the runtime loads it', function () {
    for (const tool of ['c++', 'make', 'python3']) {
      requireOrSkip(this, spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0, `${tool} is not installed`);
    }
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    const installed = join(project, 'node_modules', 'sd-daemon-runtime');
    assert.ok(existsSync(join(installed, 'native', 'build', 'Release', 'sd_daemon_native.node')), 'the install step built nothing');
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "import { capabilities } from 'sd-daemon-runtime'; console.log(JSON.stringify(capabilities()))"],
      {
        cwd: project,
        encoding: 'utf8',
      },
    );
    const caps = JSON.parse(out) as { native: boolean; nativeError: string | null };
    assert.equal(caps.nativeError, null);
    assert.equal(caps.native, true);
  });
});
