// sd_listen_fds(3) semantics: real children started with real fds at 3.. and
// LISTEN_* (see helpers/activation.ts), plus an in-process table of hostile
// environments, each with the result documented in runtime/src/listen-fds.ts.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, cpSync, fstatSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { SD_LISTEN_FDS_START, fdOf, inspectFd, listenFds } from 'sd-daemon-runtime';
import type { ListenFdsResult } from 'sd-daemon-runtime';

import { fixtures, spawnChild, spawnFixture, useScratch } from './helpers/activation.js';
// The addon itself, for what Node cannot make: an AF_UNIX datagram socket and a pidfd.
import { addon } from './helpers/native.js';
import { bound, listening } from './helpers/listening.js';
import { nativeBinding } from '../runtime/dist/native.js';
import { requireOrSkip } from './helpers/prerequisites.js';

const require = createRequire(import.meta.url);
const PIDFS_MAGIC = 0x50494446;

/** Our pidfd's pidfs inode, or null where this kernel has no pidfs. */
function pidfdId(pid: number): bigint | null {
  const pidfd = addon().pidfdOpen(pid);
  if (pidfd < 0) return null;
  try {
    return addon().fsType(pidfd) === PIDFS_MAGIC ? fstatSync(pidfd, { bigint: true }).ino : null;
  } finally {
    closeSync(pidfd);
  }
}

