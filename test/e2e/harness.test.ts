// The runtime under a real systemd user manager (see user-manager.ts for how it
// is booted here without systemd as PID 1). Each test writes its own unit,
// starts it, and reads the manager's view with `systemctl --user show`; the
// fixtures also print what they sent, to per-test log files.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { events, fixture, nodeService, service, stageForAnyUser, useUserManager } from '../helpers/units.js';

describe('e2e: sd-daemon-runtime under a real systemd user manager', function () {
  this.timeout(30_000);
  // Read before the manager boots (useUserManager's before hook runs after this).
  const cgroupBefore = readFileSync('/proc/self/cgroup', 'utf8');
  const m = useUserManager();

  it('boots a manager that answers systemctl, without moving this process out of its cgroup', async function () {
    const state = await m().systemctl('show', '--property=SystemState', '--value');
    assert.equal(state.code, 0, state.stderr);
    assert.match(state.stdout.trim(), /^(running|degraded)$/);
    // is-system-running only answers inside the namespace: it asks sd_booted(), which looks for /run/systemd/system.
    const inside = await m().inNamespace('systemctl', '--user', 'is-system-running');
    assert.match(inside.stdout.trim(), /^(running|degraded)$/, inside.stderr);
    assert.ok(m().version >= 240, `systemd ${m().version}`);
    // Started in the root cgroup, systemd --user would have moved every process there (this one too) into init.scope.
    assert.equal(readFileSync('/proc/self/cgroup', 'utf8'), cgroupBefore);
  });

  it('Type=notify: activating until READY=1, active only after it, with STATUS= as StatusText', async function () {
    const unit = 'e2e-notify-ready.service';
    const log = await m().logFile('notify-ready');
    await m().writeUnit(
      unit,
      service('notify then READY=1', ['Type=notify', 'NotifyAccess=main', ...nodeService(fixture('notify-ready.mjs'), log)]),
    );
    await m().daemonReload();

    const start = await m().systemctl('start', '--no-block', unit);
    assert.equal(start.code, 0, start.stderr);
    const starting = await m().waitFor(unit, { ActiveState: 'activating', StatusText: 'Starting' });
    assert.equal(starting.SubState, 'start');

    const timestamps = ['ExecMainStartTimestampMonotonic', 'ActiveEnterTimestampMonotonic'];
    const active = await m().waitFor(unit, { ActiveState: 'active' }, 15_000, timestamps);
    assert.equal(active.SubState, 'running');
    const shown = await m().systemctl('show', '-p', 'StatusText', unit);
    assert.equal(shown.stdout.trim(), 'StatusText=Serving');

    const sent = events(await m().readLog(log));
    const ready = sent.find((e) => e.event === 'ready');
    assert.ok(ready?.sent, `READY=1 not sent: ${JSON.stringify(sent)}`);
    assert.ok(BigInt(active.ActiveEnterTimestampMonotonic!) >= BigInt(ready.monotonicUsec!), 'active before READY=1 was sent');
    const waitedUsec = BigInt(active.ActiveEnterTimestampMonotonic!) - BigInt(active.ExecMainStartTimestampMonotonic!);
    assert.ok(waitedUsec >= 900_000n, `the manager waited only ${waitedUsec} µs for READY=1`);
  });

  it('Type=notify-reload exists from systemd 253 on; older managers ignore it and run Type=simple', async function () {
    const unit = 'e2e-notify-reload-type.service';
    await m().writeUnit(unit, service('Type=notify-reload, not started', ['Type=notify-reload', 'ExecStart=/bin/true']));
    await m().daemonReload();
    const { Type } = await m().show(unit, ['Type']);
    if (m().version >= 253) {
      assert.equal(Type, 'notify-reload');
    } else {
      // A unit written for 253+ still starts on 252, but as Type=simple: active before READY=1.
      assert.equal(Type, 'simple');
      assert.match(m().managerOutput(), /Failed to parse service type, ignoring: notify-reload/);
    }
  });

  it('reload: SIGHUP -> RELOADING=1 + MONOTONIC_USEC -> READY=1, and `systemctl reload` succeeds', async function () {
    const unit = 'e2e-reload.service';
    const log = await m().logFile('reload');
    // Before 253 the manager cannot send the signal itself: ExecReload= does, and returns at once.
    const type = m().version >= 253 ? ['Type=notify-reload'] : ['Type=notify', 'ExecReload=/bin/kill -HUP $MAINPID'];
    await m().writeUnit(
      unit,
      service('reloads on SIGHUP', [...type, 'NotifyAccess=main', ...nodeService(fixture('notify-ready.mjs'), log)]),
    );
    await m().daemonReload();
    const start = await m().systemctl('start', unit);
    assert.equal(start.code, 0, start.stderr);
    assert.equal((await m().show(unit, ['StatusText'])).StatusText, 'Serving');

    // A SIGHUP from outside: RELOADING=1 moves a running unit to "reloading", READY=1 back to "active".
    const kill = await m().systemctl('kill', '--signal=SIGHUP', unit);
    assert.equal(kill.code, 0, kill.stderr);
    await m().waitFor(unit, { ActiveState: 'reloading', StatusText: 'Reloading' });
    await m().waitFor(unit, { ActiveState: 'active', StatusText: 'Reloaded 1' });

    const reload = await m().systemctl('reload', unit);
    assert.equal(reload.code, 0, reload.stderr);
    await m().waitFor(unit, { ActiveState: 'active', StatusText: 'Reloaded 2' });

    const sent = events(await m().readLog(log));
    assert.deepEqual(
      sent.map((e) => [e.event, e.sent]),
      [
        ['status', true],
        ['ready', true],
        ['reloading', true],
        ['ready', true],
        ['reloading', true],
        ['ready', true],
      ],
    );
  });

  it('barrier() resolves under the real manager', async function () {
    const unit = 'e2e-barrier.service';
    const log = await m().logFile('barrier');
    await m().writeUnit(
      unit,
      service('READY=1 then BARRIER=1', ['Type=notify', 'NotifyAccess=main', ...nodeService(fixture('unit-barrier.mjs'), log)]),
    );
    await m().daemonReload();
    const start = await m().systemctl('start', unit);
    assert.equal(start.code, 0, start.stderr);
    await m().waitFor(unit, (p) => p.StatusText !== 'Ready, waiting for the barrier', 10_000);
    const { StatusText } = await m().show(unit, ['StatusText']);
    assert.equal(StatusText, 'barrier-ok', await m().readLog(log));
    assert.deepEqual(events(await m().readLog(log)), [{ event: 'barrier', sent: true }]);
  });

  it('DynamicUser=yes with ProtectSystem=strict, ProtectHome=yes, PrivateTmp=yes, NoNewPrivileges=yes still reaches active', async function () {
    const unit = 'e2e-dynamic-user.service';
    const log = await m().logFile('dynamic-user');
    const script = m().inside(await stageForAnyUser(m(), fixture('notify-ready.mjs')));
    const hardening = ['DynamicUser=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'NoNewPrivileges=yes'];
    await m().writeUnit(
      unit,
      service('notify as a dynamic user', ['Type=notify', 'NotifyAccess=main', ...hardening, ...nodeService(script, log)]),
    );
    await m().daemonReload();
    const start = await m().systemctl('start', unit);
    assert.equal(start.code, 0, `${start.stderr}\n${await m().readLog(log)}`);
    const active = await m().waitFor(unit, { ActiveState: 'active', StatusText: 'Serving' });
    const sent = events(await m().readLog(log));
    assert.ok(sent.length > 0 && sent.every((e) => e.sent), JSON.stringify(sent));
    assert.notEqual(sent[0]!.uid, 0, 'ran as root, not as a dynamic user');
    const { stdout: user } = await m().systemctl('show', '-p', 'UID', '--value', unit);
    assert.equal(Number(user), sent[0]!.uid);
    assert.equal(active.SubState, 'running');
  });
});
