// The proof every container goes through: a generated system-scope project
// (Type=notify-reload asked for, so systemd >= 253 gets it natively and older
// ones notify + ExecReload=), bound in at its install path, installed by its
// own install-units script, then driven by the container's PID-1 systemd:
// socket activation, READY and STATUS, reload, the watchdog on a hung daemon,
// graceful stop, a configuration error (78, not restarted), and
// systemd-analyze verify and security run inside. Boot logs, the journal,
// security reports and a results.json go to .tmp/pid1-artifacts/<version>/.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { REPO } from '../helpers/generator.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import { Container, run, sleep, type Bind } from '../helpers/pid1-container.js';
import { buildProject, type BuiltProject, type ProjectSpec } from '../helpers/pid1-project.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const ARTIFACTS = process.env.SD_DAEMON_PID1_ARTIFACTS ?? path.join(REPO, '.tmp', 'pid1-artifacts');
/** Where the test's own files (config, the hang hook) appear inside. */
export const TEST_DIR = '/opt/pid1-test';

export interface VersionSpec {
  /** The systemd version the tree runs, as --systemd-version takes it. */
  version: number;
  /** The OS tree and how to boot it. */
  tree: () => Promise<{ directory: string; volatile: 'yes' | 'overlay'; builtSeconds: number | null }>;
  /** More projects to build and bind in (their tests come through `more`). */
  extraProjects?: ProjectSpec[];
  more?: (ctx: () => Context) => void;
}

export interface Context {
  container: Container;
  projects: Map<string, BuiltProject>;
  artifacts: string;
  /** The test's directory on the host, bound at TEST_DIR. */
  testDir: string;
  results: Results;
  /** Set when the project's runtime cannot load its addon here: daemon tests then fail at once with it. */
  addonFailure: string | null;
}

/** The context, for a test that runs a daemon: fails at once, with the cause, where the addon does not load. */
export function daemonContext(ctx: () => Context): Context {
  const c = ctx();
  if (c.addonFailure) throw new Error(`not attempted: ${c.addonFailure} (see the addon test above)`);
  return c;
}

export interface Results {
  systemdVersion: number;
  systemdInside?: string;
  treeBuildSeconds: number | null;
  projectsBuildSeconds?: number;
  bootSeconds?: number;
  bootState?: string;
  security: Record<string, { exposure: number; rating: string }>;
  tests: Array<{ title: string; state: string; seconds: number }>;
}

/** The host tools the suite needs that a machine may lack. */
async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of ['systemd-nspawn', 'nsenter', 'debootstrap', 'flock']) {
    const found = await run('sh', ['-c', `command -v ${tool}`], { timeoutMs: 10_000 });
    if (found.code !== 0) missing.push(tool);
  }
  return missing;
}

