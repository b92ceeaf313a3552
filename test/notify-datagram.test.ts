// parseNotifyDatagram(), the one reader of sd_notify datagrams (the fake
// manager's, and daemonize()'s parent's): each datagram goes over a real
// AF_UNIX datagram socket and is parsed from what recvmsg returned, and each
// test asserts the lines, fields and verdict systemd's
// manager_dispatch_notify_fd() and service_notify_message() would reach.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { failed } from '../runtime/dist/native.js';
import { parseNotifyDatagram, type NotifyDatagram } from '../runtime/dist/notify-datagram.js';

import { addon } from './helpers/native.js';

describe('parseNotifyDatagram(): notify datagrams read as systemd reads them', function () {
  let dir: string;
  let fd = -1;
  let sunPath: Buffer;

  before(function () {
    dir = mkdtempSync('/tmp/sd-ndg-');
    sunPath = Buffer.from(`${join(dir, 'notify')}\0`);
    fd = addon().bindDgram(sunPath);
    assert.ok(fd >= 0, `bind ${dir}/notify: errno ${-fd}`);
  });

  after(function () {
    if (fd >= 0) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `bytes` to the socket and parses the datagram that arrives. */
  function roundTrip(bytes: Buffer | string): NotifyDatagram {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const sent = addon().sendmsg(sunPath, data, null, null);
    assert.equal(sent, data.length, `sendmsg: ${sent}`);
    const received = addon().recvmsg(fd, 4096);
    assert.ok(!failed(received), `recvmsg: errno ${-Number(received)}`);
    assert.deepEqual(received.data, data, 'the datagram arrives byte for byte');
    return parseNotifyDatagram(received.data);
  }

  it('KEY=VALUE lines become fields; a value may itself contain "="', function () {
    const datagram = roundTrip('READY=1\nSTATUS=serving a=b\n');
    assert.deepEqual(datagram, {
      raw: 'READY=1\nSTATUS=serving a=b\n',
      lines: ['READY=1', 'STATUS=serving a=b'],
      fields: { READY: '1', STATUS: 'serving a=b' },
      utf8: true,
      problem: null,
    });
  });

  it('\\n and \\r both end a line, and empty lines vanish (strv_split(buf, NEWLINE))', function () {
    const datagram = roundTrip('A=1\r\n\r\nB=2\rC=3\n\n');
    assert.deepEqual(datagram.lines, ['A=1', 'B=2', 'C=3']);
    assert.deepEqual(datagram.fields, { A: '1', B: '2', C: '3' });
  });

  it('a key sent twice keeps its first value, the one strv_find_startswith() finds', function () {
    const datagram = roundTrip('STATUS=first\nSTATUS=second');
    assert.equal(datagram.fields.STATUS, 'first');
    assert.deepEqual(datagram.lines, ['STATUS=first', 'STATUS=second']);
  });

  it('a line without "=", or starting with it, is a line but no field', function () {
    const datagram = roundTrip('novalue\n=orphan\nREADY=1');
    assert.deepEqual(datagram.lines, ['novalue', '=orphan', 'READY=1']);
    assert.deepEqual(datagram.fields, { READY: '1' });
  });

  it('one trailing NUL is tolerated and dropped', function () {
    const datagram = roundTrip('READY=1\0');
    assert.equal(datagram.raw, 'READY=1');
    assert.deepEqual(datagram.fields, { READY: '1' });
    assert.equal(datagram.problem, null);
  });

  it("a NUL anywhere else makes the whole datagram invalid, in systemd's words", function () {
    const datagram = roundTrip('READY=1\0STATUS=hidden');
    assert.equal(datagram.problem, 'Received notify message with embedded NUL bytes. Ignoring.');
  });

  it('bytes that are not UTF-8 are reported (systemd ignores such a STATUS=), not rejected', function () {
    const datagram = roundTrip(Buffer.concat([Buffer.from('STATUS=caf'), Buffer.from([0xe9]), Buffer.from('\nREADY=1')]));
    assert.equal(datagram.utf8, false);
    assert.equal(datagram.problem, null);
    assert.equal(datagram.fields.READY, '1');
  });

  it('an empty datagram has no lines and no problem', function () {
    assert.deepEqual(roundTrip(Buffer.alloc(0)), { raw: '', lines: [], fields: {}, utf8: true, problem: null });
  });
});
