// sd_notify(3) on the wire: notify() and its typed doors send to a real
// AF_UNIX datagram socket bound here (a path in a short temp dir, and an
// abstract '@' name), and each test asserts the exact bytes, the sender's
// credentials and the fds that arrive. Then the limits (programmer errors
// throw, nothing is sent). NOTIFY_SOCKET itself (unsetEnv, hostile values):
// test/notify-env.test.ts; the kept socket and a manager that stopped
// reading: test/notify-socket.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { closeSync, fstatSync, openSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';

import {
  barrier,
  errno,
  extendTimeout,
  mainPid,
  notify,
  ready,
  reloading,
  removeStoredFds,
  setWatchdogUsec,
  status,
  stopping,
  storeFds,
  watchdogPing,
  watchdogTrigger,
  type NotifyResult,
} from 'sd-daemon-runtime';
// The addon itself, for the receiving end Node cannot make: a datagram socket with SO_PASSCRED.
import { nativeBinding } from '../runtime/dist/native.js';
import { Receiver } from './helpers/notify-receiver.js';
import { tempDir } from './helpers/temp-dir.js';
import { requireOrSkip } from './helpers/prerequisites.js';

// The addon, as the runtime loads it on first use.
const native = nativeBinding();
const root = tempDir('sd-notify-');

