// notify() keeps one socket between calls: it survives a manager that
// re-creates its socket, never writes to a reused fd number, and a manager
// that stopped reading costs about a second (EAGAIN), never a frozen loop.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { notify } from 'sd-daemon-runtime';
import { Receiver } from './helpers/notify-receiver.js';
import { tempDir } from './helpers/temp-dir.js';

const root = tempDir('sd-notify-');

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