describe('listenFds(): children started with real fds at 3..', function () {
  const scratch = useScratch('sdlf');

  function track<T extends { close(): unknown }>(thing: T): T {
    scratch.defer(() => thing.close());
    return thing;
  }

  function openFd(path: string, flags: string): number {
    const fd = openSync(path, flags);
    scratch.defer(() => closeSync(fd));
    return fd;
  }

  it('reports each fd with its name, kind, listening state and local address, and sets FD_CLOEXEC', async function () {
    const tcp4 = track(await listening(net.createServer(), 0, '127.0.0.1'));
    const tcp6 = track(await listening(net.createServer(), 0, '::1'));
    const udp4 = track(await bound(dgram.createSocket('udp4'), 0, '127.0.0.1'));
    const udp6 = track(await bound(dgram.createSocket('udp6'), 0, '::1'));
    const unixPath = join(scratch.dir, 'ctl.sock');
    const unixStream = track(await listening(net.createServer(), unixPath));
    const dgramPath = join(scratch.dir, 'log.sock');
    const unixDgram = addon().bindDgram(Buffer.from(`${dgramPath}\0`));
    assert.ok(unixDgram >= 0, `bindDgram: ${unixDgram}`);
    scratch.defer(() => closeSync(unixDgram));
    // An abstract name, bound with its exact length (Node pads abstract names
    // it binds to all 108 bytes, which is a different name to the kernel).
    const abstractName = `sd-daemon-test-${process.pid}`;
    const abstract = addon().bindDgram(Buffer.from(`\0${abstractName}`));
    assert.ok(abstract >= 0, `bindDgram: ${abstract}`);
    scratch.defer(() => closeSync(abstract));
    const fifoPath = join(scratch.dir, 'fifo');
    execFileSync('mkfifo', [fifoPath]);
    const fifo = openFd(fifoPath, 'r+'); // read-write, so opening does not wait for a writer
    writeFileSync(join(scratch.dir, 'file'), 'data');
    const file = openFd(join(scratch.dir, 'file'), 'r');
    const devNull = openFd('/dev/null', 'r');
    const directory = openFd(scratch.dir, 'r');
    const client = net.connect((tcp4.address() as net.AddressInfo).port, '127.0.0.1');
    scratch.defer(() => client.destroy());
    await new Promise((resolve) => client.once('connect', resolve));

    const fds = [tcp4, tcp6, udp4, udp6, unixStream, unixDgram, abstract, fifo, file, devNull, directory, client].map((x) => fdOf(x));
    const names = 'web:web6:dns:dns6:ctl:log:abstract:fifo:file:null:dir:conn';
    const child = spawnFixture('listen-fds.mjs', [JSON.stringify({ checkFds: fds.length, clearCloexec: true })], { fds, names });
    const out = await child.next();

    assert.equal(out.result.status, 'activated');
    const port = (x: { address(): unknown }): number => (x.address() as net.AddressInfo).port;
    assert.deepEqual(out.result.fds, [
      { fd: 3, name: 'web', kind: 'tcp4', listening: true, host: '127.0.0.1', port: port(tcp4) },
      { fd: 4, name: 'web6', kind: 'tcp6', listening: true, host: '::1', port: port(tcp6) },
      { fd: 5, name: 'dns', kind: 'udp4', listening: false, host: '127.0.0.1', port: port(udp4) },
      { fd: 6, name: 'dns6', kind: 'udp6', listening: false, host: '::1', port: port(udp6) },
      { fd: 7, name: 'ctl', kind: 'unix-stream', listening: true, path: unixPath },
      { fd: 8, name: 'log', kind: 'unix-dgram', listening: false, path: dgramPath },
      { fd: 9, name: 'abstract', kind: 'unix-dgram', listening: false, path: `@${abstractName}` },
      { fd: 10, name: 'fifo', kind: 'fifo', listening: false },
      { fd: 11, name: 'file', kind: 'file', listening: false },
      { fd: 12, name: 'null', kind: 'character-device', listening: false },
      { fd: 13, name: 'dir', kind: 'other', listening: false },
      { fd: 14, name: 'conn', kind: 'tcp4', listening: false, host: '127.0.0.1', port: port(client as unknown as net.Server) },
    ]);
    // Cleared by the fixture, set by listenFds(): our own children do not inherit the sockets.
    assert.deepEqual(
      out.before,
      fds.map(() => false),
    );
    assert.deepEqual(
      out.after,
      fds.map(() => true),
    );
    // Without unsetEnv the variables stay, as in libsystemd.
    assert.deepEqual(Object.keys(out.env).sort(), ['LISTEN_FDNAMES', 'LISTEN_FDS', 'LISTEN_PID']);
  });

  it('reports a POSIX message queue as kind mqueue (fsType MQUEUE_MAGIC)', function () {
    // Node cannot mq_open(); a shell can open(O_CREAT) a queue on an mqueue
    // filesystem, mounted here in a private mount namespace.
    const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']);
    requireOrSkip(
      this,
      probe.status === 0,
      `cannot make a mount namespace to mount mqueue (unshare: ${probe.error?.message ?? probe.stderr})`,
    );
    const script = 'mount -t mqueue mqueue "$1" || exit 97; exec 3<>"$1/queue"; LISTEN_PID=$$; export LISTEN_PID; shift; exec "$@"';
    const result = spawnSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        script,
        'sh',
        scratch.dir,
        process.execPath,
        join(fixtures, 'listen-fds.mjs'),
        '{"checkFds":1}',
      ],
      { env: { PATH: process.env.PATH, LISTEN_FDS: '1', LISTEN_FDNAMES: 'queue' }, encoding: 'utf8' },
    );
    requireOrSkip(this, result.status !== 97, `cannot mount an mqueue filesystem: ${result.stderr}`);
    assert.equal(result.status, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.equal(out.result.status, 'activated');
    assert.deepEqual(out.result.fds, [{ fd: 3, name: 'queue', kind: 'mqueue', listening: false }]);
    assert.deepEqual(out.after, [true]);
  });

  it('keeps empty fields of LISTEN_FDNAMES as names', async function () {
    const fds = [openFd('/dev/null', 'r'), openFd('/dev/null', 'r'), openFd('/dev/null', 'r')];
    const out = await spawnFixture('listen-fds.mjs', [], { fds, names: 'a::c' }).next();
    assert.deepEqual(
      out.result.fds.map((fd: { name: string }) => fd.name),
      ['a', '', 'c'],
    );
    // One fd stored with an empty FDNAME= arrives as LISTEN_FDNAMES=''.
    const one = await spawnFixture('listen-fds.mjs', [], { fds: fds.slice(0, 1), names: '' }).next();
    assert.equal(one.result.status, 'activated');
    assert.deepEqual(
      one.result.fds.map((fd: { name: string }) => fd.name),
      [''],
    );
  });

  it("names every fd 'unknown' when LISTEN_FDNAMES is absent", async function () {
    const fds = [openFd('/dev/null', 'r'), openFd('/dev/null', 'r')];
    const out = await spawnFixture('listen-fds.mjs', [], { fds }).next();
    assert.deepEqual(
      out.result.fds.map((fd: { name: string }) => fd.name),
      ['unknown', 'unknown'],
    );
  });

  it('reports a name count that differs from LISTEN_FDS as malformed, after setting FD_CLOEXEC anyway', async function () {
    const fds = [openFd('/dev/null', 'r'), openFd('/dev/null', 'r'), openFd('/dev/null', 'r')];
    const out = await spawnFixture('listen-fds.mjs', ['{"checkFds":3,"clearCloexec":true}'], { fds, names: 'a:b' }).next();
    assert.equal(out.result.status, 'malformed');
    assert.equal(out.result.variable, 'LISTEN_FDNAMES');
    assert.deepEqual(out.result.fds, []);
    assert.equal(out.result.error.code, 'EINVAL');
    assert.equal(out.result.error.message, 'LISTEN_FDNAMES="a:b" has 2 names but LISTEN_FDS=3');
    assert.deepEqual(out.after, [true, true, true]);
  });

  it('reports a LISTEN_FDS that counts past the passed fds as malformed (EBADF)', async function () {
    const fds = [openFd('/dev/null', 'r')];
    // fd 3 passed, then a count no process has open.
    const out = await spawnFixture('listen-fds.mjs', [], { fds, env: { LISTEN_FDS: '100000' } }).next();
    assert.equal(out.result.status, 'malformed');
    assert.equal(out.result.error.code, 'EBADF');
    assert.match(out.result.error.message, /^LISTEN_FDS=100000 but fd \d+ is not open$/);
  });

  it('leaves fds meant for another process alone (LISTEN_PID is not ours)', async function () {
    const fds = [openFd('/dev/null', 'r')];
    const child = spawnFixture('listen-fds.mjs', ['{"checkFds":1,"clearCloexec":true}'], { fds, listenPid: String(process.pid) });
    const out = await child.next();
    assert.deepEqual(out.result, { status: 'not-activated', reason: 'other-process', fds: [] });
    assert.deepEqual(out.after, [false], 'FD_CLOEXEC must not be touched on fds that are not ours');
  });

  it('unsetEnv removes all four variables, whatever the outcome', async function () {
    const fds = [openFd('/dev/null', 'r')];
    const extra = { LISTEN_PIDFDID: 'garbage' };
    const malformed = await spawnFixture('listen-fds.mjs', ['{"unsetEnv":true}'], { fds, names: 'x', env: extra }).next();
    assert.equal(malformed.result.status, 'malformed');
    assert.equal(malformed.result.variable, 'LISTEN_PIDFDID');
    assert.deepEqual(malformed.env, {});
    const other = await spawnFixture('listen-fds.mjs', ['{"unsetEnv":true}'], { fds, names: 'x', listenPid: '1' }).next();
    assert.equal(other.result.status, 'not-activated');
    assert.deepEqual(other.env, {});
    const activated = await spawnFixture('listen-fds.mjs', ['{"unsetEnv":true}'], { fds, names: 'x' }).next();
    assert.equal(activated.result.status, 'activated');
    assert.deepEqual(activated.env, {});
  });

  describe('LISTEN_PIDFDID (pidfs inode of the process the fds are for)', function () {
    // The child's pidfd id exists only once the child does: the fixture reads
    // it from stdin before calling listenFds().
    async function withPidfdId(value: (own: bigint) => string): Promise<any> {
      const fds = [openFd('/dev/null', 'r')];
      const child = spawnFixture('listen-fds.mjs', [], { fds, names: 'x', stdin: true, env: { SD_TEST_ENV_FROM_STDIN: '1' } });
      const own = pidfdId(child.pid);
      child.child.stdin!.end(JSON.stringify({ LISTEN_PIDFDID: own === null ? '0' : value(own) }));
      return { own, out: await child.next() };
    }

    it('takes the fds when it matches our pidfd', async function () {
      const { own, out } = await withPidfdId((id) => String(id));
      requireOrSkip(this, own !== null, 'no pidfs on this kernel (Linux 6.9+), LISTEN_PIDFDID cannot be checked');
      assert.equal(out.result.status, 'activated');
    });

    it('is not activated when it names another process that had our pid', async function () {
      const { own, out } = await withPidfdId((id) => String(id + 1n));
      requireOrSkip(this, own !== null, 'no pidfs on this kernel (Linux 6.9+), LISTEN_PIDFDID cannot be checked');
      assert.deepEqual(out.result, { status: 'not-activated', reason: 'other-pidfd', fds: [] });
    });
  });

  describe('without the native addon', function () {
    let copy: string;

    before(function () {
      // The built package without prebuilds/ or a native/ build: what a
      // platform with no prebuild gets.
      copy = mkdtempSync(join(tmpdir(), 'sd-lf-no-native-'));
      const runtimeDir = dirname(require.resolve('sd-daemon-runtime/package.json'));
      const pkg = join(copy, 'node_modules', 'sd-daemon-runtime');
      mkdirSync(pkg, { recursive: true });
      cpSync(join(runtimeDir, 'dist'), join(pkg, 'dist'), { recursive: true });
      cpSync(join(runtimeDir, 'package.json'), join(pkg, 'package.json'));
      cpSync(join(fixtures, 'listen-fds.mjs'), join(copy, 'listen-fds.mjs'));
    });

    after(function () {
      rmSync(copy, { recursive: true, force: true });
    });

    it("still parses the environment, with every kind 'unknown'", async function () {
      const tcp = track(await listening(net.createServer(), 0, '127.0.0.1'));
      const fds = [fdOf(tcp), openFd('/dev/null', 'r')];
      const child = spawnChild([join(copy, 'listen-fds.mjs')], { fds, names: 'web:null' });
      const out = await child.next();
      assert.deepEqual(out.result, {
        status: 'activated',
        fds: [
          { fd: 3, name: 'web', kind: 'unknown', listening: false },
          { fd: 4, name: 'null', kind: 'unknown', listening: false },
        ],
      });
    });

    it('still reports malformed variables and fds that are not open', async function () {
      const fds = [openFd('/dev/null', 'r')];
      const names = await spawnChild([join(copy, 'listen-fds.mjs')], { fds, names: 'a:b' }).next();
      assert.equal(names.result.variable, 'LISTEN_FDNAMES');
      const closed = await spawnChild([join(copy, 'listen-fds.mjs')], { fds, env: { LISTEN_FDS: '100000' } }).next();
      assert.equal(closed.result.error.code, 'EBADF');
    });
  });
});