for (const variant of ['path', 'abstract'] as const) {
  describe(`notify() to a ${variant} socket`, () => {
    let receiver: Receiver;
    beforeEach(() => {
      const name = `n-${process.pid}-${Math.random().toString(16).slice(2, 10)}`;
      receiver = new Receiver(variant === 'path' ? join(root, name) : `@sd-daemon-runtime-test/${name}`);
    });
    afterEach(() => receiver.close());

    it('sends the object form as KEY=VALUE lines, in order, and reports what it sent', () => {
      const result = notify({ READY: 1, STATUS: 'x' }, { env: receiver.env });
      assert.deepEqual(result, { sent: true, socket: receiver.address, bytes: 16, withCredentials: false });
      assert.equal(receiver.text(), 'READY=1\nSTATUS=x');
    });

    it('fds: null or undefined from JavaScript means none, as before the no-allocation path', () => {
      for (const fds of [null, undefined]) {
        const result = notify('READY=1', { env: receiver.env, fds: fds as unknown as number[] });
        assert.deepEqual(result, { sent: true, socket: receiver.address, bytes: 7, withCredentials: false });
        assert.equal(receiver.text(), 'READY=1');
      }
    });

    it('sends the raw form byte for byte', () => {
      notify('READY=1\nSTATUS=raw text, ünïcode', { env: receiver.env });
      const received = receiver.receive();
      assert.deepEqual(received.data, Buffer.from('READY=1\nSTATUS=raw text, ünïcode', 'utf8'));
    });

    it('renders true as 1, bigints and numbers in decimal, and skips undefined fields', () => {
      notify({ STATUS: 'a', READY: true, ERRNO: undefined, EXTEND_TIMEOUT_USEC: 12_000_000_000_000n, X_COUNT: 7 }, { env: receiver.env });
      assert.equal(receiver.text(), 'STATUS=a\nREADY=1\nEXTEND_TIMEOUT_USEC=12000000000000\nX_COUNT=7');
    });

    it('each typed door sends its exact wire text', () => {
      const env = receiver.env;
      const table: Array<[() => NotifyResult, string]> = [
        [() => ready({ env }), 'READY=1'],
        [() => ready({ env, status: 'serving' }), 'READY=1\nSTATUS=serving'],
        [() => stopping({ env, status: 'draining' }), 'STOPPING=1\nSTATUS=draining'],
        [() => status('3 clients', { env }), 'STATUS=3 clients'],
        [() => errno(5, { env, status: 'disk' }), 'STATUS=disk\nERRNO=5'],
        [() => mainPid(4242, { env }), 'MAINPID=4242'],
        [() => extendTimeout(1500, { env }), 'EXTEND_TIMEOUT_USEC=1500000'],
        [() => watchdogPing({ env }), 'WATCHDOG=1'],
        [() => watchdogTrigger({ env }), 'WATCHDOG=trigger'],
        [() => setWatchdogUsec(5_000_000n, { env }), 'WATCHDOG_USEC=5000000'],
        [() => removeStoredFds('db', { env }), 'FDSTOREREMOVE=1\nFDNAME=db'],
      ];
      for (const [send, wire] of table) {
        assert.equal(send().sent, true, wire);
        assert.equal(receiver.text(), wire);
      }
    });

    it('RELOADING=1 travels with MONOTONIC_USEC= from CLOCK_MONOTONIC, in every form', () => {
      for (const send of [
        () => reloading({ env: receiver.env }),
        () => notify({ RELOADING: 1 }, { env: receiver.env }),
        () => notify('RELOADING=1', { env: receiver.env }),
      ]) {
        const before = process.hrtime.bigint() / 1000n;
        send();
        const after = process.hrtime.bigint() / 1000n;
        const match = /^RELOADING=1\nMONOTONIC_USEC=(\d+)$/.exec(receiver.text());
        assert.ok(match, 'RELOADING=1 and MONOTONIC_USEC= in one datagram');
        const usec = BigInt(match[1]!);
        assert.ok(before <= usec && usec <= after, `${before} <= ${usec} <= ${after}`);
      }
    });

    it('a raw text sent again is checked as the first time: RELOADING=1 gets the time of each call, an invalid text still throws', () => {
      // formatState() keeps the last raw text that passed unchanged (a daemon repeats WATCHDOG=1).
      const env = receiver.env;
      // RELOADING=1 twice in a row: the second must not be taken for the first, already checked.
      for (const i of [0, 1, 2, 3]) {
        if (i === 2) {
          assert.equal(notify('WATCHDOG=1', { env }).sent, true);
          assert.equal(receiver.text(), 'WATCHDOG=1');
        }
        const before = process.hrtime.bigint() / 1000n;
        notify('RELOADING=1', { env });
        const after = process.hrtime.bigint() / 1000n;
        const match = /^RELOADING=1\nMONOTONIC_USEC=(\d+)$/.exec(receiver.text());
        assert.ok(match, 'RELOADING=1 and MONOTONIC_USEC= in one datagram');
        const usec = BigInt(match[1]!);
        assert.ok(before <= usec && usec <= after, `call ${i}: ${before} <= ${usec} <= ${after}`);
      }
      assert.equal(notify('FDSTOREREMOVE=1\nFDNAME=db', { env }).sent, true);
      assert.equal(receiver.text(), 'FDSTOREREMOVE=1\nFDNAME=db');
      assert.throws(() => notify('FDSTOREREMOVE=1\nFDNAME=d:b', { env }), /FDNAME "d:b" is invalid/);
      assert.equal(notify('FDSTOREREMOVE=1\nFDNAME=db', { env }).sent, true);
      assert.equal(receiver.text(), 'FDSTOREREMOVE=1\nFDNAME=db');
      receiver.assertEmpty();
    });

    it('counts bytes, not characters, at the 4096 limit: 3-byte characters pass at 4096 bytes and fail at 4097', () => {
      // Only a text of more than 4096 / 3 characters is counted (a UTF-16 unit is at most 3 bytes):
      // these sit on both sides of that line.
      const env = receiver.env;
      const euro = '\u20ac'; // 3 bytes in UTF-8
      const accepted = [`STATUS=${euro.repeat(1363)}`, `STATUS=${euro.repeat(1362)}xxx`, `STATUS=${'\ud800'.repeat(1363)}`];
      for (const text of accepted) {
        assert.equal(Buffer.byteLength(text), 4096);
        assert.equal(notify(text, { env }).sent, true);
        assert.deepEqual(receiver.receive().data, Buffer.from(text, 'utf8'));
      }
      const short = `STATUS=${euro.repeat(1358)}`; // 1365 characters (4095 / 3), 4081 bytes: not counted, and under the limit
      assert.equal(notify(short, { env }).sent, true);
      assert.equal(receiver.text(), short);
      for (const text of [`STATUS=${euro.repeat(1363)}x`, `STATUS=${'\ud800'.repeat(1363)}x`, `STATUS=${'\u{1f600}'.repeat(1022)}xx`]) {
        assert.equal(Buffer.byteLength(text), 4097);
        assert.throws(() => notify(text, { env }), /the message is 4097 bytes; systemd drops notifications over 4096 bytes/);
      }
      receiver.assertEmpty();
    });

    it('the kernel names us as the sender: pid, uid, gid', () => {
      notify('READY=1', { env: receiver.env });
      const received = receiver.receive();
      assert.equal(received.pid, process.pid);
      assert.equal(received.uid, process.getuid!());
      assert.equal(received.gid, process.getgid!());
    });

    it('passes fds: the receiver gets new descriptors for the same open files', async () => {
      const file = join(root, `file-${variant}`);
      writeFileSync(file, 'x');
      const fd = openSync(file, 'r');
      const handle = await open(file, 'r');
      try {
        const result = storeFds('files', [fd, handle], { env: receiver.env, poll: false });
        assert.equal(result.sent, true);
        const received = receiver.receive();
        assert.equal(received.data.toString(), 'FDSTORE=1\nFDNAME=files\nFDPOLL=0');
        assert.equal(received.fds.length, 2);
        for (const got of received.fds) {
          assert.notEqual(got, fd);
          assert.equal(fstatSync(got).ino, fstatSync(fd).ino);
          assert.equal(fstatSync(got).dev, fstatSync(fd).dev);
          closeSync(got);
        }
      } finally {
        closeSync(fd);
        await handle.close();
      }
    });

    it('passes the fds behind net.Server, net.Socket and dgram.Socket objects', async () => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      await once(client, 'connect');
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
      try {
        assert.equal(storeFds('objects', [server, client, udp], { env: receiver.env }).sent, true);
        const received = receiver.receive();
        assert.equal(received.fds.length, 3);
        // Each received fd is the same socket: same local port as its source.
        const ports = received.fds.map((fd) => {
          const info = native!.socketInfo(fd);
          closeSync(fd);
          return typeof info === 'number' ? info : info.port;
        });
        assert.deepEqual(ports, [(server.address() as net.AddressInfo).port, client.localPort, udp.address().port]);
      } finally {
        client.destroy();
        server.close();
        udp.close();
      }
    });

    it('refuses an object that owns no fd yet, before sending anything', () => {
      assert.throws(() => storeFds('idle', [net.createServer()], { env: receiver.env }), /no open file descriptor/);
      receiver.assertEmpty();
    });

    // Abstract only: an unprivileged euid could not open the path socket in our 0700 temp dir.
    if (variant === 'abstract')
      it('the manager sees the real uid when the effective uid differs (the kernel reports real ids; libsystemd attaches them by hand)', async function () {
        requireOrSkip(this, process.getuid!() === 0, 'only root can set its effective uid apart from its real uid');
        // A child that keeps uid 0 but drops its euid: the manager checks real ids.
        const script = `
        import { notify } from 'sd-daemon-runtime';
        process.seteuid(65534);
        const result = notify('READY=1', { env: { NOTIFY_SOCKET: ${JSON.stringify(receiver.address)} } });
        console.log(JSON.stringify({ sent: result.sent, withCredentials: result.withCredentials }));`;
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        await once(child, 'exit');
        assert.deepEqual(JSON.parse(out), { sent: true, withCredentials: false });
        const received = receiver.receive();
        assert.deepEqual([received.pid, received.uid], [child.pid, 0]);
      });

    it('passes 253 fds (SCM_MAX_FD) in one message', () => {
      const fd = openSync('/dev/null', 'r');
      try {
        assert.equal(notify('FDSTORE=1', { env: receiver.env, fds: Array(253).fill(fd) }).sent, true);
        const received = receiver.receive();
        assert.equal(received.fds.length, 253);
        assert.equal(received.controlTruncated, false);
        for (const got of received.fds) closeSync(got);
      } finally {
        closeSync(fd);
      }
    });

    it('sends exactly 4096 bytes, the most systemd reads', () => {
      const text = `STATUS=${'s'.repeat(4096 - 7)}`;
      assert.equal(notify(text, { env: receiver.env }).sent, true);
      assert.equal(receiver.text(), text);
    });

    it('pid: speaks for another process with SCM_CREDENTIALS when privileged (sd_pid_notify)', async () => {
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
      try {
        await once(child, 'spawn');
        const result = notify('READY=1', { env: receiver.env, pid: child.pid! });
        assert.equal(result.sent, true);
        const received = receiver.receive();
        if (process.getuid!() === 0) {
          // CAP_SYS_ADMIN lets the kernel accept a foreign pid in the credentials.
          assert.deepEqual([result.sent && result.withCredentials, received.pid], [true, child.pid]);
        } else {
          // Refused (EPERM), so notify() sent again as itself, as libsystemd does.
          assert.deepEqual([result.sent && result.withCredentials, received.pid], [false, process.pid]);
        }
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('pid: a process that no longer exists cannot be spoken for; the message goes out as ours', async () => {
      const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
      const result = notify('READY=1', { env: receiver.env, pid: child.pid! });
      assert.deepEqual(result, { sent: true, socket: receiver.address, bytes: 7, withCredentials: false });
      assert.equal(receiver.receive().pid, process.pid);
    });

    it('barrier() resolves once the receiver closes the BARRIER=1 fd', async () => {
      const waiting = barrier({ env: receiver.env, timeoutMs: 10_000 });
      const received = receiver.receive();
      assert.equal(received.data.toString(), 'BARRIER=1');
      assert.equal(received.fds.length, 1);
      assert.equal(fstatSync(received.fds[0]!).isFIFO(), true);
      closeSync(received.fds[0]!);
      assert.deepEqual(await waiting, { sent: true, socket: receiver.address, bytes: 9, withCredentials: false });
    });

    it('barrier() rejects with ETIMEDOUT, naming the socket, when the fd is kept open', async () => {
      const waiting = barrier({ env: receiver.env, timeoutMs: 100 });
      const received = receiver.receive();
      try {
        await assert.rejects(waiting, (error: NodeJS.ErrnoException) => {
          assert.equal(error.code, 'ETIMEDOUT');
          assert.ok(error.message.includes(receiver.address), error.message);
          return true;
        });
      } finally {
        for (const fd of received.fds) closeSync(fd);
      }
    });

    describe('programmer errors throw and send nothing', () => {
      const fd = openSync('/dev/null', 'r');
      after(() => closeSync(fd));
      const table: Array<[string, () => unknown, typeof TypeError | typeof RangeError, RegExp]> = [
        ['a newline in a value', () => notify({ STATUS: 'a\nREADY=1' }, {}), TypeError, /STATUS contains a newline/],
        ['a NUL in a value', () => notify({ STATUS: 'a\0b' }, {}), TypeError, /STATUS contains a NUL/],
        ['a NUL in raw text', () => notify('READY=1\0', {}), TypeError, /NUL/],
        ['4097 bytes', () => notify(`STATUS=${'s'.repeat(4090)}`, {}), RangeError, /4097 bytes; systemd drops notifications over 4096/],
        ['an empty state', () => notify('', {}), TypeError, /empty/],
        ['an object with no fields', () => notify({ STATUS: undefined }, {}), TypeError, /no fields/],
        ['a lowercase key', () => notify({ ready: 1 } as never, {}), TypeError, /"ready" is not a valid field name/],
        ['MAINPID=0', () => notify({ MAINPID: 0 }, {}), RangeError, /MAINPID/],
        ['a negative number', () => notify({ ERRNO: -1 }, {}), RangeError, /ERRNO must be a non-negative integer/],
        ['a number field given a string', () => notify({ ERRNO: '5' } as never, {}), TypeError, /ERRNO must be a number/],
        ['an FDNAME with ":"', () => storeFds('a:b', [fd], {}), TypeError, /FDNAME "a:b" is invalid/],
        ['an FDNAME with a control character', () => storeFds('a\tb', [fd], {}), TypeError, /FDNAME .* is invalid/],
        ['an FDNAME of 256 characters', () => storeFds('n'.repeat(256), [fd], {}), TypeError, /FDNAME .* is invalid/],
        [
          '254 fds',
          () => notify('FDSTORE=1', { fds: Array(254).fill(fd) }),
          RangeError,
          /254 file descriptors; one message carries at most 253/,
        ],
        ['an fd that is not one', () => notify('FDSTORE=1', { fds: [-1] }), TypeError, /not a file descriptor/],
        ['a pid of 0', () => notify('READY=1', { pid: 0 }), RangeError, /pid must be a PID \(1 to 2147483647\)/],
      ];
      for (const [what, call, type, message] of table) {
        it(what, () => {
          assert.throws(
            () => callWith(receiver.env, call),
            (error: Error) => {
              assert.ok(error instanceof type, `${error.name}: ${error.message}`);
              assert.match(error.message, message);
              return true;
            },
          );
          receiver.assertEmpty();
        });
      }
    });
  });
}

/** Runs `call` with NOTIFY_SOCKET set in process.env, since the table's calls use the default env. */
function callWith(env: NodeJS.ProcessEnv, call: () => unknown): unknown {
  const saved = process.env.NOTIFY_SOCKET;
  process.env.NOTIFY_SOCKET = env.NOTIFY_SOCKET;
  try {
    return call();
  } finally {
    if (saved === undefined) delete process.env.NOTIFY_SOCKET;
    else process.env.NOTIFY_SOCKET = saved;
  }
}
