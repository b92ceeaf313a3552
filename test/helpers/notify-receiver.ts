// The receiving end of sd_notify for test/notify*.test.ts: an AF_UNIX
// datagram socket bound through the addon (Node cannot make one), so each test
// reads the exact bytes notify() sent, the sender's credentials and the fds.
import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';

import { failed, nativeBinding, type ReceivedMessage } from '../../runtime/dist/native.js';
import { parseUnixAddress } from '../../runtime/dist/unix-address.js';

// The addon, as the runtime loads it on first use.
const native = nativeBinding();

const EAGAIN = -11;

/** A bound datagram socket that reads what notify() sent, credentials and fds included. */
export class Receiver {
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
