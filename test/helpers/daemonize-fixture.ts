// The harness of test/daemonize*.test.ts: a program that daemonizes itself
// (test/fixtures/daemonize-daemon.mjs) run as an init script would, the
// reports its daemon writes, and hooks that kill every daemon a test left.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { nativeBinding } from '../../runtime/dist/native.js';
import { scaled } from './time-scale.js';

// The addon, as the runtime loads it on first use.
const native = nativeBinding();

/** The program the tests daemonize (its flags are listed at its top). */
export const fixture = fileURLToPath(new URL('../fixtures/daemonize-daemon.mjs', import.meta.url));
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Finished {
  /** The daemon's reports are `${report}.starting` and `${report}.ready`. */
  report: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit, in ms. */
  ms: number;
  exitedAt: number;
  /** What the original process said about itself before daemonizing. */
  parent: { pid: number; sid: number; pgrp: number; stage: string; env: Record<string, string> } | null;
}

export interface Report {
  pid: number;
  stage: string;
  firstStage: string;
  daemon: { pid: number; files: number[]; stdout: boolean; stderr: boolean; pidFile: string | null; pidFileFd: number | null };
  cwd: string;
  umask: number;
  title: string;
  argv0: string;
  execArgv: string[];
  notifySocket: string | null;
  readyAt?: number;
  readySent?: boolean;
  pingAfterReady?: { sent: boolean; reason?: string };
  notifySocketAfterReady?: string | null;
  captured?: { stdout: string; stderr: string };
}

/** The fixture's environment: ours without a manager's variables (mocha may itself run under one). */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      !['NOTIFY_SOCKET', 'INVOCATION_ID', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES', 'WATCHDOG_USEC', 'WATCHDOG_PID'].includes(key)
    )
      env[key] = value;
  }
  return { ...env, ...extra };
}

export function statOf(pid: number): { ppid: number; pgrp: number; sid: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 4, 5 and 6 of proc(5): ppid, pgrp, session.
  return { ppid: Number(rest[1]), pgrp: Number(rest[2]), sid: Number(rest[3]) };
}

/** The PID a PID file holds. */
export const readPidFile = (file: string): number => Number(readFileSync(file, 'utf8').trim());

/**
 * Hooks for a describe block of daemonize tests: a temp dir every run names
 * (so whatever still runs with it can be found and killed after each test),
 * timeouts stretched where Node starts slowly, and the functions that run the
 * fixture and read what its daemon reported.
 */
export function useDaemonizeFixture() {
  let dir: string;
  let runs = 0;

  beforeEach(function () {
    // Each test starts Node a few times (the timing test 20 times): stretched where Node starts slower.
    this.currentTest!.timeout(scaled(30_000));
  });

  before(function () {
    assert.ok(native, 'the addon is built (npm run build --workspace=sd-daemon-runtime)');
    dir = mkdtempSync(join(tmpdir(), 'sd-daemonize-'));
  });

  afterEach(function () {
    // Every fixture run names a file in `dir`: kill whatever still runs with it, group and all.
    for (const entry of readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!cmdline.includes(dir)) continue;
      const pid = Number(entry);
      try {
        process.kill(-statOf(pid).pgrp, 'SIGKILL');
      } catch {
        // Not a group of its own.
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the fixture as an init script would and waits for the original process to exit. */
  function run(
    args: string[],
    options: { env?: Record<string, string>; execArgv?: string[]; extraFd?: number } = {},
  ): Promise<Finished> & { report: string } {
    const report = join(dir, `run${++runs}`);
    const started = performance.now();
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
    if (options.extraFd !== undefined) stdio.push(options.extraFd);
    const child = spawn(process.execPath, [...(options.execArgv ?? []), fixture, `--report=${report}`, ...args], {
      env: options.env ?? cleanEnv(),
      stdio,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const done = new Promise<Finished>((resolve) => {
      child.on('close', (code, signal) => {
        const line = stdout.split('\n').find((l) => l.startsWith('PARENT '));
        resolve({
          report,
          code,
          signal,
          stdout,
          stderr,
          ms: performance.now() - started,
          exitedAt: Date.now(),
          parent: line ? JSON.parse(line.slice('PARENT '.length)) : null,
        });
      });
    });
    return Object.assign(done, { report });
  }

  // Polled, so generous costs nothing when the daemon is quick; a loaded machine can take seconds.
  async function reportOf(report: string, phase: 'starting' | 'ready' | 'child', timeoutMs = 30_000): Promise<Report> {
    const file = `${report}.${phase}`;
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(file)) {
      if (Date.now() > deadline) throw new Error(`no ${phase} report from the daemon in ${timeoutMs} ms`);
      await sleep(20);
    }
    return JSON.parse(readFileSync(file, 'utf8')) as Report;
  }

  /** A path in the run's temp dir: every file a test names there marks its processes for the clean-up. */
  const inDir = (name: string): string => join(dir, name);
  return { run, reportOf, inDir };
}
