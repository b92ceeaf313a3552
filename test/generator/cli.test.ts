// The two ways users start the generator, for real: the `yo` binary
// discovering generator-sd-daemon in node_modules, and `npm init sd-daemon`
// running the create-sd-daemon package. Both without a terminal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

import { helpText, OPTIONS, parseAnswers } from '../../generators/lib/answers.js';
import { sandboxReach } from '../../generators/lib/reach.js';
import { nearestFlag, parseCommandLine } from '../../generators/lib/cli.js';
import { InputError } from '../../generators/lib/escape.js';
import { atPrompt } from '../../generators/lib/resolve.js';
import { npm, npmEnv } from '../helpers/npm.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import { REPO, yoWorkspace } from '../helpers/generator.js';

const YO = path.join(REPO, 'node_modules', '.bin', 'yo');
const CREATE = path.join(REPO, 'create', 'index.js');

describe('command line', function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    dir = yoWorkspace('sd-cli-');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  function yo(args: string[], cwd = path.join(dir, 'work'), env: NodeJS.ProcessEnv = {}): { code: number | null; output: string } {
    const result = spawnSync(YO, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: path.join(dir, 'home'), NO_UPDATE_NOTIFIER: '1', ...env },
    });
    return { code: result.status, output: `${result.stdout}${result.stderr}` };
  }

  /** create-sd-daemon's entry, as `npm init sd-daemon` runs it, without a terminal. */
  function create(args: string[], cwd: string): { code: number | null; output: string; stdout: string } {
    const result = spawnSync(process.execPath, [CREATE, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: result.status, output: `${result.stdout}${result.stderr}`, stdout: result.stdout };
  }

  /** A fresh directory (outside /tmp: PrivateTmp= would hide a user-scope project there) that every user can write. */
  function scratch(name: string): string {
    const d = path.join(dir, 'work', name);
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o777);
    return d;
  }

  it('yo discovers sd-daemon, and --help lists every option with its default', function () {
    const { code, output } = yo(['sd-daemon', '--help']);
    assert.equal(code, 0, output);
    for (const spec of OPTIONS) {
      const line = output.split('\n').find((l) => l.includes(`--${spec.flag} `));
      assert.ok(line, `--${spec.flag} is listed`);
      assert.match(line, /\[default: .+\]/, `--${spec.flag} shows its default`);
      // Derived from the schema: its help, choices and default.
      assert.ok(line.includes(helpText(spec)), `--${spec.flag}: ${line}`);
    }
    assert.match(output, /--yes/);
    assert.match(output, /Examples:/, 'the USAGE examples are shown');
  });

  it('yo also discovers sd-daemon:unit', function () {
    const { code, output } = yo(['sd-daemon:unit', '--help']);
    assert.equal(code, 0, output);
    assert.match(output, /--hardening/);
  });

  it('yo sd-daemon <name> --yes generates without a terminal', function () {
    const { code, output } = yo(['sd-daemon', 'from-yo', '--yes', '--skip-install', '--scope', 'user']);
    assert.equal(code, 0, output);
    const unit = readFileSync(path.join(dir, 'work', 'from-yo', 'systemd', 'from-yo.service'), 'utf8');
    assert.match(unit, /^WantedBy=default\.target$/m);
  });

  it('a second yo run with the same answers finds every file identical: no conflict to resolve', function () {
    const project = path.join(dir, 'work', 'from-yo');
    const rerun = spawnSync(YO, ['sd-daemon', '--skip-install'], {
      cwd: project,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: path.join(dir, 'home'), NO_UPDATE_NOTIFIER: '1' },
    });
    const output = `${rerun.stdout}${rerun.stderr}`;
    assert.equal(rerun.status, 0, output);
    assert.match(output, /identical systemd\/from-yo\.service/);
    assert.doesNotMatch(output, /conflict/, output);
    // Yeoman always rewrites its own .yo-rc.json; every file we generate is identical.
    const forced = output.split('\n').filter((line) => /^\s*force /.test(line) && !line.includes('.yo-rc.json'));
    assert.deepEqual(forced, [], output);
  });

  it('yo sd-daemon without a name and without a terminal fails, naming --name', function () {
    const { code, output } = yo(['sd-daemon', '--skip-install']);
    assert.notEqual(code, 0);
    assert.match(output, /--name: is required: pass it as the first argument or with --name/);
  });

  it('npm init sd-daemon <name> -- --yes runs the same generator through create-sd-daemon', function () {
    const project = path.join(dir, 'npm-init');
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'npm-init-test', private: true }));
    const env = npmEnv();
    // What `npm init sd-daemon` fetches from the registry (create-sd-daemon and
    // the generator it depends on), installed from this repository instead;
    // test/registry/ runs it from a real registry.
    npm(project, ['install', REPO, path.join(REPO, 'create')]);
    const init = spawnSync('npm', ['init', 'sd-daemon', 'from-npm-init', '--', '--yes', '--skip-install', '--type', 'simple'], {
      cwd: project,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    assert.equal(init.status, 0, `${init.stdout}${init.stderr}`);
    const unit = readFileSync(path.join(project, 'from-npm-init', 'systemd', 'from-npm-init.service'), 'utf8');
    assert.match(unit, /^Type=simple$/m);
    assert.ok(existsSync(path.join(project, 'from-npm-init', 'src', 'main.ts')));
    // --help through npm itself, without a terminal (issue 11: it said "--name: is required").
    const help = spawnSync('npm', ['init', 'sd-daemon', '--', '--help'], {
      cwd: project,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    assert.equal(help.status, 0, `${help.stdout}${help.stderr}`);
    assert.match(help.stdout, /--sockets /);
  });

  describe('--help without a terminal, exit 0 (issue 11)', function () {
    it("create/index.js --help prints the generator's options and examples", function () {
      const { code, output } = create(['--help'], scratch('help-create'));
      assert.equal(code, 0, output);
      assert.match(output, /yo sd-daemon \[<name>\] \[options\]/);
      assert.match(output, /--sockets /);
      assert.match(output, /Examples:/);
      assert.deepEqual(readdirSync(path.join(dir, 'work', 'help-create')), [], 'nothing written');
    });

    it("yo sd-daemon --help, also as root with root's own HOME", function () {
      const { code, output } = yo(['sd-daemon', '--help'], path.join(dir, 'work'), { HOME: '/root' });
      assert.equal(code, 0, output);
      assert.match(output, /--sockets /);
    });
  });

  describe('unknown options and flags (issue 11)', function () {
    it('parses flags without taking the next word, and suggests the nearest option', function () {
      assert.deepEqual(parseCommandLine(['--yes', 'b1', '--scope', 'user', '--template', '--no-interactive'], 'x'), {
        args: ['b1'],
        options: { yes: true, scope: 'user', template: true, interactive: false },
      });
      assert.deepEqual(parseCommandLine(['--template=no', '-y', '--', '--odd-name'], 'x'), {
        args: ['--odd-name'],
        options: { template: false, yes: true },
      });
      assert.equal(nearestFlag('socket'), 'sockets');
      assert.equal(nearestFlag('hardenig'), 'hardening');
      assert.equal(nearestFlag('bogus-option'), undefined);
      assert.throws(() => parseCommandLine(['--yes=maybe'], 'x'), /--yes is a flag/);
      assert.throws(() => parseCommandLine(['--scope'], 'x'), /--scope needs a value/);
    });

    it('yo sd-daemon --socket tcp:... is refused, naming --sockets; nothing is written', function () {
      const work = scratch('unknown-yo');
      const { code, output } = yo(['sd-daemon', 'u1', '--yes', '--socket', 'tcp:127.0.0.1:9000', '--skip-install'], work);
      assert.notEqual(code, 0, output);
      assert.match(output, /unknown option --socket; did you mean --sockets\?/);
      assert.doesNotMatch(output, /TypeError/);
      assert.deepEqual(readdirSync(work), []);
    });

    it('npm init sd-daemon --bogus-option is refused (exit 2); nothing is written', function () {
      const work = scratch('unknown-create');
      const { code, output } = create(['u2', '--yes', '--bogus-option'], work);
      assert.equal(code, 2, output);
      // The help hint is a command that works: npm init keeps a bare --help for itself.
      assert.match(output, /^npm init sd-daemon: unknown option --bogus-option \(`npm init sd-daemon -- --help` lists every option\)/);
      assert.deepEqual(readdirSync(work), []);
    });

    it('yo sd-daemon:unit --hardenig is refused too, naming --hardening; the units are untouched', function () {
      const work = scratch('unknown-unit');
      assert.equal(create(['k1', '--yes', '--skip-install', '--scope', 'user'], work).code, 0);
      const project = path.join(work, 'k1');
      const before = readFileSync(path.join(project, 'systemd', 'k1.service'), 'utf8');
      const { code, output } = yo(['sd-daemon:unit', '--hardenig', 'baseline'], project);
      assert.notEqual(code, 0, output);
      assert.match(output, /yo sd-daemon:unit: unknown option --hardenig; did you mean --hardening\?/);
      assert.equal(readFileSync(path.join(project, 'systemd', 'k1.service'), 'utf8'), before);
    });

    it('yo sd-daemon --yes b1: a flag never takes the next word, b1 is the name', function () {
      const work = scratch('flag-order');
      const { code, output } = yo(['sd-daemon', '--yes', 'b1', '--skip-install', '--scope', 'user'], work);
      assert.equal(code, 0, output);
      assert.ok(existsSync(path.join(work, 'b1', 'systemd', 'b1.service')), output);
    });
  });

  describe('as root (issue 11)', function () {
    it('yo sd-daemon as root with HOME=/root in a directory only root may write: one line pointing to npm init sd-daemon, nothing written', function () {
      requireOrSkip(this, process.getuid?.() === 0, 'needs root: yo drops root privileges, which is what this test is about');
      const work = path.join(dir, 'root-only');
      mkdirSync(work, { mode: 0o755 });
      symlinkSync(path.join(dir, 'work', 'node_modules'), path.join(work, 'node_modules'));
      const { code, output } = yo(['sd-daemon', 'r1', '--yes', '--skip-install'], work, { HOME: '/root' });
      assert.notEqual(code, 0, output);
      const ours = output.split('\n').filter((line) => line.startsWith('yo sd-daemon:'));
      assert.equal(ours.length, 1, output);
      assert.match(
        ours[0]!,
        /yo does not run generators as root: it switched to uid \d+, which cannot write .*npm init sd-daemon r1 -- --yes/,
      );
      assert.doesNotMatch(output, /TypeError|EACCES/);
      assert.deepEqual(readdirSync(work), ['node_modules']);
    });

    it('yo sd-daemon as root with HOME=/root in a directory the switched-to user may write: works', function () {
      requireOrSkip(this, process.getuid?.() === 0, 'needs root: yo drops root privileges, which is what this test is about');
      const work = scratch('root-writable');
      symlinkSync(path.join(dir, 'work', 'node_modules'), path.join(work, 'node_modules'));
      const { code, output } = yo(['sd-daemon', 'r2', '--yes', '--skip-install', '--scope', 'user'], work, { HOME: '/root' });
      assert.equal(code, 0, output);
      assert.doesNotMatch(output, /TypeError|EACCES/);
      assert.ok(existsSync(path.join(work, 'r2', 'systemd', 'r2.service')), output);
    });

    it('an unprivileged user runs yo sd-daemon with the generator installed where it can read it', function () {
      requireOrSkip(this, process.getuid?.() === 0, 'needs root to create a user (useradd) and run as it (runuser)');
      const user = 'sdclitest';
      if (spawnSync('id', [user]).status !== 0) {
        const add = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user], { encoding: 'utf8' });
        assert.equal(add.status, 0, add.stderr);
      }
      const home = path.join(dir, 'userhome');
      mkdirSync(path.join(home, 'node_modules'), { recursive: true });
      symlinkSync(REPO, path.join(home, 'node_modules', 'generator-sd-daemon'));
      spawnSync('chown', ['-R', `${user}:`, home]);
      const result = spawnSync(
        'runuser',
        [
          '-u',
          user,
          '--',
          'env',
          `HOME=${home}`,
          'NO_UPDATE_NOTIFIER=1',
          YO,
          'sd-daemon',
          'p1',
          '--yes',
          '--skip-install',
          '--scope',
          'user',
        ],
        {
          cwd: home,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const output = `${result.stdout}${result.stderr}`;
      assert.equal(result.status, 0, output);
      const unit = path.join(home, 'p1', 'systemd', 'p1.service');
      assert.ok(existsSync(unit), output);
      assert.equal(statSync(unit).uid, Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim()));
    });
  });

  describe('nothing half-written (issue 11)', function () {
    it('a failed option check leaves no directory', function () {
      const work = scratch('failed-check');
      const { code, output } = create(['f1', '--yes', '--skip-install', '--watchdog', 'often'], work);
      assert.notEqual(code, 0);
      assert.match(output, /--watchdog: "often" is not a whole number/);
      assert.deepEqual(readdirSync(work), []);
    });

    it('.yo-rc.json is written last, as "create", never "force"', function () {
      const work = scratch('yo-rc-last');
      const { code, output } = create(['l1', '--yes', '--skip-install', '--scope', 'user'], work);
      assert.equal(code, 0, output);
      const statusLines = output.split('\n').filter((line) => /^\s*(create|force|identical|update|conflict) /.test(line));
      assert.match(statusLines.at(-1)!, /^\s*create \.yo-rc\.json$/, output);
      assert.doesNotMatch(output, /force .*\.yo-rc\.json/);
      const stored = JSON.parse(readFileSync(path.join(work, 'l1', '.yo-rc.json'), 'utf8'))['generator-sd-daemon'];
      assert.equal(stored.force, undefined);
      assert.equal(stored.name, 'l1');
    });

    it('a re-run with --yes and no terminal over an edited unit refuses up front, listing it, and changes nothing; --force regenerates', function () {
      const work = scratch('edited');
      assert.equal(create(['e1', '--yes', '--skip-install', '--scope', 'user'], work).code, 0);
      const project = path.join(work, 'e1');
      const unit = path.join(project, 'systemd', 'e1.service');
      writeFileSync(unit, `${readFileSync(unit, 'utf8')}# my local change\n`);
      const rc = readFileSync(path.join(project, '.yo-rc.json'), 'utf8');
      const { code, output } = create(['--yes', '--skip-install', '--watchdog', '30'], project);
      assert.notEqual(code, 0, output);
      assert.match(output, /refusing to overwrite a file edited since generated: systemd\/e1\.service\. Nothing was written/);
      assert.match(output, /systemctl --user edit e1\.service/);
      assert.match(output, /--force/);
      assert.doesNotMatch(output, /force closed the prompt/);
      assert.equal(readFileSync(path.join(project, '.yo-rc.json'), 'utf8'), rc, '.yo-rc.json untouched');
      assert.match(readFileSync(unit, 'utf8'), /# my local change/);
      assert.match(readFileSync(unit, 'utf8'), /^WatchdogSec=10$/m, 'no file changed');

      const forced = create(['--yes', '--skip-install', '--watchdog', '30', '--force'], project);
      assert.equal(forced.code, 0, forced.output);
      assert.doesNotMatch(readFileSync(unit, 'utf8'), /# my local change/);
      assert.match(readFileSync(unit, 'utf8'), /^WatchdogSec=30$/m);
    });

    it('changed answers over unedited files need no --force: the recorded hashes show nothing was edited', function () {
      const work = scratch('unedited');
      assert.equal(create(['n1', '--yes', '--skip-install', '--scope', 'user'], work).code, 0);
      const project = path.join(work, 'n1');
      const { code, output } = create(['--yes', '--skip-install', '--watchdog', '30'], project);
      assert.equal(code, 0, output);
      assert.match(readFileSync(path.join(project, 'systemd', 'n1.service'), 'utf8'), /^WatchdogSec=30$/m);
    });

    it('a directory with its own package.json gets the whole project, its package.json merged', function () {
      const project = scratch('own-pkg');
      writeFileSync(
        path.join(project, 'package.json'),
        JSON.stringify({ name: 'own-pkg', version: '3.0.0', scripts: { lint: 'true' } }, null, 4),
      );
      const { code, output } = create(['own-pkg', '--yes', '--skip-install', '--scope', 'user'], project);
      assert.equal(code, 0, output);
      const pkg = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8'));
      assert.equal(pkg.version, '3.0.0');
      assert.equal(pkg.scripts.lint, 'true');
      assert.ok(pkg.scripts['install-units']);
      for (const file of ['src/main.ts', 'systemd/own-pkg.service', 'scripts/install-units.mjs', '.yo-rc.json'])
        assert.ok(existsSync(path.join(project, file)), file);
    });

    it('validation messages read naturally at a prompt; the command line keeps the option name', function () {
      const error = new InputError('name', 'contains the control character U+0009 (tab)');
      assert.equal(error.message, '--name: contains the control character U+0009 (tab)');
      assert.equal(atPrompt(error), 'This answer contains the control character U+0009 (tab)');
      assert.equal(
        atPrompt(new InputError('name', '"Foo" contains \'F\'; use lowercase letters')),
        '"Foo" contains \'F\'; use lowercase letters',
      );
    });
  });

  describe('install-units (issue 11)', function () {
    function installUnits(
      project: string,
      args: string[],
      env: NodeJS.ProcessEnv = {},
    ): { code: number | null; stdout: string; output: string } {
      const result = spawnSync(process.execPath, [path.join(project, 'scripts', 'install-units.mjs'), ...args], {
        cwd: project,
        encoding: 'utf8',
        // No user manager: systemctl --user cannot reach one.
        env: { ...process.env, ...env, XDG_RUNTIME_DIR: path.join(dir, 'no-runtime'), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' },
      });
      return { code: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
    }

    it('without a manager: the first run fails after writing, and so does the second (the reload is still owed)', function () {
      const work = scratch('no-manager');
      assert.equal(create(['m1', '--yes', '--skip-install', '--scope', 'user', '--language', 'js'], work).code, 0);
      const project = path.join(work, 'm1');
      const env = { XDG_CONFIG_HOME: path.join(work, 'config') };
      const first = installUnits(project, [], env);
      assert.equal(first.code, 1, first.output);
      assert.match(first.output, /wrote {7}.*m1\.service/);
      assert.match(first.output, /daemon-reload` failed: the units are installed in .* but the manager has not loaded them/);
      const second = installUnits(project, [], env);
      assert.equal(second.code, 1, second.output);
      assert.match(second.output, /unchanged/);
      assert.doesNotMatch(second.output, /Nothing changed/);
      assert.match(second.output, /the manager could not be asked whether it loaded them/);
    });

    it('system scope --dry-run from the project directory shows the copy and what it would write (exit 0)', function () {
      const work = scratch('dry-system');
      // Outside /tmp: PrivateTmp= would hide an install path there (refused). Never created.
      const install = `/opt/sd-cli-dry-${process.pid}`;
      assert.equal(create(['d1', '--yes', '--skip-install', '--language', 'js', '--install-path', install], work).code, 0);
      const run = installUnits(path.join(work, 'd1'), ['--dry-run']);
      assert.equal(run.code, 0, run.output);
      assert.match(run.stdout, new RegExp(`sudo mkdir -p ${install}`));
      assert.match(run.stdout, /would write \/etc\/systemd\/system\/d1\.service/);
      assert.match(run.stdout, /would run: systemctl daemon-reload/);
      assert.ok(!existsSync(install), 'nothing done');
    });

    it('the closing hint for system scope is a command that works (run through sh, as root, into a unit dir of its own)', function () {
      requireOrSkip(this, process.getuid?.() === 0, 'needs root: the hint installs as root');
      const work = scratch('hint');
      const install = `/opt/sd-cli-hint-${process.pid}`;
      const made = create(['h1', '--yes', '--skip-install', '--language', 'js', '--install-path', install], work);
      assert.equal(made.code, 0, made.output);
      const hint = made.output
        .split('\n')
        .map((line) => line.trim())
        .find((line) => line.startsWith('cd ') && line.includes('install-units.mjs'));
      assert.ok(hint, made.output);
      const unitDir = path.join(dir, 'hint-units');
      try {
        // We are root already: sudo (absent on minimal machines) only runs the command.
        const sh = spawnSync('sh', ['-c', `sudo() { "$@"; }; ${hint} --unit-dir ${unitDir} --no-reload`], { cwd: dir, encoding: 'utf8' });
        assert.equal(sh.status, 0, `${hint}\n${sh.stdout}${sh.stderr}`);
        assert.ok(existsSync(path.join(install, 'src', 'main.js')), 'the project was copied to its install path');
        assert.ok(existsSync(path.join(unitDir, 'h1.service')), 'the units were installed');
      } finally {
        rmSync(install, { recursive: true, force: true });
      }
    });
  });

  describe('units that start where they were generated (issue 11)', function () {
    const answers = (raw: Record<string, string>): ReturnType<typeof parseAnswers> =>
      parseAnswers({ name: 'r1', nodePath: '/usr/bin/node', systemdVersion: '252', ...raw } as Record<string, string>);

    it('PrivateTmp=yes: a system install path under /tmp or /var/tmp is refused; --hardening none accepts it', function () {
      for (const root of ['/tmp', '/var/tmp']) {
        const reach = sandboxReach(answers({ installPath: `${root}/r1` }), `${root}/r1`);
        assert.equal(reach.refuse.length, 1, JSON.stringify(reach));
        assert.match(
          reach.refuse[0]!,
          new RegExp(
            `--install-path ${root}/r1 is under ${root}, but the unit has PrivateTmp=yes .*status=200/CHDIR\\. Fix: pass --install-path outside /tmp and /var/tmp`,
          ),
        );
      }
      assert.deepEqual(sandboxReach(answers({ installPath: '/tmp/r1', hardening: 'none' }), '/tmp/r1').refuse, []);
    });

    it('PrivateTmp=yes: a user-scope project under /tmp is warned about (install-units, which re-points the unit, checks again); a node under /tmp is refused', function () {
      const reach = sandboxReach(answers({ scope: 'user' }), '/tmp/work/r1');
      assert.deepEqual(reach.refuse, []);
      assert.match(reach.warn[0]!, /the project directory \/tmp\/work\/r1 is under \/tmp, but the unit has PrivateTmp=yes/);
      assert.match(
        sandboxReach(answers({ nodePath: '/tmp/node/bin/node' }), '/opt/r1').refuse[0]!,
        /--node \/tmp\/node\/bin\/node is under \/tmp/,
      );
    });

    it('ProtectHome=yes (strict, system scope): an install path under /home, /root or /run/user is refused; baseline and user scope read it', function () {
      for (const root of ['/home', '/root', '/run/user']) {
        const reach = sandboxReach(answers({ installPath: `${root}/x/r1` }), `${root}/x/r1`);
        assert.match(reach.refuse[0] ?? '', /ProtectHome=yes .*Fix: pass --install-path outside them .*--hardening baseline/, root);
      }
      assert.deepEqual(sandboxReach(answers({ installPath: '/home/x/r1', hardening: 'baseline' }), '/home/x/r1').refuse, []);
      assert.deepEqual(sandboxReach(answers({ scope: 'user' }), '/home/x/r1'), { refuse: [], warn: [] });
      assert.match(
        sandboxReach(answers({ nodePath: '/root/.nvm/versions/node/v20/bin/node' }), '/opt/r1').warn[0]!,
        /ProtectHome=yes hides: ExecStart= would fail with status=203\/EXEC/,
      );
    });

    it('DynamicUser=yes: a directory on the way the service user cannot pass through is warned about, naming the chmod', function () {
      const base = mkdtempSync(path.join(dir, 'locked-'));
      chmodSync(base, 0o755);
      const locked = path.join(base, 'locked');
      mkdirSync(path.join(locked, 'r1'), { recursive: true });
      chmodSync(locked, 0o700);
      const reach = sandboxReach(answers({ installPath: path.join(locked, 'r1'), hardening: 'none' }), path.join(locked, 'r1'));
      assert.match(
        reach.warn[0] ?? '',
        new RegExp(`${locked} is mode 700 here: the transient user of DynamicUser=yes cannot pass through it.*chmod o\\+x`),
      );
      chmodSync(locked, 0o755);
      assert.deepEqual(
        sandboxReach(answers({ installPath: path.join(locked, 'r1'), hardening: 'none' }), path.join(locked, 'r1')).warn,
        [],
      );
    });

    it('the generator refuses such a unit before writing anything (exit 1, no directory)', function () {
      const work = scratch('reach-refused');
      const { code, output } = create(['t1', '--yes', '--skip-install', '--install-path', '/var/tmp/t1'], work);
      assert.equal(code, 1, output);
      assert.match(output, /yo sd-daemon: the unit could not start: --install-path \/var\/tmp\/t1 is under \/var\/tmp/);
      assert.deepEqual(readdirSync(work), []);
    });

    it('install-units warns when a user-scope project with PrivateTmp=yes is installed from under /tmp', function () {
      const work = scratch('reach-install');
      assert.equal(
        create(['w1', '--yes', '--skip-install', '--scope', 'user', '--systemd-version', '245', '--language', 'js'], work).code,
        0,
      );
      const project = path.join(work, 'w1');
      const run = spawnSync(
        process.execPath,
        [path.join(project, 'scripts', 'install-units.mjs'), '--unit-dir', path.join(work, 'units'), '--no-reload'],
        { encoding: 'utf8' },
      );
      assert.equal(run.status, 0, run.stderr);
      assert.match(
        run.stderr,
        /warning: this project is at \/tmp\/.*PrivateTmp=yes.*status=200\/CHDIR\. Move the project out of \/tmp and \/var\/tmp/,
      );
    });
  });
});
