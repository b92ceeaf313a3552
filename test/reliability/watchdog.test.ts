// The watchdog under a real systemd user manager, WatchdogSec=2:
// - a daemon whose event loop blocks in a busy loop, and one whose health
//   check starts failing, are each caught by the manager's watchdog within
//   WatchdogSec + 1 s of the fault, killed and restarted, in 10 of 10 trials.
//   Detection is measured from the fixture's own CLOCK_MONOTONIC stamp,
//   printed just before the fault, to the unit's ActiveExitTimestampMonotonic
//   (when the manager took it out of `active`), so polling adds nothing to the
//   figure; recovery, to the next process's ActiveEnterTimestampMonotonic;
// - meanwhile the generated default project (its own health check: listeners
//   up, no event-loop stall over 1 s) serves a steady load for 60 s with the
//   same WatchdogSec=2 and is never restarted.
import assert from 'node:assert/strict';

import { sleep, useUserManager } from '../helpers/units.js';
import type { UserManager } from '../helpers/user-manager.js';
import {
  dropIn,
  figures,
  fixture,
  fixtureService,
  installGenerated,
  jsonLines,
  spread,
  startLoad,
  until,
  writeUnit,
  type InstalledProject,
  type LoadResult,
} from '../helpers/under-manager.js';

const WATCHDOG_SEC = 2;
// Detection bound: WatchdogSec= plus seconds of slack for a loaded machine (the
// manager is a process too); the measured figures are reported.
const BOUND_MS = WATCHDOG_SEC * 1000 + 5000;
const TRIALS = 10;
const HEALTHY_RUN_MS = 60_000;

interface FaultLine {
  pid: number;
  event: string;
  fault?: string;
  monotonicUsec?: string;
}

interface TrialOutcome {
  /** From the fault to the manager taking the unit out of `active` (the watchdog timeout). */
  detectMs: number[];
  /** From the fault to the next process being active (READY=1) again. */
  recoveredMs: number[];
  /** Per trial: the states seen between the fault and the new process being active. */
  states: string[][];
}

/** Injects `signal` into the running fixture `trials` times; each time waits for the manager to kill and restart it. */
async function runTrials(m: UserManager, unit: string, log: string, signal: 'SIGUSR1' | 'SIGUSR2', trials: number): Promise<TrialOutcome> {
  const explain = async (): Promise<string> =>
    `\n--- service log (end) ---\n${(await m.readLog(log)).slice(-3000)}\n--- manager output (end) ---\n${m.managerOutput().slice(-3000)}`;
  const outcome: TrialOutcome = { detectMs: [], recoveredMs: [], states: [] };
  const props = [
    'ActiveState',
    'SubState',
    'Result',
    'MainPID',
    'NRestarts',
    'ActiveExitTimestampMonotonic',
    'ActiveEnterTimestampMonotonic',
    'WatchdogTimestampMonotonic',
  ];
  let current = await until(m, unit, props, (p) => p.ActiveState === 'active' && p.MainPID !== '0', 15_000, explain);
  for (let trial = 1; trial <= trials; trial++) {
    // Fed first (a WATCHDOG=1 after the one that came with the start): what kills it must be
    // the fault, not a missing ping. Then a wait that varies over one ping interval, so the
    // faults fall at every phase of it.
    const fedSince = current.WatchdogTimestampMonotonic;
    current = await until(
      m,
      unit,
      props,
      (p) => p.WatchdogTimestampMonotonic !== fedSince,
      3000,
      async () => `\ntrial ${trial}: no WATCHDOG=1 before the fault${await explain()}`,
    );
    await sleep(((trial * 7) % 10) * 100);
    current = await m.show(unit, props);
    assert.equal(current.NRestarts, String(trial - 1), `trial ${trial}: restarted before the fault${await explain()}`);
    const pid = current.MainPID!;

    const kill = await m.systemctl('kill', '--kill-who=main', `--signal=${signal}`, unit);
    assert.equal(kill.code, 0, kill.stderr);

    const states: string[] = [];
    const next = await until(
      m,
      unit,
      props,
      (p) => {
        const state = `${p.ActiveState}/${p.SubState} Result=${p.Result}`;
        if (states.at(-1) !== state) states.push(state);
        return p.NRestarts === String(trial) && p.ActiveState === 'active' && p.MainPID !== pid && p.MainPID !== '0';
      },
      BOUND_MS + 10_000,
      async () => `\ntrial ${trial}: states ${states.join(' -> ')}${await explain()}`,
    );
    outcome.states.push(states);
    const fault = jsonLines<FaultLine>(await m.readLog(log)).find((l) => l.event === 'fault' && String(l.pid) === pid);
    assert.ok(fault?.monotonicUsec, `trial ${trial}: the fixture did not report its fault${await explain()}`);
    outcome.detectMs.push(Number(BigInt(next.ActiveExitTimestampMonotonic!) - BigInt(fault.monotonicUsec)) / 1000);
    outcome.recoveredMs.push(Number(BigInt(next.ActiveEnterTimestampMonotonic!) - BigInt(fault.monotonicUsec)) / 1000);
    current = next;
  }
  return outcome;
}

