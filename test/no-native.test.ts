// Degraded mode: the runtime without its addon (no prebuild for the platform,
// no compiler at install, or SD_DAEMON_RUNTIME_NATIVE=off). It must still
// import, say so in capabilities(), keep everything that needs no syscall Node
// lacks working, and make every call that needs the addon fail loudly (a
// result that says why, one line on stderr, or a throw naming the addon),
// never crash a daemon and never pass in silence.
//
// Each row runs in a child process, for both ways the addon goes missing:
// a copy of the package with no prebuilds/ and no ../native build (what a
// user on an unsupported platform gets), and the real package with the switch
// on. The two must behave alike. The test process keeps its addon, to bind
// real datagram sockets that prove nothing was delivered.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { fdOf } from 'sd-daemon-runtime';

import { loopbackAdoption, spawnChild, useScratch, type SpawnOptions } from './helpers/activation.js';
import { addon } from './helpers/native.js';

const require = createRequire(import.meta.url);
const runtimeDir = dirname(require.resolve('sd-daemon-runtime/package.json'));

// Runs the code in argv[2] with `r` (the runtime) and `t` (its testing
// subpath) in scope; `print(x)` writes one JSON line.
const PROBE = `import * as r from 'sd-daemon-runtime';
const print = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
const AsyncFunction = (async () => {}).constructor;
await new AsyncFunction('r', 'testing', 'print', process.argv[2])(r, () => import('sd-daemon-runtime/testing'), print);
`;

interface Way {
  title: string;
  /** A directory whose node_modules holds the runtime, with probe.mjs in it. */
  dir: string;
  env: Record<string, string>;
  /** What capabilities().nativeError says. */
  nativeError: RegExp;
  /** The cause in the runtime's stderr line. */
  cause: RegExp;
  /** The fix in that line. */
  fix: RegExp;
}

function stagePackage(withAddon: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'sd-no-native-'));
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  if (withAddon) {
    symlinkSync(realpathSync(runtimeDir), join(modules, 'sd-daemon-runtime'));
  } else {
    // The built package with no prebuilds/ and no native/ build: what a user
    // on an unsupported platform gets when the install-time build was skipped.
    const pkg = join(modules, 'sd-daemon-runtime');
    mkdirSync(pkg);
    cpSync(join(runtimeDir, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(runtimeDir, 'package.json'), join(pkg, 'package.json'));
  }
  writeFileSync(join(dir, 'probe.mjs'), PROBE);
  return dir;
}

