// Reliability: hostile generator answers (test/helpers/hostile-answers.ts) read
// back by a real systemd user manager: every accepted case's units load, show
// the literal, carry nothing their twin with harmless values lacks, and pass
// systemd-analyze verify; hostile node and install paths reach a real process
// as given; the install script's drop-in names a hostile directory literally.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { parseAnswers, type Answers } from '../../generators/lib/answers.js';
import { generate } from '../helpers/generator.js';
import {
  BASE,
  type Case,
  describeHostileAnswers,
  ENTRY,
  impossiblePath,
  js,
  noProblems,
  renderInitScripts,
  repro,
  runSysvGenerator,
  SYSV_GENERATOR,
  twin,
  units,
} from '../helpers/hostile-answers.js';
import { CORPUS, type HostileInput } from '../helpers/hostile-corpus.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import { cunescape, normalise, parseExecStart, type Props, RUNTIME, showMany, spawnedArg } from '../helpers/systemctl-show.js';
import { useUserManager } from '../helpers/units.js';

describeHostileAnswers(
  'manager-readback',
  (suite) => {
    const { cases, accepted, tally } = suite;

    describe('a real systemd user manager reads every accepted value back as the literal', function () {
      this.timeout(240_000);
      const m = useUserManager();
      const BATCH = 300;
      const batches: Case[][] = [];
      for (let i = 0; i < accepted.length; i += BATCH) batches.push(accepted.slice(i, i + BATCH));

      interface Loaded {
        c: Case;
        /** The unit names to show (a template's instance, <name>@i). */
        service: string;
        socket?: string;
        /** The files written, by scope (systemd-analyze verify is run per scope). */
        files: string[];
        scope: 'system' | 'user';
        /** The case's twin (harmless values), loaded beside it. */
        twin: Loaded | null;
      }

      /** Writes one case's units; returns what to show. */
      function write(c: Case, answers: Answers, scope: 'system' | 'user', twinOf: Loaded | null): Loaded {
        const dir = m().unitDir;
        const u = units(answers, scope);
        const files = [path.join(dir, u.serviceName)];
        writeFileSync(files[0]!, u.service);
        if (u.socket) {
          files.push(path.join(dir, u.socketName!));
          writeFileSync(files[1]!, u.socket);
        }
        const instance = u.template ? `${answers.name}@i` : answers.name;
        return { c, service: `${instance}.service`, ...(u.socket ? { socket: `${instance}.socket` } : {}), files, scope, twin: twinOf };
      }

      /** Empties the unit directory, writes the cases' units and their twins' (one per distinct twin), and reloads once. */
      async function load(batch: Case[]): Promise<{ loaded: Loaded[]; twins: Loaded[] }> {
        const dir = m().unitDir;
        for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
        const twins = new Map<string, Loaded>();
        const loaded: Loaded[] = [];
        for (const c of batch) {
          const scope = c.field.scope ?? 'user';
          const key = JSON.stringify({ ...twin(c, ''), scope });
          let t = twins.get(key);
          if (!t) {
            t = write(c, twin(c, `gt${c.k}`), scope, null);
            twins.set(key, t);
          }
          loaded.push(write(c, c.answers!, scope, t));
        }
        await m().daemonReload();
        return { loaded, twins: [...twins.values()] };
      }

      /** `systemd-analyze verify` over every file, per scope: silent, except that a --node path that is not there is named as such. */
      function verify(loaded: Loaded[]): string[] {
        const problems: string[] = [];
        const byFile = new Map<string, Loaded>();
        for (const l of loaded) for (const f of l.files) byFile.set(path.basename(f), l);
        for (const scope of ['user', 'system'] as const) {
          const files = loaded.filter((l) => l.scope === scope).flatMap((l) => l.files);
          if (files.length === 0) continue;
          const r = spawnSync('systemd-analyze', [...(scope === 'user' ? ['--user'] : []), '--man=no', 'verify', ...files], {
            encoding: 'utf8',
            maxBuffer: 64 * 1024 * 1024,
            env: { ...process.env, XDG_RUNTIME_DIR: m().runtimeDir, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
          });
          for (const line of `${r.stdout}${r.stderr}`.split('\n').filter(Boolean)) {
            const unit =
              /^(?:\/\S*\/)?([^/\s:]+\.(?:service|socket))(?::\d+)?: /.exec(line)?.[1] ??
              /^Unit (\S+\.(?:service|socket)) /.exec(line)?.[1];
            const l = unit ? byFile.get(unit) : undefined;
            const a = l?.c.answers;
            // systemd names the path as it stored it ('$' doubled); its log lines are cut at 2 KiB.
            const stored = a?.nodePath.replaceAll('$', '$$$$') ?? '';
            const notThere =
              a &&
              l.c.field.flag === 'node' &&
              (line.startsWith(`${unit}: Command ${stored} is not executable: `) ||
                (line.length >= 2000 && `${unit}: Command ${stored}`.startsWith(line.slice(0, 1000))));
            if (!notThere)
              problems.push(l ? `${repro(l.c)}: systemd-analyze verify: ${line}` : `systemd-analyze verify (${scope}): ${line}`);
          }
        }
        return problems;
      }

      batches.forEach((batch, index) => {
        it(`batch ${index + 1}/${batches.length}: ${batch.length} cases load, read back literally, carry nothing their twin lacks, verify silently`, async function () {
          const problems: string[] = [];
          const { loaded, twins } = await load(batch);
          const all = [...twins, ...loaded];
          const services = await showMany(
            m(),
            all.map((l) => l.service),
          );
          const withSocket = all.filter((l) => l.socket);
          const socketProps = await showMany(
            m(),
            withSocket.map((l) => l.socket!),
          );
          const props = new Map(
            all.map((l, i) => [
              l,
              { service: services[i]!, ...(l.socket ? { socket: socketProps[withSocket.indexOf(l)]! } : {}) } as {
                service: Props;
                socket?: Props;
              },
            ]),
          );

          for (const l of loaded) {
            const c = l.c;
            const got = props.get(l)!;
            for (const [kind, p] of Object.entries(got))
              if (p.LoadState !== 'loaded') problems.push(`${repro(c)}: ${kind} LoadState=${p.LoadState} (${p.LoadError ?? ''})`);
            // Nothing injected: every property is the twin's, except the value's own.
            const theirs = props.get(l.twin!)!;
            for (const kind of ['service', 'socket'] as const) {
              const mine = got[kind];
              const other = theirs[kind];
              if (!mine || !other || mine.LoadState !== 'loaded') continue;
              const a = normalise(mine, c.answers!.name);
              const b = normalise(other, `gt${l.twin!.c.k}`);
              const allowed = new Set(c.field.differs ?? []);
              const differing = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
                (p) => a[p] !== b[p] && !allowed.has(p) && !RUNTIME.test(p),
              );
              if (differing.length > 0) {
                problems.push(
                  `${repro(c)}: ${kind} differs from its twin in ${differing.map((p) => `${p}=${js(a[p] ?? '(unset)')} (twin: ${js(b[p] ?? '(unset)')})`).join(', ')}`,
                );
                tally.escapes++;
              }
            }
            // The literal, read back.
            for (const e of c.field.expect?.(c.input.value, c.answers!) ?? []) {
              const p = got[e.unit];
              if (!p) {
                problems.push(`${repro(c)}: no ${e.unit} unit`);
                continue;
              }
              if ('exec' in e) {
                const exec = parseExecStart(p.ExecStart ?? '');
                const argv = exec?.argv.map(spawnedArg);
                if (!exec || exec.path !== e.exec.path || JSON.stringify(argv) !== JSON.stringify(e.exec.argv)) {
                  problems.push(
                    `${repro(c)}: systemd would execute ${js(exec?.path ?? '(none)')} with argv ${JSON.stringify(argv ?? null)}, not ${js(e.exec.path)} ${JSON.stringify(e.exec.argv)}`,
                  );
                } else tally.readbacks++;
              } else if (e.property === 'Listen') {
                const shown = (p.Listen ?? '').split('\n').filter(Boolean).map(cunescape);
                if (!shown.includes(e.value)) problems.push(`${repro(c)}: ${e.unit} Listen=${JSON.stringify(shown)}, not ${js(e.value)}`);
                else tally.readbacks++;
              } else if (p[e.property] !== e.value) {
                problems.push(`${repro(c)}: ${e.unit} ${e.property}=${js(p[e.property] ?? '(unset)')}, not ${js(e.value)}`);
              } else tally.readbacks++;
            }
          }
          problems.push(...verify(loaded));
          noProblems(problems, 'problems in the manager');
        });
      });

      it('the units systemd-sysv-generator made from the LSB headers: the manager reads Description=LSB: <the literal>', async function () {
        requireOrSkip(this, existsSync(SYSV_GENERATOR), `systemd's LSB reader is not installed at ${SYSV_GENERATOR}`);
        // The units it makes from the scripts, as in generator-answers-init-scripts.test.ts.
        const { out } = runSysvGenerator(renderInitScripts(accepted, suite.scratch), suite.scratch);
        const dir = m().unitDir;
        for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
        const chosen = accepted.filter((c) => c.field.flag === 'description' && existsSync(path.join(out, `lsb${c.k}.service`)));
        for (const c of chosen) writeFileSync(path.join(dir, `lsb${c.k}.service`), readFileSync(path.join(out, `lsb${c.k}.service`)));
        await m().daemonReload();
        const shown = await showMany(
          m(),
          chosen.map((c) => `lsb${c.k}.service`),
          ['Description', 'LoadState'],
        );
        const problems: string[] = [];
        chosen.forEach((c, i) => {
          if (shown[i]!.Description !== `LSB: ${c.answers!.description}` || shown[i]!.LoadState !== 'loaded')
            problems.push(`${repro(c)}: ${JSON.stringify(shown[i])}`);
          else tally.readbacks++;
        });
        assert.ok(chosen.length > 100, `${chosen.length} LSB units`);
        noProblems(problems, 'LSB descriptions read back wrong');
      });

      it('run for real: a hostile --node and --install-path reach the process as argv[0], argv[1] and its working directory', async function () {
        const share = m().shareDir;
        const dir = m().unitDir;
        for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
        const main = 'console.log(JSON.stringify({ argv0: process.argv0, entry: process.argv[1], cwd: process.cwd() }));\n';
        const inputs = CORPUS.filter((input) =>
          ['install-path /opt/<v>', 'node /usr/bin/<v>'].every((id) =>
            cases.some((c) => c.field.id === id && c.input === input && c.answers),
          ),
        );
        const runs: Array<{ input: HostileInput; answers: Answers; log: string; unit: string }> = [];
        const problems: string[] = [];
        inputs.forEach((input, j) => {
          const node = path.join(share, `x${j}`, 'bin', input.value);
          const project = path.join(share, `x${j}`, 'p', input.value);
          const raw = {
            ...BASE,
            name: `gx${j}`,
            nodePath: m().inside(node),
            installPath: m().inside(project),
            type: 'exec',
            sockets: 'none',
            watchdogSec: '0',
            hardening: 'none',
            restart: 'no',
            initSystems: 'systemd',
          };
          let answers: Answers;
          try {
            answers = parseAnswers(raw);
          } catch (error) {
            problems.push(`${js(input.value)}: refused under the manager's share dir: ${(error as Error).message}`);
            return;
          }
          if (impossiblePath(node) || impossiblePath(project)) return; // No such file can exist; the batches report what systemd makes of it.
          mkdirSync(path.dirname(node), { recursive: true });
          symlinkSync(process.execPath, node);
          mkdirSync(path.join(project, 'dist'), { recursive: true });
          writeFileSync(path.join(project, ENTRY), main);
          const log = path.join(share, `x${j}`, 'out.log');
          writeFileSync(log, '');
          runs.push({ input, answers, log, unit: `gx${j}.service` });
        });
        for (const run of runs) {
          const u = units(run.answers, 'user');
          await m().writeUnit(u.serviceName, u.service);
          await m().writeUnit(
            `${u.serviceName}.d/log.conf`,
            `[Service]\nStandardOutput=append:${m().inside(run.log)}\nStandardError=append:${m().inside(run.log)}\n`,
          );
        }
        await m().daemonReload();
        for (let i = 0; i < runs.length; i += 50) await m().systemctl('start', '--', ...runs.slice(i, i + 50).map((r) => r.unit));
        const deadline = Date.now() + 30_000;
        let pending = runs;
        while (pending.length > 0 && Date.now() < deadline) {
          const states = await showMany(
            m(),
            pending.map((r) => r.unit),
            ['ActiveState'],
          );
          pending = pending.filter(
            (r, i) =>
              states[i]!.ActiveState === 'activating' || (states[i]!.ActiveState === 'active' && readFileSync(r.log, 'utf8') === ''),
          );
          if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const final = await showMany(
          m(),
          runs.map((r) => r.unit),
          ['Result', 'ExecMainStatus'],
        );
        runs.forEach((run, i) => {
          const text = readFileSync(run.log, 'utf8');
          const want = { argv0: run.answers.nodePath, entry: `${run.answers.installPath}/${ENTRY}`, cwd: run.answers.installPath };
          let got: unknown;
          try {
            got = JSON.parse(text.split('\n')[0]!);
          } catch {
            got = undefined;
          }
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            problems.push(
              `--node ${js(run.answers.nodePath)} --install-path ${js(run.answers.installPath)} [${run.input.kind}]: the process saw ${js(text.trim() || `nothing (Result=${final[i]!.Result}, ExecMainStatus=${final[i]!.ExecMainStatus})`)}`,
            );
          } else tally.readbacks += 3;
        });
        console.log(`      ran ${runs.length} services with hostile node and install paths`);
        assert.ok(runs.length >= 100);
        noProblems(problems, 'processes did not see the literal');
      });

      it("a user-scope project in a hostile directory: its install script's drop-in reaches the manager as the literal directory", async function () {
        const dir = m().unitDir;
        for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
        const kinds = new Set<string>();
        const chosen = cases.filter((c) => {
          if (
            c.field.id !== 'install-path /opt/<v>' ||
            !c.answers ||
            kinds.has(c.input.kind) ||
            impossiblePath(`${suite.scratch}/${c.input.value}`)
          )
            return false;
          kinds.add(c.input.kind);
          return true;
        });
        const problems: string[] = [];
        const installed: Array<{ c: Case; project: string; unit: string }> = [];
        for (const [j, c] of chosen.entries()) {
          const parent = path.join(suite.scratch, `hc${j}`, c.input.value);
          const name = `gh${j}`;
          let project: string;
          try {
            project = (
              await generate({ scope: 'user', skipInstall: true, nodePath: process.execPath, systemdVersion: '252' }, name, parent)
            ).dir;
          } catch (error) {
            problems.push(`${repro(c)} as the project's parent directory: the generator failed: ${(error as Error).message}`);
            continue;
          }
          tally.generatorRuns++;
          const r = spawnSync(process.execPath, [path.join(project, 'scripts', 'install-units.mjs'), '--unit-dir', dir, '--no-reload'], {
            cwd: project,
            encoding: 'utf8',
          });
          tally.shellRuns++;
          if (r.status !== 0) {
            problems.push(`${repro(c)} as the project's parent directory: install-units failed: ${r.stderr}`);
            continue;
          }
          installed.push({ c, project, unit: `${name}.service` });
        }
        await m().daemonReload();
        const shown = await showMany(
          m(),
          installed.map((i) => i.unit),
          ['WorkingDirectory', 'ExecStart', 'LoadState', 'DropInPaths'],
        );
        installed.forEach(({ c, project }, i) => {
          const p = shown[i]!;
          const exec = parseExecStart(p.ExecStart ?? '');
          const argv = exec?.argv.map(spawnedArg);
          if (
            p.LoadState !== 'loaded' ||
            p.WorkingDirectory !== project ||
            exec?.path !== process.execPath ||
            JSON.stringify(argv) !== JSON.stringify([process.execPath, `${project}/${ENTRY}`])
          ) {
            problems.push(`${repro(c)} as the project's parent directory: ${JSON.stringify(p)}`);
          } else tally.readbacks += 2;
        });
        assert.ok(chosen.length >= 10, `${chosen.length} hostile directories`);
        noProblems(problems, 'install-script drop-ins went wrong');
      });
    });
  },
  ({ accepted, tally }) => {
    assert.ok(
      tally.readbacks >= accepted.length,
      `every accepted case read back at least once (${tally.readbacks} read-backs for ${accepted.length})`,
    );
    assert.ok(tally.shellRuns > 0);
  },
);
