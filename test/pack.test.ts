// The packed runtime is what users (and generated projects) install: it must
// carry its prebuilt addon and its types, and load the addon without any
// install-time build (it has no install script, so no compiler is ever asked for).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it('contains the prebuilt addon, the compiled code and its types, and no sources', function () {
    assert.ok(files.includes('prebuilds/linux-x64/node.napi.glibc.node'), files.join('\n'));
    assert.ok(files.includes('dist/index.js'));
    assert.ok(files.includes('dist/index.d.ts'));
    assert.ok(files.includes('dist/testing.js'));
    assert.ok(files.includes('README.md'));
    assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('scripts/')), 'no sources or build scripts');
  });

  it('installs offline without an install script and loads its addon', function () {
    const pkg = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    for (const hook of ['preinstall', 'install', 'postinstall']) assert.equal(pkg.scripts?.[hook], undefined, `no ${hook} script`);

    const project = join(dir, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    // node-gyp-build is already in npm's cache (this repository depends on it).
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "import { capabilities } from 'sd-daemon-runtime'; import { FakeServiceManager } from 'sd-daemon-runtime/testing'; console.log(JSON.stringify({ ...capabilities(), testing: typeof FakeServiceManager }))"],
      { cwd: project, encoding: 'utf8' },
    );
    const caps = JSON.parse(out) as { native: boolean; nativeError: string | null; testing: string };
    assert.equal(caps.nativeError, null);
    assert.equal(caps.native, true);
    assert.equal(caps.testing, 'function');
  });
});
