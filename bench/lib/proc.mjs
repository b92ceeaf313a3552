// Process helpers: the clean environment every measured process gets, timed
// spawns, and the bookkeeping that proves no process outlives the bench.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { BenchFailure } from './stats.mjs';

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.dirname(BENCH);
export const RUNTIME = path.join(REPO, 'runtime', 'dist', 'index.js');
export const BUILD = path.join(BENCH, '.build');
export const NODE = process.execPath;

/**
 * The environment of every measured process: ours minus what skews Node's
 * start-up or changes what the code under test does. This machine exports
 * NODE_EXTRA_CA_CERTS, which alone adds 30-60 ms to every node start; systemd
 * starts services with a clean environment, so the bench does too. Any
 * NODE_* variable (NODE_OPTIONS, NODE_DEBUG, NODE_COMPILE_CACHE...) and npm's
 * npm_* go; so do the service manager's variables, which would make the
 * runtime think it is supervised, activated or talking to journald.
 */
const SYSTEMD_VARS = [
  'NOTIFY_SOCKET',
  'LISTEN_PID',
  'LISTEN_FDS',
  'LISTEN_FDNAMES',
  'LISTEN_PIDFDID',
  'WATCHDOG_USEC',
  'WATCHDOG_PID',
  'INVOCATION_ID',
  'JOURNAL_STREAM',
  'MAINPID',
];

export function cleanEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('NODE_') || key.startsWith('npm_') || SYSTEMD_VARS.includes(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Nanoseconds on CLOCK_MONOTONIC, which every process on the machine shares. */
export const now = () => process.hrtime.bigint();
export const msSince = (start) => Number(now() - start) / 1e6;

/**
 * Runs a process to completion and returns its wall time in ms (spawn to
 * exit, measured here), throwing BenchFailure unless it exits 0.
 */
export function timedRun(command, args, options = {}) {
  const start = now();
  const result = spawnSync(command, args, {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 120_000,
    ...options,
  });
  const ms = msSince(start);
  if (result.error) throw new BenchFailure(`${command}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new BenchFailure(
      `${command} ${args.join(' ')} exited ${result.status ?? result.signal}: ${`${result.stderr ?? ''}${result.stdout ?? ''}`.trim().slice(-1500)}`,
    );
  }
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

/** The last non-empty line of a process's stdout, parsed as JSON (how our helper processes report). */
export function lastJson(stdout, who) {
  const line = String(stdout).trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    throw new BenchFailure(`${who}: no JSON result in its output: ${String(stdout).slice(-500)}`);
  }
}

// ---- process bookkeeping ----

const spawned = new Set();

/** Remembers a PID that must be gone when the bench ends. */
export function track(pid) {
  if (pid) spawned.add(pid);
  return pid;
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminate(pid, graceMs = 2000) {
  if (!pid || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(2);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
    while (alive(pid)) await sleep(2);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Processes still running that the bench started: tracked PIDs, plus any
 * process whose command line mentions the bench's directory or scratch dir
 * (daemons and grandchildren we never saw spawned directly).
 */
export function leftovers(scratch) {
  const found = new Map();
  for (const pid of spawned) if (alive(pid)) found.set(pid, cmdline(pid));
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || pid === process.ppid) continue;
    const cmd = cmdline(pid);
    if (cmd && (cmd.includes(`${BENCH}/cases`) || cmd.includes(BUILD) || (scratch && cmd.includes(scratch))) && alive(pid))
      found.set(pid, cmd);
  }
  return [...found].map(([pid, cmd]) => ({ pid, cmd }));
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

// ---- scratch space ----

let scratchDir;

/** One scratch directory per bench run, removed at the end. */
export function scratch() {
  scratchDir ??= mkdtempSync(path.join(tmpdir(), 'sd-bench-'));
  return scratchDir;
}

export function removeScratch() {
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  scratchDir = undefined;
}

/** Spawns a long-lived helper, tracked; returns the ChildProcess. */
export function helper(command, args, options = {}) {
  const child = spawn(command, args, { env: cleanEnv(), ...options });
  track(child.pid);
  return child;
}

/**
 * Reads a helper's output line by line: `next()` resolves with the next
 * complete line (lines that arrive early are queued), or rejects with
 * BenchFailure on a timeout or the end of the stream.
 */
export function lines(stream) {
  const queue = [];
  const waiters = [];
  let buffered = '';
  let ended = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(line);
      else queue.push(line);
    }
  });
  stream.on('end', () => {
    ended = true;
    for (const waiter of waiters.splice(0))
      waiter.reject(new BenchFailure(`stream ended before a line (partial: ${JSON.stringify(buffered)})`));
  });
  return {
    next(timeoutMs = 10_000) {
      if (queue.length) return Promise.resolve(queue.shift());
      if (ended) return Promise.reject(new BenchFailure('stream ended before a line'));
      return new Promise((resolve, reject) => {
        const waiter = {
          resolve: (line) => (clearTimeout(timer), resolve(line)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new BenchFailure(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}
