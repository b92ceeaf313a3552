// Adoption of passed fds into Node's servers and sockets: children started
// with real fds at 3.. (helpers/activation.ts) and under the real
// systemd-socket-activate, plus in-process checks of which fd goes where and
// of the errors for what cannot be adopted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, existsSync, mkdtempSync, openSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';

import { adoptConnection, bindDgram, fdOf, inspectFd, listen, listenFds } from 'sd-daemon-runtime';
import type { AdoptionError, ListenFdsResult } from 'sd-daemon-runtime';
import { fixtures, killAll, loopbackAdoption, spawnChild, spawnFixture, useScratch } from './helpers/activation.js';
// The addon itself, for what Node cannot make: AF_UNIX datagram sockets, and sending to one.
import { addon } from './helpers/native.js';
import { bound, listening } from './helpers/listening.js';
import { requireOrSkip } from './helpers/prerequisites.js';

const SOCKET_ACTIVATE = '/usr/bin/systemd-socket-activate';

function portOf(thing: { address(): unknown }): number {
  return (thing.address() as net.AddressInfo).port;
}

function get(target: { port: number; host?: string } | { socketPath: string }, path = '/'): Promise<any> {
  return new Promise((resolve, reject) => {
    const options =
      'socketPath' in target ? { socketPath: target.socketPath, path } : { host: target.host ?? '127.0.0.1', port: target.port, path };
    http
      .get(options, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

/** Sends `text` and waits for one datagram back. */
function exchange(type: 'udp4' | 'udp6', port: number, host: string, text: string): Promise<string> {
  const client = dgram.createSocket(type);
  return new Promise<string>((resolve, reject) => {
    client.once('message', (data) => resolve(data.toString()));
    client.once('error', reject);
    client.send(text, port, host);
  }).finally(() => client.close());
}

/** A port nothing listens on right now, for tools that need a fixed one. */
async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'tcp') {
    const server = await listening(net.createServer(), 0, '127.0.0.1');
    const port = portOf(server);
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
  const socket = await bound(dgram.createSocket('udp4'), 0, '127.0.0.1');
  const port = portOf(socket);
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

describe('adoption in activated children', function () {
  const scratch = useScratch('sdad');

  type Owned = net.Server | dgram.Socket | net.Socket | number;
  const handedOver = new Set<Owned>();

  function release(thing: Owned): void {
    if (typeof thing === 'number') closeSync(thing);
    else if (thing instanceof net.Socket) thing.destroy();
    else thing.close();
  }

  /**
   * A socket or fd the test made: closed when the test ends unless handed
   * over first, so a test that fails before handOver() leaves nothing open
   * (an open socket keeps mocha from exiting).
   */
  function own<T extends Owned>(thing: T): T {
    scratch.defer(() => {
      if (!handedOver.delete(thing)) release(thing);
    });
    return thing;
  }

  /** Closes the test's own copy of a passed fd, so only the child can answer on it. */
  function handOver(...things: Owned[]): void {
    for (const thing of things) {
      release(thing);
      handedOver.add(thing);
    }
  }

  it('an HTTP server adopts the TCP listener named "web" (passed after another fd) and serves a request', async function () {
    const udp = own(await bound(dgram.createSocket('udp4'), 0, '127.0.0.1'));
    const tcp = own(await listening(net.createServer(), 0, '127.0.0.1'));
    const port = portOf(tcp);
    const child = spawnFixture('adopt.mjs', ['http', '{"name":"web","fallback":{"port":0,"host":"127.0.0.1"}}'], {
      fds: [fdOf(udp), fdOf(tcp)],
      names: 'metrics:web',
    });
    handOver(udp, tcp);
    const ready = await child.next();
    assert.deepEqual(ready.adoption, loopbackAdoption('web', 4, 'tcp4', port));
    assert.deepEqual(await get({ port }, '/hello'), { pid: child.pid, url: '/hello' });
  });

  it('an HTTP server adopts a unix stream listener by name, and reports its path', async function () {
    const path = join(scratch.dir, 'api.sock');
    const unix = own(await listening(net.createServer(), path));
    const child = spawnFixture('adopt.mjs', ['http', '{"name":"api"}'], { fds: [fdOf(unix)], names: 'api' });
    // Closing a unix server unlinks its path (libuv); move the path aside
    // meanwhile, so the socket the child holds stays reachable by name.
    renameSync(path, `${path}.aside`);
    handOver(unix);
    renameSync(`${path}.aside`, path);
    const ready = await child.next();
    assert.deepEqual(ready.adoption, { activated: true, name: 'api', fd: 3, kind: 'unix-stream', address: path });
    assert.deepEqual(await get({ socketPath: path }), { pid: child.pid, url: '/' });
  });

  for (const [type, host] of [
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const) {
    it(`a ${type} dgram socket adopts the UDP fd named "dns" and receives a datagram`, async function () {
      const udp = own(await bound(dgram.createSocket(type), 0, host));
      const port = portOf(udp);
      const child = spawnFixture('adopt.mjs', ['dgram', JSON.stringify({ name: 'dns', type })], { fds: [fdOf(udp)], names: 'dns' });
      handOver(udp);
      const ready = await child.next();
      assert.equal(ready.adoption.activated, true);
      assert.equal(ready.adoption.fd, 3);
      assert.equal(ready.adoption.kind, type);
      assert.equal(ready.adoption.address.port, port);
      assert.equal(await exchange(type, port, host, 'query'), 'echo:query');
      assert.equal((await child.next()).text, 'query');
    });
  }

  it('Accept=yes: adoptConnection() wraps the connected socket passed as "connection"', async function () {
    // The test plays the manager: it accepts, passes the connection, and lets go of its copy.
    const server = await listening(net.createServer({ pauseOnConnect: true }), 0, '127.0.0.1');
    scratch.defer(() => server.close());
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect(portOf(server), '127.0.0.1');
    scratch.defer(() => client.destroy());
    const connection = own(await accepted);
    const child = spawnFixture('adopt.mjs', ['connection', '"connection"'], { fds: [fdOf(connection)], names: 'connection' });
    handOver(connection);
    assert.deepEqual((await child.next()).adopted, true);
    client.setEncoding('utf8');
    const hello = await new Promise<string>((resolve) => client.once('data', resolve));
    assert.equal(hello, `hello ${child.pid}\n`);
    client.write('ping');
    const echo = await new Promise<string>((resolve) => client.once('data', resolve));
    assert.equal(echo, 'echo:ping');
  });

  it('falls back to the given port when not activated, so the same code runs in development', async function () {
    const child = spawnFixture('adopt.mjs', ['http', '{"name":"web","fallback":{"port":0,"host":"127.0.0.1"}}'], { listenPid: null });
    const ready = await child.next();
    assert.equal(ready.adoption.activated, false);
    assert.equal(ready.adoption.name, 'web');
    assert.equal(ready.adoption.fd, undefined);
    assert.ok(ready.adoption.address.port > 0);
    assert.deepEqual(await get({ port: ready.adoption.address.port }), { pid: child.pid, url: '/' });
  });

  it('refuses a unix datagram socket with an error naming the fd, its name and its kind', async function () {
    const fd = own(addon().bindDgram(Buffer.from(`${join(scratch.dir, 'log.sock')}\0`)));
    assert.ok(fd >= 0);
    const asServer = spawnFixture('adopt.mjs', ['http', '{"name":"log","fallback":{"port":0}}'], { fds: [fd], names: 'log' });
    const asDgram = spawnFixture('adopt.mjs', ['dgram', '{"name":"log","fallback":{"port":0}}'], { fds: [fd], names: 'log' });
    handOver(fd);
    for (const [child, call] of [
      [asServer, 'listen()'],
      [asDgram, 'bindDgram()'],
    ] as const) {
      const error = await child.next();
      assert.equal(error.event, 'error');
      assert.equal(
        error.message,
        `${call}: fd 3 (name "log", kind unix-dgram) cannot be adopted: Node cannot use AF_UNIX datagram sockets (node:dgram wraps only UDP, node:net only stream sockets)`,
      );
      assert.deepEqual([error.fd, error.fdName, error.kind], [3, 'log', 'unix-dgram']);
      assert.equal((await child.exited).code, 3);
    }
  });

  it('one name on a stream and a datagram socket: listen() takes the stream, bindDgram() the datagram, even after unsetEnv', async function () {
    // What a .socket unit with ListenStream=PORT and ListenDatagram=PORT passes.
    const udp = own(await bound(dgram.createSocket('udp4'), 0, '127.0.0.1'));
    const tcp = own(await listening(net.createServer(), 0, '127.0.0.1'));
    const [udpPort, tcpPort] = [portOf(udp), portOf(tcp)];
    const child = spawnFixture('adopt.mjs', ['both', '{"name":"dns","unsetEnv":true}'], { fds: [fdOf(udp), fdOf(tcp)], names: 'dns:dns' });
    handOver(udp, tcp);
    const ready = await child.next();
    assert.deepEqual([ready.stream.fd, ready.stream.kind], [4, 'tcp4']);
    assert.deepEqual([ready.datagram.fd, ready.datagram.kind], [3, 'udp4']);
    // The first call removed LISTEN_*, the second still found its fd.
    assert.deepEqual(ready.envAfterFirst, []);
    assert.deepEqual(await get({ port: tcpPort }), { pid: child.pid, url: '/' });
    assert.equal(await exchange('udp4', udpPort, '127.0.0.1', 'q'), 'echo:q');
  });

  it('rejects with the listenFds() error when LISTEN_* is malformed, instead of quietly using the fallback', async function () {
    const fd = own(openSync('/dev/null', 'r'));
    const child = spawnFixture('adopt.mjs', ['http', '{"name":"web","fallback":{"port":0}}'], { fds: [fd], names: 'a:b' });
    handOver(fd);
    const error = await child.next();
    assert.equal(error.event, 'error');
    assert.equal(error.variable, 'LISTEN_FDNAMES');
    assert.equal(error.message, 'LISTEN_FDNAMES="a:b" has 2 names but LISTEN_FDS=1');
  });
});

describe('adoption under systemd-socket-activate', function () {
  before(function () {
    requireOrSkip(this, existsSync(SOCKET_ACTIVATE), `${SOCKET_ACTIVATE} is not installed (package systemd)`);
  });

  afterEach(function () {
    killAll();
  });

  function activate(args: string[], fixture: string, fixtureArgs: string[]) {
    return spawnChild([...args, process.execPath, join(fixtures, fixture), ...fixtureArgs], {
      command: SOCKET_ACTIVATE,
      listenPid: null,
    });
  }

  it('serves HTTP on the adopted stream socket (-l, --fdname=web); the first request starts the daemon', async function () {
    const port = await freePort('tcp');
    const tool = activate(['-l', `127.0.0.1:${port}`, '--fdname=web'], 'adopt.mjs', ['http', '{"name":"web","fallback":{"port":0}}']);
    await tool.stderrMatches(/Listening on/);
    // systemd-socket-activate execs the daemon in place on the first connection.
    const response = get({ port }, '/activated');
    const ready = await tool.next();
    assert.deepEqual(ready.adoption, loopbackAdoption('web', 3, 'tcp4', port));
    assert.equal(ready.pid, tool.pid);
    assert.deepEqual(await response, { pid: tool.pid, url: '/activated' });
  });

  it('receives the datagram that started it (-d, --fdname=dns)', async function () {
    const port = await freePort('udp');
    const tool = activate(['-d', '-l', `127.0.0.1:${port}`, '--fdname=dns'], 'adopt.mjs', ['dgram', '{"name":"dns"}']);
    await tool.stderrMatches(/Listening on/);
    const echo = exchange('udp4', port, '127.0.0.1', 'wake up');
    const ready = await tool.next();
    assert.deepEqual([ready.adoption.activated, ready.adoption.fd, ready.adoption.kind, ready.adoption.name], [true, 3, 'udp4', 'dns']);
    assert.equal(await echo, 'echo:wake up');
  });

  it('hands each connection to a new daemon with Accept=yes semantics (-a)', async function () {
    const port = await freePort('tcp');
    const tool = activate(['-a', '-l', `127.0.0.1:${port}`, '--fdname=connection'], 'adopt.mjs', ['connection', '"connection"']);
    await tool.stderrMatches(/Listening on/);
    const client = net.connect(port, '127.0.0.1').setEncoding('utf8');
    try {
      const hello = await new Promise<string>((resolve) => client.once('data', resolve));
      assert.match(hello, /^hello \d+\n$/);
      assert.notEqual(hello, `hello ${tool.pid}\n`, 'each connection gets a child of its own');
      client.write('ping');
      assert.equal(await new Promise<string>((resolve) => client.once('data', resolve)), 'echo:ping');
    } finally {
      client.destroy();
    }
  });

  it('passes a unix datagram socket (-d -l PATH), described as unix-dgram with its path', async function () {
    const dir = mkdtempSync('/tmp/sdad-');
    try {
      const path = join(dir, 'log.sock');
      const tool = activate(['-d', '-l', path, '--fdname=log'], 'listen-fds.mjs', []);
      await tool.stderrMatches(/Listening on/);
      assert.ok(addon().sendmsg(Buffer.from(`${path}\0`), Buffer.from('wake'), null, null) > 0);
      const out = await tool.next();
      assert.deepEqual(out.result, { status: 'activated', fds: [{ fd: 3, name: 'log', kind: 'unix-dgram', listening: false, path }] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes a SOCK_SEQPACKET socket, described as unix-seqpacket (--seqpacket)', async function () {
    // Node cannot connect a seqpacket socket to wake the tool; python3 can.
    const python = spawnSync('python3', ['-c', 'import socket; socket.SOCK_SEQPACKET']);
    requireOrSkip(this, python.status === 0, 'python3 is needed to connect to a SOCK_SEQPACKET socket');
    const dir = mkdtempSync('/tmp/sdad-');
    try {
      const path = join(dir, 'seq.sock');
      const tool = activate(['--seqpacket', '-l', path, '--fdname=seq'], 'listen-fds.mjs', []);
      await tool.stderrMatches(/Listening on/);
      const wake = spawnSync('python3', [
        '-c',
        'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])',
        path,
      ]);
      assert.equal(wake.status, 0, String(wake.stderr));
      const out = await tool.next();
      assert.deepEqual(out.result, { status: 'activated', fds: [{ fd: 3, name: 'seq', kind: 'unix-seqpacket', listening: true, path }] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('adoption rules (in process, with an activation result describing real fds)', function () {
  const closers: Array<() => void> = [];
  const notActivated = listenFds({ env: {} });

  afterEach(function () {
    for (const close of closers.splice(0)) close();
  });

  /** What listenFds() would report had these fds been passed under these names. */
  function activation(...entries: Array<[number, string]>): ListenFdsResult {
    return { status: 'activated', fds: entries.map(([fd, name]) => ({ ...inspectFd(fd), name })) };
  }

  function unixDgram(): number {
    const fd = addon().bindDgram(Buffer.from(`\0sd-adopt-test-${process.pid}-${closers.length}`));
    assert.ok(fd >= 0);
    closers.push(() => closeSync(fd));
    return fd;
  }

  function server(): http.Server {
    const s = http.createServer((req, res) => res.end('{"served":true}'));
    closers.push(() => s.close());
    return s;
  }

  function udp(type: 'udp4' | 'udp6'): dgram.Socket {
    const socket = dgram.createSocket(type);
    closers.push(() => socket.close());
    return socket;
  }

  async function rejection(promise: Promise<unknown>): Promise<AdoptionError> {
    try {
      await promise;
    } catch (error) {
      return error as AdoptionError;
    }
    assert.fail('expected a rejection');
  }

  it('falls back to the port when not activated, and serves on it', async function () {
    const result = await listen(server(), { name: 'web', fallback: { port: 0, host: '127.0.0.1' }, activation: notActivated });
    assert.equal(result.activated, false);
    assert.deepEqual(await get({ port: (result.address as net.AddressInfo).port }), { served: true });
  });

  it('falls back to a unix socket path when not activated', async function () {
    const dir = mkdtempSync('/tmp/sdad-');
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'fallback.sock');
    const result = await listen(server(), { fallback: { path }, activation: notActivated });
    assert.deepEqual(result, { activated: false, name: undefined, address: path });
    assert.deepEqual(await get({ socketPath: path }), { served: true });
  });

  it('bindDgram() falls back to a port when not activated', async function () {
    const socket = udp('udp4');
    const result = await bindDgram(socket, { name: 'dns', fallback: { port: 0, host: '127.0.0.1' }, activation: notActivated });
    assert.equal(result.activated, false);
    assert.ok((result.address as net.AddressInfo).port > 0);
  });

  it('without a fallback, not being activated is an error for listen() and null for adoptConnection()', async function () {
    const error = await rejection(listen(server(), { name: 'web', activation: notActivated }));
    assert.equal(error.message, 'listen(): not socket-activated (no-listen-pid), and no fallback address was given');
    assert.equal(adoptConnection({ activation: notActivated }), null);
  });

  it('an activated process missing the name fails, listing what was passed; optional falls back', async function () {
    const fd = unixDgram();
    const passed = activation([fd, 'log']);
    const error = await rejection(listen(server(), { name: 'web', fallback: { port: 0, host: '127.0.0.1' }, activation: passed }));
    assert.equal(error.message, `listen(): no fd named "web" was passed; passed: fd ${fd} (name "log", kind unix-dgram)`);
    // Like an FD store entry that does not exist yet on first start.
    const result = await listen(server(), { name: 'web', optional: true, fallback: { port: 0, host: '127.0.0.1' }, activation: passed });
    assert.equal(result.activated, false);
  });

  it('rejects a connected socket in listen(), and a listening one in adoptConnection(), saying which call fits', async function () {
    const listener = await listening(net.createServer(), 0, '127.0.0.1');
    closers.push(() => listener.close());
    const client = net.connect(portOf(listener), '127.0.0.1');
    closers.push(() => client.destroy());
    await new Promise((resolve) => client.once('connect', resolve));
    const connected = fdOf(client);
    const error = await rejection(listen(server(), { name: 'conn', activation: activation([connected, 'conn']) }));
    assert.equal(
      error.message,
      `listen(): fd ${connected} (name "conn", kind tcp4) cannot be adopted: it is a connected socket (Accept=yes); adopt it with adoptConnection()`,
    );
    // Should it wrap the listener after all, the wrapper goes too, or its handle would keep mocha running.
    let wrapped = null as net.Socket | null;
    closers.push(() => wrapped?.destroy());
    assert.throws(() => (wrapped = adoptConnection({ name: 'web', activation: activation([fdOf(listener), 'web']) })), {
      message: `adoptConnection(): fd ${fdOf(listener)} (name "web", kind tcp4) cannot be adopted: it is a listening socket; adopt it with listen()`,
    });
  });

  it('rejects a UDP fd of the other family than the dgram socket', async function () {
    const v6 = await bound(udp('udp6'), 0, '::1');
    const fd = fdOf(v6);
    const error = await rejection(bindDgram(udp('udp4'), { name: 'dns', activation: activation([fd, 'dns']) }));
    assert.equal(
      error.message,
      `bindDgram(): fd ${fd} (name "dns", kind udp6) cannot be adopted: the dgram socket was created as 'udp4'; use dgram.createSocket('udp6')`,
    );
    assert.equal(error.kind, 'udp6');
  });

  it('names fds that are not sockets, and every unsuitable fd under a shared name', async function () {
    const devNull = openSync('/dev/null', 'r');
    closers.push(() => closeSync(devNull));
    const log = unixDgram();
    const error = await rejection(listen(server(), { name: 'x', activation: activation([devNull, 'x'], [log, 'x']) }));
    assert.equal(
      error.message,
      `listen(): fd ${devNull} (name "x", kind character-device) cannot be adopted: it is not a socket; use it through node:fs with its fd; ` +
        `fd ${log} (name "x", kind unix-dgram) cannot be adopted: Node cannot use AF_UNIX datagram sockets (node:dgram wraps only UDP, node:net only stream sockets)`,
    );
    assert.equal(error.fd, devNull);
  });

  it('rejects with the malformed-environment error', async function () {
    const malformed = listenFds({ env: { LISTEN_PID: String(process.pid), LISTEN_FDS: 'many' } });
    const error = (await rejection(listen(server(), { fallback: { port: 0 }, activation: malformed }))) as AdoptionError & {
      variable: string;
    };
    assert.equal(error.variable, 'LISTEN_FDS');
    assert.throws(() => adoptConnection({ activation: malformed }), { message: 'LISTEN_FDS="many" is not a decimal number' });
  });

  it('an invalid name is a programmer error (TypeError)', async function () {
    const error = await rejection(listen(server(), { name: 'a:b', activation: notActivated }));
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /"a:b" is not a valid fd name/);
  });
});
