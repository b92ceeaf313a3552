// The package's entries: the lean 'sd-daemon-runtime' entry loads its
// implementation on first use, and must share it with the
// 'sd-daemon-runtime/testing' entry (one copy of every module's state), in
// both the ES-module and the CommonJS (`require` condition) form.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { FakeServiceManager } from 'sd-daemon-runtime/testing';

const repo = fileURLToPath(new URL('..', import.meta.url));
const requireDaemon = fileURLToPath(new URL('./fixtures/require-daemon.cjs', import.meta.url));

// The state: native.ts remembers its first load attempt. Through the main
// entry, with the addon switched off, capabilities() makes that attempt;
// then the switch is removed and the testing entry needs the addon. With one
// copy of native.ts it still sees the remembered "switched off"; a second
// copy would load the addon and create the manager.
const probe = (load: string) => `
  ${load}
  process.env.SD_DAEMON_RUNTIME_NATIVE = 'off';
  const before = main.capabilities();
  delete process.env.SD_DAEMON_RUNTIME_NATIVE;
  let outcome;
  try {
    const manager = await testing.FakeServiceManager.create();
    await manager.close();
    outcome = 'created';
  } catch (error) {
    outcome = error.message;
  }
  console.log(JSON.stringify({ native: before.native, outcome }));
`;

function run(args: string[]): { native: boolean; outcome: string } {
  const child = spawnSync(process.execPath, args, {
    cwd: repo,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, SD_DAEMON_RUNTIME_NATIVE: '' },
  });
  assert.equal(child.status, 0, `exit ${child.status ?? child.signal}: ${child.stderr}`);
  assert.equal(child.stderr, '', 'nothing on stderr (no ExperimentalWarning)');
  return JSON.parse(child.stdout);
}

