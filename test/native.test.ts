// The addon's own contract: syscalls only, OS failures as negative errno (never
// a throw), turned into Node-shaped errors by systemError(). flock is used by
// the daemonizer's PID file; proven here across two real processes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { failed, nativeBinding, systemError } from '../runtime/dist/native.js';

// The addon, as the runtime loads it on first use.
const native = nativeBinding();

describe('native addon', function () {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'sd-native-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is loaded here', function () {
    assert.ok(native, 'the prebuilt addon loads in this repository');
  });

  it('flock: an exclusive lock held here makes another process fail with EWOULDBLOCK, and is released on unlock', function () {
    const { LOCK_EX, LOCK_NB, LOCK_UN } = native!.constants;
    const file = join(dir, 'pid');
    const fd = openSync(file, 'w');
    const tryFromChild = (): number => {
      const script = `
        import { nativeBinding } from ${JSON.stringify(new URL('../runtime/dist/native.js', import.meta.url).href)};
        import { openSync } from 'node:fs';
        const native = nativeBinding();
    process.stdout.write(String(native.flock(openSync(${JSON.stringify(file)}, 'r'), ${LOCK_EX | LOCK_NB})));`;
      return Number(spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).stdout);
    };
    try {
      assert.equal(native!.flock(fd, LOCK_EX | LOCK_NB), 0);
      const busy = tryFromChild();
      assert.equal(busy, -11, 'EWOULDBLOCK (EAGAIN on Linux)');
      assert.equal(systemError(busy, 'flock').code, 'EAGAIN');
      assert.equal(native!.flock(fd, LOCK_UN), 0);
      assert.equal(tryFromChild(), 0);
    } finally {
      closeSync(fd);
    }
  });

  it('returns -EBADF for a closed fd from every fd call, and systemError shapes it like Node', function () {
    const fd = openSync(join(dir, 'closed'), 'w');
    closeSync(fd);
    for (const [name, result] of [
      ['flock', native!.flock(fd, native!.constants.LOCK_SH)],
      ['setCloexec', native!.setCloexec(fd, true)],
      ['getCloexec', native!.getCloexec(fd)],
      ['fsType', native!.fsType(fd)],
      ['socketInfo', native!.socketInfo(fd)],
      ['recvmsg', native!.recvmsg(fd, 16)],
    ] as const) {
      assert.ok(failed(result), `${name} returned ${String(result)}`);
      assert.equal(result, -9, name);
    }
    const error = systemError(-9, 'fcntl', 'on fd 99');
    assert.equal(error.code, 'EBADF');
    assert.equal(error.errno, -9);
    assert.equal(error.syscall, 'fcntl');
    assert.match(error.message, /^fcntl EBADF on fd 99: bad file descriptor$/i);
  });

  it('socketInfo on a non-socket is -ENOTSOCK', function () {
    const fd = openSync(join(dir, 'file'), 'w');
    try {
      assert.equal(native!.socketInfo(fd), -88);
    } finally {
      closeSync(fd);
    }
  });

  it('sendmsg refuses an address that does not fit sun_path, and more than 253 fds, with -EINVAL', function () {
    assert.equal(native!.sendmsg(Buffer.alloc(109, 0x61), Buffer.from('X=1'), null, null), -22);
    assert.equal(native!.sendmsg(Buffer.from('/tmp/x\0'), Buffer.from('X=1'), Array(254).fill(0), null), -22);
  });

  it('pipe returns two CLOEXEC fds', function () {
    const pipe = native!.pipe();
    assert.ok(Array.isArray(pipe));
    try {
      for (const fd of pipe) assert.equal(native!.getCloexec(fd), 1);
    } finally {
      for (const fd of pipe) closeSync(fd);
    }
  });

  it("spawnDaemon: the PID of a program that ran, or -errno when it could not be exec'd (passed back from the daemon)", function () {
    const out = join(dir, 'spawned');
    const pid = native!.spawnDaemon('/bin/sh', ['sh', '-c', `echo $$ > ${out}`], [], [-1, -1, -1]);
    assert.ok(pid > 0, `spawnDaemon returned ${pid}`);
    const deadline = Date.now() + 10_000;
    while (!existsSync(out) || readFileSync(out, 'utf8') === '') {
      assert.ok(Date.now() < deadline, 'the daemon did not write its PID within 10 s');
      spawnSync('sleep', ['0.05']);
    }
    assert.equal(Number(readFileSync(out, 'utf8')), pid, "the PID returned is the daemon's own");
    assert.equal(native!.spawnDaemon(join(dir, 'no-such-program'), ['x'], [], []), -2, 'ENOENT');
  });

  it('sendmsg keeps one socket per thread (notify-socket.ts), and a worker closes its own when it exits', async function () {
    const link = (fd: string): string => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    };
    const sockets = (): Set<string> => new Set(readdirSync('/proc/self/fd').filter((fd) => link(fd).startsWith('socket:')));
    const path = join(dir, 'kept.sock');
    const receiver = native!.bindDgram(Buffer.from(`${path}\0`));
    try {
      native!.sendmsg(Buffer.from(`${path}\0`), Buffer.from('X=0'), null, null); // this thread's socket, opened once
      const before = sockets();
      assert.ok(native!.sendmsg(Buffer.from(`${path}\0`), Buffer.from('X=1'), null, null) > 0);
      assert.deepEqual(sockets(), before, 'a second send opens no socket');
      const code = `
        import { nativeBinding } from ${JSON.stringify(new URL('../runtime/dist/native.js', import.meta.url).href)};
        import { parentPort } from 'node:worker_threads';
        parentPort.postMessage(nativeBinding().sendmsg(Buffer.from(${JSON.stringify(`${path}\0`)}), Buffer.from('X=2'), null, null));`;
      const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
      const [sent] = (await once(worker, 'message')) as [number];
      assert.ok(sent > 0, `the worker's send returned ${sent}`);
      await once(worker, 'exit');
      assert.deepEqual(sockets(), before, "the worker's socket is closed with it");
    } finally {
      closeSync(receiver);
    }
  });

  it('stays at most 400 lines of C++ (README: syscalls only, every rule in TypeScript)', function () {
    const source = readFileSync(new URL('../runtime/native/src/addon.cc', import.meta.url), 'utf8');
    const lines = source.split('\n').length - (source.endsWith('\n') ? 1 : 0);
    assert.ok(lines <= 400, `runtime/native/src/addon.cc has ${lines} lines: move what is not a syscall into runtime/src`);
  });

  it('wrong argument types are our own bugs, so they throw TypeError', function () {
    assert.throws(() => (native!.flock as unknown as (x: string) => number)('3'), TypeError);
    assert.throws(() => (native!.sendmsg as unknown as () => number)(), TypeError);
    assert.throws(
      () => (native!.spawnDaemon as unknown as (...a: unknown[]) => number)('/bin/true', ['x', 1], [], []),
      /spawnDaemon\(file: string/,
    );
  });
});
