// What `npm publish --workspaces --include-workspace-root` would publish, and
// what users install from it. The packed runtime carries its prebuilt addon
// and its types and has no dependencies and no install script, so its tarball
// alone installs with --offline from an empty npm cache; that is what makes
// the generator's `--runtime bundled` projects install offline. The three
// packages hold what users need and nothing else, move in one version, and
// none runs a build on a user's machine.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

import { emptyCache, npm, npmEnv } from './helpers/npm.js';
import { generate, keptDir, REPO } from './helpers/generator.js';

const require = createRequire(import.meta.url);
const runtimeDir = dirname(require.resolve('sd-daemon-runtime/package.json'));

interface Packed {
  name: string;
  version: string;
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string }>;
}

/** `npm pack --dry-run` of a package directory: what its published tarball holds (no build run). */
function dryPack(dir: string): Packed {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as Packed[])[0]!;
}

const INSTALL_HOOKS = ['preinstall', 'install', 'postinstall', 'prepare'];

describe('the published packages', function () {
  this.timeout(120_000);

  const packages: Record<string, { dir: string; packed?: Packed }> = {
    'generator-sd-daemon': { dir: REPO },
    'create-sd-daemon': { dir: join(REPO, 'create') },
    'sd-daemon-runtime': { dir: runtimeDir },
  };

  before(function () {
    for (const pkg of Object.values(packages)) pkg.packed = dryPack(pkg.dir);
    for (const [name, { packed }] of Object.entries(packages)) {
      console.log(
        `      ${name}@${packed!.version}: ${packed!.entryCount} files, ${packed!.size} bytes packed, ${packed!.unpackedSize} unpacked`,
      );
    }
  });

  it('move in one version (scripts/versions.js, which prepublishOnly runs)', function () {
    const check = spawnSync(process.execPath, [join(REPO, 'scripts', 'versions.js')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    const versions = Object.values(packages).map(({ packed }) => packed!.version);
    assert.equal(new Set(versions).size, 1, versions.join(' '));
  });

  it('are all publishable; only the runtime has an install step, which builds nothing where a prebuild fits', function () {
    for (const [name, { dir }] of Object.entries(packages)) {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { private?: boolean; scripts?: Record<string, string> };
      assert.notEqual(pkg.private, true, `${name} is not private`);
      for (const hook of INSTALL_HOOKS) {
        // The runtime's install step only checks that a prebuild loads, and
        // builds from the shipped sources where none fits (musl, other arches).
        const expected = name === 'sd-daemon-runtime' && hook === 'install' ? 'node scripts/install.js' : undefined;
        assert.equal(pkg.scripts?.[hook], expected, `${name}'s ${hook} script`);
      }
    }
  });

  it('create-sd-daemon depends on the generator by a version range, not a path', function () {
    const pkg = JSON.parse(readFileSync(join(REPO, 'create', 'package.json'), 'utf8')) as {
      version: string;
      dependencies: Record<string, string>;
    };
    assert.equal(pkg.dependencies['generator-sd-daemon'], `^${pkg.version}`);
  });

  it('the generator ships its compiled code, templates, USAGE and the runtime tarball: no sources, tests or build scripts', function () {
    const files = packages['generator-sd-daemon']!.packed!.files.map((f) => f.path);
    for (const file of [
      'package.json',
      'README.md',
      'USAGE',
      'generators/app/index.js',
      'generators/unit/index.js',
      'templates/project/dependencies/package.json',
      'templates/project/biome.json',
      'templates/systemd/service.hbs',
    ]) {
      assert.ok(files.includes(file), `${file} in:\n${files.join('\n')}`);
    }
    assert.equal(files.filter((f) => /^vendor\/sd-daemon-runtime-.+\.tgz$/.test(f)).length, 1, files.join('\n'));
    const stray = files.filter(
      (f) => !/^(package\.json|README\.md|USAGE|generators\/.+\.js|templates\/.+|vendor\/sd-daemon-runtime-.+\.tgz)$/.test(f),
    );
    assert.deepEqual(stray, []);
  });

  it('create-sd-daemon ships its entry point and README only', function () {
    assert.deepEqual(packages['create-sd-daemon']!.packed!.files.map((f) => f.path).sort(), ['README.md', 'index.js', 'package.json']);
  });

  it('the runtime ships the prebuilt addons, the compiled code and its types, the addon sources: no TypeScript, no dependencies', function () {
    const files = packages['sd-daemon-runtime']!.packed!.files.map((f) => f.path);
    // What the install step needs to build the addon where no prebuild fits.
    for (const file of ['native/binding.gyp', 'native/src/addon.cc', 'native/node-addon-api/napi.h', 'scripts/install.js']) {
      assert.ok(files.includes(file), `${file} is not packed`);
    }
    assert.ok(
      !files.some((f) => (f.startsWith('scripts/') && f !== 'scripts/install.js') || f.startsWith('native/build/')),
      'no build scripts or build output',
    );
    assert.ok(files.includes('prebuilds/linux-x64/node.napi.glibc.node'), files.join('\n'));
    assert.ok(files.includes('dist/index.js'));
    assert.ok(files.includes('dist/index.d.ts'));
    assert.ok(files.includes('dist/testing.js'));
    assert.ok(files.includes('README.md'));
    assert.deepEqual(
      files.filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.startsWith('test/')),
      [],
      'no TypeScript sources or tests',
    );
    const pkg = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.dependencies, undefined, 'no runtime dependencies: the tarball alone installs');
  });
});

describe('offline installs from an empty npm cache', function () {
  this.timeout(240_000);
  let dir: string;
  let cache: string;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'sd-offline-'));
    cache = emptyCache();
  });

  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  it('the runtime tarball the generator bundles installs with --offline and loads its addon', function () {
    const vendor = join(REPO, 'vendor');
    const tarball = execFileSync('ls', [vendor], { encoding: 'utf8' })
      .split('\n')
      .find((f) => /^sd-daemon-runtime-.+\.tgz$/.test(f));
    assert.ok(tarball, `a runtime tarball in ${vendor} (npm run build packs it)`);
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    npm(project, ['install', '--offline', join(vendor, tarball)], npmEnv(cache));
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { capabilities } from 'sd-daemon-runtime'; import { FakeServiceManager } from 'sd-daemon-runtime/testing'; console.log(JSON.stringify({ ...capabilities(), testing: typeof FakeServiceManager }))",
      ],
      { cwd: project, encoding: 'utf8' },
    );
    const caps = JSON.parse(out) as { native: boolean; nativeError: string | null; testing: string };
    assert.ok(
      !existsSync(join(project, 'node_modules', 'sd-daemon-runtime', 'native', 'build')),
      'the install step built the addon although a prebuild fits',
    );
    assert.equal(caps.nativeError, null);
    assert.equal(caps.native, true);
    assert.equal(caps.testing, 'function');
  });

  it('a generated JavaScript project with --runtime bundled installs with --offline and passes its tests', async function () {
    // JavaScript projects have no devDependencies: the vendored runtime is all they install.
    const work = keptDir();
    try {
      const p = await generate({ runtime: 'bundled', language: 'js', scope: 'user' }, 'offline-js', work);
      npm(p.dir, ['install', '--offline'], npmEnv(cache));
      const output = npm(p.dir, ['test'], npmEnv(cache));
      assert.match(output, /^(?:#|ℹ) pass [1-9]/m);
      assert.match(output, /^(?:#|ℹ) fail 0$/m);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
