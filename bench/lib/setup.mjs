// First-run setup of the anchors: the system packages the C anchor and the
// sd-notify addon build against, the bench's own npm dependencies, and the
// compiled C programs. Each step is skipped when already done, so later runs
// start measuring at once.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { BENCH, BUILD } from './proc.mjs';

const log = (message) => console.log(`[setup] ${message}`);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status ?? result.signal}`);
}

const commandExists = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
const debInstalled = (pkg) =>
  /install ok installed/.test(spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout ?? '');

/** libsystemd-dev (sd-daemon.h, libsystemd.so), pkg-config, gcc and valgrind (the instruction counts), from apt when missing. */
function systemPackages() {
  const missing = [];
  if (!debInstalled('libsystemd-dev')) missing.push('libsystemd-dev');
  if (!commandExists('pkg-config')) missing.push('pkg-config');
  if (!commandExists('gcc')) missing.push('gcc');
  if (!commandExists('valgrind')) missing.push('valgrind');
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `the bench needs ${missing.join(', ')} (the C sd_notify anchor and the sd-notify addon build against libsystemd; valgrind counts instructions); ` +
        `install with: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let packages = pinToInstalledLibsystemd(missing);
  let plan = simulate(packages, env);
  if (plan === null) {
    // A fresh container often has no package lists yet.
    run('apt-get', ['update'], { env });
    packages = pinToInstalledLibsystemd(missing);
    plan = simulate(packages, env);
  }
  // Say everything apt is about to change: libsystemd-dev must match
  // libsystemd0's version exactly, so on a machine whose systemd is older
  // than the archive's it also upgrades libsystemd0 and its siblings.
  log(`apt-get install -y --no-install-recommends ${packages.join(' ')}; apt's plan:`);
  for (const line of plan ?? []) log(`  ${line}`);
  run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env });
}

/** libsystemd-dev at the installed libsystemd0's version when the archive still has it (no upgrade of systemd then). */
function pinToInstalledLibsystemd(packages) {
  const installed = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'libsystemd0'], { encoding: 'utf8' }).stdout?.trim();
  const madison = spawnSync('apt-cache', ['madison', 'libsystemd-dev'], { encoding: 'utf8' }).stdout ?? '';
  const available = madison
    .split('\n')
    .map((line) => line.split('|')[1]?.trim())
    .filter(Boolean);
  return packages.map((pkg) => (pkg === 'libsystemd-dev' && installed && available.includes(installed) ? `${pkg}=${installed}` : pkg));
}

/** apt-get's dry run: the Inst/Remove lines, or null when apt cannot resolve the packages. */
function simulate(packages, env) {
  const result = spawnSync('apt-get', ['install', '-s', '--no-install-recommends', ...packages], { encoding: 'utf8', env });
  if (result.status !== 0) return null;
  return result.stdout.split('\n').filter((line) => /^(Inst|Remv) /.test(line));
}

/** True when every pinned dependency of bench/package.json is installed at its version. */
function npmUpToDate() {
  const manifest = JSON.parse(readFileSync(path.join(BENCH, 'package.json'), 'utf8'));
  const marker = path.join(BENCH, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return false;
  if (statSync(path.join(BENCH, 'package.json')).mtimeMs > statSync(marker).mtimeMs) return false;
  for (const [name, version] of Object.entries(manifest.dependencies ?? {})) {
    const file = path.join(BENCH, 'node_modules', name, 'package.json');
    if (!existsSync(file) || JSON.parse(readFileSync(file, 'utf8')).version !== version) return false;
  }
  // sd-notify and sd-daemon are addons: an install whose build failed leaves no binary.
  return existsSync(path.join(BENCH, 'node_modules', 'sd-notify', 'build', 'Release'));
}

function npmDependencies() {
  if (npmUpToDate()) return;
  log('npm install --prefix bench (pino, sd-notify, sd-daemon, create-vite, generator-license: anchors only)');
  run('npm', ['install', '--prefix', BENCH, '--no-audit', '--no-fund'], { cwd: BENCH });
}

/** gcc -O2, rebuilt when the source is newer than the binary. */
function compile(source, output, libs) {
  const src = path.join(BENCH, 'anchors', source);
  const out = path.join(BUILD, output);
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return out;
  mkdirSync(BUILD, { recursive: true });
  const flags = libs ? spawnSync('pkg-config', ['--cflags', '--libs', libs], { encoding: 'utf8' }) : { status: 0, stdout: '' };
  if (flags.status !== 0) throw new Error(`pkg-config --cflags --libs ${libs} failed: is ${libs}-dev installed?`);
  const args = ['-O2', '-Wall', '-o', out, src, ...flags.stdout.trim().split(/\s+/).filter(Boolean)];
  log(`gcc ${args.join(' ')}`);
  run('gcc', args);
  return out;
}

/** Everything the cases need; returns the paths of the compiled anchors. */
export function setup() {
  systemPackages();
  npmDependencies();
  return {
    notifyAnchor: compile('notify.c', 'notify-anchor', 'libsystemd'),
    receiver: compile('receiver.c', 'dgram-receiver', null),
    pipeReader: compile('pipe-reader.c', 'pipe-reader', null),
  };
}
