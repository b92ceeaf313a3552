// The packed runtime is what users (and generated projects) install: it must
// carry its prebuilt addons and its types, and load the addon without any
// install-time build where a prebuild fits (its install step then only checks
// that the prebuild loads; test/prebuilds.test.ts covers where none fits).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const runtimeDir = dirname(require.resolve('sd-daemon-runtime/package.json'));

describe('the packed sd-daemon-runtime', function () {
  this.timeout(120_000);
  let dir: string;
  let files: string[];
  let tarball: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'sd-pack-'));
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: runtimeDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed!.files.map((f) => f.path);
    tarball = join(dir, packed!.filename);
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('contains the prebuilt addon, the compiled code and its types, the addon sources, and no TypeScript sources', function () {
    assert.ok(files.includes('prebuilds/linux-x64/node.napi.glibc.node'), files.join('\n'));
    // What the install step needs to build the addon where no prebuild fits.
    for (const file of ['native/binding.gyp', 'native/src/addon.cc', 'native/node-addon-api/napi.h', 'scripts/install.js']) {
      assert.ok(files.includes(file), `${file} is not packed`);
    }
    assert.ok(files.includes('dist/index.js'));
    assert.ok(files.includes('dist/index.d.ts'));
    assert.ok(files.includes('dist/testing.js'));
    assert.ok(files.includes('README.md'));
    assert.ok(!files.some((f) => f.startsWith('src/') || (f.startsWith('scripts/') && f !== 'scripts/install.js') || f.startsWith('native/build/')), 'no TypeScript sources, build scripts or build output');
  });

  it('installs offline, builds nothing, and loads its prebuilt addon', function () {
    const pkg = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string>; dependencies?: object };
    assert.equal(pkg.scripts?.install, 'node scripts/install.js');
    for (const hook of ['preinstall', 'postinstall']) assert.equal(pkg.scripts?.[hook], undefined, `no ${hook} script`);
    assert.equal(pkg.dependencies, undefined, 'the runtime needs no dependency');

    const project = join(dir, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "import { capabilities } from 'sd-daemon-runtime'; import { FakeServiceManager } from 'sd-daemon-runtime/testing'; console.log(JSON.stringify({ ...capabilities(), testing: typeof FakeServiceManager }))"],
      { cwd: project, encoding: 'utf8' },
    );
    const caps = JSON.parse(out) as { native: boolean; nativeError: string | null; testing: string };
    assert.ok(!existsSync(join(project, 'node_modules', 'sd-daemon-runtime', 'native', 'build')), 'the install step built the addon although a prebuild fits');
    assert.equal(caps.nativeError, null);
    assert.equal(caps.native, true);
    assert.equal(caps.testing, 'function');
  });
});
