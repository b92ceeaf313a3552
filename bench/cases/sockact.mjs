// sockact-first-request: time to the first served request of a
// socket-activated server. systemd-socket-activate binds 127.0.0.1:<port>,
// waits for a connection (as systemd does for a .socket unit) and then execs
// node in its own process; the server adopts fd 3 and answers. The clock
// runs from spawning systemd-socket-activate to the client having the whole
// response. The client connects as soon as the socket listens ("Listening
// on" on stderr), so the clock covers the exec, node's start-up, the
// adoption and one HTTP exchange. Ours adopts through the runtime's listen()
// by name; the anchor calls server.listen({ fd: 3 }) by hand.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

import { NODE_FLAGS, startCounted, sum } from '../lib/callgrind.mjs';
import { BENCH, cleanEnv, msSince, now, sleep, terminate, track } from '../lib/proc.mjs';
import { startupEntry } from '../lib/startup.mjs';
import { BenchFailure } from '../lib/stats.mjs';

const SERVERS = {
  ours: path.join(BENCH, 'cases', 'sockact-server-ours.mjs'),
  anchor: path.join(BENCH, 'cases', 'sockact-server-anchor.mjs'),
};

/** A port nobody listens on right now (bound and released by us). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function get(port) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    request.on('error', reject);
  });
}

async function firstRequest(variant) {
  const port = await freePort();
  const start = now();
  const child = spawn('systemd-socket-activate', ['-l', `127.0.0.1:${port}`, '--fdname=http', process.execPath, SERVERS[variant]], {
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(child.pid);
  let stderr = '';
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new BenchFailure(`systemd-socket-activate did not listen within 10 s: ${stderr}`)), 10_000);
      child.stderr.setEncoding('utf8').on('data', (chunk) => {
        stderr += chunk;
        if (stderr.includes('Listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new BenchFailure(`systemd-socket-activate exited ${code} before listening: ${stderr}`)));
    });
    const response = await get(port);
    const elapsed = msSince(start);
    if (response.status !== 200 || response.body !== 'ok\n')
      throw new BenchFailure(`${variant}: unexpected response ${response.status} ${JSON.stringify(response.body)}; ${stderr}`);
    // systemd-socket-activate exec'ed node: this PID is the server now.
    return elapsed;
  } finally {
    await terminate(child.pid);
  }
}

/**
 * The same first request with the server under callgrind: valgrind is what
 * systemd-socket-activate execs (keeping its PID, so LISTEN_PID matches),
 * and it runs node with the counting flags. Once the response is in, the
 * server gets SIGTERM (the default action, ours and the anchor alike: the
 * same exit path), and callgrind writes its count as the process dies. The
 * count covers node's start-up, the adoption, one HTTP exchange and that exit.
 */
async function countFirstRequest(variant) {
  const port = await freePort();
  const run = startCounted(process.execPath, [...NODE_FLAGS, SERVERS[variant]], {
    stdio: ['ignore', 'ignore', 'pipe'],
    wrap: (argv) => ['systemd-socket-activate', '-l', `127.0.0.1:${port}`, '--fdname=http', ...argv],
  });
  let exited = false;
  void run.done.then(() => {
    exited = true;
  });
  try {
    const deadline = Date.now() + 60_000;
    while (!run.stderr().includes('Listening on')) {
      if (exited) throw new BenchFailure(`systemd-socket-activate exited before listening: ${run.stderr().slice(-1000)}`);
      if (Date.now() > deadline) throw new BenchFailure(`systemd-socket-activate did not listen within 60 s: ${run.stderr().slice(-1000)}`);
      await sleep(20);
    }
    const response = await get(port);
    if (response.status !== 200 || response.body !== 'ok\n')
      throw new BenchFailure(`${variant} (counted): unexpected response ${response.status} ${JSON.stringify(response.body)}`);
    run.child.kill('SIGTERM');
    const { signal, code } = await run.done;
    if (signal !== 'SIGTERM' && code !== 143)
      throw new BenchFailure(`${variant} (counted): exited ${code ?? signal} on SIGTERM: ${run.stderr().slice(-1000)}`);
    return sum(run.dir);
  } finally {
    if (!exited) await terminate(run.child.pid, 120_000);
  }
}

export default function sockactCases({ quick }) {
  return [
    {
      id: 'sockact-first-request',
      title: 'socket activation: spawn to first response',
      async run() {
        return startupEntry({
          quick,
          variants: ['ours', 'anchor'].map((name) => ({
            name,
            run: () => firstRequest(name),
            count: () => countFirstRequest(name),
          })),
          ours: 'ours',
          anchor: 'anchor',
          anchorName: 'server.listen({ fd: 3 }) by hand',
          target: 1.02,
          how: `the server process (valgrind exec'd by systemd-socket-activate, node ${NODE_FLAGS.join(' ')}) from exec to its exit on SIGTERM after the first response`,
        });
      },
    },
  ];
}
