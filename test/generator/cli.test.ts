// The two ways users start the generator, for real: the `yo` binary
// discovering generator-sd-daemon in node_modules, and `npm init sd-daemon`
// running the create-sd-daemon package. Both without a terminal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { OPTIONS } from '../../generators/lib/answers.js';
import { npm, npmEnv } from '../helpers/npm.js';
import { REPO } from './helpers.js';

const YO = path.join(REPO, 'node_modules', '.bin', 'yo');

describe('command line', function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'sd-cli-'));
    // yo refuses to run as root and drops to an unprivileged user: that user
    // needs a home and a working directory it can write.
    mkdirSync(path.join(dir, 'home'));
    mkdirSync(path.join(dir, 'work', 'node_modules'), { recursive: true });
    for (const d of [dir, path.join(dir, 'home'), path.join(dir, 'work')]) chmodSync(d, 0o777);
    symlinkSync(REPO, path.join(dir, 'work', 'node_modules', 'generator-sd-daemon'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  function yo(args: string[]): { code: number | null; output: string } {
    const result = spawnSync(YO, args, {
      cwd: path.join(dir, 'work'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: path.join(dir, 'home'), NO_UPDATE_NOTIFIER: '1' },
    });
    return { code: result.status, output: `${result.stdout}${result.stderr}` };
  }

  it('yo discovers sd-daemon, and --help lists every option with its default', function () {
    const { code, output } = yo(['sd-daemon', '--help']);
    assert.equal(code, 0, output);
    for (const spec of OPTIONS) {
      const line = output.split('\n').find((l) => l.includes(`--${spec.flag} `));
      assert.ok(line, `--${spec.flag} is listed`);
      assert.match(line, /\[default: .+\]/, `--${spec.flag} shows its default`);
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
  });
});
