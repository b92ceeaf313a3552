// sd_notify(3) on the wire: notify() and its typed doors send to a real
// AF_UNIX datagram socket bound here (a path in a short temp dir, and an
// abstract '@' name), and each test asserts the exact bytes, the sender's
// credentials and the fds that arrive. Then the limits (programmer errors
// throw, nothing is sent) and a table of hostile NOTIFY_SOCKET values (never
// a throw; a documented result naming the socket).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
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
import { failed, nativeBinding, type ReceivedMessage } from '../runtime/dist/native.js';
import { parseUnixAddress } from '../runtime/dist/unix-address.js';
import { requireOrSkip } from './helpers/prerequisites.js';

// The addon, as the runtime loads it on first use.
const native = nativeBinding();

const EAGAIN = -11;

/** A bound datagram socket that reads what notify() sent, credentials and fds included. */
class Receiver {
  readonly fd: number;
  constructor(readonly address: string) {
    const parsed = parseUnixAddress(address);
    assert.ok(parsed.kind === 'path' || parsed.kind === 'abstract');
    const fd = native!.bindDgram(parsed.sunPath);
    assert.ok(!failed(fd), `bind ${address}: errno ${-fd}`);
    this.fd = fd;
  }

  get env(): NodeJS.ProcessEnv {
    return { NOTIFY_SOCKET: this.address };
  }

  /** The next datagram; sendmsg has queued it by the time notify() returns. */
  receive(): ReceivedMessage {
    const received = native!.recvmsg(this.fd, 8192);
    assert.ok(typeof received !== 'number', `nothing received (errno ${-received})`);
    return received;
  }

  /** The datagram as text, after closing whatever fds came with it. */
  text(): string {
    const received = this.receive();
    for (const fd of received.fds) closeSync(fd);
    return received.data.toString('utf8');
  }

  assertEmpty(): void {
    assert.equal(native!.recvmsg(this.fd, 8192), EAGAIN, 'nothing was sent');
  }

  close(): void {
    closeSync(this.fd);
  }
}

const root = mkdtempSync(join(tmpdir(), 'sd-notify-'));
after(() => rmSync(root, { recursive: true, force: true }));

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

describe('notify() unsetEnv: NOTIFY_SOCKET is gone afterwards, whatever happened', () => {
  let receiver: Receiver;
  before(() => (receiver = new Receiver(join(root, 'unset'))));
  after(() => receiver.close());

  it('after a send', () => {
    const env = { NOTIFY_SOCKET: receiver.address };
    assert.equal(notify('READY=1', { env, unsetEnv: true }).sent, true);
    assert.equal('NOTIFY_SOCKET' in env, false);
    receiver.text();
    // The next call has no manager to talk to.
    assert.deepEqual(notify('READY=1', { env }), { sent: false, reason: 'disabled' });
  });

  it('after a programmer error', () => {
    const env = { NOTIFY_SOCKET: receiver.address };
    assert.throws(() => notify({ STATUS: 'a\nb' }, { env, unsetEnv: true }), TypeError);
    assert.equal('NOTIFY_SOCKET' in env, false);
  });

  it('after a failed send', () => {
    const env = { NOTIFY_SOCKET: join(root, 'missing') };
    assert.equal(notify('READY=1', { env, unsetEnv: true }).sent, false);
    assert.equal('NOTIFY_SOCKET' in env, false);
  });

  it('after a barrier', async () => {
    const env = { NOTIFY_SOCKET: receiver.address };
    const waiting = barrier({ env, unsetEnv: true, timeoutMs: 10_000 });
    for (const fd of receiver.receive().fds) closeSync(fd);
    assert.equal((await waiting).sent, true);
    assert.equal('NOTIFY_SOCKET' in env, false);
  });

  // The typed doors that check their own arguments before notify() runs must clean up too.
  const doors: Array<[string, (env: NodeJS.ProcessEnv) => unknown]> = [
    ['storeFds() given no fds', (env) => storeFds('db', [], { env, unsetEnv: true })],
    ['extendTimeout() given a negative duration', (env) => extendTimeout(-1, { env, unsetEnv: true })],
    ['barrier() given an invalid timeout', (env) => barrier({ env, unsetEnv: true, timeoutMs: -1 })],
  ];
  for (const [what, call] of doors) {
    it(`after ${what}`, async () => {
      const env = { NOTIFY_SOCKET: receiver.address };
      await assert.rejects(
        async () => call(env),
        (error: Error) => error instanceof TypeError || error instanceof RangeError,
      );
      assert.equal('NOTIFY_SOCKET' in env, false);
      receiver.assertEmpty();
    });
  }
});

