// The hardening sets of src/lib/hardening.ts under a real systemd user manager
// (booted by user-manager.ts): a socket-activated Type=notify HTTP daemon on
// sd-daemon-runtime, confined by exactly the directives the generator emits,
// must start on its first connection, answer, keep the watchdog fed, reload
// and stop cleanly. This is the proof behind every directive in `strict` and
// `baseline`; the measurements of what breaks node are in UNIT_HARDENING_FACTS.
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';

import { hardeningDirectives, type Directive, type HardeningOptions } from '../../src/lib/hardening.js';
import {
  arg,
  events,
  type DaemonLine,
  firstRequestThroughSocket,
  fixture,
  freePort,
  get,
  service,
  sleep,
  stageForAnyUser,
  useUserManager,
} from '../helpers/units.js';
import type { UnitProperties } from '../helpers/user-manager.js';

/** As the generator renders them: the comment above each directive. */
function render(directives: Directive[]): string[] {
  return directives.flatMap((d) => [`# ${d.comment}`, `${d.key}=${d.value}`]);
}

/** How the kernel sees a process's confinement (the manager shares our PID namespace). */
function confinement(pid: string): { noNewPrivs: string; seccomp: string; capBnd: string; ownNetwork: boolean; ownUsers: boolean } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '?';
  const ns = (kind: string): boolean => readlinkSync(`/proc/${pid}/ns/${kind}`) !== readlinkSync(`/proc/self/ns/${kind}`);
  return {
    noNewPrivs: field('NoNewPrivs'),
    seccomp: field('Seccomp'),
    capBnd: field('CapBnd'),
    ownNetwork: ns('net'),
    ownUsers: ns('user'),
  };
}

/** What hardened-daemon.mjs answers. */
interface Served {
  pid: number;
  uid: number;
  reloads: number;
  adoption: { activated: boolean; name?: string; kind?: string };
}

interface Line extends DaemonLine {
  activated?: boolean;
  name?: string;
  nofileSoft?: string;
}

interface Case {
  title: string;
  options: HardeningOptions;
}

// System scope is approximated by what the generator emits for it (DynamicUser=yes,
// the system-only directives); the manager is a user manager running as root, so
// every directive takes effect as it would under PID 1.
const CASES: Case[] = [
  {
    title: 'strict, system scope (DynamicUser=yes, every listener socket-activated: PrivateNetwork=yes)',
    options: { level: 'strict', scope: 'system', dynamicUser: true, socketKinds: ['tcp'], onlySocketActivated: true },
  },
  {
    title: 'strict, system scope, a listener of its own allowed (no PrivateNetwork, AF_INET/AF_INET6)',
    options: { level: 'strict', scope: 'system', dynamicUser: true, socketKinds: ['tcp'], onlySocketActivated: false },
  },
  {
    title: 'strict, system scope, running as root (no DynamicUser=)',
    options: { level: 'strict', scope: 'system', dynamicUser: false, socketKinds: ['tcp'], onlySocketActivated: true },
  },
  {
    title: 'strict, user scope (PrivateUsers=yes, no DynamicUser)',
    options: { level: 'strict', scope: 'user', dynamicUser: false, socketKinds: ['tcp'], onlySocketActivated: true },
  },
  {
    title: 'baseline, system scope (DynamicUser=yes)',
    options: { level: 'baseline', scope: 'system', dynamicUser: true, socketKinds: ['tcp'], onlySocketActivated: true },
  },
  {
    title: 'baseline, user scope',
    options: { level: 'baseline', scope: 'user', dynamicUser: false, socketKinds: ['tcp'], onlySocketActivated: true },
  },
  // The sets fitted to older targets run node too (pkey_alloc & co. by name where @pkey is unknown).
  {
    title: 'strict, system scope, written for systemd 239 (RHEL 8)',
    options: { level: 'strict', scope: 'system', dynamicUser: true, socketKinds: ['tcp'], onlySocketActivated: true, systemdVersion: 239 },
  },
  {
    title: 'strict, user scope, written for systemd 244 (no namespacing before 245)',
    options: { level: 'strict', scope: 'user', dynamicUser: false, socketKinds: ['tcp'], onlySocketActivated: true, systemdVersion: 244 },
  },
];

