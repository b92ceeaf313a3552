// The runtime's mechanisms against a real systemd user manager (booted by
// user-manager.ts): the watchdog keep-alive and what happens when the event
// loop stops feeding it, a socket unit's listener adopted by name, and the FD
// store carrying a listening socket from one process to the next. Fixtures run
// from the checkout (root, no sandboxing: the manager's mount namespace sees it)
// and print JSON lines to per-test logs.
import assert from 'node:assert/strict';

import {
  events,
  type DaemonLine,
  firstRequestThroughSocket,
  fixture,
  freePort,
  get,
  nodeService,
  service,
  sleep,
  useUserManager,
} from '../helpers/units.js';
import type { UnitProperties } from '../helpers/user-manager.js';

/** What http-daemon.mjs answers. */
interface Served {
  pid: number;
  adoption: { activated: boolean; name?: string; fd?: number; kind?: string; address: { address: string; port: number } };
}

/** The units behind the watchdog tests; RestartSec= leaves time to see Result=watchdog before the restart. */
const WATCHDOG_UNIT = ['Type=notify', 'NotifyAccess=main', 'WatchdogSec=2', 'Restart=on-failure', 'RestartSec=2', 'LimitCORE=0'];

describe('e2e: runtime mechanisms under a real systemd user manager', function () {
  this.timeout(60_000);
  const m = useUserManager();

  /** The service's log and the manager's recent output, for assertion messages. */
  const context = async (log: string): Promise<string> =>
    `\n--- service log ---\n${await m().readLog(log)}\n--- manager output (last 4 KiB) ---\n${m().managerOutput().slice(-4096)}`;

  async function startOk(unit: string, log: string): Promise<void> {
    const start = await m().systemctl('start', unit);
    assert.equal(start.code, 0, `systemctl start ${unit}: ${start.stderr}${await context(log)}`);
  }

  it('watchdog: startWatchdog() keeps a WatchdogSec=2 service active for 10 s, same MainPID, no restart', async function () {
    const unit = 'e2e-watchdog-alive.service';
    const log = await m().logFile('watchdog-alive');
    await m().writeUnit(unit, service('fed watchdog', [...WATCHDOG_UNIT, ...nodeService(fixture('watchdog.mjs'), log)]));
    await m().daemonReload();
    await startOk(unit, log);

    const watched = ['ActiveState', 'SubState', 'MainPID', 'NRestarts', 'WatchdogTimestampMonotonic', 'WatchdogUSec'];
    const first = await m().show(unit, watched);
    assert.equal(first.ActiveState, 'active', `${JSON.stringify(first)}${await context(log)}`);
    assert.equal(first.WatchdogUSec, '2s');
    let last: UnitProperties = first;
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      await sleep(250);
      last = await m().show(unit, watched);
      const seen = `after ${10_000 - (until - Date.now())} ms: ${JSON.stringify(last)}`;
      assert.equal(last.ActiveState, 'active', `${seen}${await context(log)}`);
      assert.equal(last.MainPID, first.MainPID, `${seen}${await context(log)}`);
      assert.equal(last.NRestarts, '0', `${seen}${await context(log)}`);
    }
    // The manager records each WATCHDOG=1 it accepts: pings kept arriving all along.
    const fedUsec = BigInt(last.WatchdogTimestampMonotonic!) - BigInt(first.WatchdogTimestampMonotonic!);
    assert.ok(fedUsec >= 8_000_000n, `the last WATCHDOG=1 came only ${fedUsec} µs after the first one seen${await context(log)}`);

    const lines = events<DaemonLine>(await m().readLog(log));
    const keepAlive = lines.find((l) => l.event === 'watchdog');
    assert.deepEqual(
      { running: keepAlive?.running, timeoutMs: keepAlive?.timeoutMs },
      { running: true, timeoutMs: 2000 },
      await context(log),
    );
    assert.ok(
      lines.some((l) => l.event === 'ping' && l.sent),
      `no WATCHDOG=1 sent${await context(log)}`,
    );
    assert.ok(!lines.some((l) => l.event === 'ping' && !l.sent), `a WATCHDOG=1 failed${await context(log)}`);
    assert.equal(String(lines.find((l) => l.event === 'ready')?.pid), first.MainPID);
  });

  it('watchdog: a blocked event loop stops the pings; the manager kills it (Result=watchdog) and restarts it', async function () {
    const unit = 'e2e-watchdog-hang.service';
    const log = await m().logFile('watchdog-hang');
    await m().writeUnit(unit, service('watchdog, then a hang', [...WATCHDOG_UNIT, ...nodeService(fixture('watchdog.mjs'), log)]));
    await m().daemonReload();
    await startOk(unit, log);
    const { MainPID: hungPid } = await m().show(unit, ['MainPID']);
    // Fed, it outlives WatchdogSec=: what kills it below is the hang, not a missing keep-alive.
    await sleep(3000);
    const fed = await m().show(unit, ['ActiveState', 'MainPID', 'NRestarts']);
    assert.deepEqual(fed, { ActiveState: 'active', MainPID: hungPid, NRestarts: '0' }, await context(log));

    const kill = await m().systemctl('kill', '--kill-who=main', '--signal=SIGUSR2', unit);
    assert.equal(kill.code, 0, kill.stderr);

    // Every distinct state on the way, to show what the manager did and in which order.
    const states: string[] = [];
    let last: UnitProperties = {};
    const deadline = Date.now() + 30_000;
    for (;;) {
      last = await m().show(unit, ['ActiveState', 'SubState', 'Result', 'MainPID', 'NRestarts']);
      const state = `${last.ActiveState}/${last.SubState} Result=${last.Result}`;
      if (states.at(-1) !== state) states.push(state);
      if (Number(last.NRestarts) >= 1 && last.ActiveState === 'active' && last.MainPID !== '0' && last.MainPID !== hungPid) break;
      assert.ok(
        Date.now() < deadline,
        `no restart within 30 s; states: ${states.join(' -> ')}; last ${JSON.stringify(last)}${await context(log)}`,
      );
      await sleep(50);
    }
    const explain = `states: ${states.join(' -> ')}${await context(log)}`;
    assert.ok(states.includes('activating/auto-restart Result=watchdog'), explain);
    assert.equal(last.NRestarts, '1', explain);
    assert.match(m().managerOutput(), new RegExp(`${unit.replaceAll('.', '\\.')}: Watchdog timeout \\(limit 2s\\)!`), explain);

    // The hung process was killed in its busy loop, which would have lasted 10 s.
    const lines = events<DaemonLine>(await m().readLog(log));
    const byHung = lines.filter((l) => String(l.pid) === hungPid).map((l) => l.event);
    assert.ok(byHung.includes('blocking') && !byHung.includes('unblocked'), explain);
    // Its successor feeds the watchdog again.
    const byNext = lines.filter((l) => String(l.pid) === last.MainPID);
    assert.ok(
      byNext.some((l) => l.event === 'ready' && l.sent),
      explain,
    );
  });

  it('socket activation: a .socket with FileDescriptorName=http starts the service, which listen()s on the fd by name', async function () {
    const port = await freePort();
    const socket = 'e2e-activated.socket';
    const unit = 'e2e-activated.service';
    const log = await m().logFile('activated');
    await m().writeUnit(
      socket,
      `[Unit]\nDescription=activates ${unit}\n\n[Socket]\nListenStream=127.0.0.1:${port}\nFileDescriptorName=http\n`,
    );
    await m().writeUnit(
      unit,
      service('socket-activated HTTP', ['Type=notify', 'NotifyAccess=main', ...nodeService(fixture('http-daemon.mjs'), log)]),
    );
    await m().daemonReload();

    const reply = await firstRequestThroughSocket(m(), socket, unit, port, () => context(log));
    const served = JSON.parse(reply.body) as Served;
    assert.deepEqual(
      {
        activated: served.adoption.activated,
        name: served.adoption.name,
        fd: served.adoption.fd,
        kind: served.adoption.kind,
        port: served.adoption.address.port,
      },
      { activated: true, name: 'http', fd: 3, kind: 'tcp4', port },
      reply.body,
    );

    const shown = await m().waitFor(unit, { ActiveState: 'active', SubState: 'running' }, 15_000, ['TriggeredBy']);
    assert.equal(shown.MainPID, String(served.pid), 'the answer did not come from the main process');
    assert.equal(shown.TriggeredBy, socket);
    assert.equal(shown.StatusText, `Serving on port ${port}: adopted fd 3 named http`);
    const started = events<{ event: string; listenFdNames?: string }>(await m().readLog(log)).find((l) => l.event === 'listening');
    assert.equal(started?.listenFdNames, 'http', await context(log));
    await m().waitFor(socket, { ActiveState: 'active', SubState: 'running' });
  });

  /** Starts http-daemon.mjs with FDSTORE=1 and returns the port it bound and stored, and its PID. */
  async function startFdStoreDaemon(unit: string, log: string, extra: string[] = []): Promise<{ port: number; pid: string }> {
    const lines = ['Type=notify', 'NotifyAccess=main', 'FileDescriptorStoreMax=4', 'Environment=FDSTORE=1', ...extra];
    await m().writeUnit(
      unit,
      service('HTTP with its listener in the FD store', [...lines, ...nodeService(fixture('http-daemon.mjs'), log)]),
    );
    await m().daemonReload();
    await startOk(unit, log);
    const shown = await m().show(unit, ['ActiveState', 'MainPID', 'StatusText']);
    const port = Number(/^Serving on port (\d+): bound it, stored as http$/.exec(shown.StatusText ?? '')?.[1]);
    assert.ok(port > 0, `${JSON.stringify(shown)}${await context(log)}`);
    const first = JSON.parse((await get(port)).body) as Served;
    assert.equal(String(first.pid), shown.MainPID);
    assert.equal(first.adoption.activated, false);
    return { port, pid: shown.MainPID! };
  }

  /** After a new process took over, it serves on `port` through the stored fd named http. */
  async function assertServesStoredFd(unit: string, log: string, port: number, oldPid: string): Promise<void> {
    const next = await m().waitFor(unit, (p) => p.ActiveState === 'active' && p.MainPID !== oldPid && p.MainPID !== '0', 15_000);
    assert.equal(next.StatusText, `Serving on port ${port}: adopted fd 3 named http`, await context(log));
    let reply: { status: number; body: string };
    try {
      reply = await get(port);
    } catch (error) {
      assert.fail(`GET on the stored port ${port}: ${(error as Error).message}${await context(log)}`);
    }
    const served = JSON.parse(reply.body) as Served;
    assert.equal(String(served.pid), next.MainPID, reply.body);
    assert.deepEqual(
      { activated: served.adoption.activated, name: served.adoption.name, port: served.adoption.address.port },
      { activated: true, name: 'http', port },
      reply.body,
    );
  }

  it('FD store: storeFds("http", [server]) survives `systemctl restart`; the new process serves on the same port', async function () {
    const unit = 'e2e-fdstore-restart.service';
    const log = await m().logFile('fdstore-restart');
    const { port, pid } = await startFdStoreDaemon(unit, log);
    const restart = await m().systemctl('restart', unit);
    assert.equal(restart.code, 0, `${restart.stderr}${await context(log)}`);
    await assertServesStoredFd(unit, log, port, pid);
  });

  it('FD store: the stored fd also survives a crash (SIGKILL) and Restart=on-failure', async function () {
    const unit = 'e2e-fdstore-crash.service';
    const log = await m().logFile('fdstore-crash');
    const { port, pid } = await startFdStoreDaemon(unit, log, ['Restart=on-failure', 'RestartSec=100ms']);
    const kill = await m().systemctl('kill', '--kill-who=main', '--signal=SIGKILL', unit);
    assert.equal(kill.code, 0, kill.stderr);
    await assertServesStoredFd(unit, log, port, pid);
    assert.equal((await m().show(unit, ['NRestarts'])).NRestarts, '1');
  });

  it('FD store: `systemctl stop` (no job queued after it) releases the stored fds; the next start binds anew', async function () {
    const unit = 'e2e-fdstore-stop.service';
    const log = await m().logFile('fdstore-stop');
    const { port } = await startFdStoreDaemon(unit, log);
    const stop = await m().systemctl('stop', unit);
    assert.equal(stop.code, 0, stop.stderr);
    // Nobody holds the port any more: the manager closed its copy with the unit.
    const refused = await get(port, 2000).then(
      (reply) => new Error(`answered ${reply.status} ${reply.body}`),
      (error: Error) => error,
    );
    assert.match(refused.message, /ECONNREFUSED/, `port ${port} after stop${await context(log)}`);
    await startOk(unit, log);
    const { StatusText } = await m().show(unit, ['StatusText']);
    assert.match(StatusText ?? '', /^Serving on port \d+: bound it, stored as http$/, await context(log));
  });
});
