// The runtime under a real systemd user manager (see user-manager.ts for how it
// is booted here without systemd as PID 1). Each test writes its own unit,
// starts it, and reads the manager's view with `systemctl --user show`; the
// fixtures also print what they sent, to per-test log files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { UserManager } from './user-manager.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const fixture = (name: string): string => path.join(here, 'fixtures', name);

/** One ExecStart= argument, quoted for systemd (C escapes, %-specifiers, $-expansion). */
function arg(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%').replaceAll('$', '$$$$')}"`;
}

function service(description: string, lines: string[]): string {
  return `[Unit]\nDescription=${description}\n\n[Service]\n${lines.join('\n')}\n`;
}

/** `node <fixture>` with its output appended to `log`. */
function nodeService(script: string, log: string): string[] {
  return [`ExecStart=${arg(process.execPath)} ${arg(script)}`, `StandardOutput=append:${log}`, `StandardError=append:${log}`];
}

interface Event {
  event: string;
  monotonicUsec?: string;
  uid?: number;
  sent?: boolean;
  reason?: string;
  error?: string;
}

function events(log: string): Event[] {
  return log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Event);
}

/**
 * Copies a fixture and the runtime package (its published files and its
 * dependencies) under the manager's shared dir. A DynamicUser= service runs as
 * a uid that owns nothing: a checkout under /home or /root is hidden by
 * ProtectHome=, one under /tmp by PrivateTmp=, and any 0700 directory on the
 * way is closed to it, so it runs from a world-readable copy.
 */
async function stageForAnyUser(manager: UserManager, script: string): Promise<string> {
  const app = path.join(manager.shareDir, 'app');
  const runtime = realpathSync(path.join(repo, 'node_modules', 'sd-daemon-runtime'));
  const pkg = JSON.parse(readFileSync(path.join(runtime, 'package.json'), 'utf8')) as { files?: string[]; dependencies?: Record<string, string> };
  const dest = path.join(app, 'node_modules', 'sd-daemon-runtime');
  for (const entry of ['package.json', ...(pkg.files ?? [])]) {
    const source = path.join(runtime, entry);
    if (await fs.stat(source).catch(() => null)) await fs.cp(source, path.join(dest, entry), { recursive: true });
  }
  const require = createRequire(path.join(runtime, 'package.json'));
  for (const dependency of Object.keys(pkg.dependencies ?? {})) {
    const dir = path.dirname(require.resolve(`${dependency}/package.json`));
    await fs.cp(dir, path.join(app, 'node_modules', dependency), { recursive: true });
  }
  const copy = path.join(app, path.basename(script));
  await fs.copyFile(script, copy);
  spawnSync('chmod', ['-R', 'a+rX', app]);
  return copy;
}

describe('e2e: sd-daemon-runtime under a real systemd user manager', function () {
  this.timeout(30_000);
  let manager: UserManager | undefined;
  let cgroupBefore = '';

  before(async function () {
    this.timeout(60_000);
    const reason = UserManager.prerequisites();
    if (reason) {
      if (process.env.CI === 'true') throw new Error(`CI=true and the e2e prerequisites are missing: ${reason}`);
      console.warn(`\n  !!! SKIPPING the end-to-end tests under a real systemd user manager: ${reason}\n`);
      this.skip();
    }
    cgroupBefore = readFileSync('/proc/self/cgroup', 'utf8');
    manager = await UserManager.start();
  });

  afterEach(async function () {
    if (!manager) return;
    if (this.currentTest?.state === 'failed') {
      console.error(`--- systemd --user output (last 8 KiB) ---\n${manager.managerOutput().slice(-8192)}`);
    }
    await manager.stopUnits();
  });

  after(async function () {
    this.timeout(60_000);
    await manager?.stop();
  });

  const m = (): UserManager => {
    assert.ok(manager, 'the manager did not start');
    return manager;
  };

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
    await m().writeUnit(unit, service('notify then READY=1', ['Type=notify', 'NotifyAccess=main', ...nodeService(fixture('notify-ready.mjs'), log)]));
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
    await m().writeUnit(unit, service('reloads on SIGHUP', [...type, 'NotifyAccess=main', ...nodeService(fixture('notify-ready.mjs'), log)]));
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
      [['status', true], ['ready', true], ['reloading', true], ['ready', true], ['reloading', true], ['ready', true]],
    );
  });

  it('barrier() resolves under the real manager', async function () {
    const unit = 'e2e-barrier.service';
    const log = await m().logFile('barrier');
    await m().writeUnit(unit, service('READY=1 then BARRIER=1', ['Type=notify', 'NotifyAccess=main', ...nodeService(fixture('barrier.mjs'), log)]));
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
    await m().writeUnit(unit, service('notify as a dynamic user', ['Type=notify', 'NotifyAccess=main', ...hardening, ...nodeService(script, log)]));
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
