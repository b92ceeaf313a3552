// The generated default project, in TypeScript and in JavaScript (its sources
// derived from the TypeScript by stripping the types), under a real systemd user manager, with its
// strict sandbox in force: generated for user scope, installed (the bundled
// runtime, TypeScript through the test run's npm cache) and built, its units installed by its own install script, then started through
// its socket; it answers HTTP, shows its STATUS=, keeps its watchdog fed for
// 10 s, reloads, and stops with exit status 0.
import assert from 'node:assert/strict';
import path from 'node:path';

import { freePort, get, installGenerated, sleep, useUserManager } from '../helpers/units.js';

describe('e2e: a generated project under a real systemd user manager', function () {
  this.timeout(180_000);
  const m = useUserManager();

  // Both languages: the JavaScript project's main is the TypeScript one with the types stripped, and must run the same.
  for (const [language, name] of [
    ['ts', 'gen-e2e'],
    ['js', 'gen-e2e-js'],
  ] as const) {
    it(`${language === 'ts' ? 'TypeScript' : 'JavaScript'}: installs its units, starts through its socket, serves, survives the watchdog, reloads and stops cleanly`, async function () {
      const port = await freePort();
      const p = await installGenerated(m(), { sockets: `tcp:127.0.0.1:${port}`, description: 'e2e daemon', language }, name);
      // The project's own install script again: a second run changes nothing.
      const configHome = path.dirname(path.dirname(m().unitDir));
      const script = m().inside(path.join(p.dir, 'scripts', 'install-units.mjs'));
      const again = await m().inNamespace('env', `XDG_CONFIG_HOME=${configHome}`, process.execPath, script);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /unchanged/, 'a second install changes nothing');

      const start = await m().systemctl('start', `${name}.socket`);
      assert.equal(start.code, 0, start.stderr);
      const before = await m().show(`${name}.service`, ['ActiveState']);
      assert.equal(before.ActiveState, 'inactive', 'nothing runs before the first connection');

      const response = await get(port, 20_000);
      assert.equal(response.status, 200, response.body);
      assert.match(response.body, /e2e daemon/);

      const running = await m().show(`${name}.service`, [
        'ActiveState',
        'StatusText',
        'MainPID',
        'NRestarts',
        'WatchdogUSec',
        'ProtectSystem',
        'PrivateNetwork',
      ]);
      assert.equal(running.ActiveState, 'active');
      assert.notEqual(running.StatusText, '', 'the daemon reports a STATUS=');
      assert.equal(running.WatchdogUSec, '10s');
      assert.equal(running.ProtectSystem, 'strict', 'the strict sandbox is in force');
      assert.equal(running.PrivateNetwork, 'yes');

      await sleep(10_000);
      const after = await m().show(`${name}.service`, ['ActiveState', 'MainPID', 'NRestarts']);
      assert.deepEqual(after, { ActiveState: 'active', MainPID: running.MainPID, NRestarts: '0' });

      const reload = await m().systemctl('reload', `${name}.service`);
      assert.equal(reload.code, 0, reload.stderr);
      await m().waitFor(`${name}.service`, (props) => props.ActiveState === 'active', 10_000);
      assert.equal((await get(port)).status, 200, 'still serving after the reload');

      const stop = await m().systemctl('stop', `${name}.service`);
      assert.equal(stop.code, 0, stop.stderr);
      const stopped = await m().show(`${name}.service`, ['ActiveState', 'Result', 'ExecMainStatus']);
      assert.deepEqual(stopped, { ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
    });
  }
});