describe('package entries', function () {
  this.timeout(60_000);

  it('ES modules: the testing entry sees state set through the main entry (one copy)', function () {
    const report = run([
      '--input-type=module',
      '-e',
      probe(`const main = await import('sd-daemon-runtime'); const testing = await import('sd-daemon-runtime/testing');`),
    ]);
    assert.equal(report.native, false);
    assert.match(report.outcome, /FakeServiceManager needs the sd-daemon-runtime native addon.*switched off/s);
  });

  it('CommonJS: the testing entry sees state set through the main entry (one copy)', function () {
    const report = run([
      '-e',
      `(async () => { ${probe(`const main = require('sd-daemon-runtime'); const testing = require('sd-daemon-runtime/testing');`)} })()`,
    ]);
    assert.equal(report.native, false);
    assert.match(report.outcome, /FakeServiceManager needs the sd-daemon-runtime native addon.*switched off/s);
  });

  it('without the switch, the same probe creates the manager (the test can fail)', function () {
    const report = run([
      '--input-type=module',
      '-e',
      probe(`const main = await import('sd-daemon-runtime'); const testing = await import('sd-daemon-runtime/testing');`).replace(
        "process.env.SD_DAEMON_RUNTIME_NATIVE = 'off';",
        '',
      ),
    ]);
    assert.equal(report.native, true);
    assert.equal(report.outcome, 'created');
  });

  it('a CommonJS daemon requires both entries without the ES-module loader, and READY=1 arrives', async function () {
    const manager = await FakeServiceManager.create();
    try {
      const service = await manager.spawn({ command: process.execPath, args: [requireDaemon], cwd: repo });
      await service.waitFor('READY=1');
      const exit = await service.exited;
      assert.equal(exit.code, 0, `stderr: ${service.stderr}`);
      assert.equal(service.stderr, '');
      assert.deepEqual(JSON.parse(service.stdout), { sent: true, testing: 'function', esm: [] });
    } finally {
      await manager.close();
    }
  });

  it('the bundled classes keep their names (ES modules and CommonJS), as stack traces and console.log show them', function () {
    const names = (load: string, args: string[]): unknown => {
      const code = `${load}
        console.log(JSON.stringify([t.FakeService.name, t.FakeServiceManager.name, m.DaemonizeError.name]));`;
      const child = spawnSync(process.execPath, [...args, '-e', code], { cwd: repo, encoding: 'utf8', timeout: 30_000 });
      assert.equal(child.status, 0, child.stderr);
      return JSON.parse(child.stdout);
    };
    const want = ['FakeService', 'FakeServiceManager', 'DaemonizeError'];
    assert.deepEqual(
      names(`const t = await import('sd-daemon-runtime/testing'); const m = await import('sd-daemon-runtime');`, ['--input-type=module']),
      want,
    );
    assert.deepEqual(names(`const t = require('sd-daemon-runtime/testing'); const m = require('sd-daemon-runtime');`, []), want);
  });

  it('the lean entry keeps classes and the error class is one across the lazy boundary', async function () {
    const main = await import('sd-daemon-runtime');
    const error = new main.DaemonizeError('DIED', 'test');
    assert.ok(error instanceof Error && error instanceof main.DaemonizeError);
    class Sub extends main.DaemonizeError {}
    assert.ok(new Sub('DIED', 'x') instanceof main.DaemonizeError);
    // daemonize(), in the implementation, rejects with the entry's class:
    // refused because a manager supervises the process (INVOCATION_ID).
    for (const [how, args] of [
      [
        'ES module',
        [
          '--input-type=module',
          '-e',
          `import { daemonize, DaemonizeError } from 'sd-daemon-runtime';
        daemonize().catch((e) => console.log(JSON.stringify({ same: e instanceof DaemonizeError, code: e.code })));`,
        ],
      ],
      [
        'CommonJS',
        [
          '-e',
          `const { daemonize, DaemonizeError } = require('sd-daemon-runtime');
        daemonize().catch((e) => console.log(JSON.stringify({ same: e instanceof DaemonizeError, code: e.code })));`,
        ],
      ],
    ] as const) {
      const child = spawnSync(process.execPath, args, {
        cwd: repo,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, INVOCATION_ID: '0123456789abcdef0123456789abcdef' },
      });
      assert.equal(child.stderr, '', how);
      assert.deepEqual(JSON.parse(child.stdout), { same: true, code: 'SUPERVISED' }, how);
    }
  });

  it('the CommonJS entry exports what the ES entry does, and its functions become the implementation after the first call', function () {
    const code = `
      const esm = Object.keys(await import('sd-daemon-runtime'));
      const cjs = require('sd-daemon-runtime');
      const { capabilities: kept } = cjs;
      const before = cjs.capabilities;
      const first = JSON.stringify(kept());
      console.log(JSON.stringify({
        esm,
        cjs: Object.keys(cjs).filter((k) => k !== '__esModule').sort(),
        esModule: cjs.__esModule,
        swapped: cjs.capabilities !== before,
        same: JSON.stringify(cjs.capabilities()) === first && JSON.stringify(kept()) === first,
      }));`;
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/'); ${code}`,
      ],
      { cwd: repo, encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(child.status, 0, child.stderr);
    const report = JSON.parse(child.stdout);
    assert.ok(report.esm.length > 50, `the ES entry's names: ${report.esm.length}`);
    assert.deepEqual(report.cjs, [...report.esm].sort());
    assert.equal(report.esModule, true);
    assert.equal(report.swapped, true, 'after the first call the property is the implementation, not the stub');
    assert.equal(report.same, true, 'the kept stub and the implementation answer alike');
  });

  it('in the daemon, daemonize() resolves with ready() already loaded (its first call does not load synchronously)', function () {
    // A synchronous first call from the ES entry loads through createRequire
    // and require(esm), about 9M instructions more than the import() the
    // daemonize() stub makes before resolving (bench daemonize-ready).
    const dir = mkdtempSync(join(tmpdir(), 'sd-entries-'));
    try {
      const pidFile = join(dir, 'daemon.pid');
      const script = `
        import * as m from 'sd-daemon-runtime';
        const stub = m.ready;
        await m.daemonize({ pidFile: ${JSON.stringify(pidFile)} });
        process.stdout.write(JSON.stringify({ stage: m.stage(), loaded: m.ready !== stub }) + '\\n');
        m.ready();
        setTimeout(() => process.exit(0), 100);`;
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([key]) => !['NOTIFY_SOCKET', 'INVOCATION_ID', 'LISTEN_FDS', 'LISTEN_PID'].includes(key)),
      );
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: repo,
        encoding: 'utf8',
        timeout: 30_000,
        env,
      });
      assert.equal(child.status, 0, child.stderr);
      assert.deepEqual(JSON.parse(child.stdout), { stage: 'daemon', loaded: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
