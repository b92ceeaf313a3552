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

import { BENCH, cleanEnv, msSince, now, terminate, track } from '../lib/proc.mjs';
import { buildEntry } from '../lib/result.mjs';
import { alternate, BenchFailure } from '../lib/stats.mjs';

const SERVERS = { ours: path.join(BENCH, 'cases', 'sockact-server-ours.mjs'), anchor: path.join(BENCH, 'cases', 'sockact-server-anchor.mjs') };

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
    if (response.status !== 200 || response.body !== 'ok\n') throw new BenchFailure(`${variant}: unexpected response ${response.status} ${JSON.stringify(response.body)}; ${stderr}`);
    // systemd-socket-activate exec'ed node: this PID is the server now.
    return elapsed;
  } finally {
    await terminate(child.pid);
  }
}

export default function sockactCases({ quick }) {
  return [
    {
      id: 'sockact-first-request',
      title: 'socket activation: spawn to first response',
      async run() {
        const { samples, failures } = await alternate({
          variants: [
            { name: 'ours', run: () => firstRequest('ours') },
            { name: 'anchor', run: () => firstRequest('anchor') },
          ],
          warmup: quick ? 2 : 3,
          runs: quick ? 10 : 30,
        });
        return buildEntry({
          id: 'sockact-first-request',
          title: 'socket activation: spawn to first response',
          unit: 'ms',
          samples,
          failures,
          ours: 'ours',
          anchor: 'anchor',
          anchorName: 'server.listen({ fd: 3 }) by hand',
          target: 1.02,
        });
      },
    },
  ];
}
