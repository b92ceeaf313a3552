// Reliability: hostile generator answers (test/helpers/hostile-answers.ts)
// through the real generator (yeoman-test), per field and input kind: refused
// ones fail naming the option and write nothing, accepted ones write only in
// their destination, byte for byte what the fast path renders, and the
// commands the README and the install script print hold every path as one word.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { initScriptContext } from '../../generators/lib/context.js';
import { OPTIONS } from '../../generators/lib/answers.js';
import { renderText } from '../../generators/lib/render.js';
import { generate } from '../helpers/generator.js';
import { type Case, describeHostileAnswers, ENTRY, FIELDS, js, noProblems, repro, tree, units } from '../helpers/hostile-answers.js';

describeHostileAnswers(
  'generator-runs',
  (suite) => {
    const { cases, tally } = suite;

    describe('the real generator (yeoman-test): files only in the destination, the same bytes as the fast path', function () {
      this.timeout(180_000);
      /** Per field and input kind: the first accepted and the first refused input. */
      const subset: Case[] = [];
      for (const field of FIELDS) {
        const seen = new Set<string>();
        for (const c of cases.filter((c) => c.field === field)) {
          const key = `${c.input.kind}/${c.answers ? 'accepted' : 'refused'}`;
          if (seen.has(key)) continue;
          seen.add(key);
          subset.push(c);
        }
      }
      const generated: Array<{ c: Case; dir: string }> = [];

      it(`${subset.length} runs: refused ones fail naming the option and write no file; accepted ones write only under <cwd>/<name>`, async function () {
        const problems: string[] = [];
        const root = path.join(suite.scratch, 'yo');
        mkdirSync(root);
        for (const c of subset) {
          const cwd = path.join(root, `r${c.k}`);
          const options: Record<string, unknown> = { skipInstall: true };
          for (const [key, value] of Object.entries(c.raw)) {
            if (key === 'name') continue;
            const spec = OPTIONS.find((o) => o.key === key)!;
            options[spec.flag] = value;
          }
          let error: unknown;
          let dir = '';
          try {
            dir = (await generate(options, c.raw.name!, cwd)).dir;
          } catch (e) {
            error = e;
          }
          tally.generatorRuns++;
          const others = readdirSync(root).filter(
            (f) => f !== `r${c.k}` && !generated.some((g) => path.dirname(g.dir) === path.join(root, f)),
          );
          if (others.length > 0) {
            problems.push(`${repro(c)}: wrote ${others.join(', ')} beside its own directory`);
            tally.escapes++;
          }
          const files = tree(cwd);
          if (c.answers) {
            if (error) {
              problems.push(`${repro(c)}: the fast path accepts it but the generator failed: ${(error as Error).message}`);
            }
            const outside = files.filter((f) => f !== c.raw.name && !f.startsWith(`${c.raw.name}/`));
            if (error) {
              // Reported above.
            } else if (outside.length > 0) {
              // yeoman's argument parser reads a name that looks like a number as one: 010 becomes 10, 1e3 becomes 1000.
              const renamed = outside.length === files.length && files.some((f) => existsSync(path.join(cwd, f, '.yo-rc.json')));
              problems.push(
                `${repro(c)}: ${renamed ? `the project was named ${js(files.find((f) => !f.includes('/'))!)} instead` : `wrote outside ${c.raw.name}/: ${outside.slice(0, 5).join(', ')}`}`,
              );
              if (!renamed) tally.escapes++;
            } else {
              generated.push({ c, dir });
            }
          } else {
            const message = error instanceof Error ? error.message : String(error);
            const written = files.filter((f) => !lstatSync(path.join(cwd, f)).isDirectory());
            if (c.field.flag === 'template' && !error) {
              // --template is a Boolean option: yeoman turns whatever follows it into true before the answers see it (a value of its own is never emitted).
              const stored = JSON.parse(readFileSync(path.join(cwd, c.raw.name!, '.yo-rc.json'), 'utf8')) as Record<
                string,
                Record<string, unknown>
              >;
              const template = Object.values(stored)[0]?.template;
              if (template !== 'true' && template !== 'false') problems.push(`${repro(c)}: stored template=${js(String(template))}`);
            } else {
              if (!error || !message.includes(`--${c.field.flag}: `))
                problems.push(`${repro(c)}: ${error ? `failed naming another option: ${message}` : 'was accepted by the generator'}`);
              if (written.length > 0) {
                problems.push(`${repro(c)}: refused, yet wrote ${written.join(', ')}`);
                tally.escapes++;
              }
            }
          }
          if (!generated.some((g) => g.c === c)) rmSync(cwd, { recursive: true, force: true });
        }
        noProblems(problems, 'generator runs went wrong');
      });

      it('the units and init scripts on disk are byte for byte what the fast path renders', function () {
        const problems: string[] = [];
        for (const { c, dir } of generated) {
          const a = c.answers!;
          const u = units(a, a.scope);
          const serviceDir = a.initSystems.includes('systemd');
          if (serviceDir && readFileSync(path.join(dir, 'systemd', u.serviceName), 'utf8') !== u.service)
            problems.push(`${repro(c)}: systemd/${u.serviceName} differs`);
          if (serviceDir && u.socket && readFileSync(path.join(dir, 'systemd', u.socketName!), 'utf8') !== u.socket)
            problems.push(`${repro(c)}: systemd/${u.socketName} differs`);
          const context = initScriptContext(a, a.installPath);
          for (const [system, sub] of [
            ['sysv', 'init.d'],
            ['openrc', 'openrc'],
          ] as const) {
            if (!a.initSystems.includes(system)) continue;
            if (readFileSync(path.join(dir, sub, a.name), 'utf8') !== renderText(`project/${sub}/service`, context))
              problems.push(`${repro(c)}: ${sub}/${a.name} differs`);
          }
          const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { description: string };
          if (pkg.description !== a.description) problems.push(`${repro(c)}: package.json description is ${js(pkg.description)}`);
        }
        noProblems(problems, 'generated files differ from the fast path');
      });

      it('the README commands a user pastes and the install script hand every path to sh as one word', function () {
        const problems: string[] = [];
        // The README's `sudo mkdir -p <install path>`, `sudo cp -a . <install path>/` and `cd <install path>`, run with sudo and cd stubbed to print their words.
        const lines: Array<{ c: Case; line: string }> = [];
        for (const { c, dir } of generated) {
          const found = readFileSync(path.join(dir, 'README.md'), 'utf8')
            .split('\n')
            .filter((l) => /^(sudo mkdir -p |sudo cp -a \. |cd )/.test(l));
          if (c.answers!.scope === 'system' && found.length === 0) problems.push(`${repro(c)}: the README has no install commands`);
          for (const line of found) lines.push({ c, line });
        }
        /** Evals each command line in sh with sudo and cd stubbed; returns the NUL-terminated words each gave them. */
        const shWords = (commands: Array<{ line: string }>): string[] => {
          const script = `sudo() { printf '%s\\0' "$@"; }; cd() { printf '%s\\0' cd "$@"; }; for line do printf '\\036'; (eval "$line"); done`;
          const r = spawnSync('sh', ['-c', script, 'sh', ...commands.map((l) => l.line)], {
            cwd: suite.scratch,
            encoding: 'utf8',
            maxBuffer: 16 * 1024 * 1024,
          });
          tally.shellRuns += commands.length;
          return r.stdout.split('\u001e').slice(1);
        };
        const records = shWords(lines);
        lines.forEach(({ c, line }, i) => {
          const words = (records[i] ?? '').split('\0').slice(0, -1);
          const target = words.find((w) => w.startsWith('/'));
          if (target !== c.answers!.installPath && target !== `${c.answers!.installPath}/`)
            problems.push(`${repro(c)}: README line ${js(line)} gave sh the words ${JSON.stringify(words)}`);
        });
        // The install script, asked from elsewhere with --dry-run, prints the commands that copy the project to its install path.
        const printed: Array<{ c: Case; line: string }> = [];
        // Its values are the install path and the unit names: run for those fields' cases.
        for (const { c, dir } of generated.filter(
          ({ c }) =>
            ['install-path', 'name'].includes(c.field.flag) && c.answers!.initSystems.includes('systemd') && c.answers!.scope === 'system',
        )) {
          const a = c.answers!;
          const run = spawnSync(
            process.execPath,
            [path.join(dir, 'scripts', 'install-units.mjs'), '--dry-run', '--unit-dir', path.join(suite.scratch, 'unit-dir')],
            { cwd: dir, encoding: 'utf8' },
          );
          tally.shellRuns++;
          if (run.status !== 0 || !run.stdout.includes(`the units run ${a.installPath}/${ENTRY}`)) {
            problems.push(`${repro(c)}: install-units said (${run.status}) ${js(run.stdout + run.stderr)}`);
            continue;
          }
          const mkdir = run.stdout.split('\n').find((l) => l.trim().startsWith('sudo mkdir -p '));
          if (mkdir) printed.push({ c, line: mkdir.trim() });
          else problems.push(`${repro(c)}: install-units printed no mkdir command`);
        }
        const words = shWords(printed);
        printed.forEach(({ c, line }, i) => {
          if (words[i] !== `mkdir\0-p\0${c.answers!.installPath}\0`)
            problems.push(
              `${repro(c)}: install-units printed ${js(line)}, which sh reads as ${JSON.stringify((words[i] ?? '').split('\0'))}`,
            );
          else tally.readbacks++;
        });
        noProblems(problems, 'commands printed for a shell did not hold the literal');
      });
    });
  },
  () => {},
);