describe('notify() with a hostile NOTIFY_SOCKET: never throws, reports why, names the socket', () => {
  const dir = join(root, 'hostile');
  let stream: net.Server;
  before(async () => {
    mkdirSync(join(dir, 'a-directory'), { recursive: true });
    writeFileSync(join(dir, 'a-file'), '');
    stream = net.createServer();
    await new Promise<void>((resolve) => stream.listen(join(dir, 'stream'), resolve));
  });
  after(() => new Promise((resolve) => stream.close(resolve)));

  const longest = `/${'a'.repeat(106)}`; // 107 bytes + NUL: the most sun_path holds
  const table: Array<{ socket: () => string; reason: string; code?: string; why: string }> = [
    { socket: () => '', reason: 'disabled', why: 'empty means no manager, as unset does' },
    { socket: () => 'relative/notify', reason: 'invalid-address', why: 'neither absolute nor abstract' },
    { socket: () => 'garbage', reason: 'invalid-address', why: 'no address at all' },
    { socket: () => `${longest}b`, reason: 'invalid-address', why: '108 bytes do not fit in sun_path with the NUL' },
    {
      socket: () => `@${'b'.repeat(108)}`,
      reason: 'invalid-address',
      why: 'an abstract name of 108 bytes does not fit after the leading NUL',
    },
    { socket: () => longest, reason: 'send-failed', code: 'ENOENT', why: '107 bytes fit; nothing is there' },
    { socket: () => join(dir, 'missing'), reason: 'send-failed', code: 'ENOENT', why: 'no such socket' },
    { socket: () => join(dir, 'stream'), reason: 'send-failed', code: 'EPROTOTYPE', why: 'a stream socket, not a datagram one' },
    { socket: () => join(dir, 'a-directory'), reason: 'send-failed', code: 'ECONNREFUSED', why: 'a directory' },
    { socket: () => join(dir, 'a-file'), reason: 'send-failed', code: 'ECONNREFUSED', why: 'a regular file' },
    { socket: () => '@nobody-listens-here', reason: 'send-failed', code: 'ECONNREFUSED', why: 'an abstract name nobody bound' },
    { socket: () => 'vsock:2:1234', reason: 'unsupported', why: 'vsock is recognised, not supported' },
    { socket: () => 'vsock-stream:2:1234', reason: 'unsupported', why: 'so is vsock-stream' },
  ];
  for (const { socket, reason, code, why } of table) {
    it(`${reason}${code ? ` (${code})` : ''}: ${why}`, () => {
      const address = socket();
      const env = { NOTIFY_SOCKET: address };
      let result: NotifyResult | undefined;
      assert.doesNotThrow(() => (result = notify({ READY: 1, STATUS: 'x' }, { env })));
      assert.equal(result!.sent, false);
      assert.equal(!result!.sent && result!.reason, reason);
      if (result!.sent || result!.reason === 'disabled') return;
      assert.equal(result!.socket, address);
      assert.ok(result!.error.message.includes(address), `"${result!.error.message}" names ${address}`);
      if (code) assert.equal((result!.error as NodeJS.ErrnoException).code, code);
    });
  }
});

describe('notify() keeps one socket between calls, safely', () => {
  it('a manager that re-creates its socket at the same path receives the next message', function () {
    const address = join(root, 'recreated.sock');
    const first = new Receiver(address);
    assert.equal(notify('STATUS=one', { env: first.env }).sent, true);
    assert.equal(first.text(), 'STATUS=one');
    first.close();
    rmSync(address);
    const gone = notify('STATUS=lost', { env: first.env });
    assert.ok(!gone.sent && gone.reason === 'send-failed' && /ENOENT/.test(gone.error.message));
    const second = new Receiver(address);
    try {
      assert.equal(notify('STATUS=two', { env: second.env }).sent, true);
      assert.equal(second.text(), 'STATUS=two');
    } finally {
      second.close();
    }
  });

  it('never writes to an fd that was its socket once other code closed it and the number was reused', function () {
    // In a child, so the socket numbers are predictable: find the runtime's
    // socket, close it behind its back, put a pipe on that number, notify again.
    const runtime = new URL('../runtime/dist/index.js', import.meta.url).href;
    const receiver = new Receiver(join(root, 'reuse.sock'));
    const script = `
      import { readdirSync, readlinkSync, closeSync, readSync, fstatSync } from 'node:fs';
      import { notify } from ${JSON.stringify(runtime)};
      const link = (fd) => { try { return readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } };
      const sockets = () => new Set(readdirSync('/proc/self/fd').filter((fd) => /^socket:/.test(link(fd))));
      const before = sockets();
      notify('STATUS=first');
      const ours = [...sockets()].filter((fd) => !before.has(fd)).map(Number);
      if (ours.length !== 1) throw new Error('expected one new socket, got ' + ours);
      closeSync(ours[0]);
      const { nativeBinding } = await import(${JSON.stringify(new URL('../runtime/dist/native.js', import.meta.url).href)});
      const [readEnd, writeEnd] = nativeBinding().pipe();
      if (readEnd !== ours[0] && writeEnd !== ours[0]) throw new Error('the pipe did not take fd ' + ours[0]);
      const result = notify('STATUS=second');
      // The pipe got nothing: the runtime noticed the fd is no longer its socket.
      closeSync(writeEnd);
      const buffer = Buffer.alloc(64);
      const leaked = readSync(readEnd, buffer);
      console.log(JSON.stringify({ sent: result.sent, leaked }));`;
    try {
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, NOTIFY_SOCKET: receiver.address },
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { sent: true, leaked: 0 });
      assert.equal(receiver.text(), 'STATUS=first');
      assert.equal(receiver.text(), 'STATUS=second');
    } finally {
      receiver.close();
    }
  });
});