describe('e2e: the generated hardening sets under a real systemd user manager', function () {
  this.timeout(90_000);
  const m = useUserManager();

  const context = async (log: string): Promise<string> =>
    `\n--- service log ---\n${await m().readLog(log)}\n--- manager output (last 4 KiB) ---\n${m().managerOutput().slice(-4096)}`;

  CASES.forEach(({ title, options }, index) => {
    it(`${title}: activated by its socket, serves, keeps the watchdog fed, reloads and stops cleanly`, async function () {
      const name = `e2e-hardened-${index + 1}`;
      const socket = `${name}.socket`;
      const unit = `${name}.service`;
      const log = await m().logFile(name);
      const port = await freePort();
      // A world-readable copy: DynamicUser= owns nothing, ProtectHome= hides /root and /home, PrivateTmp= hides /tmp.
      const script = m().inside(await stageForAnyUser(m(), fixture('hardened-daemon.mjs')));
      const directives = hardeningDirectives(options);
      assert.ok(directives.length > 10, `${options.level} emits only ${directives.length} directives`);

      await m().writeUnit(
        socket,
        `[Unit]\nDescription=activates ${unit}\n\n[Socket]\nListenStream=127.0.0.1:${port}\nFileDescriptorName=http\n`,
      );
      await m().writeUnit(
        unit,
        service(title, [
          'Type=notify',
          'NotifyAccess=main',
          // systemd 252 has no Type=notify-reload: ExecReload= sends the signal.
          'ExecReload=/bin/kill -HUP $MAINPID',
          'WatchdogSec=2',
          'Restart=on-failure',
          'RestartSec=1',
          'TimeoutStartSec=15',
          'Environment=RELOAD_DELAY_MS=1000',
          // As under PID 1 (soft 1024, a higher hard limit): node raises the soft limit itself, through a call the filters must leave alone.
          'LimitNOFILE=1024:8192',
          ...(options.dynamicUser ? ['DynamicUser=yes'] : []),
          ...render(directives),
          `ExecStart=${arg(process.execPath)} ${arg(script)}`,
          `StandardOutput=append:${log}`,
          `StandardError=append:${log}`,
        ]),
      );
      const outputBefore = m().managerOutput().length;
      await m().daemonReload();

      const reply = await firstRequestThroughSocket(m(), socket, unit, port, () => context(log));
      const served = JSON.parse(reply.body) as Served;
      assert.deepEqual(
        { activated: served.adoption.activated, name: served.adoption.name, kind: served.adoption.kind },
        { activated: true, name: 'http', kind: 'tcp4' },
        reply.body,
      );
      const active = await m().waitFor(unit, { ActiveState: 'active', SubState: 'running', StatusText: 'Serving' }, 15_000, ['UID']);
      assert.equal(active.MainPID, String(served.pid), 'the answer did not come from the main process');
      if (options.dynamicUser) {
        assert.notEqual(served.uid, 0, 'ran as root, not as a dynamic user');
        assert.equal(active.UID, String(served.uid));
      }

      // The kernel agrees: the directives are in force on the main process.
      const has = (key: string, value: string): boolean => directives.some((d) => d.key === key && d.value === value);
      const { capBnd, ...seen } = confinement(active.MainPID!);
      assert.deepEqual(seen, {
        noNewPrivs: '1',
        seccomp: '2',
        ownNetwork: has('PrivateNetwork', 'yes'),
        ownUsers: has('PrivateUsers', 'yes'),
      });
      if (has('CapabilityBoundingSet', '')) assert.equal(capBnd, '0000000000000000');

      // The manager took every directive: none was unknown, unsupported or ignored.
      const complaints = m()
        .managerOutput()
        .slice(outputBefore)
        .split('\n')
        .filter((line) => line.includes(name) && /ignor|unknown|unsupported|not supported|failed to parse/i.test(line));
      assert.deepEqual(complaints, [], 'the manager complained about the unit');

      // 10 s under WatchdogSec=2: same process, no restart, pings kept arriving.
      const watched = ['ActiveState', 'MainPID', 'NRestarts', 'WatchdogTimestampMonotonic'];
      const first = await m().show(unit, watched);
      let last: UnitProperties = first;
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        await sleep(250);
        last = await m().show(unit, watched);
        const seen = `after ${10_000 - (until - Date.now())} ms: ${JSON.stringify(last)}`;
        assert.deepEqual([last.ActiveState, last.MainPID, last.NRestarts], ['active', first.MainPID, '0'], `${seen}${await context(log)}`);
      }
      const fedUsec = BigInt(last.WatchdogTimestampMonotonic!) - BigInt(first.WatchdogTimestampMonotonic!);
      assert.ok(fedUsec >= 8_000_000n, `the last WATCHDOG=1 came only ${fedUsec} µs after the first one seen${await context(log)}`);

      // SIGHUP from outside: RELOADING=1 -> "reloading", READY=1 -> "active".
      const kill = await m().systemctl('kill', '--signal=SIGHUP', unit);
      assert.equal(kill.code, 0, kill.stderr);
      await m().waitFor(unit, { ActiveState: 'reloading', StatusText: 'Reloading' });
      await m().waitFor(unit, { ActiveState: 'active', StatusText: 'Reloaded' });
      const reload = await m().systemctl('reload', unit);
      assert.equal(reload.code, 0, `systemctl reload: ${reload.stderr}${await context(log)}`);
      await m().waitFor(unit, (p) => p.ActiveState === 'active' && p.StatusText === 'Reloaded');
      const afterReloads = JSON.parse((await get(port)).body) as Served;
      assert.deepEqual({ pid: afterReloads.pid, reloads: afterReloads.reloads }, { pid: served.pid, reloads: 2 });

      const stop = await m().systemctl('stop', unit);
      assert.equal(stop.code, 0, `systemctl stop: ${stop.stderr}${await context(log)}`);
      const stopped = await m().show(unit, ['ActiveState', 'Result', 'ExecMainCode', 'ExecMainStatus', 'NRestarts']);
      // ExecMainCode=1 is CLD_EXITED: it exited by itself, with status 0, not killed by a signal.
      assert.deepEqual(
        stopped,
        { ActiveState: 'inactive', Result: 'success', ExecMainCode: '1', ExecMainStatus: '0', NRestarts: '0' },
        await context(log),
      );

      const lines = events<Line>(await m().readLog(log));
      const byEvent = (event: string): Line[] => lines.filter((l) => l.event === event);
      assert.deepEqual(
        byEvent('limits').map((l) => l.nofileSoft),
        ['8192'],
        `node could not raise RLIMIT_NOFILE${await context(log)}`,
      );
      assert.deepEqual(
        byEvent('watchdog').map((l) => [l.running, l.timeoutMs]),
        [[true, 2000]],
        await context(log),
      );
      assert.ok(byEvent('ready').every((l) => l.sent) && byEvent('ready').length === 1, `READY=1${await context(log)}`);
      assert.ok(byEvent('ping').length > 0 && byEvent('ping').every((l) => l.sent), `WATCHDOG=1${await context(log)}`);
      assert.deepEqual(
        lines.map((l) => l.event).filter((e) => e !== 'ping' && e !== 'limits'),
        ['listening', 'watchdog', 'ready', 'reloading', 'reloading', 'stopping'],
        await context(log),
      );
    });
  });
});
