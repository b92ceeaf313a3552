// The generated project's uninstall-units under a real systemd user manager
// (issue 14): it stops, disables and removes exactly what install-units put in
// place, leaves what it did not write (a drop-in of the user's), refuses while a
// file it wrote has been edited since, changes nothing with --dry-run, and a
// second run has nothing to remove.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { generate, leaveRunDir } from '../helpers/generator.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import { hostSystemdVersion } from '../helpers/systemd.js';
import { freePort, get, installGenerated, useUserManager } from '../helpers/units.js';

describe('e2e: uninstall-units under a real systemd user manager', function () {
  this.timeout(300_000);
  const m = useUserManager();

  /** Runs one of the project's scripts where the manager sees it, with the manager's XDG_CONFIG_HOME. */
  async function script(dir: string, name: string, ...args: string[]): Promise<{ code: number; output: string }> {
    const configHome = path.dirname(path.dirname(m().unitDir));
    const r = await m().inNamespace(
      'env',
      `XDG_CONFIG_HOME=${configHome}`,
      process.execPath,
      m().inside(path.join(dir, 'scripts', `${name}.mjs`)),
      ...args,
    );
    return { code: r.code, output: `${r.stdout}${r.stderr}` };
  }

  /** `systemctl --user` where the manager's unit files are (enable reads them from the client's side). */
  function systemctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const configHome = path.dirname(path.dirname(m().unitDir));
    return m().inNamespace('env', `XDG_CONFIG_HOME=${configHome}`, 'systemctl', '--user', ...args);
  }

  /** Every entry of the unit directory (and of its .wants/.requires and .d directories) that names `name`. */
  function entriesOf(name: string): string[] {
    const found: string[] = [];
    for (const entry of readdirSync(m().unitDir)) {
      if (entry.startsWith(name)) found.push(entry);
      const sub = path.join(m().unitDir, entry);
      if (/\.(wants|requires|d)$/.test(entry))
        for (const inner of readdirSync(sub)) if (inner.startsWith(name) || entry.startsWith(name)) found.push(`${entry}/${inner}`);
    }
    return found.sort();
  }

  it("a running, enabled, socket-activated daemon: an edited unit stops it all; --dry-run changes nothing; then stopped, disabled, removed (a drop-in of the user's kept), reloaded; a second run has nothing to remove", async function () {
    const port = await freePort();
    const p = await installGenerated(m(), { sockets: `tcp:127.0.0.1:${port}` }, 'un-live');
    const service = 'un-live.service';
    const socket = 'un-live.socket';
    const enable = await systemctl('enable', '--now', socket);
    assert.equal(enable.code, 0, enable.stderr);
    assert.equal((await get(port)).status, 200, 'the daemon answers through its socket');
    await m().waitFor(service, (s) => s.ActiveState === 'active', 30_000);
    const installed = entriesOf('un-live');
    assert.ok(
      installed.some((e) => e.startsWith('sockets.target.wants/')),
      `enable made its symlink: ${installed.join(', ')}`,
    );

    // A unit file edited where it was installed is the user's now: nothing is done.
    const socketFile = path.join(m().unitDir, socket);
    const original = readFileSync(socketFile, 'utf8');
    writeFileSync(socketFile, `${original}# a local change\n`);
    const refused = await script(p.dir, 'uninstall-units');
    assert.equal(refused.code, 1, refused.output);
    assert.match(
      refused.output,
      new RegExp(
        `uninstall-units: ${socketFile.replace(/[.]/g, '\\.')} changed since install-units wrote it: not removing it, and nothing was changed\\.`,
      ),
    );
    assert.match(refused.output, /pass --force/);
    assert.equal((await m().show(service, ['ActiveState'])).ActiveState, 'active', 'the refusal stopped nothing');
    assert.deepEqual(entriesOf('un-live'), installed);
    writeFileSync(socketFile, original);

    // A drop-in the user added (as `systemctl edit` does): never install-units', so never removed.
    const userDropIn = path.join(m().unitDir, `${service}.d`, 'override.conf');
    writeFileSync(userDropIn, '[Service]\nEnvironment=LOCAL=1\n');

    const dry = await script(p.dir, 'uninstall-units', '--dry-run');
    assert.equal(dry.code, 0, dry.output);
    assert.match(dry.output, /^would systemctl --user stop -- un-live\.socket un-live\.service$/m);
    assert.match(dry.output, /^would systemctl --user disable -- un-live\.socket un-live\.service$/m);
    assert.match(dry.output, /^would systemctl --user daemon-reload$/m);
    assert.equal((await m().show(service, ['ActiveState'])).ActiveState, 'active', '--dry-run stopped nothing');
    assert.deepEqual(entriesOf('un-live'), [...installed, `${service}.d/override.conf`].sort(), '--dry-run removed nothing');

    const run = await script(p.dir, 'uninstall-units');
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /^ran: systemctl --user stop -- un-live\.socket un-live\.service$/m);
    assert.match(run.output, /^ran: systemctl --user daemon-reload$/m);
    assert.match(run.output, new RegExp(`^kept +.*${service.replace('.', '\\.')}\\.d: it still holds override\\.conf$`, 'm'));
    // Only the user's drop-in (and the directory holding it) is left; enable's symlinks went with disable.
    assert.deepEqual(entriesOf('un-live'), [`${service}.d`, `${service}.d/override.conf`]);
    const state = await m().show(socket, ['ActiveState', 'LoadState', 'UnitFileState']);
    assert.equal(state.ActiveState, 'inactive', JSON.stringify(state));
    assert.equal(state.LoadState, 'not-found', JSON.stringify(state));
    assert.equal((await m().show(service, ['ActiveState'])).ActiveState, 'inactive');
    assert.equal(
      existsSync(path.join(m().unitDir, `.${service}.installed-units.json`)),
      false,
      'the record goes with the last file it lists',
    );
    await assert.rejects(get(port, 3_000), 'nothing listens on the port any more');

    const again = await script(p.dir, 'uninstall-units');
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /^Nothing to remove: install-units has recorded nothing it installed in /m);
    assert.deepEqual(entriesOf('un-live'), [`${service}.d`, `${service}.d/override.conf`]);
  });

  it('a template unit (name@.service) with an enabled instance: the instance is stopped and disabled with it', async function () {
    const p = await generate(
      {
        scope: 'user',
        systemdVersion: hostSystemdVersion(),
        type: 'simple',
        sockets: 'none',
        watchdog: 'off',
        language: 'js',
        template: 'yes',
      },
      'un-tpl',
      m().shareDir,
    );
    leaveRunDir();
    const install = await script(p.dir, 'install-units');
    assert.equal(install.code, 0, install.output);
    // DefaultInstance= is not set: name the instance, as a user would.
    const enable = await systemctl('enable', 'un-tpl@one.service');
    assert.equal(enable.code, 0, enable.stderr);
    assert.ok(
      entriesOf('un-tpl').some((e) => e.endsWith('/un-tpl@one.service')),
      entriesOf('un-tpl').join(', '),
    );
    const run = await script(p.dir, 'uninstall-units');
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /^ran: systemctl --user stop -- un-tpl@\*\.service$/m);
    assert.deepEqual(entriesOf('un-tpl'), [], "the template, its drop-in and the instance's symlink are gone");
    assert.equal((await m().show('un-tpl@one.service', ['LoadState'])).LoadState, 'not-found');
  });
});

