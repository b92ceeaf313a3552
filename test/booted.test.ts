// booted(): sd_booted(3) against libsystemd's own answer. Each case builds
// /run/systemd in a private mount namespace (so the host's /run is never
// touched) and asks both our booted() and `systemd-notify --booted`, which
// is libsystemd's sd_booted() (exit 0: booted).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { booted } from 'sd-daemon-runtime';
import { requireOrSkip } from './helpers/prerequisites.js';

const runtimeEntry = fileURLToPath(import.meta.resolve('sd-daemon-runtime'));

/** Runs `setup` (shell) on a fresh tmpfs at /run/systemd, then asks both implementations. */
function inNamespace(setup: string): { ours: string; libsystemd: number; stderr: string } {
  const probe = `import(${JSON.stringify(runtimeEntry)}).then((m) => process.stdout.write(String(m.booted())))`;
  const script = [
    'set -e',
    'mkdir -p /run/systemd',
    'mount -t tmpfs -o mode=0755 sd-booted-test /run/systemd',
    setup,
    `"$NODE" -e '${probe}'`,
    'echo',
    'set +e',
    'systemd-notify --booted',
    'echo "$?"',
  ].join('\n');
  const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE: process.execPath },
    timeout: 60_000,
  });
  assert.equal(result.status, 0, `the namespace script failed: ${result.stderr}`);
  const [ours, code] = result.stdout.trim().split('\n');
  return { ours: ours!, libsystemd: Number(code), stderr: result.stderr };
}

describe('booted() (sd_booted)', function () {
  this.timeout(120_000);

  before(function () {
    const unshare = spawnSync('unshare', ['--mount', 'true']);
    requireOrSkip(
      this,
      unshare.status === 0,
      `unshare --mount does not work here (needs root): ${unshare.stderr?.toString().trim() ?? unshare.error?.message}`,
    );
    const notify = spawnSync('systemd-notify', ['--help']);
    requireOrSkip(this, notify.status === 0, "systemd-notify (libsystemd's sd_booted) is not installed");
  });

  const cases: [string, string, boolean][] = [
    ['no /run/systemd/system', 'true', false],
    ['/run/systemd/system is a directory', 'mkdir /run/systemd/system', true],
    ['/run/systemd/system is a file', 'touch /run/systemd/system', false],
    ['/run/systemd/system is a symlink to a directory', 'mkdir /run/systemd/elsewhere && ln -s elsewhere /run/systemd/system', true],
    ['/run/systemd/system is a dangling symlink', 'ln -s nowhere /run/systemd/system', false],
    ['/run/systemd/system is a symlink loop', 'ln -s system /run/systemd/system', false],
  ];
  for (const [title, setup, expected] of cases) {
    it(`${title}: ${expected}, as libsystemd says`, function () {
      const { ours, libsystemd } = inNamespace(setup);
      assert.equal(ours, String(expected));
      assert.equal(libsystemd === 0, expected, `systemd-notify --booted exited ${libsystemd}`);
    });
  }

  it('answers here without throwing, and agrees with libsystemd on this host', function () {
    const answer = booted();
    assert.equal(typeof answer, 'boolean');
    const notify = spawnSync('systemd-notify', ['--booted']);
    assert.equal(answer, notify.status === 0);
  });
});