/** What the manager logged for `unit`: each watchdog kill says so twice. */
function managerCounts(m: UserManager, unit: string): { timeouts: number; failedWatchdog: number } {
  const escaped = unit.replaceAll('.', '\\.');
  const output = m.managerOutput();
  return {
    timeouts: output.match(new RegExp(`${escaped}: Watchdog timeout \\(limit ${WATCHDOG_SEC}s\\)!`, 'g'))?.length ?? 0,
    failedWatchdog: output.match(new RegExp(`${escaped}: Failed with result 'watchdog'\\.`, 'g'))?.length ?? 0,
  };
}

interface HealthyOutcome {
  load: LoadResult;
  pid: string;
  nRestarts: string;
  pidChanges: number;
  fedUsec: bigint;
  log: string;
  error?: unknown;
}

describe('reliability: watchdog (WatchdogSec=2) under a real systemd user manager', function () {
  const m = useUserManager();

  /** 60 s of the generated project under load, in the background while the trials run. */
  async function healthyUnderLoad(project: InstalledProject, log: string): Promise<HealthyOutcome> {
    const started = await m().systemctl('start', project.socket);
    assert.equal(started.code, 0, started.stderr);
    const load = startLoad({
      port: project.port,
      concurrency: 2,
      ratePerSecond: 100,
      check: (reply) => reply.status === 200 && (JSON.parse(reply.body) as { name?: string }).name === project.name,
    });
    const outcome: HealthyOutcome = { load: undefined as unknown as LoadResult, pid: '', nRestarts: '', pidChanges: 0, fedUsec: 0n, log };
    try {
      const first = await until(
        m(),
        project.service,
        ['ActiveState', 'MainPID', 'WatchdogTimestampMonotonic', 'WatchdogUSec'],
        (p) => p.ActiveState === 'active',
        20_000,
      );
      assert.equal(first.WatchdogUSec, `${WATCHDOG_SEC}s`);
      outcome.pid = first.MainPID!;
      const end = Date.now() + HEALTHY_RUN_MS;
      let last = first;
      while (Date.now() < end) {
        await sleep(1000);
        last = await m().show(project.service, ['ActiveState', 'MainPID', 'NRestarts', 'WatchdogTimestampMonotonic']);
        if (last.MainPID !== outcome.pid) outcome.pidChanges++;
        outcome.nRestarts = last.NRestarts!;
      }
      outcome.fedUsec = BigInt(last.WatchdogTimestampMonotonic!) - BigInt(first.WatchdogTimestampMonotonic!);
    } catch (error) {
      outcome.error = error;
    } finally {
      outcome.load = await load.stop();
      await m().systemctl('stop', project.service, project.socket);
    }
    return outcome;
  }

  /** Writes and starts the fixture unit for one kind of fault, then runs its trials. */
  async function faultTrials(kind: 'busy-loop' | 'health-check'): Promise<{ outcome: TrialOutcome; log: string; unit: string }> {
    const unit = `rel-wd-${kind}.service`;
    const log = await m().logFile(unit);
    const lines = ['Type=notify', 'NotifyAccess=main', `WatchdogSec=${WATCHDOG_SEC}`, 'Restart=on-failure', 'RestartSec=100ms'];
    await writeUnit(m(), unit, fixtureService(`watchdog fault: ${kind}`, fixture('watchdog-fault.mjs'), log, lines), { acrossTests: true });
    await m().daemonReload();
    try {
      const start = await m().systemctl('start', unit);
      assert.equal(start.code, 0, start.stderr);
      return { outcome: await runTrials(m(), unit, log, kind === 'busy-loop' ? 'SIGUSR1' : 'SIGUSR2', TRIALS), log, unit };
    } finally {
      await m().systemctl('stop', unit);
    }
  }

  // The three runs share the manager and go on at the same time; each test below awaits its own.
  const runs: {
    healthy?: Promise<HealthyOutcome>;
    'busy-loop'?: ReturnType<typeof faultTrials>;
    'health-check'?: ReturnType<typeof faultTrials>;
  } = {};

  before(async function () {
    this.timeout(60_000);
    const project = await installGenerated(m(), 'rel-wd-healthy', { watchdog: String(WATCHDOG_SEC) });
    const log = await m().logFile('rel-wd-healthy');
    await dropIn(m(), project.service, log, { acrossTests: true });
    runs.healthy = healthyUnderLoad(project, log);
    runs['busy-loop'] = faultTrials('busy-loop');
    runs['health-check'] = faultTrials('health-check');
    // A failure is reported by the test that awaits it; until then it must not count as unhandled.
    for (const run of Object.values(runs)) run.catch(() => {});
  });

  for (const [kind, what] of [
    ['busy-loop', 'a busy loop blocks the event loop'],
    ['health-check', 'the health check starts returning false'],
  ] as const) {
    it(`${what}: restarted within WatchdogSec + ${(BOUND_MS - WATCHDOG_SEC * 1000) / 1000} s in ${TRIALS} of ${TRIALS} trials`, async function () {
      this.timeout(TRIALS * (BOUND_MS + 12_000));
      const { outcome, log, unit } = await runs[kind]!;
      const counts = managerCounts(m(), unit);
      const s = spread(outcome.detectMs);
      const r = spread(outcome.recoveredMs);
      const within = outcome.detectMs.filter((ms) => ms <= BOUND_MS).length;
      figures(`watchdog-${kind}`, {
        'watchdog-sec': WATCHDOG_SEC,
        trials: TRIALS,
        restarted: outcome.detectMs.length,
        [`within-${BOUND_MS}ms`]: within,
        'detect-ms-min': s.min,
        'detect-ms-median': s.median,
        'detect-ms-max': s.max,
        'recovered-ms-median': r.median,
        'recovered-ms-max': r.max,
      });
      const detail = `detection (ms): ${outcome.detectMs.map(Math.round).join(', ')}; states: ${outcome.states.map((s) => s.join(' -> ')).join(' | ')}`;
      assert.equal(within, TRIALS, detail);
      // Never before the timeout could have run out: WatchdogSec minus one ping interval at the earliest.
      assert.ok(s.min >= (WATCHDOG_SEC * 1000) / 2 - 50, detail);
      assert.deepEqual(
        counts,
        { timeouts: TRIALS, failedWatchdog: TRIALS },
        `the manager's log, per trial "Watchdog timeout" and "Failed with result 'watchdog'"; ${detail}`,
      );
      const text = await m().readLog(log);
      assert.equal(
        jsonLines<FaultLine>(text).filter((l) => l.event === 'unblocked').length,
        0,
        'a blocked process ran on: it was not killed',
      );
      if (kind === 'health-check') {
        // The keep-alive says why it withholds the pings, once per process.
        assert.equal(text.match(/watchdog: health check failed/g)?.length ?? 0, TRIALS, text);
      }
    });
  }

  it(`a healthy daemon under load (the generated project) is not restarted in ${HEALTHY_RUN_MS / 1000} s`, async function () {
    this.timeout(HEALTHY_RUN_MS + 60_000);
    const outcome = await runs.healthy!;
    if (outcome.error) throw outcome.error;
    const { load } = outcome;
    figures('watchdog-healthy', {
      'watchdog-sec': WATCHDOG_SEC,
      'run-s': HEALTHY_RUN_MS / 1000,
      requests: load.sent,
      answered: load.answered,
      failed: load.failed,
      'n-restarts': outcome.nRestarts,
      'fed-s': (Number(outcome.fedUsec) / 1e6).toFixed(1),
    });
    const log = await m().readLog(outcome.log);
    assert.equal(outcome.nRestarts, '0', log);
    assert.equal(outcome.pidChanges, 0, log);
    assert.equal(load.failed, 0, JSON.stringify(load.failures));
    assert.ok(load.sent >= 1000, `only ${load.sent} requests`);
    // Pings kept arriving all along (the last one seen within a ping interval of the end).
    assert.ok(outcome.fedUsec >= BigInt(HEALTHY_RUN_MS - 3000) * 1000n, `WATCHDOG=1 arrived over only ${outcome.fedUsec} µs`);
    assert.doesNotMatch(log, /health check failed|keep-alive .* failed/);
  });
});