// System scope without touching this machine's /etc/systemd/system: installed
// into a unit directory of the test's own (--unit-dir), from the project's own
// install path (system-scope install-units runs only from there).
describe('uninstall-units, system scope (--unit-dir, no manager asked)', function () {
  this.timeout(120_000);

  it('--dry-run names the stop, disable, removals and reload and changes nothing; --files-only removes them; /etc/systemd/system has nothing recorded', async function () {
    requireOrSkip(this, process.getuid?.() === 0, 'needs root: system-scope install-units runs as root');
    // Outside /tmp: the generator refuses an install path that PrivateTmp= would hide.
    const base = `/opt/sd-uninstall-test-${process.pid}`;
    mkdirSync(base, { recursive: true });
    try {
      const p = await generate(
        { scope: 'system', language: 'js', sockets: 'tcp:127.0.0.1:8080', installPath: path.join(base, 'un-sys') },
        'un-sys',
        base,
      );
      leaveRunDir();
      const unitDir = path.join(base, 'units');
      const node = (name: string, ...args: string[]) =>
        spawnSync(process.execPath, [path.join(p.dir, 'scripts', `${name}.mjs`), ...args], { cwd: p.dir, encoding: 'utf8' });
      const install = node('install-units', '--unit-dir', unitDir, '--no-reload');
      assert.equal(install.status, 0, `${install.stdout}${install.stderr}`);
      const files = readdirSync(unitDir).sort();
      // The record sits with the units, hidden (systemd ignores dot files).
      assert.deepEqual(files, ['.un-sys.service.installed-units.json', 'un-sys.service', 'un-sys.socket']);

      const dry = node('uninstall-units', '--unit-dir', unitDir, '--dry-run');
      assert.equal(dry.status, 0, `${dry.stdout}${dry.stderr}`);
      assert.equal(
        dry.stdout,
        [
          'would systemctl stop -- un-sys.socket un-sys.service',
          'would systemctl disable -- un-sys.socket un-sys.service',
          `would remove ${unitDir}/un-sys.service`,
          `would remove ${unitDir}/un-sys.socket`,
          `would remove ${unitDir}/.un-sys.service.installed-units.json`,
          `would remove ${unitDir} once empty`,
          'would systemctl daemon-reload',
          '',
        ].join('\n'),
      );
      assert.deepEqual(readdirSync(unitDir).sort(), files, '--dry-run removed nothing');

      const elsewhere = node('uninstall-units', '--dry-run');
      assert.equal(elsewhere.status, 0, `${elsewhere.stdout}${elsewhere.stderr}`);
      assert.match(elsewhere.stdout, /^Nothing to remove: install-units has recorded nothing it installed in \/etc\/systemd\/system /);

      const run = node('uninstall-units', '--unit-dir', unitDir, '--files-only');
      assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
      assert.equal(existsSync(unitDir), false, 'the directory install-units made is gone with its files');
      assert.match(run.stdout, new RegExp(`The project at ${p.dir} stays`));
      const again = node('uninstall-units', '--unit-dir', unitDir, '--files-only');
      assert.equal(again.status, 0, `${again.stdout}${again.stderr}`);
      assert.match(again.stdout, /^Nothing to remove/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
