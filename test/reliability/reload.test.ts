// Reload under a real systemd user manager: 50 `systemctl --user reload` in a
// row on the generated project made with --type notify-reload. systemd 252
// has no Type=notify-reload (it came in 253), so for 252 the generator emits
// what does the same there: Type=notify plus ExecReload=/bin/kill -s HUP
// $MAINPID; the daemon answers SIGHUP with RELOADING=1 + MONOTONIC_USEC,
// re-reads its configuration and sends READY=1. Each reload must succeed,
// leave the unit active/running (never stuck in `reloading`), and the
// configuration written just before it must be the one served.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';

import { sleep, useUserManager } from '../helpers/units.js';
import { dropIn, figures, installGenerated, request, type InstalledProject } from '../helpers/under-manager.js';

const RELOADS = 50;
const SETTLE_MS = 5000;

describe('reliability: 50 reloads in a row (the generated notify-reload project)', function () {
  const m = useUserManager();
  let project: InstalledProject;
  let log: string;
  let config: string;

  before(async function () {
    this.timeout(120_000);
    project = await installGenerated(m(), 'rel-reload', { type: 'notify-reload' });
    log = await m().logFile('rel-reload');
    config = path.join(m().shareDir, 'rel-reload.json');
    await writeConfig('reload-0');
    await dropIn(m(), project.service, log, { service: [`Environment=CONFIG_FILE=${m().inside(config)}`] });
  });

  /** Replaces the configuration in one rename, so the daemon never reads half a file. */
  async function writeConfig(greeting: string): Promise<void> {
    const next = `${config}.next`;
    await fs.writeFile(next, JSON.stringify({ greeting }));
    await fs.chmod(next, 0o644);
    await fs.rename(next, config);
  }

  it(`all ${RELOADS} succeed, none leaves the unit reloading, each one's configuration is served`, async function () {
    this.timeout(180_000);
    const explain = async (): Promise<string> =>
      `\n--- service log (end) ---\n${(await m().readLog(log)).slice(-3000)}\n--- manager output (end) ---\n${m().managerOutput().slice(-3000)}`;
    // What the manager loaded for systemd 252: notify + ExecReload=, not notify-reload.
    const loaded = await m().show(project.service, ['Type', 'ExecReload']);
    assert.equal(loaded.Type, 'notify');
    assert.match(loaded.ExecReload ?? '', /path=\/bin\/kill ; argv\[\]=\/bin\/kill -s HUP \$MAINPID/);

    const start = await m().systemctl('start', project.service);
    assert.equal(start.code, 0, `${start.stderr}${await explain()}`);
    const props = ['ActiveState', 'SubState', 'MainPID', 'NRestarts', 'Result', 'ReloadResult'];
    const first = await m().show(project.service, props);
    assert.equal(first.ActiveState, 'active');
    const greeting = async (): Promise<string> => (JSON.parse((await request(project.port)).body) as { greeting: string }).greeting;
    assert.equal(await greeting(), 'reload-0');

    let succeeded = 0;
    let reloadingOnReturn = 0;
    let servedAtOnce = 0;
    const settleMs: number[] = [];
    for (let i = 1; i <= RELOADS; i++) {
      await writeConfig(`reload-${i}`);
      const reload = await m().systemctl('reload', project.service);
      const returned = performance.now();
      assert.equal(reload.code, 0, `reload ${i}: ${reload.stderr}${await explain()}`);
      succeeded++;
      const now = await m().show(project.service, props);
      if (now.SubState === 'reload' || now.ActiveState === 'reloading') reloadingOnReturn++;
      // Settled: active/running again, and serving the configuration written before this reload.
      let served = '';
      let checks = 0;
      for (;;) {
        checks++;
        const state = await m().show(project.service, props);
        if (state.ActiveState === 'active' && state.SubState === 'running') {
          served = await greeting();
          if (served === `reload-${i}`) break;
        }
        assert.ok(
          performance.now() - returned < SETTLE_MS,
          `reload ${i}: not settled within ${SETTLE_MS} ms: ${JSON.stringify(state)}, serving ${served}${await explain()}`,
        );
        await sleep(10);
      }
      const ms = performance.now() - returned;
      settleMs.push(ms);
      if (checks === 1) servedAtOnce++;
    }
    await sleep(1000);
    const last = await m().show(project.service, props);
    const reloadsLogged = ((await m().readLog(log)).match(/^configuration reloaded$/gm) ?? []).length;
    figures('reload', {
      type: 'notify+ExecReload(kill-HUP)', // what --type notify-reload emits for systemd < 253
      systemd: m().version,
      reloads: RELOADS,
      succeeded,
      'left-reloading': last.ActiveState === 'active' && last.SubState === 'running' ? 0 : 1,
      'reloading-when-systemctl-returned': reloadingOnReturn,
      'config-served': settleMs.length,
      'config-served-at-first-look': servedAtOnce,
      'settle-ms-max': Math.round(Math.max(...settleMs)),
      'reloads-run-by-daemon': reloadsLogged,
      'n-restarts': last.NRestarts!,
    });
    assert.equal(succeeded, RELOADS);
    assert.deepEqual(
      { state: last.ActiveState, sub: last.SubState, pid: last.MainPID, restarts: last.NRestarts, reload: last.ReloadResult },
      { state: 'active', sub: 'running', pid: first.MainPID, restarts: '0', reload: 'success' },
      await explain(),
    );
    assert.doesNotMatch(await m().readLog(log), /reload failed/);
  });
});
