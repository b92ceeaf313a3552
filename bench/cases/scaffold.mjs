// scaffold: how long creating a project takes, no install.
//
// - ours: `create-sd-daemon demo --yes --skip-install`, the program
//   `npm init sd-daemon demo -- --yes --skip-install` runs (npm resolves
//   `npm init <x>` to the bin of create-<x> and runs it: its own cost, the
//   same for every create-* package, is left out so no registry is asked).
// - anchor: create-vite (`npm init vite` runs it), installed under bench/,
//   `create-vite demo --template vanilla-ts --no-interactive --no-immediate`.
// - extra: a `yo` baseline generator, generator-license (installed under
//   bench/), `yo license` with every answer given, run by the repository's
//   yo; and ours through yo (`yo sd-daemon x --yes --skip-install`).
// - the generated project's `npm test` (after one untimed install; the one
//   yo generated with the bundled runtime, which needs no registry), recorded.
//
// Instructions: every process each command starts (npm's, yo's, git's),
// summed (callgrind --trace-children=yes), node with the counting flags.
// yo runs as an ordinary user (see YO_USER): its home, working and callgrind
// directories are world-writable.
import { chmodSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';

import { countAll, counted, NODE_FLAGS } from '../lib/callgrind.mjs';
import { BENCH, cleanEnv, NODE, REPO, scratch, timedRun } from '../lib/proc.mjs';
import { buildEntry } from '../lib/result.mjs';
import { alternate, BenchFailure, fmt } from '../lib/stats.mjs';

const YO = path.join(REPO, 'node_modules', '.bin', 'yo');
const CREATE_SD_DAEMON = path.join(REPO, 'create', 'index.js');
const CREATE_VITE = path.join(BENCH, 'node_modules', 'create-vite', 'index.js');
const LICENSE = path.join(BENCH, 'node_modules', 'generator-license');

// yo will not work as root: started as root, it setuid()s to SUDO_UID, or
// 1000 without it, first thing (yo's root-check, downgrade-root). The bench
// starts it as that user instead, timed and counted alike, so both measure
// the same work. Under callgrind this is what makes the count possible:
// callgrind creates the output file as the user the process starts as
// (mode 0600) and could not reopen it after the drop (see counted()).
const YO_USER =
  process.getuid?.() === 0
    ? {
        uid: Number.parseInt(process.env.SUDO_UID, 10) || 1000,
        ...(Number.parseInt(process.env.SUDO_GID, 10) > 0 ? { gid: Number.parseInt(process.env.SUDO_GID, 10) } : {}),
      }
    : {};
const user = (name) => (name.startsWith('yo-') ? YO_USER : {});

export default function scaffoldCases({ quick, scaffoldCounts }) {
  return [
    {
      id: 'scaffold',
      title: 'scaffold a project, no install',
      async run() {
        const root = path.join(scratch(), 'scaffold');
        const home = path.join(root, 'home');
        mkdirSync(home, { recursive: true });
        for (const dir of [scratch(), root, home]) chmodSync(dir, dir === scratch() ? 0o755 : 0o777);
        const env = cleanEnv({ HOME: home, NO_UPDATE_NOTIFIER: '1' });
        // The test run's own npm cache (test/helpers/npm.ts), filled on first use:
        // nothing depends on what the user's cache holds.
        const npmEnv = cleanEnv({
          npm_config_cache: path.join(REPO, '.tmp', 'npm-cache'),
          npm_config_prefer_offline: 'true',
          npm_config_audit: 'false',
          npm_config_fund: 'false',
          npm_config_update_notifier: 'false',
        });

        let serial = 0;
        /** A fresh, world-writable working directory (a second run in the same one would be a re-generation). */
        const workDir = (links = {}) => {
          const work = path.join(root, `work-${++serial}`);
          mkdirSync(path.join(work, 'node_modules'), { recursive: true });
          chmodSync(work, 0o777);
          chmodSync(path.join(work, 'node_modules'), 0o777);
          for (const [name, target] of Object.entries(links)) symlinkSync(target, path.join(work, 'node_modules', name));
          return work;
        };
        const expect = (dir, files, who) => {
          for (const file of files)
            if (!existsSync(path.join(dir, file))) throw new BenchFailure(`${who} exited 0 but ${dir} has no ${file}`);
        };

        // Each command: [command, args, cwd links, files it must create (relative to cwd)].
        const commands = {
          ours: () => [NODE, [CREATE_SD_DAEMON, 'demo', '--yes', '--skip-install'], {}, ['demo/package.json', 'demo/systemd/demo.service']],
          vite: () => [
            NODE,
            [CREATE_VITE, 'demo', '--template', 'vanilla-ts', '--no-interactive', '--no-immediate'],
            {},
            ['demo/package.json', 'demo/index.html'],
          ],
          'yo-license': () => [
            YO,
            [
              'license',
              '--name',
              'Bench',
              '--email',
              'bench@example.org',
              '--website',
              'https://example.org',
              '--license',
              'MIT',
              '--year',
              '2026',
            ],
            { 'generator-license': LICENSE },
            ['LICENSE'],
          ],
          // --runtime bundled: the project depends on the generator's tarball of
          // the runtime, so its npm test below needs no registry.
          'yo-ours': () => [
            YO,
            ['sd-daemon', 'x', '--yes', '--skip-install', '--runtime', 'bundled'],
            { 'generator-sd-daemon': REPO },
            ['x/package.json', 'x/systemd/x.service'],
          ],
        };
        let project;
        const timed = (name) => () => {
          const [command, args, links, files] = commands[name]();
          const cwd = workDir(links);
          const { ms } = timedRun(command, args, { cwd, env, ...user(name), stdio: ['ignore', 'pipe', 'pipe'] });
          expect(cwd, files, name);
          if (name === 'yo-ours') project ??= path.join(cwd, 'x');
          return ms;
        };
        // Counted: node with the counting flags; yo is a node script, so it is run as `node <flags> yo`.
        const count = (name) => async () => {
          const [command, args, links, files] = commands[name]();
          const cwd = workDir(links);
          const argv = command === NODE ? [...NODE_FLAGS, ...args] : [...NODE_FLAGS, command, ...args];
          const result = await counted(NODE, argv, { children: true, cwd, env, ...user(name) });
          expect(cwd, files, `${name} (counted)`);
          return result;
        };

        let installMs = null;
        const npmTest = () => {
          if (!project) throw new BenchFailure('no generated project to test');
          if (installMs === null) installMs = timedRun('npm', ['install'], { cwd: project, env: npmEnv, timeout: 300_000 }).ms;
          const { ms, stdout } = timedRun('npm', ['test'], { cwd: project, env: npmEnv, timeout: 300_000 });
          if (!/# fail 0/.test(stdout) || !/# pass [1-9]/.test(stdout))
            throw new BenchFailure(`npm test passed no tests: ${stdout.slice(-800)}`);
          return ms;
        };

        const { samples, failures } = await alternate({
          variants: Object.keys(commands).map((name) => ({ name, run: timed(name) })),
          warmup: 1,
          runs: quick ? 2 : 5,
        });
        const testRuns = await alternate({ variants: [{ name: 'npm-test', run: npmTest }], warmup: 0, runs: quick ? 1 : 3 });
        // One count each, all at once: a whole generator under callgrind
        // takes minutes of CPU (10-30 minutes of wall time on a shared machine).
        const counts = !scaffoldCounts
          ? null
          : await countAll({
              variants: Object.keys(commands).map((name) => ({ name, count: count(name) })),
              rounds: 1,
              parallel: 4,
            });
        return buildEntry({
          unit: 'ms',
          samples: { ...samples, ...testRuns.samples },
          failures: { ...failures, ...testRuns.failures },
          ours: 'ours',
          anchor: 'vite',
          anchorName: 'create-vite (npm init vite)',
          extras: [
            { name: 'yo license (yo baseline)', variant: 'yo-license' },
            { name: 'yo sd-daemon x --yes --runtime bundled (ours through yo)', variant: 'yo-ours' },
            { name: 'generated project: npm test', variant: 'npm-test', compare: false },
          ],
          target: null,
          counts,
          how: `valgrind --tool=callgrind --trace-children=yes node ${NODE_FLAGS.join(' ')} <create script>: every process it starts, summed`,
          notes: [
            ...(counts
              ? []
              : [
                  'instructions not counted in this run (opt-in: npm run bench -- --only scaffold --scaffold-counts; about half an hour on a shared 2-core machine)',
                ]),
            `ours: node create/index.js demo --yes --skip-install (what npm init sd-daemon runs; npm's own start, the same for any create-* package, left out); create-vite demo --template vanilla-ts; yo license with every answer on the command line`,
            `npm test of the project yo sd-daemon generated (bundled runtime) after npm install (warm cache, once, ${fmt(installMs)} ms, not repeated)`,
          ],
        });
      },
    },
  ];
}
