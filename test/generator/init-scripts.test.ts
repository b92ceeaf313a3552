// The init scripts a generated project gets with --init sysv / openrc. The
// LSB script is driven by the real start-stop-daemon against the generated
// daemon's --daemonize mode: `start` returns only once the daemon serves, or
// with the daemon's own exit code when it fails while starting; `status`
// speaks LSB; a second start, a stale PID file and reload behave. The OpenRC
// runscript is checked statically here (syntax, and the command, arguments and
// PID file a shell reads back from it); test/openrc/ runs it under openrc-run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import helpers from 'yeoman-test';

import { freePort, get } from '../helpers/units.js';
import { npm } from '../helpers/npm.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import { alive, processesRunning } from '../helpers/processes.js';
import { APP, cli, generate, generateInitScriptProject, keptDir, leaveRunDir, project, type Generated } from '../helpers/generator.js';

const NAME = 'lsb';

describe('init scripts (--init sysv,openrc) driving the daemonize mode', function () {
  this.timeout(120_000);
  let dir: string;
  let p: Generated;
  let port: number;
  let entry: string;
  let pidFile: string;
  let configFile: string;

  /** `sh init.d/lsb <action>`, its settings from a clean environment plus `env`. */
  function lsb(action: string, env: Record<string, string> = {}): { code: number | null; output: string } {
    const clean: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      // As `service` would: no manager's variables, none of the script's own settings.
      if (!/^(DAEMON|DAEMON_DIR|DAEMON_USER|PIDFILE|CONFIG_FILE|INVOCATION_ID|NOTIFY_SOCKET|LISTEN_\w+|WATCHDOG_\w+)$/.test(key))
        clean[key] = value;
    }
    const result = spawnSync('sh', [path.join(p.dir, 'init.d', NAME), action], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...clean, PIDFILE: pidFile, CONFIG_FILE: configFile, ...env },
    });
    return { code: result.status, output: `${result.stdout}${result.stderr}${result.error ? `\n(${result.error.message})` : ''}` };
  }

  const readPid = (): number => Number(readFileSync(pidFile, 'utf8').trim());

  before(async function () {
    const ssd = spawnSync('start-stop-daemon', ['--version'], { encoding: 'utf8' });
    requireOrSkip(this, ssd.status === 0, 'start-stop-daemon is not installed (Debian: dpkg)');
    dir = keptDir();
    port = await freePort();
    p = await generateInitScriptProject(dir, NAME, port, 'LSB test daemon');
    entry = path.join(p.dir, 'src', 'main.js');
    pidFile = path.join(dir, 'run', `${NAME}.pid`);
    configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ greeting: 'first' }));
    npm(p.dir, ['install']);
  });

  afterEach(function () {
    if (!p) return;
    lsb('stop');
    for (const pid of processesRunning(entry)) process.kill(pid, 'SIGKILL');
    rmSync(pidFile, { force: true });
    writeFileSync(configFile, JSON.stringify({ greeting: 'first' }));
  });

  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('start returns 0 once the daemon serves; status is 0 while it runs; stop ends it and status is 3', async function () {
    const start = lsb('start');
    assert.equal(start.code, 0, start.output);
    // No retry: start returned only after the daemon reported ready.
    const response = await get(port, 5000);
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.body).greeting, 'first');

    const pid = readPid();
    assert.ok(alive(pid), `the PID file names a live process (${pid})`);
    assert.deepEqual(processesRunning(entry), [pid], 'one process: the daemon, its PID in the file (the stages before it have exited)');

    const status = lsb('status');
    assert.equal(status.code, 0, status.output);
    assert.match(status.output, new RegExp(`${NAME} is running \\(PID ${pid}\\)`));

    const stop = lsb('stop');
    assert.equal(stop.code, 0, stop.output);
    assert.equal(alive(pid), false, 'the daemon is gone when stop returns');
    assert.equal(existsSync(pidFile), false, 'stop removes the PID file');
    const after = lsb('status');
    assert.equal(after.code, 3, after.output);
    assert.match(after.output, /is not running/);
    assert.equal(lsb('stop').code, 0, 'stop on a stopped service is 0 (LSB)');
  });

  it('a second start leaves the one daemon running and returns 0', async function () {
    assert.equal(lsb('start').code, 0);
    const pid = readPid();
    const again = lsb('start');
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /already running/);
    assert.equal(readPid(), pid);
    assert.deepEqual(processesRunning(entry), [pid]);
    assert.equal((await get(port, 5000)).status, 200);
  });

  it('a stale PID file: status says 1 (dead, PID file left), and start takes it over', async function () {
    // A PID that was a process and is no more.
    const gone = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    mkdirSync(path.dirname(pidFile), { recursive: true });
    writeFileSync(pidFile, `${gone}\n`);
    const status = lsb('status');
    assert.equal(status.code, 1, status.output);
    const start = lsb('start');
    assert.equal(start.code, 0, start.output);
    assert.notEqual(readPid(), Number(gone));
    assert.ok(alive(readPid()));
    assert.equal((await get(port, 5000)).status, 200);
  });

  it('reload and force-reload send SIGHUP: the daemon re-reads its configuration; restart replaces it', async function () {
    assert.equal(lsb('start').code, 0);
    const pid = readPid();
    for (const [action, greeting] of [
      ['reload', 'second'],
      ['force-reload', 'third'],
    ] as const) {
      writeFileSync(configFile, JSON.stringify({ greeting }));
      const reload = lsb(action);
      assert.equal(reload.code, 0, reload.output);
      let seen = '';
      for (let i = 0; i < 50 && seen !== greeting; i++) {
        seen = JSON.parse((await get(port, 5000)).body).greeting as string;
        if (seen !== greeting) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(seen, greeting, `after ${action}`);
    }
    assert.equal(readPid(), pid, 'reloaded in place');

    const restart = lsb('restart');
    assert.equal(restart.code, 0, restart.output);
    assert.notEqual(readPid(), pid);
    assert.equal(alive(pid), false);
    assert.equal((await get(port, 5000)).status, 200);
  });

  it('reload when it is not running is 7 (LSB: not running)', function () {
    const reload = lsb('reload');
    assert.equal(reload.code, 7, reload.output);
  });

  it('a daemon that fails while starting makes start fail with its exit code (78: configuration error)', function () {
    writeFileSync(configFile, '{ "greeting": ');
    const start = lsb('start');
    assert.equal(start.code, 78, start.output);
    assert.match(start.output, /configuration error/);
    assert.deepEqual(processesRunning(entry), [], 'nothing is left running');
    assert.notEqual(lsb('status').code, 0);
  });

  it('start without the program installed is 5; an unknown action is 2', function () {
    const start = lsb('start', { DAEMON_DIR: path.join(dir, 'nowhere') });
    assert.equal(start.code, 5, start.output);
    assert.match(start.output, /nowhere\/src\/main\.js is missing/);
    const usage = lsb('frobnicate');
    assert.equal(usage.code, 2, usage.output);
    assert.match(usage.output, /Usage: .*\{start\|stop\|restart\|reload\|force-reload\|status\}/);
  });

  it('the LSB script: an executable with the LSB header, valid for sh', function () {
    const file = path.join(p.dir, 'init.d', NAME);
    assert.equal(statSync(file).mode & 0o777, 0o755);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.startsWith('#!/bin/sh\n### BEGIN INIT INFO\n'), 'the header block follows the shebang');
    const header = /### BEGIN INIT INFO\n([\s\S]*?)### END INIT INFO/.exec(text)![1]!;
    const fields = Object.fromEntries(
      header
        .split('\n')
        .filter(Boolean)
        .map((line) => /^# ([\w-]+):\s+(.*)$/.exec(line)!.slice(1, 3)),
    );
    assert.deepEqual(Object.keys(fields), [
      'Provides',
      'Required-Start',
      'Required-Stop',
      'Default-Start',
      'Default-Stop',
      'Short-Description',
      'Description',
    ]);
    assert.equal(fields.Provides, NAME);
    assert.equal(fields['Default-Start'], '2 3 4 5');
    assert.equal(fields['Default-Stop'], '0 1 6');
    assert.equal(fields['Short-Description'], 'LSB test daemon');
    assert.equal(spawnSync('sh', ['-n', file]).status, 0);
  });

  it('the OpenRC runscript: valid for sh, runs node with the entry point in daemonize mode and the same PID file', function () {
    const file = path.join(p.dir, 'openrc', NAME);
    assert.equal(statSync(file).mode & 0o777, 0o755);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.startsWith('#!/sbin/openrc-run\n'));
    assert.equal(spawnSync('sh', ['-n', file]).status, 0);
    // What openrc-run reads: the variables, and command_args split as its start-stop-daemon call evals it.
    const read = spawnSync(
      'sh',
      [
        '-c',
        '. "$1"; printf "%s\\n" "$command" "$pidfile" "$retry"; eval "set -- $command_args"; printf "[%s]\\n" "$@"; type depend start_pre running status stop stop_post reload >/dev/null',
        'sh',
        file,
      ],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(read.status, 0, read.stderr);
    assert.equal(
      read.stdout,
      [
        process.execPath,
        `/run/${NAME}/${NAME}.pid`,
        'TERM/15/KILL/5',
        `[${entry}]`,
        '[--daemonize]',
        '[--pid-file]',
        `[/run/${NAME}/${NAME}.pid]`,
        '',
      ].join('\n'),
    );
    assert.match(text, /^extra_started_commands="reload"$/m);
  });

  it('a re-run with the same answers asks nothing (no conflict over content or mode) and keeps the scripts executable', async function () {
    const asked: string[] = [];
    await helpers
      .run(APP)
      .cd(p.dir)
      .withOptions(cli({ yes: true, skipInstall: true }))
      .withAnswers(
        {},
        {
          callback: (answer: unknown, options: { question: { name: string } }) => {
            asked.push(options.question.name);
            return answer;
          },
        },
      );
    leaveRunDir();
    assert.deepEqual(asked, []);
    for (const script of ['init.d', 'openrc']) assert.equal(statSync(path.join(p.dir, script, NAME)).mode & 0o777, 0o755);
    assert.ok(project(p.dir).exists('init.d/lsb'));
  });
});

