// The fake service manager (sd-daemon-runtime/testing), proven with real
// children: fixture daemons in test/fixtures speak the protocol through the
// runtime, and each test checks what the manager saw, did and handed over.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { notify } from 'sd-daemon-runtime';
import { FakeServiceManager, type FakeServiceManagerOptions, type FakeServiceSpawnOptions } from 'sd-daemon-runtime/testing';

import { fixtures } from './helpers/activation.js';
import { scaled } from './helpers/time-scale.js';

function node(fixture: string, ...args: string[]): FakeServiceSpawnOptions {
  return { command: process.execPath, args: [join(fixtures, fixture), ...args] };
}

function rawNotify(steps: unknown[]): FakeServiceSpawnOptions {
  return node('raw-notify.mjs', JSON.stringify(steps));
}

function get(port: number): Promise<{ pid: number; adopted: boolean }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

function connect(options: net.NetConnectOpts): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options, () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
}

function openFds(): string[] {
  return readdirSync('/proc/self/fd').sort();
}

describe('FakeServiceManager (sd-daemon-runtime/testing)', () => {
  const managers: FakeServiceManager[] = [];
  async function manager(options?: FakeServiceManagerOptions): Promise<FakeServiceManager> {
    const created = await FakeServiceManager.create(options);
    managers.push(created);
    return created;
  }
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
  });

  it('runs a Type=notify daemon: READY=1 and STATUS= are awaited, and the sender is the child', async () => {
    const m = await manager();
    const daemon = await m.spawn(node('fake-daemon.mjs'));
    const ready = await daemon.waitFor('READY=1');
    assert.equal(ready.pid, daemon.pid, 'SCM_CREDENTIALS names the daemon');
    assert.equal(ready.uid, process.getuid!());
    assert.equal(ready.raw, 'READY=1\nSTATUS=serving');
    assert.deepEqual(ready.fields, { READY: '1', STATUS: 'serving' });
    assert.equal(daemon.mainPid, daemon.pid);
    assert.equal(daemon.state, 'ready');
    assert.equal(daemon.status, 'serving');

    const first = daemon.messages[0]!;
    assert.equal(first.fields.X_PID, String(daemon.pid));
    assert.equal(first.fields.X_INVOCATION_ID, daemon.invocationId);
    assert.equal(first.fields.X_LISTEN_FDS, '', 'no LISTEN_FDS without sockets');
    assert.equal(first.fields.X_WATCHDOG_USEC, '', 'no WATCHDOG_USEC without a watchdog');
    assert.deepEqual(daemon.environment, { NOTIFY_SOCKET: m.notifySocket, INVOCATION_ID: daemon.invocationId });
    assert.ok(m.notifySocket.startsWith(m.dir) && existsSync(m.notifySocket));
    assert.deepEqual(daemon.violations, []);

    const exit = await daemon.stop();
    assert.deepEqual(exit, { pid: daemon.pid, code: 0, signal: null, result: 'success' });
    assert.equal(daemon.state, 'exited');
    assert.deepEqual(daemon.messages.at(-1)!.fields, { STOPPING: '1', STATUS: 'stopping' });
  });

  it('SIGTERM: the daemon says STOPPING=1 and its exit code is collected', async () => {
    const m = await manager();
    const daemon = await m.spawn(node('fake-daemon.mjs', '--exit-code=3'));
    await daemon.waitFor('READY=1');
    const states: string[] = [];
    daemon.on('state', (state: string) => states.push(state));
    assert.equal(daemon.kill('SIGTERM'), true);
    const exit = await daemon.exited;
    assert.deepEqual(exit, { pid: daemon.pid, code: 3, signal: null, result: 'exit-code' });
    assert.deepEqual(states, ['stopping', 'exited']);
    assert.equal(daemon.status, 'stopping');
    assert.equal(daemon.kill('SIGTERM'), false, 'nothing left to signal');
  });

  it('stop(): SIGKILL after the stop timeout, recorded as Result=timeout', async () => {
    const m = await manager();
    const daemon = await m.spawn(node('fake-daemon.mjs', '--ignore-term'));
    await daemon.waitFor('READY=1');
    const started = Date.now();
    const exit = await daemon.stop({ timeoutMs: 300 });
    assert.ok(Date.now() - started >= 290, 'it waited for the timeout');
    assert.deepEqual(exit, { pid: daemon.pid, code: null, signal: 'SIGKILL', result: 'timeout' });
  });

  it('hands over sockets as LISTEN_FDS/LISTEN_FDNAMES with LISTEN_PID = the daemon, and reports where they are bound', async () => {
    const m = await manager();
    const daemon = await m.spawn({
      ...node('fake-daemon.mjs'),
      sockets: [
        { name: 'http', tcp: { host: '127.0.0.1', port: 0 } },
        { name: 'control', unix: 'control.sock' },
        { name: 'dns', udp: { host: '127.0.0.1' } },
      ],
    });
    await daemon.waitFor('READY=1');
    const reported = daemon.messages[0]!.fields;
    assert.equal(reported.X_LISTEN_PID, String(daemon.pid), 'LISTEN_PID is the pid after exec');
    assert.equal(reported.X_LISTEN_FDS, '3');
    assert.equal(reported.X_LISTEN_FDNAMES, 'http:control:dns');
    assert.equal(daemon.environment.LISTEN_PID, String(daemon.pid));
    assert.deepEqual(daemon.listenFdNames, ['http', 'control', 'dns']);

    const [tcp, unix, udp] = daemon.sockets;
    assert.deepEqual(
      daemon.sockets.map((s) => [s.name, s.fd, s.kind]),
      [
        ['http', 3, 'tcp'],
        ['control', 4, 'unix'],
        ['dns', 5, 'udp'],
      ],
    );
    assert.ok(tcp!.port! > 0 && udp!.port! > 0, 'port 0 resolved to the bound port');
    assert.equal(unix!.path, join(m.dir, 'control.sock'));
    // Only the daemon holds the listening sockets now, and they still listen
    // (the kernel completes a connect into the backlog): the unix path
    // survived the manager closing its copy.
    await connect({ host: '127.0.0.1', port: tcp!.port! });
    await connect({ path: unix!.path! });
  });

  it('the daemon serves on the socket the manager bound', async () => {
    const m = await manager();
    const daemon = await m.spawn({ ...node('fdstore-http.mjs'), sockets: [{ name: 'http', tcp: { port: 0 } }] });
    await daemon.waitFor({ STATUS: 'adopted http' });
    assert.deepEqual(await get(daemon.sockets[0]!.port!), { pid: daemon.pid, adopted: true });
  });

  it('NotifyAccess=main ignores a child of the daemon (recorded with the reason); NotifyAccess=all acts on it', async () => {
    const m = await manager();
    const strict = await m.spawn({ ...node('grandchild.mjs'), notifyAccess: 'main' });
    // Two Node starts (the daemon, then its child) before this message: stretched where Node starts slower.
    const last = await strict.waitFor({ STATUS: 'main after grandchild' }, { timeoutMs: scaled(5000) });
    const grandchild = Number(last.fields.X_GRANDCHILD);
    const [ignored] = strict.rejected;
    assert.ok(ignored, 'the grandchild message is recorded');
    assert.equal(ignored.pid, grandchild);
    assert.equal(ignored.raw, 'READY=1\nSTATUS=from the grandchild');
    assert.equal(
      ignored.rejection,
      `Got notification message from PID ${grandchild}, but reception only permitted for main PID ${strict.pid}`,
    );
    assert.equal(strict.state, 'starting', 'READY=1 from the grandchild did not count');
    assert.equal(strict.status, 'main after grandchild');
    assert.ok(strict.violations.some((v) => v.text === ignored.rejection));
    await strict.stop();

    const open = await m.spawn({ ...node('grandchild.mjs'), notifyAccess: 'all' });
    const ready = await open.waitFor('READY=1', { timeoutMs: scaled(5000) });
    assert.notEqual(ready.pid, open.pid, 'sent by the grandchild');
    assert.equal(ready.accepted, true);
    assert.equal(open.state, 'ready');
    assert.deepEqual(open.rejected, []);
  });

  it('MAINPID= moves the main PID: NotifyAccess=main follows it, and the service ends when that process does', async () => {
    const m = await manager();
    const daemon = await m.spawn(
      rawNotify([{ mainPidToChild: true }, { send: 'STATUS=from the old main process' }, { wait: 50 }, { exit: 0 }]),
    );
    await daemon.waitFor('READY=1');
    const sleeper = daemon.mainPid;
    assert.notEqual(sleeper, daemon.pid);
    await daemon.waitFor('STATUS=from the old main process', { includeRejected: true });
    assert.equal(
      daemon.rejected[0]!.rejection,
      `Got notification message from PID ${daemon.pid}, but reception only permitted for main PID ${sleeper}`,
    );

    // The process we spawned exits 0, like a forking daemon's parent; the service runs on.
    await once(daemon.child, 'exit');
    await sleep(50);
    assert.equal(daemon.exitInfo, null);
    assert.equal(daemon.state, 'ready');

    const exit = await daemon.stop();
    // The main process was not our child, so nobody could collect its status.
    assert.deepEqual(exit, { pid: sleeper, code: null, signal: null, result: 'success' });
  });

  it('the fd store: FDSTORE=1 keeps a listening socket across a restart and hands it back by name after the sockets', async () => {
    const m = await manager();
    const first = await m.spawn(node('fdstore-http.mjs'));
    const ready = await first.waitFor('READY=1');
    const port = Number(/^listening on (\d+)$/.exec(ready.fields.STATUS!)![1]);

    const stored = first.messages.find((message) => message.lines.includes('FDSTORE=1'))!;
    assert.equal(stored.raw, 'FDSTORE=1\nFDNAME=http');
    assert.equal(stored.fds.length, 1);
    assert.equal(stored.fds[0]!.stored, true);
    assert.deepEqual(stored.fds[0]!.socket, { type: 'stream', family: 'inet', listening: true, address: '127.0.0.1', port });
    assert.deepEqual(
      m.fdStore.map((entry) => [entry.name, entry.storedBy, entry.poll, entry.socket?.port]),
      [['http', first.pid, true, port]],
    );

    first.kill('SIGKILL');
    assert.equal((await first.exited).result, 'signal');
    // Nobody serves now, but the stored socket still listens: the kernel
    // queues this request until the next daemon accepts it.
    const answer = get(port);

    const second = await m.spawn({ ...node('fdstore-http.mjs'), sockets: [{ name: 'web', tcp: {} }] });
    const adopted = await second.waitFor({ STATUS: 'adopted http' });
    assert.equal(adopted.fields.X_LISTEN_FDNAMES, 'web:http', "systemd's order: sockets, then the store");
    assert.equal(second.environment.LISTEN_FDS, '2');
    assert.deepEqual(await answer, { pid: second.pid, adopted: true });
    assert.equal(m.fdStore.length, 1, 'the manager keeps its copy');
  });

  it('the fd store: FDNAME defaults to "stored", FDSTOREREMOVE=1 closes by name, newest first, FileDescriptorStoreMax= is enforced', async () => {
    const m = await manager({ fdStoreMax: 3 });
    const daemon = await m.spawn(
      rawNotify([
        { send: 'FDSTORE=1\nFDNAME=a', pipe: true },
        { send: 'FDSTORE=1\nFDNAME=b', pipe: true },
        { send: 'FDSTORE=1', pipe: true },
        { send: 'FDSTOREREMOVE=1\nFDNAME=b' },
        { send: 'FDSTORE=1\nFDNAME=bad:name', pipe: true },
        { send: 'FDSTORE=1\nFDNAME=over', pipe: true },
        { send: 'READY=1' },
      ]),
    );
    await daemon.waitFor('READY=1');
    assert.deepEqual(
      m.fdStore.map((entry) => [entry.name, entry.type]),
      [
        ['stored', 'fifo'],
        ['stored', 'fifo'],
        ['a', 'fifo'],
      ],
    );
    assert.deepEqual(
      daemon.violations.map((v) => v.text),
      [
        'Passed FDNAME= name is invalid, ignoring.',
        'Cannot store more fds than FileDescriptorStoreMax=3, closing remaining.',
        'Got extra auxiliary fds with notification message, closing them.',
      ],
    );
    await daemon.stop();

    const next = await m.spawn(node('fake-daemon.mjs'));
    await next.waitFor('READY=1');
    assert.equal(next.messages[0]!.fields.X_LISTEN_FDNAMES, 'stored:stored:a');
    assert.equal(m.removeStoredFds('stored'), 2);
    assert.deepEqual(m.storedFds('a').length, 1);
  });

  it('the fd store keeps one copy of a pipe stored twice, silently, as systemd does', async () => {
    const m = await manager();
    const daemon = await m.spawn(rawNotify([{ send: 'FDSTORE=1\nFDNAME=twice', pipe: true, twice: true }, { send: 'READY=1' }]));
    await daemon.waitFor('READY=1');
    const [stored] = daemon.messages;
    assert.equal(stored!.fds.length, 2, 'two descriptors arrived');
    assert.equal(stored!.fds[0]!.ino, stored!.fds[1]!.ino, 'for one pipe');
    assert.deepEqual(
      m.fdStore.map((entry) => entry.name),
      ['twice'],
    );
    assert.deepEqual(daemon.violations, []);
  });

  it('barrier(): the manager closes the BARRIER=1 fd at once, even when NotifyAccess=none ignores everything else', async () => {
    const m = await manager();
    const daemon = await m.spawn(node('barrier.mjs'));
    await daemon.waitFor({ STATUS: 'barrier passed (sent: true)' });
    const barrier = daemon.messages.find((message) => message.raw === 'BARRIER=1')!;
    assert.equal(barrier.fds.length, 1);
    assert.equal(barrier.fds[0]!.type, 'fifo');
    assert.equal(barrier.fds[0]!.stored, false);
    assert.deepEqual(daemon.violations, []);
    assert.deepEqual(m.fdStore, []);

    const deaf = await m.spawn({ ...node('barrier.mjs'), notifyAccess: 'none' });
    const passed = await deaf.waitFor({ STATUS: /^barrier passed/ }, { includeRejected: true });
    assert.equal(passed.accepted, false);
    assert.equal(passed.rejection, `Got notification message from PID ${deaf.pid}, but reception is disabled`);
    assert.equal(deaf.state, 'starting');
  });

  it('the watchdog: WATCHDOG_USEC and WATCHDOG_PID are set, pings counted, and a silent daemon is killed with SIGABRT', async () => {
    const m = await manager();
    // 3 s (pings every 750 ms): a loaded machine can hold the daemon off the CPU for a second.
    const daemon = await m.spawn({ ...node('fake-daemon.mjs', '--pings=2'), watchdogUsec: 3_000_000, enforceWatchdog: true });
    await daemon.waitFor('READY=1');
    assert.equal(daemon.messages[0]!.fields.X_WATCHDOG_PID, String(daemon.pid));
    assert.equal(daemon.messages[0]!.fields.X_WATCHDOG_USEC, '3000000');
    const exit = await daemon.exited;
    assert.deepEqual(exit, { pid: daemon.pid, code: null, signal: 'SIGABRT', result: 'watchdog' });
    const watchdog = daemon.watchdog;
    assert.equal(watchdog.pings, 2);
    assert.equal(watchdog.missed, 1);
    assert.ok(watchdog.killedAt! - watchdog.lastPingAt! >= 2990, 'killed one timeout after the last ping');
  });

  it('the watchdog without enforcement: a missed deadline is recorded, the daemon lives on', async () => {
    const m = await manager();
    // 1 s from the one ping (sent after 250 ms); polled, then checked to stay at one.
    const daemon = await m.spawn({ ...node('fake-daemon.mjs', '--pings=1'), watchdogUsec: 1_000_000n });
    await daemon.waitFor('WATCHDOG=1');
    for (let waited = 0; waited < 10_000 && daemon.watchdog.missed === 0; waited += 50) await sleep(50);
    await sleep(1500);
    assert.equal(daemon.watchdog.missed, 1, 'one deadline passed, and nothing re-armed it');
    assert.equal(daemon.watchdog.killedAt, null);
    assert.equal(daemon.state, 'ready');
    assert.equal((await daemon.stop()).result, 'success');
  });

  it('reload(): SIGHUP, RELOADING=1 with a MONOTONIC_USEC= from after the signal, then READY=1', async () => {
    const m = await manager();
    const daemon = await m.spawn(node('fake-daemon.mjs'));
    await daemon.waitFor('READY=1');
    const states: string[] = [];
    daemon.on('state', (state: string) => states.push(state));
    const before = process.hrtime.bigint() / 1000n;
    const { reloading, ready } = await daemon.reload();
    assert.ok(BigInt(reloading.fields.MONOTONIC_USEC!) >= before);
    assert.ok(BigInt(reloading.fields.MONOTONIC_USEC!) * 1000n <= BigInt(Math.ceil(reloading.receivedAt * 1000)) * 1000n);
    assert.equal(ready.raw, 'READY=1\nSTATUS=serving');
    assert.deepEqual(states, ['reloading', 'ready']);
    assert.deepEqual(daemon.violations, []);
  });

  it('records what systemd would warn about or drop: RELOADING=1 without MONOTONIC_USEC=, stray fds, NUL bytes, 4097 bytes, bad fields', async () => {
    const m = await manager();
    const daemon = await m.spawn(
      rawNotify([
        { send: 'READY=1\nX_WITH_FD=1', pipe: true },
        { send: 'RELOADING=1' },
        { send: 'STATUS=a\u0000b' },
        { repeat: 'A', bytes: 4097 },
        { send: `X_BIG=${'B'.repeat(4090)}` },
        { send: 'WATCHDOG=bogus' },
        { send: 'FDSTOREREMOVE=1' },
        { send: 'MAINPID=abc' },
        { send: 'STATUS=done\u0000' },
      ]),
    );
    await daemon.waitFor({ STATUS: 'done' });
    assert.deepEqual(
      daemon.violations.map((v) => v.text),
      [
        'Got extra auxiliary fds with notification message, closing them.',
        'RELOADING=1 without MONOTONIC_USEC=: systemd cannot tell this reload from an earlier one, so a reload it requested (Type=notify-reload) waits until it times out',
        'Received notify message with embedded NUL bytes. Ignoring.',
        'Received notify message exceeded maximum size (4096 bytes). Ignoring.',
        'Passed WATCHDOG= field is invalid, ignoring.',
        'FDSTOREREMOVE=1 requested, but no valid file descriptor name passed, ignoring.',
        'Failed to parse MAINPID=abc field in notification message, ignoring',
      ],
    );
    assert.equal(daemon.rejected.length, 2);
    assert.equal(daemon.state, 'reloading', 'RELOADING=1 still counts');
    assert.equal(daemon.status, 'done', 'one trailing NUL is tolerated');
    const big = daemon.messages.find((message) => message.raw.startsWith('X_BIG='))!;
    assert.equal(Buffer.byteLength(big.raw), 4096, 'exactly NOTIFY_BUFFER_MAX is accepted');
    assert.equal(big.accepted, true);
    assert.deepEqual(m.fdStore, [], 'the stray fd was closed');
  });

  it('waitFor() rejects when the daemon exits first, with its exit status and stderr', async () => {
    const m = await manager();
    const crashed = await m.spawn(node('fake-daemon.mjs', '--crash=boom: /etc/app.conf is missing'));
    await assert.rejects(crashed.waitFor('READY=1'), (error: Error) => {
      assert.match(error.message, /exited before READY=1/);
      assert.match(error.message, /code 1, signal null, result exit-code/);
      assert.match(error.message, /boom: \/etc\/app\.conf is missing/);
      return true;
    });

    // Type=notify: a clean exit before READY=1 is a protocol failure.
    const quitter = await m.spawn(rawNotify([{ send: 'STATUS=bye' }, { exit: 0 }]));
    assert.equal((await quitter.exited).result, 'protocol');

    const silent = await m.spawn(rawNotify([]));
    await assert.rejects(
      silent.waitFor('READY=1', { timeoutMs: 100 }),
      /timed out after 100 ms waiting for READY=1\n {2}state: starting\n {2}no messages received/,
    );
  });

  it('a message from a process outside every service is recorded and refused', async () => {
    const m = await manager();
    const result = notify('STATUS=stray', { env: { NOTIFY_SOCKET: m.notifySocket } });
    assert.equal(result.sent, true);
    while (m.messages.length === 0) await sleep(5);
    const [stray] = m.messages;
    assert.equal(stray!.pid, process.pid);
    assert.equal(stray!.accepted, false);
    assert.equal(stray!.rejection, `Cannot find unit for notify message of PID ${process.pid}, ignoring.`);
  });

  it('an abstract notify socket ("@...") works the same and leaves nothing on disk', async () => {
    const m = await manager({ abstract: true });
    assert.match(m.notifySocket, /^@sd-daemon-runtime\/fake-manager\//);
    assert.deepEqual(readdirSync(m.dir), []);
    const daemon = await m.spawn(node('fake-daemon.mjs'));
    const ready = await daemon.waitFor('READY=1');
    assert.equal(ready.pid, daemon.pid);
    assert.equal(daemon.messages[0]!.fields.X_PID, String(daemon.pid));
  });

  it('close() kills what runs, and leaves no fd open and no file behind', async () => {
    // Node opens some fds once, on first use (the SIGCHLD pipe, ...): warm up first.
    const warm = await FakeServiceManager.create();
    await (await warm.spawn(node('fdstore-http.mjs'))).waitFor('READY=1');
    await warm.close();

    const before = openFds();
    const m = await FakeServiceManager.create();
    const daemon = await m.spawn({ ...node('fdstore-http.mjs'), sockets: [{ name: 'unused', unix: 'unused.sock' }] });
    await daemon.waitFor('READY=1');
    const barrier = await m.spawn(node('barrier.mjs'));
    await barrier.waitFor('READY=1');
    assert.equal(m.fdStore.length, 1);
    await m.close();
    assert.equal(daemon.exitInfo?.signal, 'SIGKILL');
    assert.equal(barrier.exitInfo?.signal, 'SIGKILL');
    assert.deepEqual(openFds(), before);
    assert.equal(existsSync(m.dir), false);
    await m.close(); // idempotent
    await assert.rejects(m.spawn(node('fake-daemon.mjs')), /spawn\(\) after close\(\)/);
  });

  it('spawn() rejects a command that cannot run, and invalid socket names', async () => {
    const m = await manager();
    await assert.rejects(m.spawn({ command: '/nonexistent/daemon' }), { code: 'ENOENT' });
    await assert.rejects(m.spawn({ ...node('fake-daemon.mjs'), sockets: [{ name: 'a:b', tcp: {} }] }), TypeError);
  });

  it('Type=simple: ready as soon as it runs, no READY=1 needed', async () => {
    const m = await manager();
    const daemon = await m.spawn({ ...rawNotify([]), type: 'simple' });
    await daemon.waitForState('ready', { timeoutMs: 10_000 });
    assert.deepEqual(await daemon.stop(), { pid: daemon.pid, code: null, signal: 'SIGTERM', result: 'success' });
  });

  it('env overrides the protocol variables on purpose, and inherited ones never leak in', async () => {
    const m = await manager();
    process.env.LISTEN_FDS = '9';
    try {
      const daemon = await m.spawn({ ...node('fake-daemon.mjs'), env: { INVOCATION_ID: 'fixed' } });
      await daemon.waitFor('READY=1');
      assert.equal(daemon.messages[0]!.fields.X_LISTEN_FDS, '', "the test runner's LISTEN_FDS stays out");
      assert.equal(daemon.messages[0]!.fields.X_INVOCATION_ID, 'fixed');
      assert.equal(daemon.environment.INVOCATION_ID, undefined);
    } finally {
      delete process.env.LISTEN_FDS;
    }
  });

  it('create() without the native addon: the module still imports, and create() says what is missing', () => {
    // A copy of the built runtime with no prebuilds and no native/ build.
    const root = mkdtempSync(join(tmpdir(), 'sd-no-addon-'));
    try {
      cpSync(join(fixtures, '..', '..', 'runtime', 'dist'), join(root, 'dist'), { recursive: true });
      writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
      const script = `
        const { FakeServiceManager } = await import(${JSON.stringify(join(root, 'dist', 'testing.js'))});
        try { await FakeServiceManager.create(); console.log('created'); }
        catch (error) { console.log(JSON.stringify({ name: error.name, message: error.message })); }`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const error = JSON.parse(run.stdout) as { name: string; message: string };
      assert.equal(error.name, 'Error');
      assert.match(
        error.message,
        /^FakeServiceManager needs the sd-daemon-runtime native addon .* and it is not loaded: sd-daemon-runtime: native addon not loaded; tried:/s,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
