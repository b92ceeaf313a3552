// Reliability: hostile generator answers (test/helpers/hostile-answers.ts) in
// the generated init scripts: sh runs the LSB and OpenRC scripts of every
// accepted case and reads each answer back as one literal word; nothing in an
// answer runs; systemd's own LSB reader takes each description literally.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { parseUnit } from '../helpers/generator.js';
import {
  type Case,
  describeHostileAnswers,
  ENTRY,
  js,
  noProblems,
  renderInitScripts,
  repro,
  runSysvGenerator,
  type Scripted,
  SHELL_ENV,
  SYSV_GENERATOR,
} from '../helpers/hostile-answers.js';
import { requireOrSkip } from '../helpers/prerequisites.js';

describeHostileAnswers(
  'init-scripts',
  (suite) => {
    const { accepted, tally } = suite;

    describe('shell: the generated init scripts, run by sh, hold each answer as one literal word', function () {
      /** Accepted cases that write init scripts, rendered as the generator writes them. */
      let scripted: Scripted[];
      const env = SHELL_ENV;

      before(function () {
        scripted = renderInitScripts(accepted, suite.scratch);
      });

      /** Runs `body` once per file in one sh, each in a subshell; returns the NUL-separated words each printed. */
      function perFile(files: string[], body: string): string[][] {
        const script = `for f do printf '\\036'; ( ${body} ); done`;
        const r = spawnSync('sh', ['-c', script, 'sh', ...files], {
          env,
          cwd: suite.scratch,
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        assert.equal(r.error, undefined);
        tally.shellRuns += files.length;
        return r.stdout
          .split('\u001e')
          .slice(1)
          .map((record) => record.split('\0').slice(0, -1));
      }

      it('sh -n accepts every script', function () {
        const files = scripted.flatMap(({ lsb, openrc }) => [lsb, openrc]);
        const r = spawnSync('sh', ['-c', 'for f do sh -n "$f" 2>&1 || printf "^ %s\\n" "$f"; done', 'sh', ...files], {
          encoding: 'utf8',
          maxBuffer: 16 * 1024 * 1024,
        });
        tally.shellRuns += files.length;
        assert.equal(r.stdout, '', 'sh -n complained');
      });

      it('OpenRC: description, command, command_args (as openrc-run evals it), pidfile and command_user read back exactly', function () {
        const words = perFile(
          scripted.map((s) => s.openrc),
          `. "$f"; printf '%s\\0' "$description" "$command" "$pidfile" "\${command_user-}"; eval "set -- $command_args"; printf '%s\\0' "$#" "$@"`,
        );
        const problems: string[] = [];
        scripted.forEach(({ c }, i) => {
          const a = c.answers!;
          const pid = `/run/${a.name}/${a.name}.pid`;
          const want = [
            a.description,
            a.nodePath,
            pid,
            a.runAs === 'dynamic' ? '' : a.runAs,
            '4',
            `${a.installPath}/${ENTRY}`,
            '--daemonize',
            '--pid-file',
            pid,
          ];
          if (JSON.stringify(words[i]) !== JSON.stringify(want)) problems.push(`${repro(c)}: sh read ${JSON.stringify(words[i])}`);
          else tally.readbacks++;
        });
        noProblems(problems, 'OpenRC scripts did not hold the literal');
      });

      it('LSB: the variables the script runs with (read at its exit) are the literals', function () {
        const words = perFile(
          scripted.map((s) => s.lsb),
          `trap 'printf "%s\\0" "$NAME" "$DAEMON" "$DAEMON_DIR" "$PIDFILE" "\${DAEMON_USER-}" "$ENTRY"' EXIT; set -- probe; . "$f" 2>/dev/null`,
        );
        const problems: string[] = [];
        scripted.forEach(({ c }, i) => {
          const a = c.answers!;
          const want = [
            a.name,
            a.nodePath,
            a.installPath,
            `/run/${a.name}/${a.name}.pid`,
            a.runAs === 'dynamic' ? '' : a.runAs,
            `${a.installPath}/${ENTRY}`,
          ];
          if (JSON.stringify(words[i]) !== JSON.stringify(want)) problems.push(`${repro(c)}: sh read ${JSON.stringify(words[i])}`);
          else tally.readbacks++;
        });
        noProblems(problems, 'LSB scripts did not hold the literal');
      });

      it('LSB start and status: the node path and install path reach the messages and start-stop-daemon as given; nothing runs', function () {
        const pidFile = path.join(suite.scratch, 'lsb.pid');
        // [case, file, action, DAEMON from the environment or '' for the script's own].
        const runs: Array<[Case, string, string, string]> = [];
        for (const { c, lsb } of scripted) {
          if (c.field.flag === 'node') runs.push([c, lsb, 'start', ''], [c, lsb, 'status', '']);
          else if (c.field.flag === 'install-path') runs.push([c, lsb, 'start', process.execPath]);
          else if (['run-as', 'description', 'name'].includes(c.field.flag)) runs.push([c, lsb, 'status', '']);
        }
        const script = `while [ $# -gt 0 ]; do f=$1 action=$2 daemon=$3; shift 3; printf '\\036'; if [ -n "$daemon" ]; then DAEMON=$daemon sh "$f" "$action" 2>&1; else sh "$f" "$action" 2>&1; fi; printf '\\037%s' "$?"; done`;
        const r = spawnSync('sh', ['-c', script, 'sh', ...runs.flatMap(([, f, action, daemon]) => [f, action, daemon])], {
          env: { ...env, PIDFILE: pidFile },
          cwd: suite.scratch,
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        tally.shellRuns += runs.length;
        const records = r.stdout
          .split('\u001e')
          .slice(1)
          .map((record) => {
            const at = record.lastIndexOf('\u001f');
            return { out: record.slice(0, at), code: Number(record.slice(at + 1)) };
          });
        assert.equal(records.length, runs.length);
        const problems: string[] = [];
        runs.forEach(([c, , action], i) => {
          const a = c.answers!;
          const { out, code } = records[i]!;
          let ok: boolean;
          if (c.field.flag === 'node' && action === 'start') {
            // Not executable (there is no such file): start says so, naming it. ('/' is a directory, so -x passes: then the entry point is missing.)
            ok =
              code === 5 &&
              (out === `${a.name}: ${a.nodePath} is not an executable (set DAEMON to node's path)\n` ||
                out.startsWith(`${a.name}: /opt/ga/${ENTRY} is missing`));
          } else if (c.field.flag === 'node') {
            // start-stop-daemon --status --exec <node>: it got the path as one argument.
            ok = (code === 4 && out.includes(`unable to stat ${a.nodePath} (`)) || (code === 3 && out === `${a.name} is not running\n`);
          } else if (c.field.flag === 'install-path') {
            ok =
              code === 5 && out.startsWith(`${a.name}: ${a.installPath}/${ENTRY} is missing (run \`npm run build\` in ${a.installPath})`);
          } else {
            ok = code === 3 && out === `${a.name} is not running\n`;
          }
          if (!ok) problems.push(`${repro(c)}: sh init.d/${a.name} ${action} said (${code}) ${js(out)}`);
          else if (c.field.flag === 'node' || c.field.flag === 'install-path') tally.readbacks++;
        });
        noProblems(problems, 'init script runs went wrong');
      });

      it("systemd's own LSB reader (systemd-sysv-generator) takes each description as the literal Short-Description", function () {
        requireOrSkip(this, existsSync(SYSV_GENERATOR), `systemd's LSB reader is not installed at ${SYSV_GENERATOR}`);
        const { chosen, out, result: r } = runSysvGenerator(scripted, suite.scratch);
        assert.equal(r.status, 0, r.stderr);
        const problems: string[] = [];
        for (const { c } of chosen) {
          const file = path.join(out, `lsb${c.k}.service`);
          if (!existsSync(file)) {
            problems.push(`${repro(c)}: no unit generated`);
            continue;
          }
          const unit = parseUnit(readFileSync(file, 'utf8'));
          const description = unit.get('Unit')?.find(([k]) => k === 'Description')?.[1];
          // It escapes '%' itself; the manager reads the unit back in the read-back suite.
          if (description !== `LSB: ${c.answers!.description.replaceAll('%', '%%')}`)
            problems.push(`${repro(c)}: Description=${js(description ?? '(none)')}`);
        }
        noProblems(problems, 'LSB headers were read back wrong');
      });
    });
  },
  ({ tally }) => assert.ok(tally.shellRuns > 0),
);
