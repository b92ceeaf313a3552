// socket-bytes.ts reads what the kernel wrote: control messages from real
// recvmsg calls (credentials the kernel adds itself, fds it installed) and
// addresses from real getsockname calls, compared with what Node says of the
// same sockets. The sending side is checked by the kernel, which refuses a
// malformed control buffer.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, fstatSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { decodeControl, encodeControl, readSockaddr, SCM_MAX_FD } from '../runtime/dist/socket-bytes.js';
import { addon } from './helpers/native.js';

describe('socket-bytes: cmsg and sockaddr bytes against real sockets', function () {
  let dir: string;
  const opened: number[] = [];
  before(() => (dir = mkdtempSync(join(tmpdir(), 'sd-bytes-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    for (const fd of opened.splice(0)) closeSync(fd);
  });

  function receiver(name: string): { sunPath: Buffer; fd: number } {
    const sunPath = Buffer.from(`${join(dir, name)}\0`);
    const fd = addon().bindDgram(sunPath);
    assert.ok(fd >= 0, `bindDgram: ${fd}`);
    opened.push(fd);
    return { sunPath, fd };
  }

  it('reads the credentials the kernel attaches (SO_PASSCRED) and the fds it installs (SCM_RIGHTS)', function () {
    const native = addon();
    const { sunPath, fd } = receiver('rights.sock');
    const pipe = native.pipe();
    assert.ok(Array.isArray(pipe));
    opened.push(...pipe);
    // No credentials sent: the ones read back are the kernel's own.
    assert.equal(native.sendmsg(sunPath, Buffer.from('A=1'), [pipe[0], pipe[1], pipe[0]], null), 3);
    const received = native.recvmsg(fd, 64);
    assert.ok(!(typeof received === 'number'), `recvmsg: ${String(received)}`);
    opened.push(...received.fds);
    assert.deepEqual([received.pid, received.uid, received.gid], [process.pid, process.getuid!(), process.getgid!()]);
    assert.equal(received.fds.length, 3);
    const inode = (n: number): string => `${fstatSync(n).dev}:${fstatSync(n).ino}`;
    assert.deepEqual(received.fds.map(inode), [pipe[0], pipe[1], pipe[0]].map(inode), 'the same pipe ends, in order');
    assert.equal(received.data.toString(), 'A=1');
    assert.equal(received.controlTruncated, false);
  });

  it('sends SCM_CREDENTIALS and SCM_RIGHTS together, and receives a full SCM_MAX_FD fds without truncation', function () {
    const native = addon();
    const { sunPath, fd } = receiver('full.sock');
    const pipe = native.pipe();
    assert.ok(Array.isArray(pipe));
    opened.push(...pipe);
    const ucred: [number, number, number] = [process.pid, process.getuid!(), process.getgid!()];
    assert.equal(native.sendmsg(sunPath, Buffer.from('B=2'), Array(SCM_MAX_FD).fill(pipe[0]), ucred), 3);
    const received = native.recvmsg(fd, 64);
    assert.ok(!(typeof received === 'number'), `recvmsg: ${String(received)}`);
    opened.push(...received.fds);
    assert.equal(received.fds.length, SCM_MAX_FD);
    assert.equal(received.controlTruncated, false);
    assert.deepEqual([received.pid, received.uid, received.gid], ucred, 'the credentials as sent');
    // One past the limit: the kernel refuses it (the limit is the kernel's, written once, here for the receive buffer).
    assert.equal(native.sendmsg(sunPath, Buffer.from('C=3'), Array(SCM_MAX_FD + 1).fill(pipe[0]), null), -22);
  });

  it('encodes nothing for no fds and no credentials, and decodes an empty control buffer to nothing', function () {
    assert.equal(encodeControl(null, null).length, 0);
    assert.equal(encodeControl([], null).length, 0);
    assert.deepEqual(decodeControl(Buffer.alloc(0)), { pid: null, uid: null, gid: null, fds: [] });
  });

  it('renders inet addresses as Node does for the same socket (IPv4, IPv6, IPv4-mapped), and unix paths raw', async function () {
    const native = addon();
    for (const host of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '::']) {
      const server = net.createServer().listen(0, host);
      await once(server, 'listening');
      try {
        const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
        const info = native.socketInfo(fd);
        assert.ok(!(typeof info === 'number'), `socketInfo: ${String(info)}`);
        const node = server.address() as net.AddressInfo;
        assert.deepEqual([info.address, info.port, info.listening], [node.address, node.port, true], host);
      } finally {
        server.close();
      }
    }
    const { sunPath, fd } = receiver('named.sock');
    const info = native.socketInfo(fd);
    assert.ok(!(typeof info === 'number'));
    assert.deepEqual(info.path, sunPath, 'sun_path bytes as bound, with the trailing NUL');
    const unnamed = native.pipe(); // not a socket: no address at all
    assert.ok(Array.isArray(unnamed));
    opened.push(...unnamed);
    assert.equal(native.socketInfo(unnamed[0]), -88);
    assert.deepEqual(readSockaddr(Buffer.alloc(0)), { family: 0 });
  });
});
