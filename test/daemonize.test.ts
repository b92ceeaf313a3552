// daemonize(): real programs started from here daemonize themselves
// (test/fixtures/daemonize-daemon.mjs); what the daemon became is read from
// /proc and from the reports it writes, and what the original process did
// from its exit code, output and timing. Every daemon is killed afterwards.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DAEMONIZE_EXIT, stage } from 'sd-daemon-runtime';
import { failed, nativeBinding } from '../runtime/dist/native.js';
import { parseUnixAddress } from '../runtime/dist/unix-address.js';
import { alive } from './helpers/processes.js';
import { scaled } from './helpers/time-scale.js';

// The addon, as the runtime loads it on first use.
const native = nativeBinding();

const fixture = fileURLToPath(new URL('./fixtures/daemonize-daemon.mjs', import.meta.url));
const runtimeDist = new URL('../runtime/dist/', import.meta.url).href;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Finished {
  /** The daemon's reports are `${report}.starting` and `${report}.ready`. */
  report: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit, in ms. */
  ms: number;
  exitedAt: number;
  /** What the original process said about itself before daemonizing. */
  parent: { pid: number; sid: number; pgrp: number; stage: string; env: Record<string, string> } | null;
}

interface Report {
  pid: number;
  stage: string;
  firstStage: string;
  daemon: { pid: number; files: number[]; stdout: boolean; stderr: boolean; pidFile: string | null; pidFileFd: number | null };
  cwd: string;
  umask: number;
  title: string;
  argv0: string;
  execArgv: string[];
  notifySocket: string | null;
  readyAt?: number;
  readySent?: boolean;
  pingAfterReady?: { sent: boolean; reason?: string };
  notifySocketAfterReady?: string | null;
  captured?: { stdout: string; stderr: string };
}

/** The fixture's environment: ours without a manager's variables (mocha may itself run under one). */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      !['NOTIFY_SOCKET', 'INVOCATION_ID', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES', 'WATCHDOG_USEC', 'WATCHDOG_PID'].includes(key)
    )
      env[key] = value;
  }
  return { ...env, ...extra };
}

function statOf(pid: number): { ppid: number; pgrp: number; sid: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 4, 5 and 6 of proc(5): ppid, pgrp, session.
  return { ppid: Number(rest[1]), pgrp: Number(rest[2]), sid: Number(rest[3]) };
}

