// scaffold: wall time of `yo sd-daemon x --yes --skip-install` (the repo's
// own yo finding this generator through node_modules, as users run it), and
// of the generated project's `npm test` (build, typecheck the tests, run the
// daemon's lifecycle under the fake service manager) after an offline
// install. Recorded, no target and no anchor yet.
import { chmodSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';

import { cleanEnv, REPO, scratch, timedRun } from '../lib/proc.mjs';
import { buildEntry } from '../lib/result.mjs';
import { alternate, BenchFailure, fmt } from '../lib/stats.mjs';

const YO = path.join(REPO, 'node_modules', '.bin', 'yo');

export default function scaffoldCases({ quick }) {
  return [
    {
      id: 'scaffold',
      title: 'yo sd-daemon, and the generated project\'s npm test',
      async run() {
        // yo refuses to run as root and drops to an unprivileged user, who
        // needs to reach, and write, its home and working directory.
        const root = path.join(scratch(), 'scaffold');
        const home = path.join(root, 'home');
        mkdirSync(home, { recursive: true });
        for (const dir of [scratch(), root, home]) chmodSync(dir, dir === scratch() ? 0o755 : 0o777);
        const yoEnv = cleanEnv({ HOME: home, NO_UPDATE_NOTIFIER: '1' });
        // The test run's own npm cache (test/helpers/npm.ts), filled on first use:
        // nothing depends on what the user's cache holds.
        const npmEnv = cleanEnv({ npm_config_cache: path.join(REPO, '.tmp', 'npm-cache'), npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' });

        let serial = 0;
        let project;
        const generate = () => {
          // A fresh working directory per run: a second run in the same one would be a re-generation.
          const work = path.join(root, `work-${++serial}`);
          mkdirSync(path.join(work, 'node_modules'), { recursive: true });
          chmodSync(work, 0o777);
          symlinkSync(REPO, path.join(work, 'node_modules', 'generator-sd-daemon'));
          const { ms } = timedRun(YO, ['sd-daemon', 'x', '--yes', '--skip-install', '--runtime', 'bundled'], { cwd: work, env: yoEnv });
          const dir = path.join(work, 'x');
          if (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'systemd', 'x.service'))) {
            throw new BenchFailure(`yo exited 0 but ${dir} has no package.json or systemd/x.service`);
          }
          return { ms, dir };
        };

        // npm test runs in the project of the first timed generation,
        // installed once (the runtime is the generator's bundled tarball,
        // TypeScript comes through the cache above), not timed.
        let installMs = null;
        const npmTest = () => {
          if (!project) throw new BenchFailure('no generated project to test');
          if (installMs === null) installMs = timedRun('npm', ['install'], { cwd: project, env: npmEnv, timeout: 300_000 }).ms;
          const { ms, stdout } = timedRun('npm', ['test'], { cwd: project, env: npmEnv, timeout: 300_000 });
          if (!/# fail 0/.test(stdout) || !/# pass [1-9]/.test(stdout)) throw new BenchFailure(`npm test passed no tests: ${stdout.slice(-800)}`);
          return ms;
        };
        const yo = () => {
          const { ms, dir } = generate();
          project ??= dir;
          return ms;
        };
        // No anchor to alternate with: yo runs, then npm test runs (a single
        // one in --quick: it is the slowest thing the bench does).
        const yoRuns = await alternate({ variants: [{ name: 'yo', run: yo }], warmup: 0, runs: quick ? 1 : 5 });
        const testRuns = await alternate({ variants: [{ name: 'npm-test', run: npmTest }], warmup: 0, runs: quick ? 1 : 5 });
        const samples = { ...yoRuns.samples, ...testRuns.samples };
        const failures = { ...yoRuns.failures, ...testRuns.failures };
        return buildEntry({
          id: 'scaffold',
          title: 'yo sd-daemon, and the generated project\'s npm test',
          unit: 'ms',
          samples,
          failures,
          ours: 'yo',
          anchor: null,
          anchorName: null,
          extras: [{ name: 'generated project: npm test', variant: 'npm-test', compare: false }],
          target: null,
          notes: [`yo sd-daemon x --yes --skip-install --runtime bundled (default answers otherwise), then npm test in it; npm install (bundled runtime, warm cache) took ${fmt(installMs)} ms (once, not repeated)`],
        });
      },
    },
  ];
}
