// Starts fixture scripts the way a service manager starts a socket-activated
// daemon: real fds dup'ed to 3, 4, ... and LISTEN_* in the environment, with
// LISTEN_PID set to the child's own pid. That pid only exists after fork, so
// the child is started through `sh -c 'LISTEN_PID=$$; export LISTEN_PID;
// exec "$0" "$@"'`: exec keeps the shell's pid, and the inherited fds survive
// both steps because dup'ed fds have no FD_CLOEXEC.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export interface SpawnOptions {
  /** Parent fds that become the child's 3, 4, ... */
  fds?: number[];
  /** LISTEN_FDNAMES; not set when undefined. */
  names?: string;
  /** 'self' (default): the child's own pid; a string: that exact value; null: unset. */
  listenPid?: 'self' | string | null;
  /** Extra environment, applied last (it may override LISTEN_FDS). */
  env?: Record<string, string>;
  /** Give the child a stdin pipe (default: none). */
  stdin?: boolean;
  /** Run this program instead of node (argv then starts with its arguments). */
  command?: string;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** The next JSON line the child prints; rejects with its stderr if it exits first. */
  next(): Promise<any>;
  /** Resolves once stderr matches `pattern` (say, a tool announcing it listens). */
  stderrMatches(pattern: RegExp): Promise<void>;
  /** Resolves with the exit code and everything written to stderr. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

const running = new Set<ChildProcess>();

/** Kills whatever a test left running (call from afterEach). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export function spawnChild(args: string[], options: SpawnOptions = {}): Spawned {
  const fds = options.fds ?? [];
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (fds.length > 0) env.LISTEN_FDS = String(fds.length);
  if (options.names !== undefined) env.LISTEN_FDNAMES = options.names;
  const listenPid = options.listenPid === undefined ? 'self' : options.listenPid;
  if (typeof listenPid === 'string' && listenPid !== 'self') env.LISTEN_PID = listenPid;
  Object.assign(env, options.env);

  const program = options.command ?? process.execPath;
  const [file, argv] =
    listenPid === 'self' ? ['/bin/sh', ['-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"', program, ...args]] : [program, args];
  const child = spawn(file, argv, { env, stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...fds] });
  running.add(child);

  let stderr = '';
  const stderrWaiters: Array<() => void> = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const check of stderrWaiters.slice()) check();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stderr });
    });
  });

  const lines: string[] = [];
  const waiting: Array<() => void> = [];
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\n')) !== -1) {
      lines.push(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      waiting.shift()?.();
    }
  });
  let closed = false;
  void exited.then(() => {
    closed = true;
    for (const wake of waiting.splice(0)) wake();
  });

  async function next(): Promise<any> {
    while (lines.length === 0) {
      if (closed) {
        const { code, signal } = await exited;
        throw new Error(`child exited (code ${code}, signal ${signal}) without printing; stderr:\n${stderr}`);
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    return JSON.parse(lines.shift()!);
  }

  function stderrMatches(pattern: RegExp): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pattern.test(stderr)) return;
        stderrWaiters.splice(stderrWaiters.indexOf(check), 1);
        resolve();
      };
      stderrWaiters.push(check);
      check();
      void exited.then(({ code }) => reject(new Error(`exited (code ${code}) before stderr matched ${pattern}:\n${stderr}`)));
    });
  }

  return { child, pid: child.pid!, next, stderrMatches, exited };
}

/** A fixture under test/fixtures, started with `fds` at 3.. (see SpawnOptions). */
export function spawnFixture(fixture: string, args: string[], options: SpawnOptions = {}): Spawned {
  return spawnChild([join(fixtures, fixture), ...args], options);
}

/**
 * Per-test hooks for activation tests: a fresh short temp dir (unix socket
 * paths must stay under sun_path's 108 bytes), cleanups deferred to the end of
 * the test, and every spawned child killed.
 */
export function useScratch(prefix: string): { readonly dir: string; defer(cleanup: () => void): void } {
  const cleanups: Array<() => void> = [];
  const scratch = {
    dir: '',
    defer: (cleanup: () => void): void => void cleanups.push(cleanup),
  };
  beforeEach(() => {
    scratch.dir = mkdtempSync(`/tmp/${prefix}-`);
  });
  afterEach(() => {
    killAll();
    for (const cleanup of cleanups.splice(0)) cleanup();
    rmSync(scratch.dir, { recursive: true, force: true });
  });
  return scratch;
}

/** What listen()/bindDgram() report for a socket passed at `fd` and bound to 127.0.0.1:`port`. */
export function loopbackAdoption(name: string, fd: number, kind: string, port: number) {
  return { activated: true, name, fd, kind, address: { address: '127.0.0.1', family: 'IPv4', port } };
}
