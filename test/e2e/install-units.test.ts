// The project's install script under a real systemd user manager (issue 11):
// a user-scope project left under /tmp, where PrivateTmp= hides it, really
// fails with status=200/CHDIR (which is why the generator and the script warn);
// and a reload still owed (files written, manager not reloaded) is noticed on
// the next run and done, never reported as "nothing changed".
import assert from 'node:assert/strict';
import path from 'node:path';

import { generate, leaveRunDir } from '../helpers/generator.js';
import { useUserManager } from '../helpers/units.js';
import { hostSystemdVersion } from '../helpers/systemd.js';

describe('e2e: install-units under a real systemd user manager', function () {
  this.timeout(120_000);
  const m = useUserManager();
  const options = { scope: 'user', systemdVersion: hostSystemdVersion(), type: 'simple', sockets: 'none', watchdog: 'off', language: 'js' };

  async function install(script: string, ...args: string[]): Promise<{ code: number; output: string }> {
    const configHome = path.dirname(path.dirname(m().unitDir));
    const r = await m().inNamespace('env', `XDG_CONFIG_HOME=${configHome}`, process.execPath, script, ...args);
    return { code: r.code, output: `${r.stdout}${r.stderr}` };
  }

  it('a project installed from under /tmp: install-units warns, and the service indeed fails with status=200/CHDIR', async function () {
    const p = await generate(options, 'in-tmp', m().shareDir);
    leaveRunDir();
    // The host path (under /tmp): the drop-in points WorkingDirectory= there.
    assert.match(p.dir, /^\/tmp\//, 'this proof needs the project under /tmp');
    const run = await install(path.join(p.dir, 'scripts', 'install-units.mjs'));
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /warning: this project is at \/tmp\/.*PrivateTmp=yes/);
    await m().systemctl('start', 'in-tmp.service');
    const state = await m().waitFor('in-tmp.service', (s) => s.ActiveState === 'failed' || s.ActiveState === 'inactive', 15_000);
    assert.equal(state.ExecMainStatus, '200', `expected CHDIR: ${JSON.stringify(state)}`);
  });

  it('a reload owed from an earlier run is done by the next run; then nothing is owed', async function () {
    const p = await generate(options, 'owed', m().shareDir);
    leaveRunDir();
    const script = m().inside(path.join(p.dir, 'scripts', 'install-units.mjs'));
    const first = await install(script);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /ran: systemctl --user daemon-reload/);
    // Enabled, so the manager keeps it loaded (an unreferenced, inactive unit is dropped and read afresh when next asked for).
    const configHome = path.dirname(path.dirname(m().unitDir));
    const enable = await m().inNamespace('env', `XDG_CONFIG_HOME=${configHome}`, 'systemctl', '--user', 'enable', 'owed.service');
    assert.equal(enable.code, 0, enable.stderr);
    // Rewrite the drop-in without reloading (a project moved, say): the manager now has a stale copy loaded.
    const moved = await install(path.join(p.dir, 'scripts', 'install-units.mjs'), '--no-reload');
    assert.equal(moved.code, 0, moved.output);
    assert.equal((await m().show('owed.service', ['NeedDaemonReload'])).NeedDaemonReload, 'yes');
    const back = await install(script, '--no-reload');
    assert.equal(back.code, 0, back.output);
    // The files are as the first run wrote them, but the manager has not re-read them since.
    const next = await install(script);
    assert.equal(next.code, 0, next.output);
    assert.match(next.output, /unchanged/);
    assert.match(next.output, /the manager has not reloaded owed\.service since they changed/);
    assert.match(next.output, /ran: systemctl --user daemon-reload/);
    assert.equal((await m().show('owed.service', ['NeedDaemonReload'])).NeedDaemonReload, 'no');
    const last = await install(script);
    assert.equal(last.code, 0, last.output);
    assert.match(last.output, /Nothing changed, and the manager has these units loaded as they are/);
  });

  it('a template unit (name@.service): installed, reloaded, and a second run owes nothing', async function () {
    const p = await generate({ ...options, template: 'yes' }, 'tpl', m().shareDir);
    leaveRunDir();
    const script = m().inside(path.join(p.dir, 'scripts', 'install-units.mjs'));
    const first = await install(script);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /ran: systemctl --user daemon-reload/);
    const again = await install(script);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /Nothing changed, and the manager has these units loaded as they are/);
  });
});
