// Every unit the generator emits, across an option matrix, passes
// `systemd-analyze verify` with no output at all; the default system service
// scores 1.0 or lower on `systemd-analyze security`. Units are rendered by the
// same functions the generators write them with (unitContext + the templates).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { parseAnswers, type Answers } from '../../generators/lib/answers.js';
import { unitContext } from '../../generators/lib/context.js';
import { renderText } from '../../generators/lib/render.js';
import { requireOrSkip } from '../helpers/prerequisites.js';

const TYPES = ['notify', 'notify-reload', 'simple', 'exec'];
const SCOPES = ['system', 'user'];
const HARDENING = ['strict', 'baseline', 'none'];
const SOCKETS = ['tcp:127.0.0.1:8080', 'none', 'tcp:[::1]:9000,unix:/run/vt/http.sock,udp:9001', 'unix:/run/vt/api.sock'];
const RESTARTS = ['on-failure', 'always', 'on-watchdog', 'no'];

/**
 * type x scope x hardening (24), with sockets, template, watchdog, fd store
 * and restart cycling through them, plus named users, plus Type=forking
 * (no socket unit, no watchdog) for each scope and hardening level.
 */
function matrix(): Array<Record<string, string | boolean>> {
  const rows: Array<Record<string, string | boolean>> = [];
  let i = 0;
  for (const type of TYPES) {
    for (const scope of SCOPES) {
      for (const hardening of HARDENING) {
        const notify = type === 'notify' || type === 'notify-reload';
        rows.push({
          type,
          scope,
          hardening,
          sockets: SOCKETS[i % SOCKETS.length]!,
          template: i % 3 === 0,
          watchdogSec: i % 4 === 1 ? '0' : String(5 + i),
          fdStore: notify && i % 2 === 0 ? '8' : '0',
          restart: RESTARTS[i % RESTARTS.length]!,
          socketName: i % 5 === 0 ? 'api' : 'http',
        });
        i++;
      }
    }
  }
  for (const hardening of HARDENING) {
    for (const sockets of SOCKETS) rows.push({ hardening, sockets, runAs: 'www-data', template: sockets === 'none' });
  }
  i = 0;
  for (const scope of SCOPES) {
    for (const hardening of HARDENING) {
      rows.push({ type: 'forking', scope, hardening, template: i % 2 === 1, restart: RESTARTS[i % RESTARTS.length]!, ...(scope === 'system' && i === 2 ? { runAs: 'www-data' } : {}) });
      i++;
    }
  }
  return rows;
}

function analyze(args: string[], scope: string, runtimeDir: string): { code: number | null; output: string } {
  const result = spawnSync('systemd-analyze', [...(scope === 'user' ? ['--user'] : []), ...args], {
    encoding: 'utf8',
    cwd: path.dirname(runtimeDir),
    // A user-scope verify looks up the runtime directory, as a user manager would.
    env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

function writeUnits(dir: string, answers: Answers): string[] {
  const context = unitContext(answers, answers.scope === 'system' ? answers.installPath : `/home/someone/${answers.name}`);
  const files = [path.join(dir, context.serviceFile)];
  writeFileSync(files[0]!, renderText('systemd/service', context));
  if (context.hasSockets) {
    files.push(path.join(dir, context.socketFile));
    writeFileSync(files[1]!, renderText('systemd/socket', context));
  }
  return files;
}

describe('systemd-analyze on the emitted units', function () {
  this.timeout(120_000);
  let root: string;
  let runtimeDir: string;

  before(function () {
    const found = spawnSync('systemd-analyze', ['--version']).status === 0;
    requireOrSkip(this, found, 'systemd-analyze is not installed (package systemd)');
    root = mkdtempSync(path.join(tmpdir(), 'sd-verify-'));
    runtimeDir = path.join(root, 'runtime');
    mkdirSync(runtimeDir, { mode: 0o700 });
  });

  after(() => root && rmSync(root, { recursive: true, force: true }));

  const rows = matrix();

  it(`the matrix has at least 30 combinations (${rows.length})`, function () {
    assert.ok(rows.length >= 30);
  });

  rows.forEach((row, index) => {
    const title = Object.entries(row).map(([k, v]) => `${k}=${v}`).join(' ');
    it(`verify is silent: ${title}`, function () {
      // systemd 252 knows no Type=notify-reload: the generator writes notify + ExecReload= for it.
      const answers = parseAnswers({ name: `vt${index}`, systemdVersion: '252', nodePath: process.execPath, ...row });
      const dir = path.join(root, String(index));
      mkdirSync(dir);
      const files = writeUnits(dir, answers);
      const { code, output } = analyze(['verify', ...files], answers.scope, runtimeDir);
      assert.equal(output, '', `systemd-analyze verify printed:\n${output}`);
      assert.equal(code, 0);
    });
  });

  it('the default system service is exposure 1.0 or lower on systemd-analyze security', function () {
    const dir = path.join(root, 'security');
    mkdirSync(dir);
    const scores: string[] = [];
    let strict = Infinity;
    for (const hardening of HARDENING) {
      const answers = parseAnswers({ name: `security-${hardening}`, hardening, nodePath: process.execPath });
      const [service] = writeUnits(dir, answers);
      const { output } = analyze(['security', '--offline=true', service!], 'system', runtimeDir);
      const match = /Overall exposure level for \S+: ([0-9.]+) (\S+)/.exec(output);
      assert.ok(match, `no exposure line in:\n${output.slice(-500)}`);
      scores.push(`${hardening}: ${match[1]} ${match[2]}`);
      if (hardening === 'strict') strict = Number(match[1]);
    }
    console.log(`      systemd-analyze security --offline=true (default system service): ${scores.join(', ')}`);
    assert.ok(strict <= 1.0, `strict exposure ${strict}`);
  });
});
