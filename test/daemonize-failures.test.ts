// daemonize(), a start that fails: each way the daemon can fail before
// READY=1 (a second instance, an exit, STATUS=, an exception, a signal, no
// READY=1 in time), a supervised process, invalid options and a missing addon,
// each seen in the original process's exit code and message, with no PID file
// and no daemon left behind. The harness: test/helpers/daemonize-fixture.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { DAEMONIZE_EXIT } from 'sd-daemon-runtime';
import { alive } from './helpers/processes.js';
import { scaled } from './helpers/time-scale.js';
import { cleanEnv, readPidFile, useDaemonizeFixture } from './helpers/daemonize-fixture.js';

describe('daemonize()', function () {
  this.timeout(30_000);
  const { run, reportOf, inDir } = useDaemonizeFixture();

  describe('a start that fails', function () {
    it('a second instance fails at once with ALREADY_RUNNING, naming the PID file and the running PID', async function () {
      const pidFile = inDir('twice.pid');
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
      const pidFile = inDir('fail.pid');
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
      const result = await run([`--pid-file=${inDir('status.pid')}`, '--status=no configuration', '--fail=3:details on stderr']);
      assert.equal(result.code, 3);
      assert.match(result.stderr, /exited with status 3\/NOTIMPLEMENTED before it was ready: no configuration$/m);
    });

    it('an uncaught exception during init: exit 1 with the error as the reason', async function () {
      const result = await run([`--pid-file=${inDir('throw.pid')}`, '--throw=database unreachable']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /exited with status 1\/FAILURE before it was ready: Error: database unreachable$/m);
    });

    it('a daemon killed by a signal before READY=1: DIED', async function () {
      const result = await run([`--pid-file=${inDir('killed.pid')}`, '--kill-self']);
      assert.equal(result.code, DAEMONIZE_EXIT.DIED);
      assert.match(result.stderr, /ended without an exit status \(killed by a signal\?\) before it was ready/);
    });

    it('a daemon killed before READY=1 is seen to end although a child it started still runs', async function () {
      // The original learns of the end from EOF on a pipe only the daemon
      // holds, close-on-exec there: the child must not keep it open, or only
      // the READY deadline would end the wait. (Node's start marks inherited
      // fds close-on-exec too, so this guards the behaviour, not one line.)
      const deadline = scaled(20_000);
      const result = await run([`--pid-file=${inDir('child.pid')}`, '--spawn-child', '--kill-self', `--timeout=${deadline}`]);
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
      const result = await run([`--pid-file=${inDir('closed.pid')}`, '--close-life-pipe', '--kill-self', `--timeout=${deadline}`]);
      assert.equal(result.code, DAEMONIZE_EXIT.DIED, result.stderr);
      assert.match(result.stderr, /ended without an exit status \(killed by a signal\?\) before it was ready/);
    });

    it('no READY=1 in time: the daemon is stopped and the original exits READY_TIMEOUT', async function () {
      const pidFile = inDir('timeout.pid');
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
        const result = await run([`--pid-file=${inDir('supervised.pid')}`], { env: cleanEnv({ [key]: value }) });
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
      const result = await run([`--pid-file=${inDir('forced.pid')}`, '--force'], { env });
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
      const root = inDir('no-native');
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
});
