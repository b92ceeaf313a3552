// The generated OpenRC runscript under the real openrc-run (Debian's openrc
// package, whose openrc-run calls Debian's start-stop-daemon). OpenRC is not
// PID 1 here: each command runs inside one private mount and network
// namespace holding what a booted OpenRC system has, a tmpfs /run with
// /run/openrc's state directories and softlevel, and the script installed
// as /etc/init.d/<name> with its /etc/conf.d/<name> (an overlay on /etc, so the
// host's /etc is untouched). The daemon is the generated project's own, run
// with --daemonize: start returns once it is ready; status, reload and stop
// are checked against the process itself.
//
// OPENRC_SSD=<path to OpenRC's own start-stop-daemon> (Alpine's and Gentoo's;
// .ci/openrc-own-ssd.sh builds it) runs the same tests with it mounted over
// Debian's inside the namespace.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { freePort } from '../helpers/units.js';
import { generateInitScriptProject, keptDir, runIn, type Generated } from '../helpers/generator.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import { alive, processesRunning } from '../helpers/processes.js';

const NAME = 'orc';
const OPENRC_DIRS = [
  'started',
  'starting',
  'stopping',
  'inactive',
  'wasinactive',
  'failed',
  'hotplugged',
  'daemons',
  'options',
  'exclusive',
  'scheduled',
  'tmp',
];

// Run as root by unshare in new mount and network namespaces; $1 is the staged
// /etc layer (init.d/<name>, conf.d/<name>). Prints "ready", then holds the
// namespaces open until its stdin closes (the test ends, or dies).
const SANDBOX = `set -eu
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir /run/openrc ${OPENRC_DIRS.map((d) => `/run/openrc/${d}`).join(' ')}
echo default > /run/openrc/softlevel
# Installed as the README says: openrc-run finds a failed service's state by
# its name under /etc/init.d, and reads <script dir>/../conf.d/<name>.
mount -t overlay overlay -o lowerdir="$1":/etc /etc
# $2, when given: another start-stop-daemon in place of the system's.
[ -z "\${2:-}" ] || mount --bind "$2" "$(command -v start-stop-daemon)"
ip link set lo up
echo ready
read -r _ || true
`;

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

const OWN_SSD = process.env.OPENRC_SSD;

