// daemonize-ready: how long `start` takes with the runtime's daemonize():
// from spawning `node daemonize-app.mjs` until the original process exits 0,
// which it does once the daemon has said READY=1. The anchor is `node -e 0`
// (one Node start: the ideal is two of them, the original and the daemon);
// the extra row is a single-stage detached spawn in plain Node, the least a
// Node daemonizer can do. Every daemon is stopped after its run.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { alive, BENCH, NODE, scratch, terminate, timedRun, track } from '../lib/proc.mjs';
import { buildEntry } from '../lib/result.mjs';
import { alternate, BenchFailure } from '../lib/stats.mjs';

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

export default function daemonizeCases({ quick }) {
  return [
    {
      id: 'daemonize-ready',
      title: 'daemonize: start until the daemon is ready',
      async run() {
        const { samples, failures } = await alternate({
          variants: [
            { name: 'ours', run: ours },
            { name: 'node', run: () => timedRun(NODE, ['-e', '0']).ms },
            { name: 'detached', run: detached },
          ],
          warmup: quick ? 2 : 3,
          runs: quick ? 10 : 30,
        });
        return buildEntry({
          id: 'daemonize-ready',
          title: 'daemonize: start until the daemon is ready',
          unit: 'ms',
          samples,
          failures,
          ours: 'ours',
          anchor: 'node',
          anchorName: 'node -e 0',
          extras: [{ name: 'single-stage detached spawn (node)', variant: 'detached' }],
          target: 2.1,
        });
      },
    },
  ];
}