describe('listenFds(): hostile environments (in process, env option)', function () {
  const pid = String(process.pid);
  // Looked at when a row runs, not while the file loads. Without the addon
  // the runtime cannot see pidfds either, and skips the check (as libsystemd
  // does where pidfs is missing): the rows below then expect just that.
  const ownPidfdId = (): bigint | null => (nativeBinding() === null ? null : pidfdId(process.pid));
  const ok = { LISTEN_PID: pid, LISTEN_FDS: '1' };

  type Expected =
    | { status: 'not-activated'; reason: string }
    | { status: 'malformed'; variable: string; code: string; message?: RegExp }
    | { status: 'activated'; names: string[] };

  // Each row: what libsystemd would say is in runtime/src/listen-fds.ts's header.
  // Rows that pass the pid check touch this process's own fds 3.., which are
  // open (libuv's); FD_CLOEXEC on them is harmless.
  // A row's environment and expectation may be computed when it runs (the LISTEN_PIDFDID rows).
  type Lazy<T> = T | (() => T);
  const now = <T extends object>(value: Lazy<T>): T => (typeof value === 'function' ? value() : value);
  const cases: Array<[string, Lazy<NodeJS.ProcessEnv>, Lazy<Expected>]> = [
    ['nothing set', {}, { status: 'not-activated', reason: 'no-listen-pid' }],
    ['LISTEN_FDS without LISTEN_PID', { LISTEN_FDS: '1' }, { status: 'not-activated', reason: 'no-listen-pid' }],
    [
      'LISTEN_PID empty',
      { ...ok, LISTEN_PID: '' },
      { status: 'malformed', variable: 'LISTEN_PID', code: 'EINVAL', message: /^LISTEN_PID="" is empty$/ },
    ],
    [
      'LISTEN_PID non-numeric',
      { ...ok, LISTEN_PID: 'abc' },
      { status: 'malformed', variable: 'LISTEN_PID', code: 'EINVAL', message: /is not a decimal number/ },
    ],
    ['LISTEN_PID with a leading space', { ...ok, LISTEN_PID: ` ${pid}` }, { status: 'malformed', variable: 'LISTEN_PID', code: 'EINVAL' }],
    ['LISTEN_PID with a trailing space', { ...ok, LISTEN_PID: `${pid} ` }, { status: 'malformed', variable: 'LISTEN_PID', code: 'EINVAL' }],
    ['LISTEN_PID with a plus sign', { ...ok, LISTEN_PID: `+${pid}` }, { status: 'malformed', variable: 'LISTEN_PID', code: 'EINVAL' }],
    [
      'LISTEN_PID in hex',
      { ...ok, LISTEN_PID: `0x${process.pid.toString(16)}` },
      { status: 'malformed', variable: 'LISTEN_PID', code: 'EINVAL' },
    ],
    ['LISTEN_PID fractional', { ...ok, LISTEN_PID: `${pid}.0` }, { status: 'malformed', variable: 'LISTEN_PID', code: 'EINVAL' }],
    ['LISTEN_PID zero', { ...ok, LISTEN_PID: '0' }, { status: 'malformed', variable: 'LISTEN_PID', code: 'ERANGE' }],
    [
      'LISTEN_PID negative',
      { ...ok, LISTEN_PID: '-1' },
      { status: 'malformed', variable: 'LISTEN_PID', code: 'ERANGE', message: /is negative/ },
    ],
    ['LISTEN_PID huge', { ...ok, LISTEN_PID: '99999999999999999999' }, { status: 'malformed', variable: 'LISTEN_PID', code: 'ERANGE' }],
    ['LISTEN_PID of init', { ...ok, LISTEN_PID: '1' }, { status: 'not-activated', reason: 'other-process' }],
    ['LISTEN_PID of our parent', { ...ok, LISTEN_PID: String(process.ppid) }, { status: 'not-activated', reason: 'other-process' }],
    [
      'LISTEN_PID not ours, the rest garbage',
      { LISTEN_PID: '1', LISTEN_FDS: 'x', LISTEN_FDNAMES: 'a:b:c', LISTEN_PIDFDID: 'y' },
      { status: 'not-activated', reason: 'other-process' },
    ],
    ['LISTEN_PID ours, LISTEN_FDS unset', { LISTEN_PID: pid }, { status: 'not-activated', reason: 'no-listen-fds' }],
    ['LISTEN_FDS empty', { ...ok, LISTEN_FDS: '' }, { status: 'malformed', variable: 'LISTEN_FDS', code: 'EINVAL' }],
    ['LISTEN_FDS non-numeric', { ...ok, LISTEN_FDS: 'two' }, { status: 'malformed', variable: 'LISTEN_FDS', code: 'EINVAL' }],
    [
      'LISTEN_FDS zero',
      { ...ok, LISTEN_FDS: '0' },
      { status: 'malformed', variable: 'LISTEN_FDS', code: 'EINVAL', message: /must be at least 1/ },
    ],
    [
      'LISTEN_FDS negative',
      { ...ok, LISTEN_FDS: '-1' },
      { status: 'malformed', variable: 'LISTEN_FDS', code: 'EINVAL', message: /is negative/ },
    ],
    ['LISTEN_FDS with a leading space', { ...ok, LISTEN_FDS: ' 1' }, { status: 'malformed', variable: 'LISTEN_FDS', code: 'EINVAL' }],
    ['LISTEN_FDS with a trailing space', { ...ok, LISTEN_FDS: '1 ' }, { status: 'malformed', variable: 'LISTEN_FDS', code: 'EINVAL' }],
    ['LISTEN_FDS with a newline', { ...ok, LISTEN_FDS: '1\n' }, { status: 'malformed', variable: 'LISTEN_FDS', code: 'EINVAL' }],
    ['LISTEN_FDS in hex', { ...ok, LISTEN_FDS: '0x1' }, { status: 'malformed', variable: 'LISTEN_FDS', code: 'EINVAL' }],
    ['LISTEN_FDS in exponent form', { ...ok, LISTEN_FDS: '1e0' }, { status: 'malformed', variable: 'LISTEN_FDS', code: 'EINVAL' }],
    ['LISTEN_FDS past INT_MAX - 3', { ...ok, LISTEN_FDS: '2147483645' }, { status: 'malformed', variable: 'LISTEN_FDS', code: 'ERANGE' }],
    ['LISTEN_FDS huge', { ...ok, LISTEN_FDS: '99999999999999999999999' }, { status: 'malformed', variable: 'LISTEN_FDS', code: 'ERANGE' }],
    [
      'LISTEN_FDS past the open fds',
      { ...ok, LISTEN_FDS: '100000' },
      { status: 'malformed', variable: 'LISTEN_FDS', code: 'EBADF', message: /but fd \d+ is not open/ },
    ],
    ['LISTEN_FDS with leading zeros (still decimal)', { ...ok, LISTEN_FDS: '001' }, { status: 'activated', names: ['unknown'] }],
    [
      'LISTEN_FDNAMES with too many names',
      { ...ok, LISTEN_FDNAMES: 'a:b' },
      { status: 'malformed', variable: 'LISTEN_FDNAMES', code: 'EINVAL', message: /has 2 names but LISTEN_FDS=1/ },
    ],
    [
      'LISTEN_FDNAMES with too few names',
      { ...ok, LISTEN_FDS: '2', LISTEN_FDNAMES: 'a' },
      { status: 'malformed', variable: 'LISTEN_FDNAMES', code: 'EINVAL' },
    ],
    [
      'LISTEN_FDNAMES empty for two fds',
      { ...ok, LISTEN_FDS: '2', LISTEN_FDNAMES: '' },
      { status: 'malformed', variable: 'LISTEN_FDNAMES', code: 'EINVAL' },
    ],
    ['LISTEN_FDNAMES empty for one fd', { ...ok, LISTEN_FDNAMES: '' }, { status: 'activated', names: [''] }],
    ['LISTEN_FDNAMES of empty fields only', { ...ok, LISTEN_FDS: '3', LISTEN_FDNAMES: '::' }, { status: 'activated', names: ['', '', ''] }],
    [
      'LISTEN_FDNAMES with spaces and control characters (kept as given)',
      { ...ok, LISTEN_FDNAMES: ' a\tb ' },
      { status: 'activated', names: [' a\tb '] },
    ],
    ['LISTEN_PIDFDID empty', { ...ok, LISTEN_PIDFDID: '' }, { status: 'malformed', variable: 'LISTEN_PIDFDID', code: 'EINVAL' }],
    ['LISTEN_PIDFDID non-numeric', { ...ok, LISTEN_PIDFDID: 'abc' }, { status: 'malformed', variable: 'LISTEN_PIDFDID', code: 'EINVAL' }],
    ['LISTEN_PIDFDID negative', { ...ok, LISTEN_PIDFDID: '-1' }, { status: 'malformed', variable: 'LISTEN_PIDFDID', code: 'ERANGE' }],
    [
      'LISTEN_PIDFDID past 2^64 - 1',
      { ...ok, LISTEN_PIDFDID: '18446744073709551616' },
      { status: 'malformed', variable: 'LISTEN_PIDFDID', code: 'ERANGE' },
    ],
    [
      'LISTEN_PIDFDID of another process',
      () => ({ ...ok, LISTEN_PIDFDID: String((ownPidfdId() ?? 0n) + 1n) }),
      // Where pidfs is missing the check is skipped, as in libsystemd.
      () => (ownPidfdId() === null ? { status: 'activated', names: ['unknown'] } : { status: 'not-activated', reason: 'other-pidfd' }),
    ],
    ['LISTEN_PIDFDID ours', () => ({ ...ok, LISTEN_PIDFDID: String(ownPidfdId() ?? 0n) }), { status: 'activated', names: ['unknown'] }],
  ];

  function check(result: ListenFdsResult, expected: Expected): void {
    assert.equal(result.status, expected.status);
    if (expected.status === 'activated') {
      assert.equal(result.status, 'activated');
      assert.deepEqual(
        result.fds.map((fd) => fd.name),
        expected.names,
      );
      assert.deepEqual(
        result.fds.map((fd) => fd.fd),
        expected.names.map((_, i) => SD_LISTEN_FDS_START + i),
      );
      return;
    }
    assert.deepEqual(result.fds, []);
    if (expected.status === 'not-activated') {
      assert.deepEqual(result, { status: 'not-activated', reason: expected.reason, fds: [] });
      return;
    }
    assert.equal(result.status, 'malformed');
    assert.equal(result.variable, expected.variable);
    assert.ok(result.error instanceof Error);
    assert.equal(result.error.variable, expected.variable);
    assert.equal(result.error.code, expected.code);
    assert.ok(result.error.errno < 0);
    // The message names the variable, so a log line says what to fix.
    assert.match(result.error.message, new RegExp(`^${expected.variable}=`));
    if (expected.message) assert.match(result.error.message, expected.message);
  }

  function describeExpected(expected: Lazy<Expected>): string {
    if (typeof expected === 'function') return 'other-pidfd where pidfs can tell, else activated';
    return `${expected.status}${'reason' in expected ? ` (${expected.reason})` : ''}${'code' in expected ? ` (${expected.variable} ${expected.code})` : ''}`;
  }

  for (const [title, lazyEnv, lazyExpected] of cases) {
    it(`${title}: ${describeExpected(lazyExpected)}`, function () {
      const env = now(lazyEnv);
      const expected = now(lazyExpected);
      const copy = { ...env, OTHER: 'kept' };
      let result: ListenFdsResult | undefined;
      assert.doesNotThrow(() => (result = listenFds({ env: copy })));
      check(result!, expected);
      assert.deepEqual(copy, { ...env, OTHER: 'kept' }, 'without unsetEnv the environment is left as it was');

      let again: ListenFdsResult | undefined;
      assert.doesNotThrow(() => (again = listenFds({ env: copy, unsetEnv: true })));
      check(again!, expected);
      assert.deepEqual(
        copy,
        { OTHER: 'kept' },
        'unsetEnv removes LISTEN_PID, LISTEN_PIDFDID, LISTEN_FDS and LISTEN_FDNAMES, and nothing else',
      );
    });
  }

  it('reads process.env by default and never throws for it', function () {
    // The test runner itself is not socket-activated.
    assert.doesNotThrow(() => listenFds());
  });
});

describe('inspectFd(): the sd_is_* probes', function () {
  it('throws EBADF for a closed fd (a bug, not an environment)', function () {
    const fd = openSync('/dev/null', 'r');
    closeSync(fd);
    assert.throws(() => inspectFd(fd), { code: 'EBADF' });
    assert.throws(() => inspectFd(-1), TypeError);
  });

  it('answers the common sd_is_socket_inet question', async function () {
    const server = await listening(net.createServer(), 0, '127.0.0.1');
    try {
      const info = inspectFd(fdOf(server));
      const { port } = server.address() as net.AddressInfo;
      assert.ok(info.kind === 'tcp4' && info.listening && info.port === port, `inspectFd said ${JSON.stringify(info)}`);
    } finally {
      server.close();
    }
  });
});
