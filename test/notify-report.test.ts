// Never silent (issue 12): with NOTIFY_SOCKET set, a notification that cannot
// be delivered is said on stderr once per cause, as one "<3>" line naming the
// message, the socket, the cause and the fix, while notify() keeps returning
// the same result object. Each row makes the failure for real (a missing
// path, a socket nobody is bound to, a stream socket, a directory the sender
// may not search, a queue nobody reads, the addon switched off) in a child
// process, whose stderr is the thing under test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

import type { NativeBinding } from '../runtime/dist/native.js';
import { nativeBinding } from '../runtime/dist/native.js';

import { fixtures } from './helpers/activation.js';
import { requireOrSkip } from './helpers/prerequisites.js';

interface Outcome {
  sent: boolean;
  reason?: string;
  code: string | null;
  error: string | null;
}

interface Run {
  results: Outcome[];
  stderr: string;
  /** The runtime's own lines on stderr. */
  said: string[];
  ms: number;
}

type Step = { state: string; socket?: string | null };

function run(steps: Step[], env: Record<string, string> = {}, uid?: number): Run {
  const started = Date.now();
  const child = spawnSync(process.execPath, [join(fixtures, 'notify-report.mjs'), JSON.stringify(steps)], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 60_000,
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  assert.equal(child.status, 0, `fixture failed: ${child.error?.message ?? ''}\n${child.stderr}`);
  return {
    results: child.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Outcome),
    stderr: child.stderr,
    said: child.stderr.split('\n').filter((line) => line.includes('sd-daemon-runtime:')),
    ms: Date.now() - started,
  };
}

/** The addon in this (the test) process, for what Node cannot make: AF_UNIX datagram sockets. */
function addon(): NativeBinding {
  const native = nativeBinding();
  assert.ok(native, 'these tests bind datagram sockets with the addon; run test/no-native.test.ts for life without it');
  return native;
}

/** A bound datagram socket at `path` that never reads; close() releases it (the file stays). */
function bindAt(path: string): { close(): void } {
  const fd = addon().bindDgram(Buffer.from(`${path}\0`));
  assert.ok(fd >= 0, `bind ${path}: errno ${-fd}`);
  return { close: () => closeSync(fd) };
}