describe('init scripts: hostile install paths stay literal', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('$(...), backquotes, ;, |, $VAR, * and % in --install-path reach both scripts as the exact path', async function () {
    const dir = keptDir();
    dirs.push(dir);
    // No whitespace or quotes: --install-path refuses them (they cannot go into the unit).
    const installPath = `${dir}/a$(touch${'$'}{IFS}pwned)b\`touch${'$'}{IFS}pwned\`;touch${'$'}{IFS}pwned|$HOME%i*`;
    const p = await generate({ init: 'sysv,openrc', language: 'js', installPath }, 'hostile', dir);
    const openrc = spawnSync(
      'sh',
      ['-c', '. "$1"; eval "set -- $command_args"; printf "%s\\n" "$1"', 'sh', path.join(p.dir, 'openrc', 'hostile')],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    assert.equal(openrc.stdout, `${installPath}/src/main.js\n`);
    // start checks the entry point first: it names the exact path, and runs nothing.
    const start = spawnSync('sh', [path.join(p.dir, 'init.d', 'hostile'), 'start'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PIDFILE: path.join(dir, 'hostile.pid'), DAEMON_DIR: '' },
    });
    assert.equal(start.status, 5, start.stderr);
    assert.ok(start.stderr.includes(`${installPath}/src/main.js is missing`), start.stderr);
    assert.equal(existsSync(path.join(dir, 'pwned')), false, 'no command substitution ran');
  });
});
