// A generated Type=forking project under a real systemd user manager, strict
// sandbox in force: `node --daemonize` detaches, the start job completes once
// the daemon is ready, MainPID is the PID in the PID file, reload and stop
// work; a configuration error fails the start with 78 (and, the start command
// not being the main process, is retried until the start limit).
// First, what systemd gives a Type=forking service's start command, which is
// why the generated main passes force to daemonize(): INVOCATION_ID, and no
// NOTIFY_SOCKET.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { freePort, get, installGenerated, service, sleep, useUserManager } from '../helpers/units.js';

describe('e2e: Type=forking under a real systemd user manager', function () {
  this.timeout(180_000);
  const m = useUserManager();

  it('systemd sets INVOCATION_ID for a forking service and no NOTIFY_SOCKET (so --daemonize must force)', async function () {
    const out = path.join(m().shareDir, 'forking-env.txt');
    const pidFile = path.join(m().runtimeDir, 'forking-env.pid');
    await m().writeUnit(
      'forking-env.service',
      service('what a forking start command gets', [
        'Type=forking',
        `PIDFile=%t/forking-env.pid`,
        // The start command records its environment, forks a child that stays, writes its PID and exits.
        `ExecStart=/bin/sh -c 'env > ${m().inside(out)}; sleep 60 & echo $$! > %t/forking-env.pid'`,
      ]),
    );
    await m().daemonReload();
    const start = await m().systemctl('start', 'forking-env.service');
    assert.equal(start.code, 0, start.stderr);
    const env = readFileSync(out, 'utf8');
    assert.match(env, /^INVOCATION_ID=[0-9a-f]{32}$/m);
    assert.doesNotMatch(env, /^NOTIFY_SOCKET=/m);
    const { MainPID } = await m().show('forking-env.service', ['MainPID']);
    assert.equal(MainPID, readFileSync(pidFile, 'utf8').trim());
  });

  describe('the generated project', function () {
    let port: number;
    const NAME = 'fork-e2e';

    before(async function () {
      this.timeout(240_000);
      port = await freePort();
      await installGenerated(m(), { type: 'forking', description: 'forking e2e daemon' }, NAME);
    });

    /** A drop-in of the test's own: the port (no socket unit: the daemon listens by itself), output to a file, optionally a config file. */
    async function dropIn(extra: string[] = []): Promise<string> {
      const log = await m().logFile(NAME);
      await m().writeUnit(
        `${NAME}.service.d/20-test.conf`,
        ['[Service]', `Environment=PORT=${port}`, `StandardOutput=append:${log}`, `StandardError=append:${log}`, ...extra, ''].join('\n'),
      );
      await m().daemonReload();
      return log;
    }

    it("starts (the job completes once the daemon is ready), MainPID is the PID file's, serves, reloads and stops cleanly", async function () {
      const log = await dropIn();
      const explain = async (): Promise<string> => `\n--- service output ---\n${await m().readLog(log)}`;
      const start = await m().systemctl('start', `${NAME}.service`);
      assert.equal(start.code, 0, `${start.stderr}${await explain()}`);
      // No retry: systemctl start returned after the daemon reported ready to the first process.
      const response = await get(port);
      assert.equal(response.status, 200, response.body);
      assert.match(response.body, /forking e2e daemon/);

      const running = await m().show(`${NAME}.service`, ['ActiveState', 'SubState', 'Type', 'MainPID', 'PIDFile', 'ProtectSystem']);
      assert.equal(running.ActiveState, 'active');
      assert.equal(running.Type, 'forking');
      assert.equal(running.ProtectSystem, 'strict', 'the strict sandbox is in force');
      assert.equal(running.PIDFile, `/run/sd-e2e/runtime/${NAME}/${NAME}.pid`);
      const pidFile = path.join(m().runtimeDir, NAME, `${NAME}.pid`);
      assert.equal(running.MainPID, readFileSync(pidFile, 'utf8').trim(), 'MainPID is the PID in the PID file');
      assert.notEqual(running.MainPID, '0');

      const reload = await m().systemctl('reload', `${NAME}.service`);
      assert.equal(reload.code, 0, reload.stderr);
      await m().waitFor(`${NAME}.service`, (props) => props.ActiveState === 'active', 10_000);
      assert.equal((await m().show(`${NAME}.service`, ['MainPID'])).MainPID, running.MainPID, 'reloaded in place');
      assert.equal((await get(port)).status, 200, 'still serving after the reload');

      const stop = await m().systemctl('stop', `${NAME}.service`);
      assert.equal(stop.code, 0, stop.stderr);
      const stopped = await m().show(`${NAME}.service`, ['ActiveState', 'Result']);
      assert.deepEqual(stopped, { ActiveState: 'inactive', Result: 'success' });
    });

    it("a configuration error fails the start with the daemon's 78 and its message; systemd retries it until StartLimitBurst=", async function () {
      const config = path.join(m().shareDir, 'broken.json');
      writeFileSync(config, '{ "greeting": ');
      spawnSync('chmod', ['a+r', config]);
      const log = await dropIn([`Environment=CONFIG_FILE=${m().inside(config)}`]);
      const start = await m().systemctl('start', `${NAME}.service`);
      assert.notEqual(start.code, 0, 'systemctl start fails');
      const { ExecStart } = await m().show(`${NAME}.service`, ['ExecStart']);
      assert.match(ExecStart!, /status=78\b/, "the start command exited with the daemon's code");
      assert.match(await m().readLog(log), /exited with status 78\/CONFIG before it was ready: configuration error: .*broken\.json/);
      // The start command is a control process, not the main one, so RestartPreventExitStatus=78 does not apply
      // (systemd/systemd#19295): Restart=on-failure retries it until the start limit (5 in 60 s) stops it.
      const failed = await m().waitFor(`${NAME}.service`, (p) => p.ActiveState === 'failed' && Number(p.NRestarts) >= 4, 30_000, [
        'NRestarts',
      ]);
      assert.equal(failed.Result, 'exit-code');
      assert.equal(failed.ExecMainStatus, '0', 'no main process ever ran');
      await sleep(1000);
      assert.deepEqual(
        await m().show(`${NAME}.service`, ['ActiveState', 'NRestarts']),
        { ActiveState: 'failed', NRestarts: failed.NRestarts },
        'the start limit ended the retries',
      );
      await m().systemctl('reset-failed', `${NAME}.service`);
    });
  });
});
