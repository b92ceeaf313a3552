// The lifecycle helpers (watchdog keep-alive, signals, crash handler, slow
// start) driven by the fake service manager: a real child process, real
// notify socket, real signals.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { FakeServiceManager, type FakeService } from 'sd-daemon-runtime/testing';

import { scaled } from './helpers/time-scale.js';

const fixture = fileURLToPath(new URL('./fixtures/lifecycle-daemon.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lifecycle under the fake service manager', function () {
  let manager: FakeServiceManager;

  beforeEach(async function () {
    manager = await FakeServiceManager.create();
  });

  afterEach(async function () {
    await manager.close();
  });

  function start(scenario: string, options: { watchdogUsec?: number; extra?: string[] } = {}): Promise<FakeService> {
    return manager.spawn({
      command: process.execPath,
      args: [fixture, scenario, ...(options.extra ?? [])],
      watchdogUsec: options.watchdogUsec,
      enforceWatchdog: options.watchdogUsec !== undefined,
    });
  }

  // Enforced watchdogs are 2 s, not less: a daemon on a loaded machine can be
  // off the CPU for most of a second, and the fake manager would kill it for that.
  describe('watchdog keep-alive', function () {
    it('keeps a 2 s watchdog fed for 5 s', async function () {
      const service = await start('watchdog', { watchdogUsec: 2_000_000 });
      await service.waitFor('READY=1');
      await sleep(5000);
      assert.equal(service.exitInfo, null, `still running (stderr: ${service.stderr})`);
      assert.equal(service.watchdog.missed, 0);
      // One ping at start, then every second: 6 on time; timers run late under load.
      assert.ok(service.watchdog.pings >= 3, `pings: ${service.watchdog.pings}`);
    });

    it('stops pinging when the event loop is blocked, and the manager kills it', async function () {
      const service = await start('watchdog-block', { watchdogUsec: 2_000_000 });
      await service.waitFor('READY=1');
      await sleep(500);
      service.kill('SIGUSR2');
      const exit = await service.exited;
      assert.equal(exit.result, 'watchdog');
      assert.equal(exit.signal, 'SIGABRT');
    });

    it('skips pings while the health check fails', async function () {
      const service = await start('watchdog-unhealthy', { watchdogUsec: 2_000_000 });
      await service.waitFor('READY=1');
      await sleep(1500);
      const pingsWhileHealthy = service.watchdog.pings;
      assert.ok(pingsWhileHealthy >= 2, `pings: ${pingsWhileHealthy}`);
      service.kill('SIGUSR2');
      const exit = await service.exited;
      assert.equal(exit.result, 'watchdog');
      assert.ok(service.watchdog.pings <= pingsWhileHealthy + 1);
      // Logged once when it turned unhealthy, not once per withheld ping.
      assert.equal(service.stderr.match(/watchdog: health check failed \(it returned false\)/g)?.length, 1, service.stderr);
    });

    it('a health check that recovers is logged once each way, and pings resume', async function () {
      const service = await manager.spawn({
        command: process.execPath,
        args: [fixture, 'watchdog-unhealthy'],
        watchdogUsec: 200_000,
        enforceWatchdog: false,
      });
      await service.waitFor('READY=1');
      service.kill('SIGUSR2');
      await sleep(600);
      const pingsWhileUnhealthy = service.watchdog.pings;
      service.kill('SIGUSR1');
      for (let waited = 0; waited < 5000 && service.watchdog.pings <= pingsWhileUnhealthy; waited += 50) await sleep(50);
      assert.ok(service.watchdog.pings > pingsWhileUnhealthy, 'pings resumed');
      await service.stop();
      assert.equal(service.stderr.match(/health check failed/g)?.length, 1, service.stderr);
      assert.equal(service.stderr.match(/health check passes again/g)?.length, 1, service.stderr);
    });

    it('a manager that goes away is logged once; pings reach it again when it is back', async function () {
      const service = await manager.spawn({
        command: process.execPath,
        args: [fixture, 'watchdog-lost-manager'],
        watchdogUsec: 1_000_000,
        enforceWatchdog: false,
      });
      await service.waitFor('READY=1');
      service.kill('SIGUSR2');
      await sleep(400); // about 8 failed pings at 50 ms
      const pingsWhileAway = service.watchdog.pings;
      service.kill('SIGUSR1');
      for (let waited = 0; waited < 5000 && service.watchdog.pings <= pingsWhileAway; waited += 50) await sleep(50);
      assert.ok(service.watchdog.pings > pingsWhileAway, 'pings arrive again');
      // The recovery line follows the delivered ping; the manager may see the
      // ping before the line reaches the stderr pipe (seen on Node 24).
      await service.waitForOutput(/is told again/, { stream: 'stderr', timeoutMs: 10_000 });
      await service.stop();
      // Said by notify() itself (notify-report.ts), the one place that reports delivery.
      const failures = service.stderr.match(
        /^<3>sd-daemon-runtime: cannot tell the service manager \(NOTIFY_SOCKET=\/nonexistent\/notify\) WATCHDOG=1: ENOENT from sendmsg/gm,
      );
      assert.equal(failures?.length, 1, service.stderr);
      assert.match(
        service.stderr,
        /^<5>sd-daemon-runtime: the service manager \(NOTIFY_SOCKET=\S+\) is told again: WATCHDOG=1 went through after \d+ lost notification\(s\)$/m,
      );
      assert.equal(service.stderr.match(/sd-daemon-runtime:/g)?.length, 2, service.stderr);
    });

    it('is idempotent and changes its timeout at run time with WATCHDOG_USEC=', async function () {
      const service = await start('watchdog-set-timeout', { watchdogUsec: 2_000_000 });
      await service.waitFor('READY=1');
      await service.waitFor('WATCHDOG_USEC');
      assert.equal(service.status, 'timeout 1500');
      assert.equal(service.watchdog.usec, 1_500_000n);
      const stdout = await service.waitForOutput('\n');
      assert.deepEqual(JSON.parse(stdout.split('\n')[0]!), { same: true, running: true, timeoutMs: 2000 });
    });

    it('does nothing without WATCHDOG_USEC', async function () {
      const service = await start('watchdog');
      await service.waitFor('READY=1');
      await sleep(300);
      assert.equal(service.watchdog.pings, 0);
    });
  });

  describe('signals', function () {
    it('SIGTERM: STOPPING=1, the stop hook runs, exit 0', async function () {
      const service = await start('stop', { watchdogUsec: 5_000_000 });
      await service.waitFor('READY=1');
      const exit = await service.stop();
      assert.equal(exit.code, 0);
      assert.equal(exit.result, 'success');
      assert.ok(service.messages.some((m) => m.lines.includes('STOPPING=1')));
      assert.match(service.stdout, /drained/);
    });

    it('a stop hook that overruns its deadline ends in the force exit code', async function () {
      const service = await start('stop-hangs');
      await service.waitFor('READY=1');
      const exit = await service.stop({ timeoutMs: 5000 });
      assert.equal(exit.code, 3);
      assert.match(service.stderr, /stop hook "onStop" did not finish within 300 ms; exiting with 3/);
    });

    it('named stop hooks run in order; the one that hangs is named in the log', async function () {
      const service = await start('stop-hooks');
      await service.waitFor('READY=1');
      const exit = await service.stop({ timeoutMs: 5000 });
      assert.equal(exit.code, 3);
      assert.match(service.stdout, /closeServers ran/);
      assert.match(service.stderr, /stop hook "flush queue" did not finish within 300 ms; exiting with 3/);
    });

    it('a stop hook that throws is named, later hooks still run, and the exit is non-zero', async function () {
      const service = await start('stop-hook-throws');
      await service.waitFor('READY=1');
      const exit = await service.stop({ timeoutMs: 5000 });
      assert.equal(exit.code, 1);
      assert.match(service.stderr, /stop hook "closeDatabase" failed: Error: connection reset/);
      assert.match(service.stdout, /second hook ran/);
    });

    it('SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1; a failed reload reports STATUS= and ERRNO=', async function () {
      const service = await start('reload');
      await service.waitFor('READY=1');
      const first = await service.reload();
      assert.ok(first.reloading.fields.MONOTONIC_USEC);
      assert.equal(first.ready.fields.STATUS, 'Reloaded');
      const second = await service.reload();
      assert.equal(second.ready.fields.STATUS, 'Reload failed: Error: config has a typo');
      assert.equal(second.ready.fields.ERRNO, '22');
      assert.equal(service.exitInfo, null, 'a failed reload keeps the service up');
      await service.waitForOutput('reloaded 1');
    });
  });

  describe('crash handler', function () {
    it('an uncaught exception is logged with its stack, reported, and exits 70', async function () {
      const service = await start('crash-exception');
      const exit = await service.exited;
      assert.equal(exit.code, 70);
      assert.match(service.stderr, /uncaught exception: Error: disk on fire/);
      assert.match(service.stderr, /at Timeout\._onTimeout/);
      const report = service.messages.find((m) => m.fields.STATUS?.startsWith('crashed'));
      assert.ok(report, 'STATUS= sent');
      assert.equal(report.fields.STATUS, 'crashed: Error: disk on fire second line');
      assert.equal(report.fields.ERRNO, '5');
    });

    it('an unhandled rejection exits with the chosen non-zero code', async function () {
      const service = await start('crash-rejection');
      const exit = await service.exited;
      assert.equal(exit.code, 75);
      assert.match(service.stderr, /unhandled rejection: TypeError: nobody caught me/);
    });
  });

  describe('withExtendedTimeout', function () {
    it('keeps EXTEND_TIMEOUT_USEC going during a slow start', async function () {
      // Intervals of the daemon's own timers, stretched where Node runs slower (see time-scale.ts).
      const service = await start('slow-start', { extra: [scaled(100), 60_000, scaled(450)].map(String) });
      await service.waitFor('READY=1', { timeoutMs: scaled(5000) });
      const extensions = service.messages.filter((m) => m.fields.EXTEND_TIMEOUT_USEC);
      assert.ok(extensions.length >= 4, `extensions: ${extensions.length}`);
      assert.equal(extensions[0]!.fields.EXTEND_TIMEOUT_USEC, String(3 * scaled(100) * 1000));
    });

    it('stops asking once the cap is reached, so a hung start still times out', async function () {
      const cap = scaled(250);
      const service = await start('slow-start', { extra: [scaled(100), cap, scaled(800)].map(String) });
      await service.waitFor('READY=1', { timeoutMs: scaled(5000) });
      const extensions = service.messages.filter((m) => m.fields.EXTEND_TIMEOUT_USEC);
      assert.ok(extensions.length >= 2 && extensions.length <= 4, `extensions: ${extensions.length}`);
      // The last request never reaches past the cap.
      const asked = extensions.map((m) => Number(m.fields.EXTEND_TIMEOUT_USEC));
      assert.ok(
        asked.every((usec) => usec <= Math.max(3 * scaled(100), cap) * 1000),
        `asked: ${asked}`,
      );
    });
  });

  it('installCrashHandler refuses exit code 0', async function () {
    const { installCrashHandler } = await import('sd-daemon-runtime');
    assert.throws(() => installCrashHandler({ exitCode: 0 }), RangeError);
  });
});