function statusField(pid: number | 'self', key: string): string {
  return readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s*(\\S+)`, 'm'))?.[1] ?? '';
}

function sunPath(address: string): Buffer {
  const parsed = parseUnixAddress(address);
  assert.ok(parsed.kind === 'abstract');
  return parsed.sunPath;
}

/** Another process tries the lock: 0 when it gets it, -11 (EWOULDBLOCK) when someone holds it. */
function probeLock(file: string): number {
  const script = `
    import { nativeBinding } from ${JSON.stringify(`${runtimeDist}native.js`)};
    import { openSync } from 'node:fs';
    const native = nativeBinding();
    process.stdout.write(String(native.flock(openSync(${JSON.stringify(file)}, 'r'), native.constants.LOCK_EX | native.constants.LOCK_NB)));`;
  return Number(spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).stdout);
}

describe('daemonize()', function () {
  this.timeout(30_000);
  let dir: string;
  let runs = 0;

  beforeEach(function () {
    // Each test starts Node a few times (the timing test 20 times): stretched where Node starts slower.
    this.currentTest!.timeout(scaled(30_000));
  });

  before(function () {
    assert.ok(native, 'the addon is built (npm run build --workspace=sd-daemon-runtime)');
    dir = mkdtempSync(join(tmpdir(), 'sd-daemonize-'));
  });

  afterEach(function () {
    // Every fixture run names a file in `dir`: kill whatever still runs with it, group and all.
    for (const entry of readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!cmdline.includes(dir)) continue;
      const pid = Number(entry);
      try {
        process.kill(-statOf(pid).pgrp, 'SIGKILL');
      } catch {
        // Not a group of its own.
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the fixture as an init script would and waits for the original process to exit. */
  function run(
    args: string[],
    options: { env?: Record<string, string>; execArgv?: string[]; extraFd?: number } = {},
  ): Promise<Finished> & { report: string } {
    const report = join(dir, `run${++runs}`);
    const started = performance.now();
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
    if (options.extraFd !== undefined) stdio.push(options.extraFd);
    const child = spawn(process.execPath, [...(options.execArgv ?? []), fixture, `--report=${report}`, ...args], {
      env: options.env ?? cleanEnv(),
      stdio,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const done = new Promise<Finished>((resolve) => {
      child.on('close', (code, signal) => {
        const line = stdout.split('\n').find((l) => l.startsWith('PARENT '));
        resolve({
          report,
          code,
          signal,
          stdout,
          stderr,
          ms: performance.now() - started,
          exitedAt: Date.now(),
          parent: line ? JSON.parse(line.slice('PARENT '.length)) : null,
        });
      });
    });
    return Object.assign(done, { report });
  }

  // Polled, so generous costs nothing when the daemon is quick; a loaded machine can take seconds.
  async function reportOf(report: string, phase: 'starting' | 'ready' | 'child', timeoutMs = 30_000): Promise<Report> {
    const file = `${report}.${phase}`;
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(file)) {
      if (Date.now() > deadline) throw new Error(`no ${phase} report from the daemon in ${timeoutMs} ms`);
      await sleep(20);
    }
    return JSON.parse(readFileSync(file, 'utf8')) as Report;
  }

  const pidFileOf = (name: string): string => join(dir, name);
  const readPidFile = (file: string): number => Number(readFileSync(file, 'utf8').trim());

  describe('stage()', function () {
    it("is 'parent' in a process daemonize() did not start", function () {
      assert.equal(stage(), 'parent');
    });

    it("stays 'parent' when an inherited socket only looks like the stage channel", function () {
      // A socket with the channel's name and instructions for another token,
      // one with the right shape of name and nothing queued, and an
      // environment variable that might look like a marker: none of them is
      // an inherited channel with its own instructions.
      const forged = '@sd-daemonize/0123456789abcdef/stage';
      const empty = '@sd-daemonize/fedcba9876543210/stage';
      const forgedFd = native!.bindDgram(sunPath(forged));
      const emptyFd = native!.bindDgram(sunPath(empty));
      assert.ok(!failed(forgedFd) && !failed(emptyFd));
      try {
        const instructions = {
          version: 1,
          token: 'another',
          notifySocket: '@x',
          restoreNotifySocket: null,
          files: 0,
          pidFile: null,
          workingDirectory: null,
          umask: null,
          captureOutput: false,
        };
        assert.ok(!failed(native!.sendmsg(sunPath(forged), Buffer.from(JSON.stringify(instructions)), null, null)));
        const script = `import { stage } from 'sd-daemon-runtime'; process.stdout.write(stage())`;
        const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
          stdio: ['ignore', 'pipe', 'pipe', forgedFd, emptyFd],
          env: cleanEnv({ SD_DAEMONIZE_STAGE: 'daemon' }),
          encoding: 'utf8',
        });
        assert.equal(result.stderr, '');
        assert.equal(result.stdout, 'parent');
      } finally {
        closeSync(forgedFd);
        closeSync(emptyFd);
      }
    });
  });

  describe('a successful start', function () {
    it('detaches into a new session without leading it, in / with umask 0, fds 0-2 on /dev/null, keeping execArgv, argv[0] and the environment', async function () {
      const pidFile = pidFileOf('ok.pid');
      const env = cleanEnv({ SD_TEST_MARK: 'kept' });
      const result = await run([`--pid-file=${pidFile}`, '--program-name=sd-test-daemon', '--say=hello from the daemon'], {
        env,
        execArgv: ['--max-old-space-size=123'],
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      // Output before READY=1 went to the original process.
      assert.match(result.stdout, /^hello from the daemon$/m);
      const report = await reportOf(result.report, 'ready');
      const pid = report.pid;
      assert.ok(alive(pid));

      assert.equal(result.parent!.stage, 'parent');
      assert.equal(report.firstStage, 'daemon');
      assert.equal(report.stage, 'daemon');
      assert.equal(readPidFile(pidFile), pid, 'the PID file holds the daemon');
      assert.equal(report.daemon.pidFile, pidFile);

      const stat = statOf(pid);
      assert.notEqual(stat.sid, result.parent!.sid, 'a new session');
      assert.notEqual(stat.sid, pid, 'not its leader');
      assert.notEqual(stat.pgrp, pid, 'not a process group leader either');
      assert.notEqual(stat.ppid, result.parent!.pid);

      assert.equal(readlinkSync(`/proc/${pid}/cwd`), '/');
      assert.equal(report.umask, 0);
      for (const fd of [0, 1, 2]) assert.equal(readlinkSync(`/proc/${pid}/fd/${fd}`), '/dev/null', `fd ${fd}`);
      // fd 0 is open read-write: /proc/<pid>/fdinfo shows O_RDWR (2) in its flags.
      assert.equal(Number.parseInt(readFileSync(`/proc/${pid}/fdinfo/0`, 'utf8').match(/^flags:\s*([0-7]+)/m)![1]!, 8) & 3, 2);

      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
      const exe = readlinkSync(`/proc/${pid}/exe`);
      if (exe !== realpathSync(process.execPath)) {
        // Node is run by a binfmt_misc interpreter (an arm64 Node under
        // qemu-user on an x64 host): the kernel starts the interpreter, which
        // is then the process's exe, with its own path and the program's
        // before the argv given to exec (flag P keeps that argv[0]).
        assert.equal(realpathSync(cmdline[0]!), exe, `cmdline ${JSON.stringify(cmdline)} starts with the interpreter ${exe}`);
        assert.equal(cmdline[1], process.execPath);
        cmdline.splice(0, 2);
      }
      assert.deepEqual(cmdline.slice(0, 3), ['sd-test-daemon', '--max-old-space-size=123', fixture]);
      assert.deepEqual(report.execArgv, ['--max-old-space-size=123']);
      assert.equal(report.title, 'sd-test-daemon');

      // The daemon's exec-time environment is the original's, byte for byte:
      // no stage marker, no NOTIFY_SOCKET.
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).sort();
      assert.deepEqual(
        environ,
        Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .sort(),
      );
      // In process.env, NOTIFY_SOCKET pointed at the original process until READY=1, and is gone after it...
      assert.match(report.notifySocket ?? '', /^@sd-daemonize\/[0-9a-f]{16}\/notify$/);
      assert.equal(report.notifySocketAfterReady, null);
      // ...so a later watchdog ping is just "disabled".
      assert.deepEqual(report.pingAfterReady, { sent: false, reason: 'disabled' });

      // Signals: none blocked, none ignored beyond what any node process ignores.
      assert.equal(statusField(pid, 'SigBlk'), '0000000000000000');
      // Node itself ignores SIGPIPE (13) and SIGXFSZ (25) at start-up; nothing else may be ignored.
      const nodeIgnores = (1n << 12n) | (1n << 24n);
      assert.equal(BigInt(`0x${statusField(pid, 'SigIgn')}`) & ~nodeIgnores, 0n, `SigIgn ${statusField(pid, 'SigIgn')}`);
    });

    it('exits 0 only after READY=1 (sent 500 ms late here)', async function () {
      const result = await run([`--pid-file=${pidFileOf('late.pid')}`, '--ready-delay=500']);
      assert.equal(result.code, 0, result.stderr);
      const report = await reportOf(result.report, 'ready');
      assert.ok(result.ms >= 500, `exited after ${result.ms.toFixed(0)} ms`);
      assert.ok(result.exitedAt >= report.readyAt!, 'exited after the daemon sent READY=1');
    });

    it('keeps an inherited flock held in the daemon (files at fd 3, the PID file after them)', async function () {
      const lock = join(dir, 'held.lock');
      const pidFile = pidFileOf('lock.pid');
      const result = await run([`--lock=${lock}`, `--pid-file=${pidFile}`, '--spawn-child-after-ready']);
      assert.equal(result.code, 0, result.stderr);
      const report = await reportOf(result.report, 'ready');
      const { pid: child } = (await reportOf(result.report, 'child')) as unknown as { pid: number };
      try {
        assert.deepEqual(report.daemon.files, [3]);
        assert.equal(report.daemon.pidFileFd, 4);
        assert.equal(readlinkSync(`/proc/${report.pid}/fd/3`), lock);
        assert.equal(readlinkSync(`/proc/${report.pid}/fd/4`), pidFile);
        // Close-on-exec, seen from a child the daemon started after READY=1 by
        // fork and exec (it inherits every fd not so marked): it has neither
        // file open, under any number. Reading the flag in /proc would prove
        // nothing: Node's own start marks every inherited fd close-on-exec.
        const childFiles = readdirSync(`/proc/${child}/fd`).map((fd) => readlinkSync(`/proc/${child}/fd/${fd}`));
        assert.ok(
          !childFiles.includes(lock) && !childFiles.includes(pidFile),
          `a child of the daemon holds the lock or the PID file open (its fds: ${childFiles.join(', ')}): fds 3 and 4 must be close-on-exec in the daemon`,
        );
        assert.equal(probeLock(lock), -11, 'the lock taken by the original process is still held');
        assert.equal(probeLock(pidFile), -11, 'and so is the PID file');
        process.kill(report.pid, 'SIGKILL');
        while (alive(report.pid)) await sleep(10);
        assert.ok(alive(child), 'the child outlived the daemon');
        assert.equal(probeLock(lock), 0, 'the daemon was the one holding it, not its child');
        assert.equal(probeLock(pidFile), 0, 'and the PID file');
      } finally {
        process.kill(child, 'SIGKILL');
      }
    });

    it('does not pass on fds the original process inherited', async function () {
      const leaked = join(dir, 'leaked');
      const fd = openSync(leaked, 'w');
      try {
        const result = await run([`--pid-file=${pidFileOf('leak.pid')}`], { extraFd: fd });
        assert.equal(result.code, 0, result.stderr);
        const report = await reportOf(result.report, 'ready');
        const targets = readdirSync(`/proc/${report.pid}/fd`).map((n) => readlinkSync(`/proc/${report.pid}/fd/${n}`));
        assert.ok(!targets.includes(leaked), `the daemon's fds: ${targets.join(', ')}`);
      } finally {
        closeSync(fd);
      }
    });

    it('captureOutput: the daemon reads what it writes to fds 1 and 2 after READY=1', async function () {
      const result = await run([`--pid-file=${pidFileOf('capture.pid')}`, '--capture']);
      assert.equal(result.code, 0, result.stderr);
      const report = await reportOf(result.report, 'ready');
      assert.deepEqual([report.daemon.stdout, report.daemon.stderr], [true, true]);
      assert.equal(report.captured!.stdout, 'captured-out\n');
      assert.equal(report.captured!.stderr, 'captured-err\n');
      for (const fd of [1, 2]) assert.match(readlinkSync(`/proc/${report.pid}/fd/${fd}`), /^pipe:/);
      assert.ok(!result.stdout.includes('captured-out') && !result.stderr.includes('captured-err'));
    });

    it('takes over a stale PID file (no lock holder)', async function () {
      const pidFile = pidFileOf('stale.pid');
      writeFileSync(pidFile, '999999\n');
      const result = await run([`--pid-file=${pidFile}`]);
      assert.equal(result.code, 0, result.stderr);
      const report = await reportOf(result.report, 'ready');
      assert.equal(readPidFile(pidFile), report.pid);
    });
  });

  describe('a start that fails', function () {
    it('a second instance fails at once with ALREADY_RUNNING, naming the PID file and the running PID', async function () {
      const pidFile = pidFileOf('twice.pid');
      const first = await run([`--pid-file=${pidFile}`]);
      assert.equal(first.code, 0, first.stderr);
      const running = (await reportOf(first.report, 'ready')).pid;
      const second = run([`--pid-file=${pidFile}`]);
      const result = await second;
      assert.equal(result.code, DAEMONIZE_EXIT.ALREADY_RUNNING);
      assert.equal(result.code, 75);
      assert.match(result.stderr, new RegExp(`already running as PID ${running} \\(the PID file ${pidFile} is locked\\)`));
      assert.ok(!existsSync(`${second.report}.starting`), 'no second daemon was started');
      assert.equal(readPidFile(pidFile), running);
      assert.ok(alive(running));
    });

    it('a daemon that exits 78 during init makes the original exit 78 with its message; no PID file, no daemon left', async function () {
      const pidFile = pidFileOf('fail.pid');
      const result = await run([`--pid-file=${pidFile}`, '--fail=78:cannot read /etc/example.conf']);
      assert.equal(result.code, 78);
      assert.match(result.stderr, /^cannot read \/etc\/example\.conf$/m, 'its stderr was passed on');
      assert.match(
        result.stderr,
        /the daemon \(PID \d+\) exited with status 78\/CONFIG before it was ready: cannot read \/etc\/example\.conf$/m,
      );
      assert.ok(!existsSync(pidFile));
      assert.ok(!alive((await reportOf(result.report, 'starting')).pid));
    });

    it('prefers STATUS= to stderr as the reason', async function () {
      const result = await run([`--pid-file=${pidFileOf('status.pid')}`, '--status=no configuration', '--fail=3:details on stderr']);
      assert.equal(result.code, 3);
      assert.match(result.stderr, /exited with status 3\/NOTIMPLEMENTED before it was ready: no configuration$/m);
    });

    it('an uncaught exception during init: exit 1 with the error as the reason', async function () {
      const result = await run([`--pid-file=${pidFileOf('throw.pid')}`, '--throw=database unreachable']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /exited with status 1\/FAILURE before it was ready: Error: database unreachable$/m);
    });

    it('a daemon killed by a signal before READY=1: DIED', async function () {
      const result = await run([`--pid-file=${pidFileOf('killed.pid')}`, '--kill-self']);
      assert.equal(result.code, DAEMONIZE_EXIT.DIED);
      assert.match(result.stderr, /ended without an exit status \(killed by a signal\?\) before it was ready/);
    });

    it('a daemon killed before READY=1 is seen to end although a child it started still runs', async function () {
      // The original learns of the end from EOF on a pipe only the daemon
      // holds, close-on-exec there: the child must not keep it open, or only
      // the READY deadline would end the wait. (Node's start marks inherited
      // fds close-on-exec too, so this guards the behaviour, not one line.)
      const deadline = scaled(20_000);
      const result = await run([`--pid-file=${pidFileOf('child.pid')}`, '--spawn-child', '--kill-self', `--timeout=${deadline}`]);
      const { pid: child } = (await reportOf(result.report, 'child')) as unknown as { pid: number };
      try {
        assert.equal(result.code, DAEMONIZE_EXIT.DIED, result.stderr);
        assert.match(result.stderr, /ended without an exit status \(killed by a signal\?\) before it was ready/);
        assert.ok(alive(child), 'the child outlived the daemon');
      } finally {
        process.kill(child, 'SIGKILL');
      }
    });

    it('a daemon that closed the pipe behind its end before dying is still seen to end (by /proc, from then on)', async function () {
      const deadline = scaled(20_000);
      const result = await run([`--pid-file=${pidFileOf('closed.pid')}`, '--close-life-pipe', '--kill-self', `--timeout=${deadline}`]);
      assert.equal(result.code, DAEMONIZE_EXIT.DIED, result.stderr);
      assert.match(result.stderr, /ended without an exit status \(killed by a signal\?\) before it was ready/);
    });

    it('no READY=1 in time: the daemon is stopped and the original exits READY_TIMEOUT', async function () {
      const pidFile = pidFileOf('timeout.pid');
      // 3 s natively, not less: the daemon must have started (two Node starts)
      // and written its 'starting' report before the deadline, and a loaded
      // machine can take a second or more for that; stretched where Node starts slower.
      const deadline = scaled(3000);
      const result = await run([`--pid-file=${pidFile}`, '--never-ready', `--timeout=${deadline}`]);
      assert.equal(result.code, DAEMONIZE_EXIT.READY_TIMEOUT, result.stderr);
      assert.match(result.stderr, new RegExp(`did not report READY=1 within ${deadline} ms; stopped it`));
      // Not before the deadline; how long after it depends on the machine's load, so it is reported, not bounded.
      assert.ok(result.ms >= deadline, `exited after ${result.ms.toFixed(0)} ms, before the ${deadline} ms deadline`);
      console.log(`      daemonize: READY deadline ${deadline} ms, the original exited after ${result.ms.toFixed(0)} ms`);
      assert.ok(!alive((await reportOf(result.report, 'starting')).pid));
      assert.ok(!existsSync(pidFile));
    });

    it('refuses when NOTIFY_SOCKET or INVOCATION_ID says a manager supervises this process', async function () {
      for (const [key, value] of [
        ['NOTIFY_SOCKET', '/run/systemd/notify'],
        ['INVOCATION_ID', '0123456789abcdef0123456789abcdef'],
      ] as const) {
        const result = await run([`--pid-file=${pidFileOf('supervised.pid')}`], { env: cleanEnv({ [key]: value }) });
        assert.equal(result.code, DAEMONIZE_EXIT.SUPERVISED, key);
        assert.match(
          result.stderr,
          new RegExp(`refusing to daemonize: a service manager already supervises this process \\(${key}=${value}\\)`),
        );
        assert.match(result.stderr, /force: true/);
        assert.ok(!existsSync(`${result.report}.starting`));
      }
    });

    it('daemonizes anyway with force, and gives NOTIFY_SOCKET back after READY=1', async function () {
      const env = cleanEnv({ INVOCATION_ID: '0123456789abcdef0123456789abcdef', NOTIFY_SOCKET: '@sd-daemonize-test-nobody' });
      const result = await run([`--pid-file=${pidFileOf('forced.pid')}`, '--force'], { env });
      assert.equal(result.code, 0, result.stderr);
      const report = await reportOf(result.report, 'ready');
      assert.equal(report.notifySocketAfterReady, '@sd-daemonize-test-nobody');
      assert.equal(report.pingAfterReady!.reason, 'send-failed', 'pings go to the manager again');
      assert.match(readFileSync(`/proc/${report.pid}/environ`, 'utf8'), /(^|\0)INVOCATION_ID=0123456789abcdef0123456789abcdef\0/);
    });

    it('rejects invalid options with TypeError/RangeError before doing anything', function () {
      const script = `
        import { daemonize } from 'sd-daemon-runtime';
        const out = [];
        for (const options of [{ umask: 0o1000 }, { readyTimeoutMs: 0 }, { files: [-1] }, { pidFile: '' }, { programName: 'a\\0b' }, { workingDirectory: '/nonexistent-dir' }]) {
          try { await daemonize(options); out.push('resolved'); } catch (e) { out.push(e.name); }
        }
        process.stdout.write(JSON.stringify(out));`;
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: cleanEnv(),
        timeout: 10_000,
      });
      assert.equal(result.stderr, '');
      assert.deepEqual(JSON.parse(result.stdout), ['RangeError', 'RangeError', 'TypeError', 'TypeError', 'TypeError', 'RangeError']);
    });

    it('without the native addon, rejects with NO_NATIVE and says why', function () {
      // The built package without prebuilds/ and without a native/ build: what an
      // unsupported platform gets (as in no-native.test.ts).
      const require = createRequire(import.meta.url);
      const runtimeDir = dirname(require.resolve('sd-daemon-runtime/package.json'));
      const root = join(dir, 'no-native');
      const pkg = join(root, 'node_modules', 'sd-daemon-runtime');
      mkdirSync(pkg, { recursive: true });
      cpSync(join(runtimeDir, 'dist'), join(pkg, 'dist'), { recursive: true });
      cpSync(join(runtimeDir, 'package.json'), join(pkg, 'package.json'));
      const script = `
        import { daemonize, stage } from 'sd-daemon-runtime';
        try { await daemonize({ pidFile: 'x.pid' }); } catch (e) { process.stdout.write(JSON.stringify({ stage: stage(), name: e.name, code: e.code, exitCode: e.exitCode, message: e.message })); }`;
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: cleanEnv() });
      const error = JSON.parse(result.stdout) as { stage: string; name: string; code: string; exitCode: number; message: string };
      assert.equal(error.stage, 'parent');
      assert.equal(error.name, 'DaemonizeError');
      assert.equal(error.code, 'NO_NATIVE');
      assert.equal(error.exitCode, DAEMONIZE_EXIT.NO_NATIVE);
      assert.match(error.message, /cannot daemonize: sd-daemon-runtime: native addon not loaded; tried:/);
      assert.ok(!existsSync(join(root, 'x.pid')));
    });
  });

  it('start-to-ready time against node -e 0 (printed, not asserted)', async function () {
    const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const bare: number[] = [];
    const daemonized: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      bare.push(performance.now() - started);
      const pidFile = pidFileOf(`timing${i}.pid`);
      const result = await run([`--pid-file=${pidFile}`]);
      assert.equal(result.code, 0, result.stderr);
      daemonized.push(result.ms);
      process.kill(readPidFile(pidFile), 'SIGKILL');
    }
    // The floor of any exec-based daemonizer: two starts of the program (here: node plus the runtime's import).
    const imports: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      spawnSync(process.execPath, ['--input-type=module', '-e', "import 'sd-daemon-runtime'"]);
      imports.push(performance.now() - started);
    }
    const a = median(bare);
    const b = median(daemonized);
    const c = median(imports);
    console.log(
      `      node -e 0: ${a.toFixed(1)} ms; daemonize() until the original exits 0 after READY=1: ${b.toFixed(1)} ms (${(b / a).toFixed(2)}x); ` +
        `one start of node importing the runtime: ${c.toFixed(1)} ms (2x = ${(2 * c).toFixed(1)} ms); medians of 5`,
    );
  });
});
