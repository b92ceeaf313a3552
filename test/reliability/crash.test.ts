// Crashes under a real systemd user manager:
// - an uncaught exception and an unhandled rejection, each caught by the
//   runtime's crash handler, leave a `<2>` (crit) record with the stack, a
//   non-zero exit (70, EX_SOFTWARE) and a restart by Restart=on-failure;
// - a configuration error in the generated project (its own validation of
//   CONFIG_FILE) exits 78 (EX_CONFIG) and is not restarted: the generated unit
//   says RestartPreventExitStatus=78.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';

import { sleep, useUserManager } from '../helpers/units.js';
import { dropIn, figures, fixture, fixtureService, installGenerated, until } from '../helpers/under-manager.js';

const RESTART_SEC_MS = 1000;

describe('reliability: crashes under a real systemd user manager', function () {
  const m = useUserManager();

  it('an uncaught exception and an unhandled rejection: a <2> record with the stack, exit 70, restarted (Restart=on-failure)', async function () {
    this.timeout(60_000);
    const unit = 'rel-crash.service';
    const log = await m().logFile('rel-crash');
    await m().writeUnit(
      unit,
      fixtureService('crashes on demand', fixture('crash.mjs'), log, [
        'Type=notify',
        'NotifyAccess=main',
        'Restart=on-failure',
        // Long enough to read the crashed process's exit status before the next start.
        `RestartSec=${RESTART_SEC_MS}ms`,
      ]),
    );
    await m().daemonReload();
    const start = await m().systemctl('start', unit);
    assert.equal(start.code, 0, start.stderr);
    const explain = async (): Promise<string> =>
      `\n--- service log ---\n${await m().readLog(log)}\n--- manager output (end) ---\n${m().managerOutput().slice(-3000)}`;

    const props = ['ActiveState', 'SubState', 'Result', 'MainPID', 'NRestarts', 'ExecMainCode', 'ExecMainStatus', 'StatusText'];
    const seen: Record<string, string | number> = {};
    let current = await until(m(), unit, props, (p) => p.ActiveState === 'active', 15_000, explain);
    for (const [crash, signal, record, frame] of [
      ['uncaught-exception', 'SIGUSR1', 'uncaught exception: Error: injected uncaught exception', 'throwFromTimer'],
      ['unhandled-rejection', 'SIGUSR2', 'unhandled rejection: Error: injected unhandled rejection', 'rejectUnhandled'],
    ] as const) {
      const before = await m().readLog(log);
      const restarts = Number(current.NRestarts);
      const kill = await m().systemctl('kill', '--kill-who=main', `--signal=${signal}`, unit);
      assert.equal(kill.code, 0, kill.stderr);

      // Between the exit and the restart: what the crashed process left.
      const crashed = await until(m(), unit, props, (p) => p.SubState === 'auto-restart', RESTART_SEC_MS + 10_000, explain);
      // ExecMainCode=1 is CLD_EXITED: it exited by itself, with the handler's code.
      assert.deepEqual(
        { code: crashed.ExecMainCode, status: crashed.ExecMainStatus, result: crashed.Result },
        { code: '1', status: '70', result: 'exit-code' },
        `${crash}${await explain()}`,
      );
      assert.equal(crashed.StatusText, `crashed: ${record.slice(record.indexOf(': ') + 2)}`, 'the handler sent STATUS= before exiting');
      const next = await until(
        m(),
        unit,
        props,
        (p) => p.ActiveState === 'active' && p.MainPID !== current.MainPID && p.MainPID !== '0',
        RESTART_SEC_MS + 15_000,
        explain,
      );
      assert.equal(Number(next.NRestarts), restarts + 1, `${crash}: restarted by Restart=on-failure${await explain()}`);

      // The record: every line, stack included, at priority 2 (crit), written in one piece.
      const added = (await m().readLog(log)).slice(before.length).split('\n');
      const first = added.indexOf(`<2>${record}`);
      assert.ok(first >= 0, `no "<2>${record}" line${await explain()}`);
      const stack = added.slice(first + 1).filter((line) => /^<\d>\s+at /.test(line));
      assert.ok(stack.length >= 1, `no stack under the record${await explain()}`);
      assert.ok(
        stack.every((line) => line.startsWith('<2>')),
        `a stack line without <2>: ${stack.join('\n')}`,
      );
      assert.match(
        stack[0]!,
        new RegExp(`^<2>    at (\\S+\\.)?${frame} .*\\(file://.*/crash\\.mjs:\\d+:\\d+\\)$`),
        `the stack starts where the fault was: ${stack.join('\n')}`,
      );
      Object.assign(seen, {
        [`${crash}-exit`]: crashed.ExecMainStatus!,
        [`${crash}-stack-lines`]: stack.length,
        [`${crash}-restarted`]: Number(next.NRestarts) - restarts,
      });
      current = next;
    }
    const exits =
      m()
        .managerOutput()
        .match(/rel-crash\.service: Main process exited, code=exited, status=70\/SOFTWARE/g)?.length ?? 0;
    assert.equal(exits, 2, `the manager logged each crash's exit${await explain()}`);
    figures('crash', { ...seen, 'n-restarts': current.NRestarts! });
  });

  it('a configuration error in the generated project exits 78 (EX_CONFIG) and is not restarted', async function () {
    this.timeout(90_000);
    const project = await installGenerated(m(), 'rel-config');
    const log = await m().logFile('rel-config');
    // A value the generated daemon's own validation refuses, where its sandbox can read it.
    const config = path.join(m().shareDir, 'rel-config.json');
    await fs.writeFile(config, JSON.stringify({ greeting: 'Hi', logLevel: 'loud' }));
    await fs.chmod(config, 0o644);
    await dropIn(m(), project.service, log, { service: [`Environment=CONFIG_FILE=${m().inside(config)}`] });
    const explain = async (): Promise<string> =>
      `\n--- service log ---\n${await m().readLog(log)}\n--- manager output (end) ---\n${m().managerOutput().slice(-3000)}`;

    // What the manager loaded from the generated unit.
    const policy = await m().show(project.service, ['Restart', 'RestartPreventExitStatus']);
    assert.deepEqual(policy, { Restart: 'on-failure', RestartPreventExitStatus: '78' });

    const start = await m().systemctl('start', project.service);
    assert.notEqual(start.code, 0, `a daemon that cannot read its configuration does not start${await explain()}`);
    const props = ['ActiveState', 'SubState', 'Result', 'MainPID', 'NRestarts', 'ExecMainCode', 'ExecMainStatus'];
    const failed = await until(m(), project.service, props, (p) => p.ActiveState === 'failed', 10_000, explain);
    // Long past the unit's RestartSec= (100 ms by default): a restart would have happened by now.
    await sleep(3000);
    const later = await m().show(project.service, props);
    assert.deepEqual(
      { state: later.ActiveState, code: later.ExecMainCode, status: later.ExecMainStatus, result: later.Result, restarts: later.NRestarts },
      { state: 'failed', code: '1', status: '78', result: 'exit-code', restarts: '0' },
      await explain(),
    );
    assert.equal(later.MainPID, failed.MainPID);
    assert.doesNotMatch(m().managerOutput(), /rel-config\.service: Scheduled restart job/, 'the manager scheduled a restart');
    const text = await m().readLog(log);
    // The file gets no "<N>" prefix: JOURNAL_STREAM is unset when stderr is a file, and the
    // generated daemon's default logger only prefixes what goes to journald.
    assert.match(text, /^configuration error: \/.*rel-config\.json: "logLevel" must be one of emerg, /m, await explain());
    figures('config-error', {
      exit: later.ExecMainStatus!,
      'n-restarts': later.NRestarts!,
      state: later.ActiveState!,
      'restart-prevented': true,
    });
  });
});