/** curl inside the container: status and body, or the failure. */
export async function get(c: Container, port: number, urlPath = '/'): Promise<{ status: number; body: string; error: string }> {
  const r = await c.exec(['curl', '-sS', '-m', '20', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${urlPath}`], { timeoutMs: 30_000 });
  const lines = r.stdout.split('\n');
  const status = Number(lines.pop());
  return { status: r.code === 0 ? status : 0, body: lines.join('\n'), error: r.stderr };
}

/**
 * `systemd-analyze verify` of installed units, inside: must exit 0 and say
 * nothing. --man=no: the trees have no man pages (minbase; this machine's /etc
 * holds no man-db configuration under --volatile=yes), so the Documentation=
 * man: links cannot resolve there; the generator tests check them on the host.
 */
export async function verifyClean(c: Container, files: string[]): Promise<void> {
  const r = await c.exec(['systemd-analyze', 'verify', '--man=no', ...files], { timeoutMs: 120_000 });
  // (247 colours its warnings even into a pipe.)
  const said = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').trim();
  assert.equal(said, '', `systemd-analyze verify ${files.join(' ')} is not clean (exit ${r.code}):\n${said}`);
  assert.equal(r.code, 0);
}

/** `systemd-analyze security <unit>` inside: the overall exposure, report saved. */
export async function security(ctx: Context, unit: string): Promise<{ exposure: number; rating: string }> {
  const r = await ctx.container.exec(['systemd-analyze', 'security', '--no-pager', unit], { timeoutMs: 120_000 });
  writeFileSync(path.join(ctx.artifacts, `security-${unit}.txt`), `${r.stdout}${r.stderr}`);
  const match = /Overall exposure level for \S+: ([\d.]+) (\S+)/.exec(r.stdout);
  assert.ok(match, `no overall exposure in systemd-analyze security ${unit} (exit ${r.code}):\n${r.stdout.slice(-2000)}${r.stderr}`);
  const figure = { exposure: Number(match[1]), rating: match[2]! };
  ctx.results.security[unit] = figure;
  return figure;
}

/** Runs the project's own install script inside, where the units expect the project. */
export async function installUnits(ctx: Context, p: BuiltProject): Promise<string> {
  return ctx.container.check([process.execPath, path.posix.join(p.installPath, 'scripts', 'install-units.mjs')], { timeoutMs: 120_000 });
}

export function describeVersion(spec: VersionSpec): void {
  const NAME = `pid1-sd${spec.version}`;
  const SERVICE = `${NAME}.service`;
  const SOCKET = `${NAME}.socket`;
  const PORT = 8080;
  const nativeReload = spec.version >= 253;

  describe(`PID-1 systemd ${spec.version} in a container`, function () {
    // Generous: a cold tree is built here (debootstrap), projects are built, a machine boots.
    this.timeout(120_000);
    let ctx: Context | undefined;
    const get_ = (): Context => {
      assert.ok(ctx, 'the container did not boot (see the before all hook)');
      return ctx;
    };
    const artifacts = path.join(ARTIFACTS, String(spec.version));
    const results: Results = { systemdVersion: spec.version, treeBuildSeconds: null, security: {}, tests: [] };
    let testStarted = 0n;
    /** The generated projects and the test directory, on the host; removed once the container is down. */
    let parent = '';
    // Where the addon does not load, the daemon tests fail at once with that cause instead of waiting out start timeouts.
    const daemonRuns = (): Context => daemonContext(get_);

    before(async function () {
      this.timeout(2400_000);
      requireOrSkip(this, process.getuid?.() === 0, 'the PID-1 tests boot containers with systemd-nspawn and need root');
      const missing = await missingTools();
      requireOrSkip(
        this,
        missing.length === 0,
        `${missing.join(', ')} missing: apt-get install systemd-container debootstrap util-linux (or run .ci/pid1.sh)`,
      );
      rmSync(artifacts, { recursive: true, force: true });
      mkdirSync(artifacts, { recursive: true });

      const tree = await spec.tree();
      results.treeBuildSeconds = tree.builtSeconds;

      const buildStarted = process.hrtime.bigint();
      parent = mkdtempSync(path.join(tmpdir(), `sd-pid1-${spec.version}-`));
      const specs: ProjectSpec[] = [
        {
          name: NAME,
          options: {
            type: 'notify-reload',
            systemdVersion: String(spec.version),
            description: `PID-1 test daemon on systemd ${spec.version}`,
          },
        },
        ...(spec.extraProjects ?? []),
      ];
      const projects = new Map<string, BuiltProject>();
      for (const s of specs) projects.set(s.name, await buildProject(s, parent));
      results.projectsBuildSeconds = Number(process.hrtime.bigint() - buildStarted) / 1e9;
      for (const p of projects.values()) {
        for (const file of ['systemd', 'init.d']) {
          if (p.exists(file)) cpSync(path.join(p.dir, file), path.join(artifacts, 'generated', p.name, file), { recursive: true });
        }
      }

      const testDir = path.join(parent, 'test');
      mkdirSync(testDir, { mode: 0o755 });
      copyFileSync(path.join(FIXTURES, 'hang-on-sigusr2.cjs'), path.join(testDir, 'hang-on-sigusr2.cjs'));
      writeFileSync(path.join(testDir, 'config.json'), `${JSON.stringify({ greeting: 'first' })}\n`, { mode: 0o644 });

      const binds: Bind[] = [...projects.values()].map((p) => ({ host: p.dir, inside: p.installPath }));
      binds.push({ host: testDir, inside: TEST_DIR });
      // node, where the units run it (--node defaults to the generating node); the
      // volatile root of this machine shows its /usr already.
      if (!(tree.volatile === 'yes' && process.execPath.startsWith('/usr/')))
        binds.push({ host: process.execPath, inside: process.execPath });

      const container = await Container.boot({
        label: String(spec.version),
        directory: tree.directory,
        volatile: tree.volatile,
        binds,
        artifacts,
      });
      ctx = { container, projects, artifacts, testDir, results, addonFailure: null };
      results.bootSeconds = container.bootSeconds;
      results.bootState = container.systemState;
      results.systemdInside = (await container.check(['systemctl', '--version'])).split('\n')[0];
    });

    after(async function () {
      this.timeout(120_000);
      if (ctx) await ctx.container.shutdown();
      // Only once nothing has them bound (the units and init scripts are in the artefacts).
      if (parent) rmSync(parent, { recursive: true, force: true });
      mkdirSync(artifacts, { recursive: true });
      writeFileSync(path.join(artifacts, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    });

    beforeEach(() => {
      testStarted = process.hrtime.bigint();
    });
    afterEach(function () {
      const t = this.currentTest!;
      results.tests.push({
        title: t.fullTitle(),
        state: t.state ?? 'unknown',
        seconds: Number(process.hrtime.bigint() - testStarted) / 1e9,
      });
    });

    it(`runs systemd ${spec.version} as PID 1`, function () {
      const c = get_();
      assert.match(c.results.systemdInside ?? '', new RegExp(`^systemd ${spec.version}\\b`));
    });

    it("the project's runtime loads its native addon inside (glibc of this tree)", async function () {
      const c = get_();
      const p = c.projects.get(NAME)!;
      const probe = 'import("sd-daemon-runtime").then((m) => console.log(JSON.stringify(m.capabilities())))';
      const out = await c.container.check(['sh', '-c', `cd ${p.installPath} && exec "$0" -e "$1"`, process.execPath, probe]);
      const caps = JSON.parse(out) as { native: boolean; nativeError: string | null };
      const glibc = (await c.container.exec(['sh', '-c', 'ldd --version 2>&1 | head -n 1'])).stdout.trim();
      if (!caps.native)
        c.addonFailure = `sd-daemon-runtime's addon does not load on this tree (${glibc}), so the daemon cannot notify systemd`;
      assert.equal(caps.native, true, `sd-daemon-runtime's addon does not load on this tree (${glibc}): ${caps.nativeError}`);
    });

    it("install-units installs the units where the container's systemd loads them (a second run changes nothing)", async function () {
      const c = get_();
      const p = c.projects.get(NAME)!;
      const first = await installUnits(c, p);
      assert.match(first, new RegExp(`wrote\\s+/etc/systemd/system/${SERVICE}`));
      assert.match(first, /ran: systemctl daemon-reload/);
      const second = await installUnits(c, p);
      assert.match(second, /Nothing changed/);
      // The test's drop-in: the configuration file, and the hang hook preloaded into node.
      await c.container.writeFile(
        `/etc/systemd/system/${SERVICE}.d/50-pid1-test.conf`,
        [
          '[Service]',
          `Environment=CONFIG_FILE=${TEST_DIR}/config.json`,
          `Environment=NODE_OPTIONS=--require=${TEST_DIR}/hang-on-sigusr2.cjs`,
          '',
        ].join('\n'),
      );
      await c.container.check(['systemctl', 'daemon-reload']);
      const loaded = await c.container.show(SERVICE, ['LoadState', 'Type', 'ExecReload', 'WorkingDirectory']);
      assert.equal(loaded.LoadState, 'loaded');
      assert.equal(loaded.WorkingDirectory, p.installPath);
      if (nativeReload) {
        assert.equal(loaded.Type, 'notify-reload', 'systemd >= 253 runs the reload itself');
        assert.equal(loaded.ExecReload ?? '', '', 'and no ExecReload=');
      } else {
        assert.equal(loaded.Type, 'notify', `notify-reload falls back to notify on ${spec.version}`);
        assert.match(loaded.ExecReload ?? '', /kill/, 'and ExecReload= sends SIGHUP');
      }
    });

    it('systemd-analyze verify is clean inside (every directive known to this systemd)', async function () {
      const c = get_();
      await verifyClean(c.container, [`/etc/systemd/system/${SERVICE}`, `/etc/systemd/system/${SOCKET}`]);
    });

    it('systemd-analyze security measures the service inside', async function () {
      const c = get_();
      const figure = await security(c, SERVICE);
      console.log(`      systemd ${spec.version}: exposure of ${SERVICE}: ${figure.exposure} ${figure.rating}`);
      assert.ok(
        figure.exposure < 2,
        `exposure ${figure.exposure} ${figure.rating}: the strict set should rate OK (< 2.0); see ${c.artifacts}/security-${SERVICE}.txt`,
      );
    });

    it('socket activation: nothing runs until a connection; curl on 127.0.0.1 answers; READY and STATUS reach systemd', async function () {
      const c = daemonRuns();
      const start = await c.container.systemctl('start', SOCKET);
      assert.equal(start.code, 0, start.stderr);
      assert.equal((await c.container.show(SERVICE, ['ActiveState'])).ActiveState, 'inactive', 'nothing runs before the first connection');
      const response = await get(c.container, PORT);
      assert.equal(response.status, 200, `${response.error}${response.body}\n--- journal ---\n${await c.container.journal(SERVICE)}`);
      assert.deepEqual(JSON.parse(response.body), {
        name: NAME,
        description: `PID-1 test daemon on systemd ${spec.version}`,
        greeting: 'first',
      });
      const shown = await c.container.show(SERVICE, ['ActiveState', 'SubState', 'StatusText', 'NRestarts', 'WatchdogUSec']);
      assert.deepEqual(shown, {
        ActiveState: 'active',
        SubState: 'running',
        StatusText: 'Serving on 1 socket(s)',
        NRestarts: '0',
        WatchdogUSec: '10s',
      });
    });

    it(`systemctl reload re-reads the configuration (${nativeReload ? 'Type=notify-reload: SIGHUP from systemd' : 'ExecReload=: kill -HUP'})`, async function () {
      const c = daemonRuns();
      const before = await c.container.show(SERVICE, ['MainPID']);
      writeFileSync(path.join(c.testDir, 'config.json'), `${JSON.stringify({ greeting: 'second' })}\n`);
      const reload = await c.container.systemctl('reload', SERVICE);
      assert.equal(reload.code, 0, `${reload.stderr}\n--- journal ---\n${await c.container.journal(SERVICE)}`);
      const after = await c.container.show(SERVICE, ['MainPID', 'ActiveState', 'SubState', 'StatusText']);
      // The same process, back to running; the runtime's READY=1 after a reload says so in STATUS=.
      assert.deepEqual(after, { MainPID: before.MainPID, ActiveState: 'active', SubState: 'running', StatusText: 'Reloaded' });
      if (nativeReload) {
        // notify-reload: the reload job ends only at the daemon's READY=1 after RELOADING=1, so it is done now.
        assert.equal(JSON.parse((await get(c.container, PORT)).body).greeting, 'second', 'the reload took the new configuration');
      } else {
        // ExecReload=/bin/kill returns once the signal is sent; the daemon reloads just after.
        const deadline = Date.now() + 10_000;
        let greeting = '';
        while ((greeting = JSON.parse((await get(c.container, PORT)).body).greeting) !== 'second' && Date.now() < deadline)
          await sleep(200);
        assert.equal(greeting, 'second', 'the reload took the new configuration');
      }
      assert.match(await c.container.journal(SERVICE), /configuration reloaded/);
    });

    it('the watchdog kills a hung daemon (Result=watchdog) and Restart= brings it back', async function () {
      this.timeout(120_000);
      const c = daemonRuns();
      const before = await c.container.show(SERVICE, ['MainPID', 'NRestarts']);
      const hung = process.hrtime.bigint();
      const kill = await c.container.systemctl('kill', '--signal=SIGUSR2', SERVICE);
      assert.equal(kill.code, 0, kill.stderr);
      const after = await c.container.waitFor(
        SERVICE,
        ['MainPID', 'NRestarts', 'ActiveState', 'SubState'],
        (v) => v.NRestarts === String(Number(before.NRestarts) + 1) && v.ActiveState === 'active' && v.SubState === 'running',
        60_000,
      );
      const seconds = Number(process.hrtime.bigint() - hung) / 1e9;
      assert.notEqual(after.MainPID, before.MainPID);
      const journal = await c.container.journal(SERVICE);
      assert.match(journal, /test hook: SIGUSR2/, 'the hook hung the daemon');
      assert.match(journal, /[Ww]atchdog timeout/);
      assert.match(journal, /Failed with result 'watchdog'/);
      console.log(`      systemd ${spec.version}: hung -> restarted and running in ${seconds.toFixed(1)} s (WatchdogSec=10)`);
      const response = await get(c.container, PORT);
      assert.equal(response.status, 200, 'serving again after the restart');
    });

    it('graceful stop: STOPPING, drain, exit 0, Result=success', async function () {
      const c = daemonRuns();
      const stop = await c.container.systemctl('stop', SERVICE);
      assert.equal(stop.code, 0, stop.stderr);
      const stopped = await c.container.show(SERVICE, ['ActiveState', 'Result', 'ExecMainCode', 'ExecMainStatus']);
      // ExecMainCode 1: CLD_EXITED (it exited by itself, not killed).
      assert.deepEqual(
        stopped,
        { ActiveState: 'inactive', Result: 'success', ExecMainCode: '1', ExecMainStatus: '0' },
        await c.container.journal(SERVICE),
      );
    });

    it('a configuration error exits 78 (EX_CONFIG) and is not restarted (RestartPreventExitStatus=)', async function () {
      const c = daemonRuns();
      writeFileSync(path.join(c.testDir, 'config.json'), '{ "greeting": \n');
      await c.container.systemctl('reset-failed', SERVICE);
      const before = await c.container.show(SERVICE, ['NRestarts']);
      const start = await c.container.systemctl('start', SERVICE);
      assert.notEqual(start.code, 0, 'the start job fails');
      const failed = await c.container.waitFor(
        SERVICE,
        ['ActiveState', 'Result', 'ExecMainStatus', 'NRestarts'],
        (v) => v.ActiveState === 'failed',
        30_000,
      );
      assert.deepEqual(failed, { ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '78', NRestarts: before.NRestarts });
      // Restart= would have acted within RestartSec= (100 ms): give it seconds.
      await sleep(3000);
      assert.deepEqual(await c.container.show(SERVICE, ['ActiveState', 'NRestarts']), {
        ActiveState: 'failed',
        NRestarts: before.NRestarts,
      });
      assert.match(await c.container.journal(SERVICE), /configuration error: .*config\.json/);
      // Fixed configuration: it starts again.
      writeFileSync(path.join(c.testDir, 'config.json'), `${JSON.stringify({ greeting: 'third' })}\n`);
      await c.container.systemctl('reset-failed', SERVICE);
      const again = await c.container.systemctl('start', SERVICE);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse((await get(c.container, PORT)).body).greeting, 'third');
      assert.equal((await c.container.systemctl('stop', SERVICE, SOCKET)).code, 0);
    });

    spec.more?.(get_);
  });
}

