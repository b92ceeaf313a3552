// Without its addon (no prebuild for this platform, no compiler at install),
// the runtime must still import, say so in capabilities(), and degrade every
// call to its documented no-op instead of crashing the daemon.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const runtimeDir = dirname(require.resolve('sd-daemon-runtime/package.json'));

describe('runtime without its native addon', function () {
  let dir: string;

  before(function () {
    // A copy of the built package with no prebuilds/ and no ../native build:
    // what a user on an unsupported platform gets.
    dir = mkdtempSync(join(tmpdir(), 'sd-no-native-'));
    const pkg = join(dir, 'node_modules', 'sd-daemon-runtime');
    mkdirSync(pkg, { recursive: true });
    cpSync(join(runtimeDir, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(runtimeDir, 'package.json'), join(pkg, 'package.json'));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  function probe(code: string, env: NodeJS.ProcessEnv = {}): unknown {
    const script = `import * as r from 'sd-daemon-runtime';\n${code}`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    });
    return JSON.parse(out);
  }

  it('imports, and capabilities() reports native: false with every path tried', function () {
    const caps = probe('console.log(JSON.stringify(r.capabilities()))') as { native: boolean; nativeError: string; notify: boolean };
    assert.equal(caps.native, false);
    assert.equal(caps.notify, false);
    assert.match(caps.nativeError, /native addon not loaded; tried:/);
    assert.match(caps.nativeError, /prebuilds/);
    assert.match(caps.nativeError, /sd_daemon_native\.node \(not built\)/);
  });

  it('notify() with a manager present returns no-native, naming the socket', function () {
    const result = probe('const x = r.notify("READY=1"); console.log(JSON.stringify({ ...x, error: x.error?.message }))', {
      NOTIFY_SOCKET: '/run/systemd/notify',
    }) as { sent: boolean; reason: string; error: string };
    assert.equal(result.sent, false);
    assert.equal(result.reason, 'no-native');
    assert.match(result.error, /cannot notify \/run\/systemd\/notify/);
  });

  it('notify() without a manager is still just disabled', function () {
    assert.deepEqual(probe('console.log(JSON.stringify(r.notify("READY=1")))'), { sent: false, reason: 'disabled' });
  });

  it('barrier() resolves with the no-op result instead of hanging', function () {
    const result = probe('const x = await r.barrier({ timeoutMs: 100 }); console.log(JSON.stringify({ sent: x.sent, reason: x.reason }))', {
      NOTIFY_SOCKET: '@sd-no-native-test',
    });
    assert.deepEqual(result, { sent: false, reason: 'no-native' });
  });

  it('programmer errors still throw (the addon is not needed to validate)', function () {
    const result = probe('try { r.notify({ STATUS: "a\\nb" }); console.log("null") } catch (e) { console.log(JSON.stringify(e.constructor.name)) }');
    assert.equal(result, 'TypeError');
  });
});