describe(`the OpenRC runscript under the real openrc-run, with ${OWN_SSD ? "OpenRC's own" : "Debian's"} start-stop-daemon`, function () {
  this.timeout(120_000);
  let dir: string;
  let p: Generated;
  let port: number;
  let entry: string;
  let configFile: string;
  let sandbox: ChildProcess | undefined;
  const pidFile = `/run/${NAME}/${NAME}.pid`;

  /** `/etc/init.d/<name> <action>` (or `rc-service <name> <action>`) inside the namespaces, as an operator runs it. */
  function rc(action: string, how: 'script' | 'rc-service' = 'script'): { code: number | null; output: string } {
    const command = how === 'script' ? [`/etc/init.d/${NAME}`, action] : ['rc-service', NAME, action];
    const result = spawnSync('nsenter', ['-t', String(sandbox!.pid), '-m', '-n', ...command], { encoding: 'utf8', timeout: 60_000 });
    return { code: result.status, output: `${result.stdout}${result.stderr}${result.error ? `\n(${result.error.message})` : ''}` };
  }

  /** The PID file as the namespace sees it (its /run is its own). */
  const inside = (file: string): string => `/proc/${sandbox!.pid}/root${file}`;
  const readPid = (): number => Number(readFileSync(inside(pidFile), 'utf8').trim());

  /** GET / on the daemon's port, from inside its network namespace: { status, body }, or the error. */
  function get(): { status?: number; body?: string; error?: string } {
    const script = `require('http').get({ host: '127.0.0.1', port: ${port}, timeout: 5000 }, (res) => {
      let body = ''; res.on('data', (c) => (body += c)); res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body })));
    }).on('error', (e) => console.log(JSON.stringify({ error: e.message })));`;
    const result = spawnSync('nsenter', ['-t', String(sandbox!.pid), '-n', process.execPath, '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.status, 0, `GET inside the namespace: ${result.stderr}`);
    return JSON.parse(result.stdout) as { status?: number; body?: string; error?: string };
  }
  const greeting = (): string => JSON.parse(get().body ?? '{}').greeting as string;

  before(async function () {
    requireOrSkip(this, process.getuid?.() === 0, 'the OpenRC tests need root (namespaces, mounts)');
    requireOrSkip(this, existsSync('/sbin/openrc-run'), 'openrc-run is not installed (Debian: apt-get install openrc)');
    requireOrSkip(this, has('unshare') && has('nsenter') && has('ip'), 'unshare, nsenter (util-linux) or ip (iproute2) is missing');
    dir = keptDir();
    port = await freePort();
    p = await generateInitScriptProject(dir, NAME, port, 'OpenRC test daemon');
    entry = path.join(p.dir, 'src', 'main.js');
    configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ greeting: 'first' }));
    // The runtime comes from the project's vendor tarball (runIn: the test run's npm cache).
    runIn(p.dir, 'npm', ['install']);

    const etc = path.join(dir, 'etc');
    mkdirSync(path.join(etc, 'init.d'), { recursive: true });
    mkdirSync(path.join(etc, 'conf.d'));
    copyFileSync(path.join(p.dir, 'openrc', NAME), path.join(etc, 'init.d', NAME));
    chmodSync(path.join(etc, 'init.d', NAME), 0o755);
    // openrc-run gives the script a clean environment: the daemon's settings come from conf.d.
    writeFileSync(path.join(etc, 'conf.d', NAME), `export CONFIG_FILE=${configFile}\n`);

    sandbox = spawn(
      'unshare',
      ['--mount', '--net', '--propagation', 'private', 'sh', '-c', SANDBOX, 'sh', etc, ...(OWN_SSD ? [OWN_SSD] : [])],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the sandbox did not come up in 20 s:\n${output}`)), 20_000);
      const seen = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('ready\n')) {
          clearTimeout(timer);
          resolve();
        }
      };
      sandbox!.stdout!.on('data', seen);
      sandbox!.stderr!.on('data', seen);
      sandbox!.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the sandbox exited (${code}) before it was ready:\n${output}`));
      });
    });
  });

  it('openrc-run finds the start-stop-daemon meant', function () {
    const version = spawnSync('nsenter', ['-t', String(sandbox!.pid), '-m', 'start-stop-daemon', '--version'], { encoding: 'utf8' });
    assert.match(version.stdout, OWN_SSD ? /\(OpenRC/ : /for Debian/, `${version.stdout}${version.stderr}`);
  });

  afterEach(function () {
    if (!sandbox) return;
    rc('stop');
    for (const pid of processesRunning(entry)) process.kill(pid, 'SIGKILL');
    // A test that failed half-way may leave the service marked started or starting.
    rc('zap');
    writeFileSync(configFile, JSON.stringify({ greeting: 'first' }));
  });

  after(function () {
    sandbox?.stdin?.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('start returns once the daemon serves; status says started; reload re-reads the configuration; stop ends it', function () {
    const start = rc('start');
    assert.equal(start.code, 0, start.output);
    assert.match(start.output, /Starting orc \.\.\. \[ ok \]/);
    // No retry: start returned only after the daemon reported ready. The greeting is conf.d's CONFIG_FILE's.
    const response = get();
    assert.equal(response.status, 200, JSON.stringify(response));
    assert.equal(JSON.parse(response.body!).greeting, 'first');

    const pid = readPid();
    assert.ok(alive(pid), `the PID file names a live process (${pid})`);
    assert.deepEqual(processesRunning(entry), [pid], 'one process: the daemon (the stages before it have exited)');
    const status = rc('status');
    assert.equal(status.code, 0, status.output);
    assert.match(status.output, /status: started/);

    for (const next of ['second', 'third']) {
      writeFileSync(configFile, JSON.stringify({ greeting: next }));
      const reload = rc('reload');
      assert.equal(reload.code, 0, reload.output);
      assert.match(reload.output, /Reloading orc \.\.\. \[ ok \]/);
      let seen = '';
      for (let i = 0; i < 50 && seen !== next; i++) {
        seen = greeting();
        if (seen !== next) spawnSync('sleep', ['0.1']);
      }
      assert.equal(seen, next, 'SIGHUP reached the daemon: it serves the new configuration');
    }
    assert.equal(readPid(), pid, 'reloaded in place');

    const stop = rc('stop');
    assert.equal(stop.code, 0, stop.output);
    assert.equal(alive(pid), false, 'the daemon is gone when stop returns');
    assert.equal(existsSync(inside(pidFile)), false, 'the PID file is removed');
    const after = rc('status');
    assert.equal(after.code, 3, after.output);
    assert.match(after.output, /status: stopped/);
    const reload = rc('reload');
    assert.equal(reload.code, 1, reload.output);
    assert.match(reload.output, /cannot `reload' as it has not been started/);
  });

  it('restart replaces the daemon, and it serves', function () {
    assert.equal(rc('start').code, 0);
    const pid = readPid();
    const restart = rc('restart');
    assert.equal(restart.code, 0, restart.output);
    assert.notEqual(readPid(), pid);
    assert.equal(alive(pid), false);
    assert.equal(get().status, 200);
  });

  it('a daemon that died: status says crashed (32), reload fails naming the PID file, stop succeeds, start runs it again', function () {
    assert.equal(rc('start').code, 0);
    const pid = readPid();
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && alive(pid); i++) spawnSync('sleep', ['0.1']);
    assert.equal(alive(pid), false);

    const status = rc('status');
    assert.equal(status.code, 32, status.output);
    assert.match(status.output, new RegExp(`status: crashed \\(${pidFile} names no running ${process.execPath}\\)`));
    const reload = rc('reload');
    assert.equal(reload.code, 1, reload.output);
    assert.match(reload.output, /names no running/);
    const stop = rc('stop');
    assert.equal(stop.code, 0, stop.output);
    assert.equal(existsSync(inside(pidFile)), false);
    assert.equal(rc('status').code, 3);
    assert.equal(rc('start').code, 0);
    assert.equal(get().status, 200);
  });

  it('a configuration error fails the start with the daemon status 78/CONFIG and its message; openrc-run itself exits 1', function () {
    writeFileSync(configFile, '{ "greeting": ');
    const start = rc('start', 'rc-service');
    // openrc-run.c ends every failed start with eerrorx("ERROR: %s failed to start"): exit 1, whatever the script returned.
    assert.equal(start.code, 1, start.output);
    assert.match(start.output, /exited with status 78\/CONFIG before it was ready: configuration error: .*config\.json/);
    assert.match(start.output, /ERROR: orc failed to start/);
    assert.deepEqual(processesRunning(entry), [], 'nothing is left running');
    const status = rc('status', 'rc-service');
    assert.equal(status.code, 3, `the service is stopped, not stuck starting:\n${status.output}`);
  });
});
