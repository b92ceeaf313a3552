// MAINPIDFDID=, MAINPIDFD=1 and VARLINKERROR= (sd_notify(3), systemd 257):
// typed, checked, and received byte for byte (with the pidfd) by a real
// datagram socket standing where the manager's would be.
import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { formatState, notify } from 'sd-daemon-runtime';
import { addon } from './helpers/native.js';

describe('notify: the pidfd-id forms', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'notify-pidfd-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes MAINPIDFDID from a number or a bigint (a 64-bit inode ID), and VARLINKERROR as text', function () {
    assert.equal(formatState({ MAINPID: 4711, MAINPIDFDID: 2n ** 63n + 5n }), `MAINPID=4711\nMAINPIDFDID=${2n ** 63n + 5n}`);
    assert.equal(formatState({ MAINPIDFDID: 42 }), 'MAINPIDFDID=42');
    assert.equal(
      formatState({ VARLINKERROR: 'org.varlink.service.InvalidParameter' }),
      'VARLINKERROR=org.varlink.service.InvalidParameter',
    );
  });

  it('refuses MAINPIDFDID values outside a u64 and of other types, naming the field', function () {
    assert.throws(() => formatState({ MAINPIDFDID: -1 }), /RangeError|MAINPIDFDID must be a non-negative integer/);
    assert.throws(() => formatState({ MAINPIDFDID: 2n ** 64n }), /MAINPIDFDID must fit in 64 bits/);
    assert.throws(() => formatState({ MAINPIDFDID: '42' as never }), /MAINPIDFDID must be a number or bigint/);
    assert.throws(() => formatState({ MAINPIDFD: 2 as never }), /MAINPIDFD can only be 1/);
    assert.throws(() => formatState({ VARLINKERROR: 1 as never }), /VARLINKERROR must be a string/);
  });

  it('MAINPIDFD=1 needs exactly one fd', function () {
    const env = { NOTIFY_SOCKET: join(dir, 'unused') };
    assert.throws(() => notify({ MAINPIDFD: 1 }, { env }), /MAINPIDFD=1 takes exactly one fd.*got 0/);
    assert.throws(() => notify({ MAINPIDFD: 1 }, { env, fds: [0, 1] }), /got 2/);
  });

  it('delivers MAINPID + MAINPIDFDID of a real pidfd, and MAINPIDFD=1 with the pidfd itself', function () {
    const native = addon();
    const path = join(dir, 'notify.sock');
    const server = native.bindDgram(Buffer.from(`${path}\0`));
    assert.ok(server >= 0, `bindDgram: ${server}`);
    const pidfd = native.pidfdOpen(process.pid);
    assert.ok(pidfd >= 0, `pidfd_open: ${pidfd}`);
    try {
      // On pidfs (Linux 6.9+) the inode is the ID systemd compares; earlier kernels give an anonymous inode.
      const id = fstatSync(pidfd, { bigint: true }).ino;
      const env = { NOTIFY_SOCKET: path };
      assert.equal(notify({ MAINPID: process.pid, MAINPIDFDID: id }, { env }).sent, true);
      const first = native.recvmsg(server, 4096);
      assert.ok(typeof first === 'object');
      assert.equal(first.data.toString(), `MAINPID=${process.pid}\nMAINPIDFDID=${id}`);

      assert.equal(notify({ MAINPIDFD: 1 }, { env, fds: [pidfd] }).sent, true);
      const second = native.recvmsg(server, 4096);
      assert.ok(typeof second === 'object');
      assert.equal(second.data.toString(), 'MAINPIDFD=1');
      assert.equal(second.fds.length, 1);
      // The fd that arrived is the same pidfd (same inode), as the manager would see it.
      assert.equal(fstatSync(second.fds[0]!, { bigint: true }).ino, id);
      closeSync(second.fds[0]!);
    } finally {
      closeSync(pidfd);
      closeSync(server);
    }
  });
});
