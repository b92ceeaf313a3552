// daemonize(): real programs started from here daemonize themselves
// (test/fixtures/daemonize-daemon.mjs); what the daemon became is read from
// /proc and from the reports it writes, and what the original process did
// from its exit code, output and timing. Every daemon is killed afterwards.
// Here: stage(), a successful start, and its cost; the failures are in
// test/daemonize-failures.test.ts, the harness in test/helpers/daemonize-fixture.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';

import { stage } from 'sd-daemon-runtime';
import { failed, nativeBinding } from '../runtime/dist/native.js';
import { parseUnixAddress } from '../runtime/dist/unix-address.js';
import { alive } from './helpers/processes.js';
import { cleanEnv, fixture, sleep, statOf, readPidFile, useDaemonizeFixture } from './helpers/daemonize-fixture.js';

// The addon, as the runtime loads it on first use.
const native = nativeBinding();

const runtimeDist = new URL('../runtime/dist/', import.meta.url).href;

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
  const { run, reportOf, inDir } = useDaemonizeFixture();

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
      const pidFile = inDir('ok.pid');
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
      const result = await run([`--pid-file=${inDir('late.pid')}`, '--ready-delay=500']);
      assert.equal(result.code, 0, result.stderr);
      const report = await reportOf(result.report, 'ready');
      assert.ok(result.ms >= 500, `exited after ${result.ms.toFixed(0)} ms`);
      assert.ok(result.exitedAt >= report.readyAt!, 'exited after the daemon sent READY=1');
    });

    it('keeps an inherited flock held in the daemon (files at fd 3, the PID file after them)', async function () {
      const lock = inDir('held.lock');
      const pidFile = inDir('lock.pid');
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
      const leaked = inDir('leaked');
      const fd = openSync(leaked, 'w');
      try {
        const result = await run([`--pid-file=${inDir('leak.pid')}`], { extraFd: fd });
        assert.equal(result.code, 0, result.stderr);
        const report = await reportOf(result.report, 'ready');
        const targets = readdirSync(`/proc/${report.pid}/fd`).map((n) => readlinkSync(`/proc/${report.pid}/fd/${n}`));
        assert.ok(!targets.includes(leaked), `the daemon's fds: ${targets.join(', ')}`);
      } finally {
        closeSync(fd);
      }
    });

    it('captureOutput: the daemon reads what it writes to fds 1 and 2 after READY=1', async function () {
      const result = await run([`--pid-file=${inDir('capture.pid')}`, '--capture']);
      assert.equal(result.code, 0, result.stderr);
      const report = await reportOf(result.report, 'ready');
      assert.deepEqual([report.daemon.stdout, report.daemon.stderr], [true, true]);
      assert.equal(report.captured!.stdout, 'captured-out\n');
      assert.equal(report.captured!.stderr, 'captured-err\n');
      for (const fd of [1, 2]) assert.match(readlinkSync(`/proc/${report.pid}/fd/${fd}`), /^pipe:/);
      assert.ok(!result.stdout.includes('captured-out') && !result.stderr.includes('captured-err'));
    });

    it('takes over a stale PID file (no lock holder)', async function () {
      const pidFile = inDir('stale.pid');
      writeFileSync(pidFile, '999999\n');
      const result = await run([`--pid-file=${pidFile}`]);
      assert.equal(result.code, 0, result.stderr);
      const report = await reportOf(result.report, 'ready');
      assert.equal(readPidFile(pidFile), report.pid);
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
      const pidFile = inDir(`timing${i}.pid`);
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
