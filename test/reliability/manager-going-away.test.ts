// The manager going away under a daemon's feet, then coming back: the test
// renames the user manager's notify socket ($XDG_RUNTIME_DIR/systemd/notify)
// away while a daemon with a frequent watchdog keep-alive runs (WatchdogSec=10,
// a ping every second), so its pings fail; then binds a socket of its own at
// that path (python3, sharing nothing with the runtime) and sees the daemon's
// next WATCHDOG=1 arrive there; then moves the manager's socket back over it
// (rename(2) replaces the path atomically: no moment without a socket).
// Throughout, the daemon serves HTTP; its log reports the failure once and the
// recovery once; the unit stays active, never restarted, and later messages
// reach systemd again.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';

import { requireOrSkip } from '../helpers/prerequisites.js';
import { sleep, useUserManager } from '../helpers/units.js';
import { figures, fixture, fixtureService, monotonicUsec, startLoad, until, type LoadResult } from '../helpers/under-manager.js';

interface Caught {
  event: string;
  pid?: number | null;
  data?: string;
}

describe('reliability: the notify socket removed, replaced and restored under a running daemon', function () {
  const m = useUserManager();

  before(function () {
    const python = spawnSync('python3', ['-c', 'import socket; socket.SCM_CREDENTIALS'], { encoding: 'utf8' });
    requireOrSkip(
      this,
      python.status === 0,
      `the stand-in notify socket is bound by python3 (with SCM_CREDENTIALS), which does not run here: ${python.error?.message ?? python.stderr.trim()}`,
    );
  });

  it('keeps serving, logs the failure once, notifies the socket that replaced it, and reaches systemd again', async function () {
    this.timeout(90_000);
    const unit = 'rel-notify-gap.service';
    const log = await m().logFile('rel-notify-gap');
    await m().writeUnit(
      unit,
      fixtureService('pings often, outlives a missing notify socket', fixture('notify-gap.mjs'), log, [
        'Type=notify',
        'NotifyAccess=main',
        // Long enough for the whole gap below (about 6 s without a ping reaching systemd).
        'WatchdogSec=10',
        'Restart=on-failure',
      ]),
    );
    await m().daemonReload();
    const explain = async (): Promise<string> =>
      `\n--- service log ---\n${await m().readLog(log)}\n--- manager output (end) ---\n${m().managerOutput().slice(-3000)}`;
    const start = await m().systemctl('start', unit);
    assert.equal(start.code, 0, `${start.stderr}${await explain()}`);

    const props = ['ActiveState', 'MainPID', 'NRestarts', 'StatusText', 'WatchdogTimestampMonotonic'];
    const running = await m().show(unit, props);
    const port = Number(/^Serving on port (\d+)$/.exec(running.StatusText ?? '')?.[1]);
    assert.ok(port > 0, `${JSON.stringify(running)}${await explain()}`);
    const pid = running.MainPID!;

    const notify = path.join(m().runtimeDir, 'systemd', 'notify');
    const away = `${notify}.away`;
    const notifyInside = m().inside(notify);
    const load = startLoad({
      port,
      concurrency: 2,
      ratePerSecond: 50,
      check: (reply) => reply.status === 200 && String(JSON.parse(reply.body).pid) === pid,
    });
    let catcher: ReturnType<typeof spawn> | undefined;
    let restored = false;
    const caught: Caught[] = [];
    const times: Record<string, number> = {};
    let result: LoadResult;
    try {
      // Pings reach systemd before anything happens.
      await until(m(), unit, props, (p) => p.WatchdogTimestampMonotonic !== running.WatchdogTimestampMonotonic, 5000, explain);

      // 1. Removed: the path is gone, the manager is unreachable.
      await fs.rename(notify, away);
      const removedAt = performance.now();
      await sleep(3500);
      const fedBefore = (await m().show(unit, ['WatchdogTimestampMonotonic'])).WatchdogTimestampMonotonic!;
      const duringGap = await m().readLog(log);
      // Said by notify() itself (runtime/src/notify-report.ts), once per cause.
      assert.equal(
        count(duringGap, 'sd-daemon-runtime: cannot tell the service manager (NOTIFY_SOCKET='),
        1,
        `one line for 3 failed pings${await explain()}`,
      );
      assert.match(
        duringGap,
        new RegExp(`cannot tell the service manager \\(NOTIFY_SOCKET=${notifyInside.replaceAll('/', '\\/')}\\) WATCHDOG=1: ENOENT`),
        await explain(),
      );

      // 2. Replaced: a socket of ours at the same path gets the next WATCHDOG=1.
      catcher = spawn('python3', [fixture('notify-catcher.py'), notify], { stdio: ['ignore', 'pipe', 'pipe'] });
      let catcherErr = '';
      catcher.stderr!.on('data', (chunk: Buffer) => (catcherErr += chunk.toString()));
      const lines = readline.createInterface({ input: catcher.stdout! });
      const bound = new Promise<void>((resolve) => {
        lines.on('line', (line) => {
          const entry = JSON.parse(line) as Caught;
          if (entry.event === 'bound') resolve();
          else caught.push(entry);
        });
      });
      await Promise.race([bound, sleep(10_000).then(() => assert.fail(`python3 notify-catcher did not bind: ${catcherErr}`))]);
      const replacedAt = performance.now();
      times['removed-ms'] = Math.round(replacedAt - removedAt);
      const deadline = Date.now() + 5000;
      while (!caught.some((c) => c.data === 'WATCHDOG=1') && Date.now() < deadline) await sleep(50);
      const firstPing = caught.find((c) => c.data === 'WATCHDOG=1');
      assert.ok(firstPing, `no WATCHDOG=1 at the new socket within 5 s; got ${JSON.stringify(caught)}${await explain()}`);
      times['replaced-first-ping-ms'] = Math.round(performance.now() - replacedAt);
      assert.equal(String(firstPing.pid), pid, 'sent by the daemon itself (SCM_CREDENTIALS)');
      await sleep(1500);

      // 3. Restored: the manager's own socket moves back over ours, atomically.
      await fs.rename(away, notify);
      restored = true;
      const restoredUsec = monotonicUsec();
      catcher.kill('SIGTERM');
      times['replaced-ms'] = Math.round(performance.now() - replacedAt);
      // The manager took no ping while its socket was away.
      assert.ok(BigInt(fedBefore) < restoredUsec);
      const fedAgain = await until(m(), unit, props, (p) => BigInt(p.WatchdogTimestampMonotonic!) > restoredUsec, 5000, explain);
      times['restored-first-ping-ms'] = Math.round(Number(BigInt(fedAgain.WatchdogTimestampMonotonic!) - restoredUsec) / 1000);

      const signal = await m().systemctl('kill', '--kill-who=main', '--signal=SIGUSR1', unit);
      assert.equal(signal.code, 0, signal.stderr);
      await until(m(), unit, props, (p) => p.StatusText === 'status update 1', 5000, explain);
      await sleep(2000);
    } finally {
      if (!restored) await fs.rename(away, notify).catch(() => {});
      catcher?.kill('SIGKILL');
      result = await load.stop();
    }

    const after = await m().show(unit, props);
    const text = await m().readLog(log);
    const warnings = count(text, 'sd-daemon-runtime: cannot tell the service manager (NOTIFY_SOCKET=');
    const notices = count(text, ') is told again: ');
    const pings = caught.filter((c) => c.data === 'WATCHDOG=1' && String(c.pid) === pid).length;
    figures('manager-going-away', {
      ...times,
      'pings-at-replacement': pings,
      'failure-records': warnings,
      'recovery-records': notices,
      requests: result.sent,
      answered: result.answered,
      failed: result.failed,
      'n-restarts': after.NRestarts!,
    });
    assert.deepEqual({ warnings, notices }, { warnings: 1, notices: 1 }, `once each way, whatever the number of pings${await explain()}`);
    assert.match(
      text,
      /sd-daemon-runtime: the service manager \(NOTIFY_SOCKET=\S+\) is told again: WATCHDOG=1 went through after [2-9]\d* lost notification\(s\)/,
    );
    assert.ok(pings >= 1, JSON.stringify(caught));
    assert.ok(
      caught.every((c) => c.data === 'WATCHDOG=1'),
      `only keep-alives went to the stand-in: ${JSON.stringify(caught)}`,
    );
    assert.deepEqual(
      { state: after.ActiveState, pid: after.MainPID, restarts: after.NRestarts },
      { state: 'active', pid, restarts: '0' },
      await explain(),
    );
    assert.equal(result.failed, 0, `${JSON.stringify(result.failures)} ${result.samples.join('; ')}`);
    assert.ok(result.answered >= 300, `only ${result.answered} answered`);
  });
});

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