describe('notify(): a manager that cannot be told is said once per cause on stderr', function () {
  this.timeout(60_000);
  let dir: string;
  const cleanups: Array<() => void> = [];

  beforeEach(function () {
    dir = mkdtempSync('/tmp/sdnr-');
  });

  afterEach(function () {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const MESSAGES: Step[] = [{ state: 'READY=1\nSTATUS=Serving' }, { state: 'STATUS=still here' }, { state: 'WATCHDOG=1' }];

  interface Row {
    title: string;
    /** Makes the failure; returns NOTIFY_SOCKET and extra environment. */
    setup: (
      context: Mocha.Context,
    ) =>
      | { socket: string; env?: Record<string, string>; uid?: number }
      | Promise<{ socket: string; env?: Record<string, string>; uid?: number }>;
    reason: string;
    code: string | null;
    cause: RegExp;
    fix: RegExp;
    /** Sends per run (an EAGAIN send waits a second each). */
    steps?: number;
  }

  const rows: Row[] = [
    {
      title: 'the addon switched off (SD_DAEMON_RUNTIME_NATIVE=off)',
      setup: () => ({ socket: join(dir, 'notify'), env: { SD_DAEMON_RUNTIME_NATIVE: 'off' } }),
      reason: 'no-native',
      code: null,
      cause: /the native addon did not load \(SD_DAEMON_RUNTIME_NATIVE=off switched off\)/,
      fix: /fix: unset SD_DAEMON_RUNTIME_NATIVE in the service's environment/,
    },
    {
      title: 'no socket at the path (ENOENT)',
      setup: () => ({ socket: join(dir, 'gone', 'notify') }),
      reason: 'send-failed',
      code: 'ENOENT',
      cause: /ENOENT from sendmsg: no socket exists at that path/,
      fix: /fix: the manager's socket is hidden from the service or gone/,
    },
    {
      title: 'a socket file nobody is bound to any more (ECONNREFUSED)',
      setup: () => {
        const path = join(dir, 'notify');
        bindAt(path).close();
        return { socket: path };
      },
      reason: 'send-failed',
      code: 'ECONNREFUSED',
      cause: /ECONNREFUSED from sendmsg: nothing is bound there \(a socket left behind by a manager that exited, or not a socket at all\)/,
      fix: /fix: the service manager that started this process has exited/,
    },
    {
      title: 'a stream socket, not a datagram one (EPROTOTYPE)',
      setup: async () => {
        const path = join(dir, 'stream.sock');
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(path, resolve));
        cleanups.push(() => server.close());
        return { socket: path };
      },
      reason: 'send-failed',
      code: 'EPROTOTYPE',
      cause: /EPROTOTYPE from sendmsg: the socket there is not a datagram socket/,
      fix: /fix: point NOTIFY_SOCKET at the service manager's notify socket/,
    },
    {
      title: 'a directory the sender may not search (EACCES)',
      setup: (context) => {
        requireOrSkip(context, process.getuid?.() === 0, 'not root: making a sender that lacks permission needs a uid switch');
        // A bound socket in a 0700 root directory; the sender runs as nobody.
        const locked = join(dir, 'locked');
        mkdirSync(locked, { mode: 0o700 });
        const receiver = bindAt(join(locked, 'notify'));
        cleanups.push(() => receiver.close());
        return { socket: join(locked, 'notify'), uid: 65534 };
      },
      reason: 'send-failed',
      code: 'EACCES',
      cause: /EACCES from sendmsg: permission denied on the socket or a directory above it/,
      fix: /fix: the service's user \(User=, DynamicUser=\) must be able to write to the socket/,
    },
    {
      title: 'a manager that stopped reading (EAGAIN after a second)',
      setup: () => {
        const path = join(dir, 'stuck');
        const native = addon();
        const fd = native.bindDgram(Buffer.from(`${path}\0`));
        assert.ok(fd >= 0);
        cleanups.push(() => closeSync(fd));
        // Fill its queue (net.unix.max_dgram_qlen deep) from here; the child's send then finds it full.
        const sunPath = Buffer.from(`${path}\0`);
        let n = 0;
        while (native.sendmsg(sunPath, Buffer.from('STATUS=fill'), null, null, 50) > 0 && n < 100_000) n++;
        assert.ok(n > 0 && n < 100_000, `filled with ${n} datagrams`);
        return { socket: path };
      },
      reason: 'send-failed',
      code: 'EAGAIN',
      cause: /EAGAIN from sendmsg: the manager did not take the message within 1000 ms/,
      fix: /fix: look at the service manager's health/,
      steps: 2,
    },
    {
      title: 'an address that is not one (relative path)',
      setup: () => ({ socket: 'run/notify' }),
      reason: 'invalid-address',
      code: null,
      cause: /NOTIFY_SOCKET="run\/notify"/,
      fix: /fix: set NOTIFY_SOCKET to an absolute path or an @abstract name/,
    },
    {
      title: 'a vsock address',
      setup: () => ({ socket: 'vsock:2:9999' }),
      reason: 'unsupported',
      code: null,
      cause: /vsock notification sockets are not supported/,
      fix: /fix: run under a manager that offers a unix notify socket/,
    },
  ];

  for (const row of rows) {
    it(`${row.title}: ${row.reason}${row.code ? ` ${row.code}` : ''}, one <3> line for ${row.steps ?? 3} sends`, async function () {
      const { socket, env, uid } = await row.setup(this);
      const steps = MESSAGES.slice(0, row.steps ?? 3).map((step, i) => (i === 0 ? { ...step, socket } : step));
      const result = run(steps, env, uid);
      // The result objects are what they always were.
      assert.equal(result.results.length, steps.length);
      for (const outcome of result.results) {
        assert.equal(outcome.sent, false);
        assert.equal(outcome.reason, row.reason);
        assert.equal(outcome.code, row.code);
        assert.ok(
          outcome.error?.includes(socket) || outcome.error?.includes(JSON.stringify(socket)),
          `the error names the socket: ${outcome.error}`,
        );
      }
      // And the runtime said so exactly once, naming the first message, the socket, the cause and the fix.
      assert.equal(result.said.length, 1, result.stderr);
      const line = result.said[0]!;
      assert.ok(
        line.startsWith(`<3>sd-daemon-runtime: cannot tell the service manager (NOTIFY_SOCKET=${socket}) READY=1 STATUS=Serving: `),
        line,
      );
      assert.match(line, row.cause);
      assert.match(line, row.fix);
    });
  }

  it('says nothing when no manager asked (NOTIFY_SOCKET unset or empty) or every message arrives', function () {
    const receiver = bindAt(join(dir, 'notify'));
    cleanups.push(() => receiver.close());
    const result = run([
      { state: 'READY=1', socket: null },
      { state: 'READY=1', socket: '' },
      { state: 'READY=1', socket: join(dir, 'notify') },
      { state: 'WATCHDOG=1' },
    ]);
    assert.deepEqual(
      result.results.map((r) => [r.sent, r.reason ?? null]),
      [
        [false, 'disabled'],
        [false, 'disabled'],
        [true, null],
        [true, null],
      ],
    );
    assert.equal(result.stderr, '');
  });

  it('a second cause gets its own line; the first delivery after failures is said once (<5>); a new loss is said again', function () {
    const good = join(dir, 'notify');
    const receiver = bindAt(good);
    cleanups.push(() => receiver.close());
    const gone = join(dir, 'gone');
    const result = run([
      { state: 'READY=1', socket: gone },
      { state: 'WATCHDOG=1' },
      { state: 'WATCHDOG=1', socket: 'relative' },
      { state: 'WATCHDOG=1' },
      { state: 'WATCHDOG=1', socket: good },
      { state: 'WATCHDOG=1' },
      { state: 'STATUS=lost again', socket: gone },
    ]);
    assert.deepEqual(
      result.results.map((r) => r.sent),
      [false, false, false, false, true, true, false],
    );
    assert.equal(result.said.length, 4, result.stderr);
    assert.match(
      result.said[0]!,
      new RegExp(`^<3>sd-daemon-runtime: cannot tell the service manager \\(NOTIFY_SOCKET=${gone}\\) READY=1: ENOENT`),
    );
    assert.match(
      result.said[1]!,
      /^<3>sd-daemon-runtime: cannot tell the service manager \(NOTIFY_SOCKET=relative\) WATCHDOG=1: NOTIFY_SOCKET="relative"/,
    );
    assert.equal(
      result.said[2],
      `<5>sd-daemon-runtime: the service manager (NOTIFY_SOCKET=${good}) is told again: WATCHDOG=1 went through after 4 lost notification(s)`,
    );
    assert.match(
      result.said[3]!,
      new RegExp(`^<3>sd-daemon-runtime: cannot tell the service manager \\(NOTIFY_SOCKET=${gone}\\) STATUS=lost again: ENOENT`),
    );
  });
});
