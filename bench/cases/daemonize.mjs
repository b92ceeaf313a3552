// daemonize-ready: how long `start` takes with the runtime's daemonize():
// from spawning `node daemonize-app.mjs` until the original process exits 0,
// which it does once the daemon has said READY=1. The anchor is `node -e 0`
// (one Node start: the ideal is two of them, the original and the daemon);
// the extra rows are a single-stage detached spawn in plain Node, the least a
// Node daemonizer can do, and the floor of this kind of program: two starts
// of an empty one. daemonize-ready-cjs is the same app as a CommonJS program
// (daemonize-app.cjs), whose start does not load Node's ES module loader, so
// its floor (two `node empty.cjs`) is lower. Every daemon is stopped after
// its run.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { counted, NODE_FLAGS } from '../lib/callgrind.mjs';
import { alive, BENCH, NODE, scratch, terminate, timedRun, track } from '../lib/proc.mjs';
import { startupEntry } from '../lib/startup.mjs';
import { BenchFailure } from '../lib/stats.mjs';

const APPS = { esm: path.join(BENCH, 'cases', 'daemonize-app.mjs'), cjs: path.join(BENCH, 'cases', 'daemonize-app.cjs') };
const EMPTY = { esm: path.join(BENCH, 'cases', 'empty.mjs'), cjs: path.join(BENCH, 'cases', 'empty.cjs') };
const DETACHED = path.join(BENCH, 'cases', 'detached-anchor.mjs');

let serial = 0;

async function stopDaemon(pid, who) {
  if (!Number.isInteger(pid) || pid <= 0) throw new BenchFailure(`${who}: no daemon PID`);
  track(pid);
  const wasAlive = alive(pid);
  await terminate(pid);
  if (!wasAlive) throw new BenchFailure(`${who}: the daemon (PID ${pid}) was not running after the start returned`);
}

async function ours(app) {
  const pidFile = path.join(scratch(), `daemon-${++serial}.pid`);
  const { ms } = timedRun(NODE, [app, pidFile]);
  // Not timed: the PID file must name the running daemon, which we then stop.
  if (!existsSync(pidFile)) throw new BenchFailure(`${path.basename(app)} exited 0 without writing ${pidFile}`);
  await stopDaemon(Number(readFileSync(pidFile, 'utf8').trim()), path.basename(app));
  return ms;
}

async function detached() {
  const { ms, stdout } = timedRun(NODE, [DETACHED]);
  await stopDaemon(Number(stdout.trim()), 'detached spawn');
  return ms;
}

/** The floor of a two-stage start: two starts of an empty program of the same kind, one after the other. */
function twoStarts(file) {
  return timedRun(NODE, [file]).ms + timedRun(NODE, [file]).ms;
}

async function countTwoStarts(file) {
  const first = await counted(NODE, [...NODE_FLAGS, file]);
  const second = await counted(NODE, [...NODE_FLAGS, file]);
  return { instructions: first.instructions + second.instructions, processes: [...first.processes, ...second.processes] };
}

/**
 * Every process under callgrind: --trace-children=yes follows the daemon
 * that daemonize() spawns (process.execPath with process.execArgv, so it
 * gets the counting flags too), each process writing its own count. The
 * original's count ends at its exit (after READY=1); the daemon's when the
 * bench stops it with SIGTERM after that (its idle wait costs nothing; its
 * exit path is counted, as the anchor's `node -e 0` counts its own exit).
 *
 * The addon forks a syscall-only intermediate (setsid, vfork, exit), and a
 * forked process under callgrind starts from its parent's counters: its
 * callgrind.out repeats everything the original counted before the fork
 * (measured: a C program counting 70.12M before fork() gave a child that
 * only _exit()s a total of 70.12M). Summed as it was, that counted the
 * original's start twice (479M, of which 154M was the intermediate's copy).
 * --zero-before=setsid zeroes the counters as the intermediate enters
 * setsid(), its first call after the fork, so its file holds only its own
 * instructions (about 2.9k); no other process of the run calls setsid().
 */
async function countOurs(app) {
  const pidFile = path.join(scratch(), `daemon-counted-${++serial}.pid`);
  const who = `${path.basename(app)} (counted)`;
  // READY deadline 10 minutes: see daemonize-app.mjs.
  return counted(NODE, [...NODE_FLAGS, app, pidFile, '600000'], {
    children: true,
    wrap: ([valgrind, ...rest]) => [valgrind, '--zero-before=setsid', ...rest],
    after: async () => {
      if (!existsSync(pidFile)) throw new BenchFailure(`${who} exited 0 without writing ${pidFile}`);
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) throw new BenchFailure(`${who}: no running daemon (PID file says ${pid})`);
      track(pid);
      // callgrind writes the count as the daemon exits: a long grace, never SIGKILL in the normal case.
      await terminate(pid, 120_000);
    },
  });
}

const KINDS = {
  esm: { id: 'daemonize-ready', title: 'daemonize: start until the daemon is ready', floor: 'two starts of an empty ES module (floor)' },
  cjs: {
    id: 'daemonize-ready-cjs',
    title: 'daemonize, CommonJS app: start until the daemon is ready',
    floor: 'two starts of an empty CommonJS program (floor)',
  },
};

function daemonizeCase(kind, { quick }) {
  const { id, title, floor } = KINDS[kind];
  const app = APPS[kind];
  return {
    id,
    title,
    async run() {
      const variants = [
        { name: 'ours', run: () => ours(app), count: () => countOurs(app) },
        { name: 'node', run: () => timedRun(NODE, ['-e', '0']).ms, count: () => counted(NODE, [...NODE_FLAGS, '-e', '0']) },
        { name: 'floor', run: () => twoStarts(EMPTY[kind]), count: () => countTwoStarts(EMPTY[kind]) },
      ];
      const extras = [{ name: floor, variant: 'floor' }];
      if (kind === 'esm') {
        variants.push({ name: 'detached', run: detached });
        extras.push({ name: 'single-stage detached spawn (node)', variant: 'detached' });
      }
      return startupEntry({
        quick,
        variants,
        ours: 'ours',
        anchor: 'node',
        anchorName: 'node -e 0',
        extras,
        target: 2.1,
        how:
          `valgrind --tool=callgrind --trace-children=yes --zero-before=setsid node ${NODE_FLAGS.join(' ')} ${path.basename(app)}: ` +
          'the original process to its exit, the intermediate from its setsid() (its inherited pre-fork count zeroed), ' +
          `and the daemon to its exit on SIGTERM after READY, summed; floor: node ${path.basename(EMPTY[kind])} counted twice, summed`,
      });
    },
  };
}

export default function daemonizeCases(options) {
  return [daemonizeCase('esm', options), daemonizeCase('cjs', options)];
}