describe('notify() to a manager that stopped reading', () => {
  it('gives up after about a second with send-failed EAGAIN instead of freezing the event loop', function () {
    this.timeout(30_000);
    const receiver = new Receiver(join(root, 'stuck.sock'));
    try {
      // Fill the receiver's queue (net.unix.max_dgram_qlen deep), then one more.
      let result = notify('STATUS=fill', { env: receiver.env });
      let sent = 0;
      const started = Date.now();
      while (result.sent && sent < 100_000) {
        sent++;
        result = notify('STATUS=fill', { env: receiver.env });
      }
      const waited = Date.now() - started;
      assert.ok(!result.sent && result.reason === 'send-failed', JSON.stringify(result));
      assert.match(result.error.message, /EAGAIN/);
      assert.ok(waited >= 900 && waited < 10_000, `gave up after ${waited} ms`);
    } finally {
      receiver.close();
    }
  });

  // A send waiting under SO_SNDTIMEO fails EINTR on any interruption (the
  // kernel does not restart timed socket waits, SA_RESTART or not). Node 22+
  // interrupts it within milliseconds of a spawnSync, with no signal delivered
  // (strace shows none), in about half of the runs here. Each run is a fresh
  // process, so what came before in this file cannot change the outcome.
  function stuckSends(rounds: number, prelude: string, each = ''): Array<{ reason: string; code: string; waited: number }> {
    const runtime = new URL('../runtime/dist/index.js', import.meta.url).href;
    const receivers = Array.from(
      { length: rounds },
      (_, i) => new Receiver(join(root, `stuck-${i}-${Math.random().toString(16).slice(2, 10)}.sock`)),
    );
    const script = `
      import { spawnSync } from 'node:child_process';
      import { notify } from ${JSON.stringify(runtime)};
      ${prelude}
      const results = [];
      for (const address of ${JSON.stringify(receivers.map((r) => r.address))}) {
        ${each}
        const env = { NOTIFY_SOCKET: address };
        let result = notify('STATUS=fill', { env });
        let started = Date.now();
        for (let sent = 0; result.sent && sent < 100_000; sent++) {
          started = Date.now();
          result = notify('STATUS=fill', { env });
        }
        results.push({ reason: result.reason, code: result.error?.code, waited: Date.now() - started });
      }
      console.log(JSON.stringify(results));`;
    try {
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(run.status, 0, run.stderr);
      return JSON.parse(run.stdout) as Array<{ reason: string; code: string; waited: number }>;
    } finally {
      for (const receiver of receivers) receiver.close();
    }
  }

  it('after spawnSync (Node 22+ interrupts the wait), still waits out its second and fails EAGAIN, never EINTR', function () {
    this.timeout(90_000);
    // Three rounds, as one interrupted wait in three is near certain there.
    for (const result of stuckSends(3, '', "spawnSync('true');")) {
      assert.equal(result.code, 'EAGAIN', JSON.stringify(result));
      assert.equal(result.reason, 'send-failed');
      assert.ok(result.waited >= 900 && result.waited < 10_000, `gave up after ${result.waited} ms`);
    }
  });

  it('under a stream of signals, one total deadline: EAGAIN after about a second, not a restart per signal', function () {
    this.timeout(90_000);
    // Another process signals us every 20 ms while the send waits; restarting
    // with the full timeout each time would never end.
    const [result] = stuckSends(
      1,
      `
      process.on('SIGUSR2', () => {});
      const { spawn } = await import('node:child_process');
      const pinger = spawn('sh', ['-c', 'while kill -USR2 ' + process.pid + ' 2>/dev/null; do sleep 0.02; done'], { stdio: 'ignore' });
      pinger.unref();
      process.on('exit', () => pinger.kill());`,
    );
    assert.ok(result);
    assert.equal(result.code, 'EAGAIN', JSON.stringify(result));
    assert.ok(result.waited >= 900 && result.waited < 10_000, `gave up after ${result.waited} ms`);
  });
});
