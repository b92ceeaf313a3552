// The FD store under a real systemd user manager (FileDescriptorStoreMax=):
// a daemon keeps its listening socket and its client connections across
// `systemctl --user restart`. Clients send half a request, the service is
// restarted, the clients send the rest on the same TCP connections and get
// complete responses from the new process, which got the connections (and the
// bytes the old one had read from them) back through LISTEN_FDS and
// LISTEN_FDNAMES. New connections work after each restart too.
import assert from 'node:assert/strict';
import net from 'node:net';

import { sleep, useUserManager } from '../helpers/units.js';
import { figures, fixture, fixtureService, jsonLines, request } from '../helpers/under-manager.js';

const CONNECTIONS = 3;
const RESTARTS = 2;

interface Line {
  pid: number;
  event: string;
  id?: string;
  bytes?: number;
  pendingBytes?: number;
  kind?: string;
  connections?: number;
  barrier?: boolean;
  activated?: boolean;
  listenFdNames?: string | null;
}

/** A raw client connection: what it received, and whether the server closed it. */
class Client {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  readonly closed: Promise<void>;
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    this.closed = new Promise((resolve, reject) => {
      this.socket.on('end', () => resolve());
      this.socket.on('error', reject);
    });
    // Reported by response(); until then a reset must not count as an unhandled rejection.
    this.closed.catch(() => {});
  }
  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }
  /** The response, once the server has closed the connection (Content-Length checked). */
  async response(timeoutMs: number): Promise<{ status: number; body: string }> {
    await Promise.race([
      this.closed,
      sleep(timeoutMs).then(() =>
        assert.fail(`no complete response within ${timeoutMs} ms; got ${JSON.stringify(this.received.toString())}`),
      ),
    ]);
    const text = this.received.toString('latin1');
    const split = text.indexOf('\r\n\r\n');
    assert.ok(split > 0, `not an HTTP response: ${JSON.stringify(text)}`);
    const head = text.slice(0, split);
    const body = text.slice(split + 4);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
    assert.equal(Buffer.byteLength(body, 'latin1'), length, `complete body: ${JSON.stringify(text)}`);
    return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]), body };
  }
}

describe('reliability: the FD store keeps a listener and live connections across restarts', function () {
  const m = useUserManager();

  it(`${CONNECTIONS} half-sent requests complete on the new process after each of ${RESTARTS} restarts; new connections work`, async function () {
    this.timeout(90_000);
    const unit = 'rel-fdstore.service';
    const log = await m().logFile('rel-fdstore');
    await m().writeUnit(
      unit,
      fixtureService('hands its listener and connections over through the FD store', fixture('fdstore-conn.mjs'), log, [
        'Type=notify',
        'NotifyAccess=main',
        'FileDescriptorStoreMax=16',
      ]),
    );
    await m().daemonReload();
    const explain = async (): Promise<string> =>
      `\n--- service log ---\n${await m().readLog(log)}\n--- manager output (end) ---\n${m().managerOutput().slice(-3000)}`;
    const start = await m().systemctl('start', unit);
    assert.equal(start.code, 0, `${start.stderr}${await explain()}`);
    const first = await m().show(unit, ['MainPID', 'StatusText']);
    const port = Number(/^Serving on port (\d+), listener stored$/.exec(first.StatusText ?? '')?.[1]);
    assert.ok(port > 0, `${JSON.stringify(first)}${await explain()}`);

    let pid = first.MainPID!;
    let handedOver = 0;
    let pendingBytes = 0;
    const restartMs: number[] = [];
    for (let round = 1; round <= RESTARTS; round++) {
      const clients = Array.from({ length: CONNECTIONS }, () => new Client(port));
      await Promise.all(clients.map((c) => c.connected()));
      const firstHalves = clients.map(
        (_, i) => `GET /round-${round}/client-${i} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-First-Half: ${'a'.repeat(100 * i)}\r\n`,
      );
      clients.forEach((c, i) => c.socket.write(firstHalves[i]!));
      // The old process has read every first half: what it read must travel with the connection.
      const deadline = Date.now() + 10_000;
      const partials = (): number =>
        new Set(
          jsonLines<Line>(logText)
            .filter((l) => l.event === 'partial' && String(l.pid) === pid)
            .map((l) => l.id),
        ).size;
      let logText = '';
      while (((logText = await m().readLog(log)), partials() < CONNECTIONS) && Date.now() < deadline) await sleep(50);
      assert.equal(partials(), CONNECTIONS, `round ${round}: the first halves did not arrive${await explain()}`);

      const began = performance.now();
      const restart = await m().systemctl('restart', unit);
      restartMs.push(Math.round(performance.now() - began));
      assert.equal(restart.code, 0, `${restart.stderr}${await explain()}`);
      const now = await m().show(unit, ['ActiveState', 'MainPID', 'StatusText']);
      assert.equal(now.ActiveState, 'active');
      assert.notEqual(now.MainPID, pid, 'a new process');
      assert.equal(now.StatusText, `Serving on port ${port}, listener from the FD store`, await explain());

      const lines = jsonLines<Line>(await m().readLog(log));
      const handed = lines.find((l) => l.event === 'handed-over' && String(l.pid) === pid);
      assert.deepEqual(
        { connections: handed?.connections, barrier: handed?.barrier },
        { connections: CONNECTIONS, barrier: true },
        await explain(),
      );
      const adopted = lines.filter((l) => l.event === 'adopted' && String(l.pid) === now.MainPID);
      assert.equal(adopted.length, CONNECTIONS, `the new process got every connection back${await explain()}`);
      assert.ok(
        adopted.every((l) => l.kind === 'tcp4'),
        JSON.stringify(adopted),
      );
      const ready = lines.find((l) => l.event === 'ready' && String(l.pid) === now.MainPID);
      assert.ok(ready?.activated, `the listener came back from the store${await explain()}`);
      pendingBytes += adopted.reduce((sum, l) => sum + (l.pendingBytes ?? 0), 0);

      // The rest of each request, on the same connection, to the new process.
      clients.forEach((c, i) => c.socket.write(`X-Second-Half: ${i}\r\n\r\n`));
      for (const [i, client] of clients.entries()) {
        const reply = await client.response(10_000);
        assert.equal(reply.status, 200, reply.body);
        const served = JSON.parse(reply.body) as { pid: number; handedOver: boolean; request: string };
        assert.deepEqual(
          { pid: String(served.pid), handedOver: served.handedOver, request: served.request },
          { pid: now.MainPID, handedOver: true, request: `${firstHalves[i]}X-Second-Half: ${i}\r\n\r\n` },
          `client ${i}, round ${round}${await explain()}`,
        );
        handedOver++;
      }
      // A fresh connection, through the listener the new process got back.
      const fresh = await request(port, { path: '/fresh' }).catch(async (error: Error) =>
        assert.fail(`a new connection after restart ${round}: ${error.message}${await explain()}`),
      );
      assert.equal(fresh.status, 200);
      const freshServed = JSON.parse(fresh.body) as { pid: number; handedOver: boolean };
      assert.deepEqual({ pid: String(freshServed.pid), handedOver: freshServed.handedOver }, { pid: now.MainPID, handedOver: false });
      pid = now.MainPID!;
    }
    figures('fd-store', {
      restarts: RESTARTS,
      'connections-handed-over': handedOver,
      'completed-on-new-process': handedOver,
      'pending-bytes-carried': pendingBytes,
      'new-connections-after-restart': `${RESTARTS}/${RESTARTS}`,
      'restart-ms-max': Math.max(...restartMs),
    });
    assert.equal(handedOver, CONNECTIONS * RESTARTS);
  });
});
