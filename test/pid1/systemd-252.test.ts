// PID-1 systemd 252: this machine's own root (Debian 12) booted as a
// container, a tmpfs over everything but /usr, so the host is not touched.
// Besides the common proof: the Type=forking unit (node --daemonize, PIDFile=)
// and the LSB init script run through systemd's sysv generator.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { TEST_DIR, describeVersion, get, installUnits, security, verifyClean, type Context } from './suite.js';
import { sleep } from '../helpers/pid1-container.js';

const FORKING = 'pid1-forking';
const LSB = 'pid1-lsb';
/** Ports of their own: the main project's socket unit may still hold 8080. */
const FORKING_PORT = 8081;
const LSB_PORT = 8082;

/** Writes a project's configuration file (in the test directory, seen inside at TEST_DIR); returns its path inside. */
function writeConfig(c: Context, name: string, greeting: string): string {
  writeFileSync(path.join(c.testDir, `${name}.json`), `${JSON.stringify({ greeting })}\n`, { mode: 0o644 });
  return `${TEST_DIR}/${name}.json`;
}

/**
 * The greeting the daemon on `port` answers with, once it is `expected`
 * (a reload by signal is asynchronous), or the last one seen after 10 s.
 * (A daemonized process's output goes to /dev/null once it is ready, so the
 * journal cannot show its reload; its answers can.)
 */
async function greetingBecomes(c: Context, port: number, expected: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  let greeting = '';
  while ((greeting = JSON.parse((await get(c.container, port)).body || '{}').greeting) !== expected && Date.now() < deadline)
    await sleep(200);
  return greeting;
}

