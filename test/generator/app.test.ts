// `yo sd-daemon`: what each option means in the files it writes, how bad input
// is refused, and how re-runs behave. Assertions read the emitted settings,
// not snapshots of whole files.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import helpers from 'yeoman-test';

import { OPTIONS, parseAnswers } from '../../generators/lib/answers.js';
import { knownFlags, parseCommandLine } from '../../generators/lib/cli.js';
import { DEFAULT_SYSTEMD_VERSION } from '../../generators/lib/systemd-versions.js';
import { APP, cli, generate, keptDir, leaveRunDir, project, REPO, UNIT, value, values, type Generated } from '../helpers/generator.js';

describe('yo sd-daemon', function () {
  this.timeout(60_000);
  afterEach(leaveRunDir);

  describe('defaults (--yes)', function () {
    let p: Generated;
    before(async () => (p = await generate()));

    it('writes the project into ./<name>', function () {
      for (const file of [
        'package.json',
        'src/main.ts',
        'test/main.test.ts',
        'tsconfig.json',
        'README.md',
        '.gitignore',
        'scripts/install-units.mjs',
        'scripts/uninstall-units.mjs',
        'scripts/unit-record.mjs',
        'systemd/my-daemon.service',
        'systemd/my-daemon.socket',
        '.yo-rc.json',
      ]) {
        assert.ok(p.exists(file), `${file} is written`);
      }
      assert.equal(p.exists('vendor'), false, 'the runtime comes from the registry by default: nothing is vendored');
    });

    it('a Type=notify service: node run directly, watchdog, restart policy, dynamic user, hardened', function () {
      const unit = p.unit('systemd/my-daemon.service');
      assert.equal(value(unit, 'Service', 'Type'), 'notify');
      assert.equal(value(unit, 'Service', 'NotifyAccess'), 'main');
      assert.equal(value(unit, 'Service', 'ExecStart'), `"${process.execPath}" "/opt/my-daemon/dist/main.js"`);
      assert.equal(value(unit, 'Service', 'ExecReload'), '/bin/kill -s HUP $MAINPID');
      assert.equal(value(unit, 'Service', 'WorkingDirectory'), '/opt/my-daemon');
      assert.equal(value(unit, 'Service', 'WatchdogSec'), '10');
      assert.equal(value(unit, 'Service', 'Restart'), 'on-failure');
      assert.equal(value(unit, 'Service', 'RestartPreventExitStatus'), '78');
      assert.equal(value(unit, 'Service', 'DynamicUser'), 'yes');
      assert.equal(value(unit, 'Service', 'ProtectSystem'), 'strict');
      assert.equal(value(unit, 'Service', 'FileDescriptorStoreMax'), undefined);
      assert.equal(value(unit, 'Unit', 'Description'), 'my-daemon, a Node.js daemon');
      assert.equal(value(unit, 'Unit', 'StartLimitBurst'), '5');
      assert.equal(value(unit, 'Install', 'WantedBy'), 'multi-user.target');
    });

    it('a socket unit on 127.0.0.1:8080 whose fd is named http', function () {
      const socket = p.unit('systemd/my-daemon.socket');
      assert.deepEqual(values(socket, 'Socket', 'ListenStream'), ['127.0.0.1:8080']);
      assert.equal(value(socket, 'Socket', 'FileDescriptorName'), 'http');
      assert.equal(value(socket, 'Install', 'WantedBy'), 'sockets.target');
    });

    it('a package.json with the scripts and the runtime from the registry at ^ the generator version', function () {
      const pkg = p.json('package.json');
      assert.equal(pkg.name, 'my-daemon');
      assert.equal(pkg.dependencies['sd-daemon-runtime'], '^0.1.0');
      for (const script of ['build', 'start', 'test', 'install-units', 'uninstall-units'])
        assert.ok(pkg.scripts[script], `scripts.${script}`);
    });

    it('stores every answer in .yo-rc.json', function () {
      const stored = p.json('.yo-rc.json')['generator-sd-daemon'];
      assert.equal(stored.name, 'my-daemon');
      assert.equal(stored.sockets, 'tcp:127.0.0.1:8080');
      assert.equal(stored.hardening, 'strict');
    });
  });

  describe('each option changes what it says', function () {
    const service = (p: Generated, name = 'my-daemon'): ReturnType<Generated['unit']> => p.unit(`systemd/${name}.service`);
    const table: Array<[string, Record<string, unknown>, (p: Generated) => void]> = [
      [
        '--description',
        { description: 'Serves 100% of "quotes"' },
        (p) => {
          assert.equal(value(service(p), 'Unit', 'Description'), 'Serves 100%% of "quotes"');
          assert.equal(p.json('package.json').description, 'Serves 100% of "quotes"');
        },
      ],
      [
        '--type simple',
        { type: 'simple', watchdog: '0' },
        (p) => {
          assert.equal(value(service(p), 'Service', 'Type'), 'simple');
          assert.equal(value(service(p), 'Service', 'NotifyAccess'), undefined);
          assert.equal(value(service(p), 'Service', 'ExecReload'), undefined);
        },
      ],
      [
        '--type exec (systemd 240+)',
        { type: 'exec', systemdVersion: '240' },
        (p) => assert.equal(value(service(p), 'Service', 'Type'), 'exec'),
      ],
      [
        '--type notify-reload on systemd 253',
        { type: 'notify-reload', systemdVersion: '253' },
        (p) => {
          assert.equal(value(service(p), 'Service', 'Type'), 'notify-reload');
          assert.equal(value(service(p), 'Service', 'ExecReload'), undefined);
        },
      ],
      [
        '--type notify-reload on systemd 252',
        { type: 'notify-reload', systemdVersion: '252' },
        (p) => {
          assert.equal(value(service(p), 'Service', 'Type'), 'notify');
          assert.equal(value(service(p), 'Service', 'ExecReload'), '/bin/kill -s HUP $MAINPID');
        },
      ],
      [
        '--sockets with several kinds',
        { sockets: 'tcp:[::1]:9000,unix:/run/my-daemon/http.sock,udp:9001' },
        (p) => {
          const socket = p.unit('systemd/my-daemon.socket');
          assert.deepEqual(values(socket, 'Socket', 'ListenStream'), ['[::1]:9000', '/run/my-daemon/http.sock']);
          assert.deepEqual(values(socket, 'Socket', 'ListenDatagram'), ['9001']);
        },
      ],
      [
        '--sockets none',
        { sockets: 'none' },
        (p) => {
          assert.equal(p.exists('systemd/my-daemon.socket'), false);
          assert.equal(value(service(p), 'Unit', 'Requires'), undefined);
        },
      ],
      [
        '--socket-name',
        { socketName: 'api' },
        (p) => assert.equal(value(p.unit('systemd/my-daemon.socket'), 'Socket', 'FileDescriptorName'), 'api'),
      ],
      ['--watchdog 30', { watchdog: '30' }, (p) => assert.equal(value(service(p), 'Service', 'WatchdogSec'), '30')],
      ['--watchdog off', { watchdog: 'off' }, (p) => assert.equal(value(service(p), 'Service', 'WatchdogSec'), undefined)],
      [
        '--scope user',
        { scope: 'user' },
        (p) => {
          assert.equal(value(service(p), 'Install', 'WantedBy'), 'default.target');
          assert.equal(value(service(p), 'Service', 'DynamicUser'), undefined);
          assert.equal(value(service(p), 'Service', 'WorkingDirectory'), p.dir);
          assert.equal(value(service(p), 'Unit', 'After'), 'my-daemon.socket');
        },
      ],
      [
        '--run-as',
        { runAs: 'www-data' },
        (p) => {
          assert.equal(value(service(p), 'Service', 'User'), 'www-data');
          assert.equal(value(service(p), 'Service', 'DynamicUser'), undefined);
        },
      ],
      ['--restart always', { restart: 'always' }, (p) => assert.equal(value(service(p), 'Service', 'Restart'), 'always')],
      ['--hardening none', { hardening: 'none' }, (p) => assert.equal(value(service(p), 'Service', 'ProtectSystem'), undefined)],
      [
        '--hardening baseline',
        { hardening: 'baseline' },
        (p) => assert.notEqual(value(service(p), 'Service', 'NoNewPrivileges'), undefined),
      ],
      ['--fd-store 4', { fdStore: '4' }, (p) => assert.equal(value(service(p), 'Service', 'FileDescriptorStoreMax'), '4')],
      [
        '--template',
        { template: true },
        (p) => {
          const unit = service(p, 'my-daemon@');
          assert.match(value(unit, 'Service', 'ExecStart')!, / %i$/);
          assert.ok(p.exists('systemd/my-daemon@.socket'));
        },
      ],
      [
        '--language js',
        { language: 'js' },
        (p) => {
          assert.ok(p.exists('src/main.js'));
          assert.equal(p.exists('tsconfig.json'), false);
          assert.match(value(service(p), 'Service', 'ExecStart')!, /"\/opt\/my-daemon\/src\/main\.js"$/);
          assert.equal(p.json('package.json').scripts.build, undefined);
        },
      ],
      [
        '--install-path',
        { installPath: '/srv/daemons/x' },
        (p) => assert.equal(value(service(p), 'Service', 'WorkingDirectory'), '/srv/daemons/x'),
      ],
      ['--node', { node: '/usr/bin/node' }, (p) => assert.match(value(service(p), 'Service', 'ExecStart')!, /^"\/usr\/bin\/node" /)],
      [
        '--runtime bundled',
        { runtime: 'bundled' },
        (p) => {
          assert.equal(p.json('package.json').dependencies['sd-daemon-runtime'], 'file:vendor/sd-daemon-runtime-0.1.0.tgz');
          assert.ok(p.exists('vendor/sd-daemon-runtime-0.1.0.tgz'), 'the bundled runtime is copied in');
        },
      ],
      [
        '--init systemd',
        { init: 'systemd' },
        (p) => {
          assert.ok(p.exists('systemd/my-daemon.service'));
          assert.equal(p.exists('init.d'), false);
          assert.doesNotMatch(p.read('src/main.ts'), /daemonize/, 'no --daemonize without a use for it');
        },
      ],
      [
        '--type forking',
        { type: 'forking' },
        (p) => {
          const unit = service(p);
          assert.equal(value(unit, 'Service', 'Type'), 'forking');
          assert.equal(value(unit, 'Service', 'PIDFile'), '/run/my-daemon/my-daemon.pid');
          assert.equal(value(unit, 'Service', 'RuntimeDirectory'), 'my-daemon');
          assert.equal(
            value(unit, 'Service', 'ExecStart'),
            `"${process.execPath}" "/opt/my-daemon/dist/main.js" "--daemonize" "--pid-file" "/run/my-daemon/my-daemon.pid"`,
          );
          assert.equal(value(unit, 'Service', 'ExecReload'), '/bin/kill -s HUP $MAINPID');
          // The daemonizer takes READY=1; nothing notifies systemd, so neither NotifyAccess= nor the watchdog.
          assert.equal(value(unit, 'Service', 'NotifyAccess'), undefined);
          assert.equal(value(unit, 'Service', 'WatchdogSec'), undefined);
          assert.equal(p.exists('systemd/my-daemon.socket'), false, 'no socket unit: the daemon listens by itself');
          assert.match(p.read('src/main.ts'), /await daemonize\(\{ pidFile: flags\.pidFile, force: true, umask: null \}\)/);
          assert.match(p.read('src/main.ts'), /^const told = ready\(/m, 'the daemon reports ready to the first process');
          assert.equal(p.json('.yo-rc.json')['generator-sd-daemon'].sockets, 'none');
        },
      ],
      [
        '--type forking --scope user',
        { type: 'forking', scope: 'user' },
        (p) => {
          assert.equal(value(service(p), 'Service', 'PIDFile'), '%t/my-daemon/my-daemon.pid');
          assert.match(value(service(p), 'Service', 'ExecStart')!, / "--pid-file" "%t\/my-daemon\/my-daemon\.pid"$/);
          // The install script's drop-in repeats the arguments after the entry point.
          assert.match(
            p.read('scripts/install-units.mjs'),
            /const EXEC_START_TAIL = ' "--daemonize" "--pid-file" "%t\/my-daemon\/my-daemon\.pid"';/,
          );
        },
      ],
      [
        '--type forking --template',
        { type: 'forking', template: true },
        (p) => {
          const unit = service(p, 'my-daemon@');
          assert.equal(value(unit, 'Service', 'PIDFile'), '/run/my-daemon/%i/my-daemon.pid');
          assert.equal(value(unit, 'Service', 'RuntimeDirectory'), 'my-daemon/%i');
          assert.match(value(unit, 'Service', 'ExecStart')!, / %i "--daemonize" "--pid-file" "\/run\/my-daemon\/%i\/my-daemon\.pid"$/);
        },
      ],
      [
        '--init systemd,sysv,openrc',
        { init: 'openrc,systemd,sysv', runAs: 'www-data' },
        (p) => {
          assert.ok(p.exists('systemd/my-daemon.service'));
          for (const script of ['init.d/my-daemon', 'openrc/my-daemon']) {
            assert.equal(statSync(path.join(p.dir, script)).mode & 0o777, 0o755, `${script} is executable`);
          }
          assert.match(p.read('init.d/my-daemon'), /^\[ -n "\$DAEMON_USER" \] \|\| DAEMON_USER='www-data'$/m);
          assert.match(p.read('openrc/my-daemon'), /^\[ -n "\$\{command_user\}" \] \|\| command_user='www-data'$/m);
          assert.match(p.read('src/main.ts'), /the init\.d script and the OpenRC script/);
          assert.match(p.read('README.md'), /## Init scripts/);
          assert.equal(p.json('.yo-rc.json')['generator-sd-daemon'].initSystems, 'systemd,sysv,openrc');
        },
      ],
      [
        '--init sysv (no systemd)',
        { init: 'sysv', language: 'js' },
        (p) => {
          assert.ok(p.exists('init.d/my-daemon'));
          assert.equal(p.exists('systemd'), false);
          for (const script of ['install-units', 'uninstall-units', 'unit-record'])
            assert.equal(p.exists(`scripts/${script}.mjs`), false, script);
          assert.equal(p.json('package.json').scripts['install-units'], undefined);
          assert.equal(p.json('package.json').scripts['uninstall-units'], undefined);
          assert.doesNotMatch(p.read('README.md'), /## Install the units|## What the unit says/);
          assert.match(p.read('src/main.js'), /await daemonize\(/);
        },
      ],
    ];
    for (const [title, options, check] of table) {
      it(title, async function () {
        check(await generate(options));
      });
    }
  });

  describe('bad input is refused, naming the option', function () {
    const table: Array<[Record<string, unknown>, RegExp, string?]> = [
      [{ description: 'two\nlines' }, /--description: contains the control character U\+000A \(newline\)/],
      [{ description: 'ends with \\' }, /--description: ends with '\\'/],
      [{ description: ' padded ' }, /--description: starts or ends with whitespace/],
      [{ type: 'forking', sockets: 'tcp:8080' }, /--sockets: a forking service cannot take sockets from a socket unit/],
      [{ type: 'forking', watchdog: '10' }, /--watchdog: the watchdog needs notifications/],
      [{ type: 'oneshot' }, /--type: "oneshot" is not one of/],
      [{ sockets: 'tcp:99999' }, /--sockets: "99999" is not a whole number from 1 to 65535/],
      [{ sockets: 'sctp:80' }, /--sockets: "sctp:80" is not tcp:/],
      [{ sockets: 'unix:relative.sock' }, /--sockets: "relative.sock" is not an absolute path/],
      [{ sockets: 'unix:/run/../etc/x' }, /--sockets: .* is not normalised/],
      [{ sockets: 'udp:9000' }, /--sockets: the daemon serves HTTP/],
      [{ watchdog: '-1' }, /--watchdog: "-1" is not a whole number/],
      [{ scope: 'global' }, /--scope: "global" is not one of system, user/],
      [{ runAs: 'root; rm -rf /' }, /--run-as: .* is neither 'dynamic' nor a user name/],
      [{ runAs: 'nobody' }, /--run-as: nobody is shared with unmapped ids/],
      [{ runAs: 'alice', scope: 'user' }, /--run-as: a user-scope service always runs as the user/],
      [{ restart: 'sometimes' }, /--restart: "sometimes" is not one of/],
      [{ hardening: 'max' }, /--hardening: "max" is not one of strict, baseline, none/],
      [{ fdStore: 'many' }, /--fd-store: "many" is not a whole number/],
      [{ fdStore: '4', type: 'simple' }, /--fd-store: the fd store needs a notify service/],
      [{ installPath: 'opt/x' }, /--install-path: "opt\/x" is not an absolute path/],
      [{ installPath: '/opt/my daemon' }, /--install-path: .* contains ' ' \(U\+0020\)/],
      [{ node: '/usr/bin/node\nExecStartPre=/bin/true' }, /--node: contains the control character U\+000A/],
      [{ init: 'systemd,upstart' }, /--init: "upstart" is not a supported init system \(systemd, sysv, openrc\)/],
      [{ init: '' }, /--init: "" is not a supported init system/],
      [{ init: 'sysv', scope: 'user' }, /--init: sysv scripts belong to the system's init/],
      [{ init: 'systemd,openrc', template: true }, /--init: template units are systemd's; openrc scripts run one instance/],
      [{ language: 'coffee' }, /--language: "coffee" is not one of ts, js/],
      [{ socketName: 'a:b' }, /--socket-name: "a:b"/],
    ];
    for (const [options, message] of table) {
      it(`${JSON.stringify(options)} -> ${message.source}`, async function () {
        await assert.rejects(generate(options), message);
      });
    }

    for (const [name, message] of [
      ['My-Daemon', /--name: "My-Daemon" contains 'M'/],
      ['../escape', /--name: "..\/escape": scoped package names and paths are not supported/],
      ['@scope/pkg', /scoped package names and paths are not supported/],
      ['_under', /--name: "_under" must start with a letter or digit/],
      ['a\nb', /--name: contains the control character U\+000A/],
    ] as const) {
      it(`name ${JSON.stringify(name)} is refused and no directory is made`, async function () {
        let cwd = '';
        await assert.rejects(
          helpers
            .run(APP)
            .withArguments([name])
            .withOptions(cli({ yes: true, skipInstall: true }))
            .inTmpDir((dir) => (cwd = dir)),
          message,
        );
        assert.equal(existsSync(path.join(cwd, name)), false);
      });
    }

    it('a name of digits is taken as typed, not as the number Yeoman reads (010 stays 010)', async function () {
      const p = await generate({}, '010');
      assert.equal(p.json('package.json').name, '010');
      assert.ok(p.exists('systemd/010.service'));
    });

    it('without a terminal and without a name, it fails naming --name', async function () {
      await assert.rejects(generate({}, ''), /--name: is required: pass it as the first argument or with --name/);
    });
  });

  describe('the answer schema (src/lib/answers.ts) holds USAGE and the files each answer changes', function () {
    const usage = readFileSync(path.join(REPO, 'USAGE'), 'utf8');

    it('every USAGE example is a command line the schema accepts, and the default it names is the default', function () {
      const examples = usage.split('\n').filter((line) => /^ {2}yo sd-daemon[: ]/.test(line) && !line.includes('[options]'));
      assert.ok(examples.length >= 10, usage);
      for (const line of examples) {
        // The example ends where two spaces start its comment.
        const words = line.trim().split(/ {2,}/)[0]!.split(' ');
        const unit = words[1] === 'sd-daemon:unit';
        const parsed = parseCommandLine(words.slice(2), 'USAGE');
        assert.ok(unit ? parsed.args.length === 0 : parsed.args.length === 1, `${line}: ${unit ? 'no name' : 'one name'} expected`);
        const raw: Record<string, string | boolean> = { name: parsed.args[0] ?? 'my-daemon', nodePath: '/usr/bin/node' };
        for (const [flag, v] of Object.entries(parsed.options)) {
          const spec = OPTIONS.find((o) => o.flag === flag);
          if (spec) raw[spec.key] = v;
          else
            assert.ok(
              knownFlags().some((f) => f.name === flag),
              `${line}: --${flag} is not an option`,
            );
        }
        assert.doesNotThrow(() => parseAnswers(raw), line);
      }
      assert.match(usage, new RegExp(`default ${DEFAULT_SYSTEMD_VERSION} \\(`), 'USAGE names the default --systemd-version');
      // Our options, not those of the commands USAGE names (systemctl --user, node --daemonize).
      for (const flag of usage.match(/(?<!systemctl |systemd |node )--[a-z][a-z-]*/g)!) {
        assert.ok(
          knownFlags().some((f) => `--${f.name}` === flag),
          `USAGE mentions ${flag}, which is not an option`,
        );
      }
    });

    // One changed value per answer (and what it needs beside it); the base has
    // every init system, so the init scripts exist to be changed.
    const changes: Record<string, { base?: Record<string, unknown>; change: Record<string, unknown> }> = {
      name: { change: {} },
      description: { change: { description: 'Another line' } },
      type: { change: { type: 'simple' } },
      sockets: { change: { sockets: 'tcp:[::1]:9000,udp:9001' } },
      socketName: { change: { socketName: 'api' } },
      watchdogSec: { change: { watchdog: '30' } },
      scope: { base: { init: 'systemd' }, change: { scope: 'user' } },
      runAs: { change: { runAs: 'www-data' } },
      restart: { change: { restart: 'always' } },
      hardening: { change: { hardening: 'baseline' } },
      fdStore: { change: { fdStore: '8' } },
      template: { base: { init: 'systemd' }, change: { template: 'yes' } },
      initSystems: { change: { init: 'systemd' } },
      language: { change: { language: 'js' } },
      installPath: { change: { installPath: '/srv/my-daemon' } },
      runtime: { change: { runtime: 'bundled' } },
      nodePath: { change: { node: '/usr/local/bin/another-node' } },
      systemdVersion: { change: { systemdVersion: '252' } },
    };

    /** Every file the run wrote, by project-relative path (.yo-rc.json, which stores every answer, aside). */
    const filesOf = (dir: string, under = ''): Map<string, string> => {
      const files = new Map<string, string>();
      for (const entry of readdirSync(path.join(dir, under), { withFileTypes: true })) {
        const rel = path.join(under, entry.name);
        if (entry.isDirectory()) for (const [f, text] of filesOf(dir, rel)) files.set(f, text);
        else if (rel !== '.yo-rc.json') files.set(rel, readFileSync(path.join(dir, rel), 'latin1'));
      }
      return files;
    };

    it('every answer has a change to try', function () {
      assert.deepEqual(Object.keys(changes).sort(), OPTIONS.map((o) => o.key as string).sort());
    });

    for (const spec of OPTIONS) {
      it(`--${spec.flag} changes only the files its entry lists (${spec.affects.join(', ')})`, async function () {
        const { base = { init: 'systemd,sysv,openrc' }, change } = changes[spec.key]!;
        const before = filesOf((await generate(base)).dir);
        const name = spec.key === 'name' ? 'other-daemon' : 'my-daemon';
        const after = filesOf((await generate({ ...base, ...change }, name)).dir);
        const changed = [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f));
        assert.ok(changed.length > 0, `--${spec.flag} changed no file`);
        const listed = (file: string): boolean =>
          spec.affects.some((pattern) =>
            ['my-daemon', name].some((n) =>
              ['ts', 'js'].some((ext) => {
                const p = pattern.replaceAll('<name>', n).replaceAll('<ext>', ext);
                return p.endsWith('/') ? file.startsWith(p) : file === p;
              }),
            ),
          );
        assert.deepEqual(
          changed.filter((f) => !listed(f)),
          [],
          `--${spec.flag} changed files its schema entry does not list`,
        );
      });
    }
  });

  describe('prompts', function () {
    it('asks for what is not given (with --interactive where there is no terminal), and options are never asked again', async function () {
      const asked: string[] = [];
      const result = await helpers
        .run(APP)
        .withOptions(cli({ interactive: true, skipInstall: true, scope: 'user' }))
        .withAnswers(
          {
            name: 'asked',
            description: 'From the prompt',
            type: 'simple',
            sockets: 'none',
            watchdogSec: '0',
            hardening: 'baseline',
            language: 'js',
            systemdVersion: '252',
          },
          {
            callback: (answer: unknown, options: { question: { name: string } }) => {
              asked.push(options.question.name);
              return answer;
            },
          },
        );
      leaveRunDir();
      const p = project(path.join(result.cwd, 'asked'), result.cwd);
      const unit = p.unit('systemd/asked.service');
      assert.equal(value(unit, 'Unit', 'Description'), 'From the prompt');
      assert.equal(value(unit, 'Service', 'Type'), 'simple');
      assert.ok(p.exists('src/main.js'));
      assert.ok(!asked.includes('scope'), 'an option given on the command line is not asked');
      assert.deepEqual(asked, ['name', 'description', 'type', 'sockets', 'watchdogSec', 'hardening', 'language', 'systemdVersion']);
      assert.match(p.read('systemd/asked.service'), /# Sandbox \(baseline\) for systemd 252 \(--systemd-version\)/);
    });
  });

  describe('re-runs', function () {
    it('a flagless re-run reproduces every generated file, and leaves scaffolded ones alone', async function () {
      const first = await generate(
        { scope: 'user', watchdog: '20', sockets: 'tcp:127.0.0.1:9100', socketName: 'web' },
        'my-daemon',
        keptDir(),
      );
      const unitBefore = first.read('systemd/my-daemon.service');
      writeFileSync(path.join(first.dir, 'src/main.ts'), '// my own code\n');
      const pkg = first.json('package.json');
      pkg.description = 'mine';
      pkg.scripts.start = 'node --enable-source-maps dist/main.js';
      pkg.dependencies.express = '^4.0.0';
      writeFileSync(path.join(first.dir, 'package.json'), JSON.stringify(pkg, null, 2));

      await helpers
        .run(APP)
        .cd(first.dir)
        .withOptions(cli({ yes: true, skipInstall: true }));
      const second = project(first.dir);
      assert.equal(second.read('systemd/my-daemon.service'), unitBefore);
      assert.equal(second.read('src/main.ts'), '// my own code\n');
      const merged = second.json('package.json');
      assert.equal(merged.description, 'mine');
      assert.equal(merged.scripts.start, 'node --enable-source-maps dist/main.js');
      assert.equal(merged.dependencies.express, '^4.0.0');
      assert.equal(merged.scripts['install-units'], 'node scripts/install-units.mjs');
    });

    it('a second run with the same answers has no conflicts (nothing to overwrite)', async function () {
      const first = await generate({}, 'my-daemon', keptDir());
      const before = readFileSync(path.join(first.dir, 'systemd/my-daemon.service'), 'utf8');
      // yeoman-test's adapter answers conflicts with "no" unless forced: a conflict would leave a difference or throw.
      const rerun = await helpers
        .run(APP)
        .cd(first.dir)
        .withOptions(cli({ yes: true, skipInstall: true }));
      assert.equal(readFileSync(path.join(first.dir, 'systemd/my-daemon.service'), 'utf8'), before);
      assert.ok(rerun);
    });

    it('yo sd-daemon:unit refreshes the units with changed options', async function () {
      const first = await generate({}, 'my-daemon', keptDir());
      await helpers
        .run(UNIT)
        .cd(first.dir)
        .withOptions(cli({ yes: true, skipInstall: true, hardening: 'baseline', watchdog: '30' }));
      const unit = project(first.dir).unit('systemd/my-daemon.service');
      assert.equal(value(unit, 'Service', 'WatchdogSec'), '30');
      assert.equal(value(unit, 'Service', 'ProtectHome'), 'read-only');
      assert.equal(value(unit, 'Service', 'PrivateNetwork'), undefined);
      assert.equal(project(first.dir).json('.yo-rc.json')['generator-sd-daemon'].hardening, 'baseline');
    });
  });
});