/**
 * A project generated with every default (for this machine's systemd, which
 * is what a user gets on their workstation) works on the container's systemd
 * too: installed, verified, activated by its socket, reloaded and stopped.
 * Its socket is the default 127.0.0.1:8080, so it runs after the main project's
 * tests, which stop theirs.
 */
export function describeDefaults(ctx: () => Context, name: string): void {
  describe(`a project generated with the defaults on this machine (${name})`, function () {
    const SERVICE = `${name}.service`;
    const SOCKET = `${name}.socket`;

    it('installs; verify is clean; security measured', async function () {
      const c = ctx();
      await installUnits(c, c.projects.get(name)!);
      await verifyClean(c.container, [`/etc/systemd/system/${SERVICE}`, `/etc/systemd/system/${SOCKET}`]);
      const figure = await security(c, SERVICE);
      console.log(`      exposure of ${SERVICE} (defaults) here: ${figure.exposure} ${figure.rating}`);
    });

    it('starts by its socket, serves, reloads and stops with Result=success', async function () {
      const c = daemonContext(ctx);
      assert.equal((await c.container.systemctl('start', SOCKET)).code, 0);
      const response = await get(c.container, 8080);
      assert.equal(response.status, 200, `${response.error}\n--- journal ---\n${await c.container.journal(SERVICE)}`);
      assert.equal(JSON.parse(response.body).name, name);
      const running = await c.container.show(SERVICE, ['ActiveState', 'SubState', 'MainPID']);
      assert.equal(running.SubState, 'running');
      const reload = await c.container.systemctl('reload', SERVICE);
      assert.equal(reload.code, 0, `${reload.stderr}\n--- journal ---\n${await c.container.journal(SERVICE)}`);
      await c.container.waitFor(
        SERVICE,
        ['ActiveState', 'SubState'],
        (v) => v.ActiveState === 'active' && v.SubState === 'running',
        10_000,
      );
      assert.equal((await c.container.show(SERVICE, ['MainPID'])).MainPID, running.MainPID, 'the same daemon after the reload');
      const stop = await c.container.systemctl('stop', SERVICE, SOCKET);
      assert.equal(stop.code, 0, stop.stderr);
      assert.deepEqual(await c.container.show(SERVICE, ['ActiveState', 'Result', 'ExecMainStatus']), {
        ActiveState: 'inactive',
        Result: 'success',
        ExecMainStatus: '0',
      });
    });

    it('uninstall-units (issue 14): --dry-run changes nothing; then the enabled, running units are stopped, disabled and removed; a second run has nothing to remove', async function () {
      const c = daemonContext(ctx);
      const p = c.projects.get(name)!;
      const uninstall = (...args: string[]) =>
        c.container.exec([process.execPath, path.posix.join(p.installPath, 'scripts', 'uninstall-units.mjs'), ...args], {
          timeoutMs: 120_000,
        });
      assert.equal((await c.container.systemctl('enable', '--now', SOCKET)).code, 0);
      assert.equal((await get(c.container, 8080)).status, 200, 'running through its socket');
      const wants = `/etc/systemd/system/sockets.target.wants/${SOCKET}`;
      const present = async (file: string): Promise<boolean> =>
        (await c.container.exec(['test', '-e', file])).code === 0 || (await c.container.exec(['test', '-L', file])).code === 0;
      assert.ok(await present(wants), 'enable made its symlink');

      const dry = await uninstall('--dry-run');
      assert.equal(dry.code, 0, `${dry.stdout}${dry.stderr}`);
      assert.match(dry.stdout, new RegExp(`^would systemctl stop -- ${SOCKET} ${SERVICE}$`, 'm'));
      assert.equal((await c.container.show(SERVICE, ['ActiveState'])).ActiveState, 'active', '--dry-run stopped nothing');
      assert.ok(await present(`/etc/systemd/system/${SERVICE}`), '--dry-run removed nothing');

      const run = await uninstall();
      assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
      assert.match(run.stdout, /^ran: systemctl daemon-reload$/m);
      for (const file of [`/etc/systemd/system/${SERVICE}`, `/etc/systemd/system/${SOCKET}`, wants])
        assert.equal(await present(file), false, `${file} is gone`);
      assert.deepEqual(await c.container.show(SOCKET, ['ActiveState', 'LoadState']), { ActiveState: 'inactive', LoadState: 'not-found' });
      assert.equal((await c.container.show(SERVICE, ['ActiveState'])).ActiveState, 'inactive');
      assert.equal(await present(`/etc/systemd/system/.${SERVICE}.installed-units.json`), false, 'the record is gone with what it listed');

      const again = await uninstall();
      assert.equal(again.code, 0, `${again.stdout}${again.stderr}`);
      assert.match(again.stdout, /^Nothing to remove: install-units has recorded nothing it installed in \/etc\/systemd\/system /);
    });
  });
}