describeVersion({
  version: 252,
  tree: async () => ({ directory: '/', volatile: 'yes', builtSeconds: null }),
  extraProjects: [
    { name: FORKING, options: { type: 'forking', systemdVersion: '252', description: 'PID-1 forking test daemon' } },
    {
      name: LSB,
      options: { init: 'systemd,sysv', sockets: `tcp:127.0.0.1:${LSB_PORT}`, systemdVersion: '252', description: 'PID-1 LSB test daemon' },
    },
  ],
  more: (ctx: () => Context) => {
    describe('Type=forking (--type forking: node --daemonize, PIDFile=)', function () {
      const SERVICE = `${FORKING}.service`;

      it('install-units installs it; verify is clean; security measured', async function () {
        const c = ctx();
        await installUnits(c, c.projects.get(FORKING)!);
        // The operator's settings: the port (the daemon reads PORT when it has no socket unit) and a configuration file.
        const config = writeConfig(c, FORKING, 'forked');
        await c.container.writeFile(
          `/etc/systemd/system/${SERVICE}.d/50-pid1-test.conf`,
          `[Service]\nEnvironment=PORT=${FORKING_PORT}\nEnvironment=CONFIG_FILE=${config}\n`,
        );
        await c.container.check(['systemctl', 'daemon-reload']);
        await verifyClean(c.container, [`/etc/systemd/system/${SERVICE}`]);
        const figure = await security(c, SERVICE);
        console.log(`      systemd 252: exposure of ${SERVICE}: ${figure.exposure} ${figure.rating}`);
        assert.equal((await c.container.show(SERVICE, ['Type'])).Type, 'forking');
      });

      it("starts (the job ends once the daemon is ready), MainPID is the PID file's, serves, reloads and stops with Result=success", async function () {
        const c = ctx();
        const start = await c.container.systemctl('start', SERVICE);
        assert.equal(start.code, 0, `${start.stderr}\n--- journal ---\n${await c.container.journal(SERVICE)}`);
        // No retry: the start job completed only after the daemon was serving.
        const response = await get(c.container, FORKING_PORT);
        assert.equal(response.status, 200, `${response.error}\n--- journal ---\n${await c.container.journal(SERVICE)}`);
        assert.equal(JSON.parse(response.body).greeting, 'forked');
        const shown = await c.container.show(SERVICE, ['ActiveState', 'SubState', 'MainPID', 'PIDFile']);
        assert.equal(shown.ActiveState, 'active');
        assert.equal(shown.SubState, 'running');
        assert.ok(shown.PIDFile, 'PIDFile= is set');
        assert.equal((await c.container.check(['cat', shown.PIDFile!])).trim(), shown.MainPID, 'MainPID is the PID in the PID file');

        writeConfig(c, FORKING, 'forked and reloaded');
        const reload = await c.container.systemctl('reload', SERVICE);
        assert.equal(reload.code, 0, reload.stderr);
        assert.equal(
          await greetingBecomes(c, FORKING_PORT, 'forked and reloaded'),
          'forked and reloaded',
          'ExecReload= reached the daemon',
        );
        assert.equal((await c.container.show(SERVICE, ['MainPID'])).MainPID, shown.MainPID, 'the same daemon after the reload');

        const stop = await c.container.systemctl('stop', SERVICE);
        assert.equal(stop.code, 0, stop.stderr);
        const stopped = await c.container.show(SERVICE, ['ActiveState', 'Result']);
        assert.deepEqual(stopped, { ActiveState: 'inactive', Result: 'success' }, await c.container.journal(SERVICE));
      });
    });

    describe("the LSB init script (--init systemd,sysv) through systemd's sysv generator", function () {
      const SERVICE = `${LSB}.service`;
      const SCRIPT = `/etc/init.d/${LSB}`;

      it('installed in /etc/init.d (and no native unit), the generator makes a unit of it', async function () {
        const c = ctx();
        const p = c.projects.get(LSB)!;
        // The script's own install line, minus update-rc.d (the sysv generator needs no rc links for a start by name).
        await c.container.check(['mkdir', '-p', '/etc/init.d']);
        await c.container.check(['cp', `${p.installPath}/init.d/${LSB}`, SCRIPT]);
        // Its settings file, which the script reads: the configuration file for the daemon.
        await c.container.writeFile(`/etc/default/${LSB}`, `export CONFIG_FILE=${writeConfig(c, LSB, 'from init.d')}\n`);
        await c.container.check(['systemctl', 'daemon-reload']);
        const shown = await c.container.show(SERVICE, ['LoadState', 'SourcePath', 'FragmentPath', 'Type', 'ExecReload']);
        assert.equal(shown.LoadState, 'loaded');
        assert.equal(shown.SourcePath, SCRIPT);
        assert.match(shown.FragmentPath ?? '', /^\/run\/systemd\/generator\.late\//);
        assert.equal(shown.Type, 'forking');
      });

      it('systemctl start runs the script (start returns once the daemon is ready), reload signals it, stop ends it', async function () {
        const c = ctx();
        // Required-Start: $network becomes Wants=/After=network-online.target; this
        // container has only a loopback, so systemd-networkd-wait-online would hold
        // the start for its 2 min timeout. Not waiting for a network is the
        // container's business, not the script's.
        await c.container.check(['systemctl', 'mask', '--runtime', 'systemd-networkd-wait-online.service']);
        const start = await c.container.systemctl('start', SERVICE);
        assert.equal(start.code, 0, `${start.stderr}\n--- journal ---\n${await c.container.journal(SERVICE)}`);
        const response = await get(c.container, LSB_PORT);
        assert.equal(response.status, 200, `${response.error}\n--- journal ---\n${await c.container.journal(SERVICE)}`);
        assert.equal(JSON.parse(response.body).name, LSB);
        assert.equal((await c.container.show(SERVICE, ['ActiveState'])).ActiveState, 'active');
        const status = await c.container.exec([SCRIPT, 'status']);
        assert.equal(status.code, 0, `${SCRIPT} status: ${status.stdout}${status.stderr}`);
        const pid = /PID (\d+)/.exec(status.stdout)?.[1];
        assert.ok(pid, `no PID in ${JSON.stringify(status.stdout)}`);

        assert.equal(JSON.parse(response.body).greeting, 'from init.d', 'the script passed /etc/default/ settings on');
        writeConfig(c, LSB, 'from init.d, reloaded');
        const reload = await c.container.systemctl('reload', SERVICE);
        assert.equal(reload.code, 0, `${reload.stderr}\n--- journal ---\n${await c.container.journal(SERVICE)}`);
        assert.equal(
          await greetingBecomes(c, LSB_PORT, 'from init.d, reloaded'),
          'from init.d, reloaded',
          "the script's reload reached the daemon",
        );
        assert.match(await c.container.check([SCRIPT, 'status']), new RegExp(`PID ${pid}\\b`), 'the same daemon after the reload');

        const stop = await c.container.systemctl('stop', SERVICE);
        assert.equal(stop.code, 0, stop.stderr);
        assert.deepEqual(await c.container.show(SERVICE, ['ActiveState', 'Result']), { ActiveState: 'inactive', Result: 'success' });
        assert.notEqual((await c.container.exec(['kill', '-0', pid!])).code, 0, `the daemon (PID ${pid}) is gone`);
        assert.equal((await get(c.container, LSB_PORT)).status, 0, 'nothing listens any more');
      });
    });
  },
});
