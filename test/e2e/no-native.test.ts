// Issue 12: a generated Type=notify daemon whose runtime has no addon used to
// send nothing, print nothing, and wait until systemd's start timeout killed
// it, then restart in a loop. Under a real systemd user manager, with the
// addon switched off in a drop-in (SD_DAEMON_RUNTIME_NATIVE=off behaves as a
// missing addon), the start must fail fast, with the cause and the fix in the
// service's log and EX_UNAVAILABLE (69) as its exit status.
import assert from 'node:assert/strict';

import { freePort, installGenerated, useUserManager } from '../helpers/units.js';

describe('e2e: a generated Type=notify daemon without its addon, under a real systemd user manager', function () {
  this.timeout(240_000);
  const m = useUserManager();
  const NAME = 'nonative-e2e';

  it(`fails its start at once with 69 (EX_UNAVAILABLE) and says why, well before TimeoutStartSec=`, async function () {
    const port = await freePort();
    await installGenerated(m(), { sockets: `tcp:127.0.0.1:${port}`, description: 'no-native e2e daemon' }, NAME);

    // The test's drop-in: the addon switched off, output to a file (journald does not run here).
    const log = await m().logFile(NAME);
    await m().writeUnit(
      `${NAME}.service.d/50-no-native.conf`,
      ['[Service]', 'Environment=SD_DAEMON_RUNTIME_NATIVE=off', `StandardOutput=append:${log}`, `StandardError=append:${log}`, ''].join(
        '\n',
      ),
    );
    await m().daemonReload();
    const explain = async (): Promise<string> => `\n--- service output ---\n${await m().readLog(log)}`;

    const socket = await m().systemctl('start', `${NAME}.socket`);
    assert.equal(socket.code, 0, socket.stderr);
    const { TimeoutStartUSec, Type } = await m().show(`${NAME}.service`, ['TimeoutStartUSec', 'Type']);
    assert.equal(Type, 'notify');

    // systemctl start waits for the start job: READY=1, or the job failing.
    const started = Date.now();
    const start = await m().systemctl('start', `${NAME}.service`);
    const elapsedMs = Date.now() - started;
    assert.notEqual(start.code, 0, `the start must fail${await explain()}`);
    const failed = await m().show(`${NAME}.service`, ['Result', 'ExecMainCode', 'ExecMainStatus']);
    // ExecMainCode 1 is CLD_EXITED: it exited by itself, nobody killed it.
    assert.deepEqual(failed, { Result: 'exit-code', ExecMainCode: '1', ExecMainStatus: '69' }, await explain());

    const timeoutMs = parseSeconds(TimeoutStartUSec!) * 1000;
    console.log(`      (start failed after ${elapsedMs} ms; TimeoutStartSec=${TimeoutStartUSec})`);
    assert.ok(elapsedMs < Math.min(10_000, timeoutMs / 3), `the start took ${elapsedMs} ms; TimeoutStartSec=${TimeoutStartUSec}`);

    const output = await m().readLog(log);
    assert.match(
      output,
      /^<3>sd-daemon-runtime: cannot tell the service manager \(NOTIFY_SOCKET=\S+\) .*: the native addon did not load \(SD_DAEMON_RUNTIME_NATIVE=off switched off\); fix: unset SD_DAEMON_RUNTIME_NATIVE in the service's environment/m,
    );
    assert.match(
      output,
      /not ready: the service manager cannot be told READY=1 \(no-native\); exiting 69 \(EX_UNAVAILABLE\) rather than wait for its start timeout/,
    );
  });
});

/** "1min 30s", "90s", "5s 500ms" (systemctl show's spelling of a duration) in seconds. */
function parseSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, min: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|min|ms|s)\b/g)) total += Number(value) * units[unit!]!;
  assert.ok(total > 0, `not a duration: ${text}`);
  return total;
}