describe('runtime without its native addon', function () {
  const ways: Way[] = [];

  before(function () {
    ways.push(
      {
        title: 'no prebuild and no build',
        dir: stagePackage(false),
        env: {},
        nativeError:
          /^sd-daemon-runtime: native addon not loaded; tried:\n.*prebuilds.*\n(.|\n)*sd_daemon_native\.node \(not built\)\nto build it for linux-\w+: node .*scripts\/install\.js$/,
        cause: /the native addon did not load \(tried .*prebuilds.*; .*sd_daemon_native\.node \(not built\)\)/,
        fix: /fix: install sd-daemon-runtime where it ships a prebuild or can build its addon/,
      },
      {
        title: 'SD_DAEMON_RUNTIME_NATIVE=off',
        dir: stagePackage(true),
        env: { SD_DAEMON_RUNTIME_NATIVE: 'off' },
        nativeError:
          /^sd-daemon-runtime: native addon not loaded: SD_DAEMON_RUNTIME_NATIVE=off switched off; unset SD_DAEMON_RUNTIME_NATIVE to load it \(it is a testing aid\)$/,
        cause: /the native addon did not load \(SD_DAEMON_RUNTIME_NATIVE=off switched off\)/,
        fix: /fix: unset SD_DAEMON_RUNTIME_NATIVE in the service's environment/,
      },
    );
  });

  after(function () {
    for (const way of ways.splice(0)) rmSync(way.dir, { recursive: true, force: true });
  });

  interface Probed {
    out: any[];
    stderr: string;
    /** The runtime's own lines on stderr. */
    said: string[];
    status: number | null;
  }

  function probe(way: Way, code: string, env: Record<string, string> = {}): Probed {
    const child = spawnSync(process.execPath, [join(way.dir, 'probe.mjs'), code], {
      cwd: way.dir,
      env: { PATH: process.env.PATH, ...way.env, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return {
      out: child.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
      stderr: child.stderr,
      said: child.stderr.split('\n').filter((line) => line.includes('sd-daemon-runtime:')),
      status: child.status,
    };
  }

  /** probe(), expecting a clean exit. */
  function run(way: Way, code: string, env: Record<string, string> = {}): Probed {
    const result = probe(way, code, env);
    assert.equal(result.status, 0, result.stderr);
    return result;
  }

  /** The probe started the way a manager starts a socket-activated daemon, with `fds` at 3.. */
  async function activated(way: Way, code: string, options: SpawnOptions): Promise<{ out: any; stderr: string }> {
    const child = spawnChild([join(way.dir, 'probe.mjs'), code], { ...options, env: { ...way.env, ...options.env } });
    const out = await child.next();
    const { stderr } = await child.exited;
    return { out, stderr };
  }

  /** A datagram socket bound by the test process (which has the addon), to show nothing arrives. */
  function receiver(dir: string): { path: string; empty(): boolean; close(): void } {
    const path = join(dir, 'notify');
    const fd = addon().bindDgram(Buffer.from(`${path}\0`));
    assert.ok(fd >= 0, `bind ${path}: errno ${-fd}`);
    return {
      path,
      empty: () => addon().recvmsg(fd, 8192) === -11 /* EAGAIN: nothing queued */,
      close: () => closeSync(fd),
    };
  }

  for (const index of [0, 1]) {
    describe(`without the addon: ${index === 0 ? 'no prebuild and no build' : 'SD_DAEMON_RUNTIME_NATIVE=off'}`, function () {
      this.timeout(60_000);
      const scratch = useScratch('sdnn');
      const way = (): Way => ways[index]!;

      describe('what still works', function () {
        it('imports, and capabilities() says native: false with the reason', function () {
          const { out } = run(way(), 'print(r.capabilities())');
          const caps = out[0];
          assert.deepEqual(
            { ...caps, nativeError: undefined },
            { native: false, nativeError: undefined, notify: false, fdPassing: false, vsock: false, platform: 'linux' },
          );
          assert.match(caps.nativeError, way().nativeError);
        });

        it('socket activation: listenFds() parses LISTEN_*, checks each fd is open (fstat) and keeps the names; kinds are unknown', async function () {
          const server = await new Promise<net.Server>((resolve) => {
            const s = net.createServer().listen(0, '127.0.0.1', () => resolve(s));
          });
          scratch.defer(() => server.close());
          const devNull = openSync('/dev/null', 'r');
          scratch.defer(() => closeSync(devNull));
          const { out, stderr } = await activated(way(), 'print(r.listenFds())', { fds: [fdOf(server), devNull], names: 'web:null' });
          assert.deepEqual(out, {
            status: 'activated',
            fds: [
              { fd: 3, name: 'web', kind: 'unknown', listening: false },
              { fd: 4, name: 'null', kind: 'unknown', listening: false },
            ],
          });
          assert.equal(stderr, '');
          // A count past every open fd is still found, by fstat (fds just past the passed ones are Node's own).
          const closed = await activated(
            way(),
            'const x = r.listenFds(); print({ status: x.status, code: x.error?.code, message: x.error?.message })',
            {
              fds: [devNull],
              env: { LISTEN_FDS: '100000' },
            },
          );
          assert.equal(closed.out.status, 'malformed');
          assert.equal(closed.out.code, 'EBADF');
          assert.match(closed.out.message, /^LISTEN_FDS=100000 but fd \d+ is not open$/);
        });

        it('adoption by name: listen() puts the fd named "web" into an HTTP server, which serves', async function () {
          const server = await new Promise<net.Server>((resolve) => {
            const s = net.createServer().listen(0, '127.0.0.1', () => resolve(s));
          });
          const port = (server.address() as net.AddressInfo).port;
          const devNull = openSync('/dev/null', 'r');
          scratch.defer(() => closeSync(devNull));
          const code = `const http = await import('node:http');
            const s = http.createServer((q, a) => { a.setHeader('connection', 'close'); a.end('served ' + process.pid); s.close(); });
            const adoption = await r.listen(s, { name: 'web' });
            print(adoption);`;
          const child = spawnChild([join(way().dir, 'probe.mjs'), code], {
            fds: [devNull, fdOf(server)],
            names: 'other:web',
            env: way().env,
          });
          server.close(); // only the child answers now
          const adoption = await child.next();
          assert.deepEqual(adoption, loopbackAdoption('web', 4, 'unknown', port));
          const body = await new Promise<string>((resolve, reject) => {
            const client = net.connect(port, '127.0.0.1', () => client.end('GET / HTTP/1.0\r\n\r\n'));
            let text = '';
            client.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            client.on('end', () => resolve(text));
            client.on('error', reject);
          });
          assert.match(body, new RegExp(`served ${child.pid}$`));
          assert.equal((await child.exited).code, 0);
        });

        it('adoption by name: bindDgram() puts the UDP fd named "dns" into a dgram socket, which answers', async function () {
          const udp = dgram.createSocket('udp4');
          await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
          const port = udp.address().port;
          const code = `const dgram = await import('node:dgram');
            const s = dgram.createSocket('udp4');
            s.on('message', (m, from) => s.send('echo:' + m, from.port, from.address, () => s.close()));
            print(await r.bindDgram(s, { name: 'dns' }));`;
          const child = spawnChild([join(way().dir, 'probe.mjs'), code], { fds: [fdOf(udp)], names: 'dns', env: way().env });
          udp.close(); // only the child answers now
          const adoption = await child.next();
          assert.deepEqual(adoption, loopbackAdoption('dns', 3, 'unknown', port));
          const client = dgram.createSocket('udp4');
          scratch.defer(() => client.close());
          const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())));
          client.send('ping', port, '127.0.0.1');
          assert.equal(await reply, 'echo:ping');
          assert.equal((await child.exited).code, 0);
        });

        it('logging: "<N>" on every line, one record per call', function () {
          const { stderr } = run(way(), `const log = r.createLogger({ prefix: true }); log.err('a\\nb'); log.info('c'); log.flush();`);
          assert.equal(stderr, '<3>a\n<3>b\n<6>c\n');
        });

        it('exit codes: the table and its names', function () {
          const { out } = run(
            way(),
            `print([r.ExitCode.UNAVAILABLE, r.ExitCode.CONFIG, r.describeExitCode(226), r.parseExitCode('SOFTWARE')])`,
          );
          assert.deepEqual(out[0], [69, 78, '226/NAMESPACE', 70]);
        });

        it('watchdog configuration: watchdogEnabled() parses WATCHDOG_USEC and WATCHDOG_PID', function () {
          const { out } = run(
            way(),
            `const s = (env) => { const x = r.watchdogEnabled({ env }); return { ...x, usec: x.usec?.toString(), error: x.error?.message }; };
             print([s({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: String(process.pid) }), s({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '1' }), s({ WATCHDOG_USEC: '0' }), s({})]);`,
          );
          assert.deepEqual(out[0], [
            { enabled: true, usec: '2000000', timeoutMs: 2000 },
            { enabled: false, reason: 'other-process' },
            { enabled: false, reason: 'invalid', error: 'WATCHDOG_USEC=0 is zero; no watchdog can run on it' },
            { enabled: false, reason: 'disabled' },
          ]);
        });

        it('no manager: notify() is disabled, and nothing is said', function () {
          const { out, stderr } = run(way(), `print(r.notify('READY=1')); print(await r.barrier({ timeoutMs: 100 }))`);
          assert.deepEqual(out, [
            { sent: false, reason: 'disabled' },
            { sent: false, reason: 'disabled' },
          ]);
          assert.equal(stderr, '');
        });

        it('programmer errors still throw (validation needs no addon)', function () {
          const { out } = run(
            way(),
            `try { r.notify({ STATUS: 'a\\nb' }); print(null) } catch (e) { print([e.constructor.name, e.message]) }`,
          );
          assert.deepEqual(out[0], ['TypeError', 'notify: the value of STATUS contains a newline, which would start a new field']);
        });
      });

      describe('what fails loudly', function () {
        it('notify(), ready(), status(), storeFds() with a manager present: no-native, nothing delivered, one <3> line naming cause, socket and fix', function () {
          const manager = receiver(scratch.dir);
          scratch.defer(() => manager.close());
          const { out, said } = run(
            way(),
            `const show = (x) => ({ sent: x.sent, reason: x.reason, socket: x.socket, error: x.error?.message.split('\\n')[0] });
             print(show(r.ready({ status: 'Serving' })));
             print(show(r.status('still here')));
             print(show(r.storeFds('web', [0])));
             print(show(r.watchdogPing()));`,
            { NOTIFY_SOCKET: manager.path },
          );
          for (const result of out) {
            assert.deepEqual({ ...result, error: undefined }, { sent: false, reason: 'no-native', socket: manager.path, error: undefined });
            assert.match(result.error, new RegExp(`^cannot notify ${manager.path}: sd-daemon-runtime: native addon not loaded`));
          }
          assert.ok(manager.empty(), 'nothing reached the manager');
          assert.equal(said.length, 1, said.join('\n'));
          assert.ok(
            said[0]!.startsWith(
              `<3>sd-daemon-runtime: cannot tell the service manager (NOTIFY_SOCKET=${manager.path}) READY=1 STATUS=Serving: `,
            ),
            said[0],
          );
          assert.match(said[0]!, way().cause);
          assert.match(said[0]!, way().fix);
        });

        it('barrier(): resolves with no-native at once instead of waiting for its timeout, and says so', function () {
          const manager = receiver(scratch.dir);
          scratch.defer(() => manager.close());
          const { out, said } = run(
            way(),
            `const t = Date.now(); const x = await r.barrier({ timeoutMs: 20000 }); print({ sent: x.sent, reason: x.reason, ms: Date.now() - t })`,
            {
              NOTIFY_SOCKET: manager.path,
            },
          );
          assert.equal(out[0].reason, 'no-native');
          assert.ok(out[0].ms < 5000, `took ${out[0].ms} ms`);
          assert.equal(said.length, 1);
          assert.match(said[0]!, /cannot tell the service manager \(NOTIFY_SOCKET=\S+\) BARRIER=1: the native addon did not load/);
        });

        it('the watchdog keep-alive: runs, but every ping fails; said once, not once per ping', function () {
          const manager = receiver(scratch.dir);
          scratch.defer(() => manager.close());
          const { out, said } = run(
            way(),
            `const w = r.startWatchdog({ fraction: 0.1 }); await new Promise((ok) => setTimeout(ok, 600)); w.stop(); print({ running: w.status.enabled, timeoutMs: w.timeoutMs })`,
            { NOTIFY_SOCKET: manager.path, WATCHDOG_USEC: '200000' },
          );
          assert.deepEqual(out[0], { running: true, timeoutMs: 200 });
          assert.ok(manager.empty(), 'no ping reached the manager');
          assert.equal(said.length, 1, said.join('\n'));
          assert.match(
            said[0]!,
            /^<3>sd-daemon-runtime: cannot tell the service manager \(NOTIFY_SOCKET=\S+\) WATCHDOG=1: the native addon did not load/,
          );
        });

        it('daemonize(): throws DaemonizeError NO_NATIVE, exit code 69, naming the addon', function () {
          const { out } = run(
            way(),
            `try { await r.daemonize(); print(null) } catch (e) { print({ name: e.name, code: e.code, exitCode: e.exitCode, message: e.message }) }`,
          );
          assert.equal(out[0].code, 'NO_NATIVE');
          assert.equal(out[0].exitCode, 69);
          assert.match(out[0].message, /cannot daemonize: sd-daemon-runtime: native addon not loaded/);
        });

        it('the fake service manager (sd-daemon-runtime/testing): create() throws, naming what it needs and why it is missing', function () {
          const { out } = run(
            way(),
            `try { await (await testing()).FakeServiceManager.create(); print(null) } catch (e) { print(e.message) }`,
          );
          assert.match(
            out[0],
            /^FakeServiceManager needs the sd-daemon-runtime native addon \(recvmsg with SO_PASSCRED.*\), and it is not loaded: sd-daemon-runtime: native addon not loaded/,
          );
        });

        it('inspectFd(): kind unknown for any open fd, EBADF still thrown for a closed one', function () {
          const { out } = run(way(), `print(r.inspectFd(0)); try { r.inspectFd(999) } catch (e) { print(e.code) }`);
          assert.deepEqual(out, [{ fd: 0, kind: 'unknown', listening: false }, 'EBADF']);
        });
      });
    });
  }
});
