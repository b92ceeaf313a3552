// notify() and NOTIFY_SOCKET: unsetEnv removes it whatever happened (a send,
// a programmer error, a failed send, a barrier, a door's own argument check),
// and a hostile value is never a throw but a documented result naming the socket.
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

import { barrier, extendTimeout, notify, storeFds, type NotifyResult } from 'sd-daemon-runtime';
import { Receiver } from './helpers/notify-receiver.js';
import { tempDir } from './helpers/temp-dir.js';

const root = tempDir('sd-notify-');

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
