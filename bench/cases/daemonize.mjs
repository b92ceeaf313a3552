// daemonize-ready: how long `start` takes with the runtime's daemonize():
// from spawning `node daemonize-app.mjs` until the original process exits 0,
// which it does once the daemon has said READY=1. The anchor is `node -e 0`
// (one Node start: the ideal is two of them, the original and the daemon);
// the extra row is a single-stage detached spawn in plain Node, the least a
// Node daemonizer can do. Every daemon is stopped after its run.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { counted, NODE_FLAGS } from '../lib/callgrind.mjs';
import { alive, BENCH, NODE, scratch, terminate, timedRun, track } from '../lib/proc.mjs';
import { startupEntry } from '../lib/startup.mjs';
import { BenchFailure } from '../lib/stats.mjs';

const APP = path.join(BENCH, 'cases', 'daemonize-app.mjs');
const DETACHED = path.join(BENCH, 'cases', 'detached-anchor.mjs');

let serial = 0;

async function stopDaemon(pid, who) {
  if (!Number.isInteger(pid) || pid <= 0) throw new BenchFailure(`${who}: no daemon PID`);
  track(pid);
  const wasAlive = alive(pid);
  await terminate(pid);
  if (!wasAlive) throw new BenchFailure(`${who}: the daemon (PID ${pid}) was not running after the start returned`);
}

async function ours() {
  const pidFile = path.join(scratch(), `daemon-${++serial}.pid`);
  const { ms } = timedRun(NODE, [APP, pidFile]);
  // Not timed: the PID file must name the running daemon, which we then stop.
  if (!existsSync(pidFile)) throw new BenchFailure(`daemonize-app exited 0 without writing ${pidFile}`);
  await stopDaemon(Number(readFileSync(pidFile, 'utf8').trim()), 'daemonize-app');
  return ms;
}

async function detached() {
  const { ms, stdout } = timedRun(NODE, [DETACHED]);
  await stopDaemon(Number(stdout.trim()), 'detached spawn');
  return ms;
}

/**
 * Both processes under callgrind: --trace-children=yes follows the daemon
 * that daemonize() spawns (process.execPath with process.execArgv, so it
 * gets the counting flags too), each process writing its own count. The
 * original's count ends at its exit (after READY=1); the daemon's when the
 * bench stops it with SIGTERM after that (its idle wait costs nothing; its
 * exit path is counted, as the anchor's `node -e 0` counts its own exit).
 * The two are summed.
 */
async function countOurs() {
  const pidFile = path.join(scratch(), `daemon-counted-${++serial}.pid`);
  return counted(NODE, [...NODE_FLAGS, APP, pidFile], {
    children: true,
    after: async () => {
      if (!existsSync(pidFile)) throw new BenchFailure(`daemonize-app (counted) exited 0 without writing ${pidFile}`);
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0 || !alive(pid))
        throw new BenchFailure(`daemonize-app (counted): no running daemon (PID file says ${pid})`);
      track(pid);
      // callgrind writes the count as the daemon exits: a long grace, never SIGKILL in the normal case.
      await terminate(pid, 120_000);
    },
  });
}

export default function daemonizeCases({ quick }) {
  return [
    {
      id: 'daemonize-ready',
      title: 'daemonize: start until the daemon is ready',
      async run() {
        return startupEntry({
          quick,
          variants: [
            { name: 'ours', run: ours, count: countOurs },
            { name: 'node', run: () => timedRun(NODE, ['-e', '0']).ms, count: () => counted(NODE, [...NODE_FLAGS, '-e', '0']) },
            { name: 'detached', run: detached },
          ],
          ours: 'ours',
          anchor: 'node',
          anchorName: 'node -e 0',
          extras: [{ name: 'single-stage detached spawn (node)', variant: 'detached' }],
          target: 2.1,
          how: `valgrind --tool=callgrind --trace-children=yes node ${NODE_FLAGS.join(' ')} daemonize-app.mjs: the original process to its exit plus the daemon to its exit on SIGTERM after READY, summed`,
        });
      },
    },
  ];
}
