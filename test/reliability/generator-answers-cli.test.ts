// Reliability: hostile generator answers (test/helpers/hostile-answers.ts) on
// the real command line (yo, as an unprivileged user) and through the real
// install script: names yeoman could misread, a directory with a space, a
// unit name that is another unit's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { generate, REPO, yoWorkspace } from '../helpers/generator.js';
import { describeHostileAnswers } from '../helpers/hostile-answers.js';

describeHostileAnswers(
  'cli',
  (suite) => {
    const { tally } = suite;

    describe('the command line and the install script, for real', function () {
      this.timeout(120_000);
      let dir: string;

      before(function () {
        dir = yoWorkspace('sd-ga-cli-');
      });
      after(() => dir && rmSync(dir, { recursive: true, force: true }));

      function yo(args: string[]): { code: number | null; output: string } {
        const r = spawnSync(path.join(REPO, 'node_modules', '.bin', 'yo'), args, {
          cwd: path.join(dir, 'work'),
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, HOME: path.join(dir, 'home'), NO_UPDATE_NOTIFIER: '1' },
        });
        tally.generatorRuns++;
        return { code: r.status, output: `${r.stdout}${r.stderr}` };
      }

      it('yo sd-daemon 010 names the project 010 (yeoman must not read the name argument as a number)', function () {
        const r = yo(['sd-daemon', '010', '--yes', '--skip-install', '--init', 'systemd']);
        assert.equal(r.code, 0, r.output);
        const made = readdirSync(path.join(dir, 'work')).filter((f) => f !== 'node_modules');
        assert.deepEqual(made, ['010'], `yo sd-daemon 010 made ${JSON.stringify(made)}`);
        assert.ok(existsSync(path.join(dir, 'work', '010', 'systemd', '010.service')));
      });

      it('yo sd-daemon t --template=false writes a plain unit, not a template (t@.service)', function () {
        const r = yo(['sd-daemon', 'tfalse', '--yes', '--skip-install', '--init', 'systemd', '--template=false']);
        assert.equal(r.code, 0, r.output);
        const units = readdirSync(path.join(dir, 'work', 'tfalse', 'systemd'));
        assert.deepEqual(units.sort(), ['tfalse.service', 'tfalse.socket'], `--template=false wrote ${JSON.stringify(units)}`);
      });

      it('a user-scope project in a directory with a space: refused naming the directory, not an option the user never gave', async function () {
        let message = '';
        try {
          await generate(
            { scope: 'user', skipInstall: true, nodePath: process.execPath, systemdVersion: '252' },
            'spaced',
            path.join(suite.scratch, 'my projects'),
          );
        } catch (error) {
          message = (error as Error).message;
        }
        tally.generatorRuns++;
        // WorkingDirectory= and a quoted ExecStart= argument carry a space; if it is refused anyway, the message must name what to change.
        assert.ok(
          message === '' || !message.startsWith('--install-path:'),
          `refused with ${JSON.stringify(message)}: --install-path was not given (the path is where the project is generated)`,
        );
      });

      it("install-units refuses to replace a unit file it did not write (a name that is another unit's: dbus, ssh)", async function () {
        const p = await generate(
          { scope: 'user', skipInstall: true, nodePath: process.execPath, systemdVersion: '252' },
          'dbus',
          path.join(suite.scratch, 'collide'),
        );
        tally.generatorRuns++;
        const unitDir = path.join(suite.scratch, 'collide-units');
        mkdirSync(unitDir);
        const foreign = '[Unit]\nDescription=D-Bus User Message Bus (not ours)\n\n[Service]\nExecStart=/usr/bin/dbus-daemon --session\n';
        writeFileSync(path.join(unitDir, 'dbus.service'), foreign);
        const r = spawnSync(process.execPath, [path.join(p.dir, 'scripts', 'install-units.mjs'), '--unit-dir', unitDir, '--no-reload'], {
          cwd: p.dir,
          encoding: 'utf8',
        });
        tally.shellRuns++;
        assert.equal(
          readFileSync(path.join(unitDir, 'dbus.service'), 'utf8'),
          foreign,
          `install-units (${r.status}) replaced a dbus.service it did not write:\n${r.stdout}${r.stderr}`,
        );
        assert.notEqual(r.status, 0, 'and says so');
      });
    });
  },
  ({ tally }) => assert.ok(tally.shellRuns > 0),
);
