// daemonize(): the SysV-style start of daemon(7) for a Node program, for init
// scripts, start-stop-daemon, OpenRC and systemd's Type=forking. Node cannot
// fork, so, like Go's godaemon, the program is executed again (same node,
// Node flags, script and arguments) and the new process is told that it is the
// daemon. Unlike godaemon, the original process waits until the daemon says
// READY=1 and exits with the truth: 0 once it is ready, the daemon's own code
// and message when it fails to start (daemon(7) steps 12-15).
//
// How a start goes:
//  1. The original process checks it is not supervised already, opens and
//     flocks the PID file (a second instance stops here, at once), binds a
//     private notify socket and a "stage channel" socket, and queues the
//     daemon's instructions on the channel.
//  2. The addon's spawnDaemon() forks a syscall-only intermediate that calls
//     setsid() and forks the daemon, which execs node. The daemon is in a new
//     session but not its leader, so it can never acquire a controlling
//     terminal. No JavaScript runs in between: the intermediate costs about
//     a millisecond instead of a Node start-up (so stage() never says 'child').
//  3. The daemon's fds: 0 is /dev/null (read-write); 1 and 2 are pipes to the
//     original process, which copies them to its own stdout/stderr (so a
//     failing start shows why, where it was started); 3.. are `files`, in
//     order, then the PID file, then the stage channel. Everything else was
//     CLOEXEC. Signal dispositions and the signal mask start at default.
//  4. In the daemon, stage() finds the channel by its abstract name, reads
//     the instructions and closes it; daemonize() then sets the umask, changes
//     to the working directory, and points NOTIFY_SOCKET at the private socket.
//  5. The daemon's own ready() / notify('READY=1') is the signal: just before
//     it goes out, fds 1 and 2 move to /dev/null (or to the captureOutput
//     pipes); just after, NOTIFY_SOCKET gets its original value back, so later
//     watchdog pings return 'disabled' instead of failing to reach a socket
//     nobody reads any more. That is the interceptor in notify.ts: an ES
//     module's export cannot be wrapped from outside, and notify() pays one
//     null comparison for it.
//  6. The original process checks that the PID file holds the daemon's PID and
//     exits 0. If the daemon ends first, it exits with the daemon's exit
//     status (sent as EXIT_STATUS= on the way out) and its STATUS=, ERRNO= or
//     last line of stderr; if READY=1 does not come in time, it stops the
//     daemon and exits READY_TIMEOUT.
//
// Why a channel socket and not an environment variable for the stage: the
// kernel keeps showing a process's exec-time environment in
// /proc/<pid>/environ whatever it unsets later, and a variable is inherited by
// everything spawned before it is removed. An inherited socket bound to
// '@sd-daemonize/<random>/stage' and holding the matching instructions cannot
// be set by accident, and the daemon's environment stays byte for byte the
// original's.
//
// Limitations:
// - Code before daemonize() runs twice, in the original and in the daemon.
//   Open files to inherit (and take their locks) only when stage() is
//   'parent'; in the daemon they are at Daemon.files.
// - The daemon's exit status reaches the original process only when it exits
//   through JavaScript (process.exit, an uncaught exception, the loop ending).
//   Killed by a signal before READY=1, it is reported as DIED.
// - READY=1 must go through this package's notify()/ready(); a copy of the
//   runtime bundled separately, or systemd-notify, would reach the original
//   process but leave fds 1 and 2 on its pipes.
// - Processes the daemon starts before READY=1 inherit the pipes behind its
//   fds 1 and 2: the original process waits for them at most a second, and
//   they write into a closed pipe afterwards. Start workers after READY=1,
//   or give them their own stdio.
// - The PID file is removed when the daemon exits through JavaScript, and
//   only if it is still the same file; a file left behind (SIGKILL) is stale
//   and is taken over, because the lock, not the file, says who runs.
import type net from 'node:net';

import { builtin, errnoNumber } from './builtins.js';
import { describeExitCode } from './exit-codes.js';
import { failed, nativeBinding, nativeLoadError, systemError, type NativeBinding } from './native.js';
import type { NotifyResult } from './notify.js';
import { setNotifyInterceptor } from './notify-hook.js';
import { formatSunPath, parseUnixAddress } from './unix-address.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { closeSync, constants: fsConstants, fstatSync, ftruncateSync, openSync, readdirSync, readFileSync, readSync, statSync, unlinkSync, writeSync } = process.getBuiltinModule('node:fs');
const { basename, resolve } = process.getBuiltinModule('node:path');

/**
 * Where this process is in a daemonize() start. 'parent': any process not
 * started by daemonize() (including the original one); 'daemon': the final
 * process. 'child' names the intermediate stage, which here runs no
 * JavaScript (a forked, syscall-only process), so stage() never returns it.
 */
export type DaemonStage = 'parent' | 'child' | 'daemon';

export interface DaemonizeOptions {
  /**
   * Created (mode 0644) and flock'ed (LOCK_EX|LOCK_NB) before the daemon is
   * started, inherited with its lock, and holding the daemon's PID by the
   * time the original process exits. A relative path is resolved against the
   * current directory. Another holder of the lock: ALREADY_RUNNING.
   */
  pidFile?: string;
  /** argv[0] of the daemon, which process.title then reports (default: this process's argv[0]). */
  programName?: string;
  /**
   * Open fds (or objects with an `fd`) the daemon inherits at 3, 4, ... in
   * this order, before the PID file; their locks are never released. Used
   * in the original process only (see Daemon.files). In the daemon they are
   * FD_CLOEXEC: pass them to a child explicitly.
   */
  files?: ReadonlyArray<number | { fd: number }>;
  /**
   * From READY=1 on, the daemon's fds 1 and 2 are pipes it reads itself
   * (Daemon.stdout/stderr) instead of /dev/null. Before READY=1 its output
   * goes to the process that started it, whatever this says.
   */
  captureOutput?: boolean;
  /** The daemon's working directory (default '/', as daemon(7) says); null leaves it as it is. */
  workingDirectory?: string | null;
  /** The daemon's umask (default 0, as daemon(7) says); null leaves it as it is. */
  umask?: number | null;
  /** How long the original process waits for READY=1 (default 30 000 ms). */
  readyTimeoutMs?: number;
  /**
   * Daemonize even when a service manager supervises this process
   * (NOTIFY_SOCKET or INVOCATION_ID set). systemd sets INVOCATION_ID for
   * Type=forking services too: pass force there.
   */
  force?: boolean;
}

/** What daemonize() resolves with, in the daemon. */
export interface Daemon {
  pid: number;
  /** Where `files` are in the daemon: 3, 4, ... */
  files: number[];
  /** With captureOutput: what the daemon writes to fds 1 and 2 from READY=1 on (unref'ed streams). */
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  /** The PID file's absolute path, and the fd holding its lock (keep it open). */
  pidFile: string | null;
  pidFileFd: number | null;
}

/**
 * The exit codes of the original process besides the daemon's own (sysexits(3)
 * where one fits), and DaemonizeError.exitCode for errors thrown to the caller.
 */
export const DAEMONIZE_EXIT = Object.freeze({
  /** EX_USAGE: refused, a service manager supervises this process (NOTIFY_SOCKET or INVOCATION_ID); see `force`. */
  SUPERVISED: 64,
  /** EX_UNAVAILABLE: the native addon (flock, the notify socket, the double fork) is not loaded. */
  NO_NATIVE: 69,
  /** EX_SOFTWARE: the daemon ended before READY=1 without a failure code (killed by a signal, or it exited 0). */
  DIED: 70,
  /** EX_OSERR: fork, setsid or exec of the daemon failed. */
  SPAWN_FAILED: 71,
  /** EX_CANTCREAT: the PID file cannot be created, locked or written. */
  PID_FILE: 73,
  /** EX_TEMPFAIL: another process holds the PID file's lock: the daemon already runs. */
  ALREADY_RUNNING: 75,
  /** EX_PROTOCOL: READY=1 came, but the PID file does not hold the daemon's PID; the daemon was stopped. */
  PROTOCOL: 76,
  /** timeout(1)'s code: no READY=1 within readyTimeoutMs; the daemon was stopped. */
  READY_TIMEOUT: 124,
});

export type DaemonizeExitName = keyof typeof DAEMONIZE_EXIT;

/** An error of the original process, with the exit code that tells an init script what happened. */
export class DaemonizeError extends Error {
  readonly code: DaemonizeExitName;
  readonly exitCode: number;

  constructor(code: DaemonizeExitName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DaemonizeError';
    this.code = code;
    this.exitCode = DAEMONIZE_EXIT[code];
  }
}

// ---------------------------------------------------------------------------
// The stage channel

const NAME_PREFIX = 'sd-daemonize/';
const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** How long a stopped daemon gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5000;
/** How long the original process waits for the daemon's pipes to drain before it exits. */
const DRAIN_MS = 1000;
const TAIL_BYTES = 8192;

/** What the original process tells the daemon, queued on the stage channel. */
interface Instructions {
  version: 1;
  token: string;
  notifySocket: string;
  /** NOTIFY_SOCKET as the original process had it (forced under a manager), null when unset. */
  restoreNotifySocket: string | null;
  files: number;
  pidFile: { path: string; fd: number } | null;
  workingDirectory: string | null;
  umask: number | null;
  captureOutput: boolean;
}

let detected: { stage: DaemonStage; instructions: Instructions | null } | undefined;

/**
 * Where this process is: 'daemon' in a process started by daemonize(),
 * 'parent' anywhere else. The first call in a daemon takes its instructions
 * off the inherited channel and closes it; call it (or daemonize()) before
 * spawning anything.
 */
export function stage(): DaemonStage {
  detected ??= detect();
  return detected.stage;
}

function detect(): { stage: DaemonStage; instructions: Instructions | null } {
  const parent = { stage: 'parent' as const, instructions: null };
  const native = nativeBinding();
  if (!native || process.platform !== 'linux') return parent;
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return parent;
  }
  for (const entry of entries) {
    const fd = Number(entry);
    if (!(fd > 2)) continue;
    const info = native.socketInfo(fd);
    if (failed(info) || info.domain !== 1 /* AF_UNIX */ || info.path === undefined) continue;
    const address = formatSunPath(info.path);
    if (!address.startsWith(`@${NAME_PREFIX}`) || !address.endsWith('/stage')) continue;
    // Ours by name: take the instructions (if this process is the first to
    // look) and close it, so nothing spawned from here inherits it.
    const received = native.recvmsg(fd, 65536);
    safeClose(fd);
    if (failed(received)) continue;
    for (const passed of received.fds) safeClose(passed);
    // Abstract names are visible to every local user (/proc/net/unix): take
    // instructions only from our own user (or root), as the kernel vouches
    // (it sends the real uid, so that is what we compare).
    if (received.uid !== process.getuid?.() && received.uid !== 0) continue;
    const instructions = parseInstructions(received.data.toString('utf8'));
    if (instructions && address === `@${NAME_PREFIX}${instructions.token}/stage`) return { stage: 'daemon', instructions };
  }
  return parent;
}

function parseInstructions(text: string): Instructions | null {
  try {
    const value = JSON.parse(text) as Partial<Instructions>;
    if (value.version !== 1 || typeof value.token !== 'string' || typeof value.notifySocket !== 'string') return null;
    if (!Number.isInteger(value.files)) return null;
    return value as Instructions;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// daemonize()

let started: Promise<Daemon> | null = null;

/**
 * Typical use, first thing in the program:
 *
 *     try {
 *       await daemonize({ pidFile: '/run/example.pid', programName: 'example' });
 *     } catch (error) {
 *       console.error(error instanceof Error ? error.message : error);
 *       process.exit(error instanceof DaemonizeError ? error.exitCode : 1);
 *     }
 *     // Only the daemon gets here; ready() (or notify('READY=1')) ends the start.
 *
 * In the original process: starts the daemon and never resolves; the process
 * exits 0 once the daemon reported READY=1, or with the daemon's exit status
 * (or a DAEMONIZE_EXIT code) and a message on stderr when it did not. Errors
 * found before the daemon exists (supervised, lock held, no addon, spawn
 * failed) reject with a DaemonizeError carrying `exitCode`; invalid options
 * reject with TypeError/RangeError. In the daemon: resolves with Daemon, taking
 * every setting from the original process (its own options are only checked).
 */
export function daemonize(options: DaemonizeOptions = {}): Promise<Daemon> {
  try {
    checkOptions(options);
    if (started) return started;
    const found = (detected ??= detect());
    started = found.instructions ? Promise.resolve(becomeDaemon(found.instructions)) : startDaemon(options);
    return started;
  } catch (error) {
    return Promise.reject(error);
  }
}

function checkOptions(options: DaemonizeOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('daemonize: options must be an object');
  const { pidFile, programName, files, workingDirectory, umask, readyTimeoutMs } = options;
  if (pidFile !== undefined && (typeof pidFile !== 'string' || pidFile === '' || pidFile.includes('\0'))) {
    throw new TypeError(`daemonize: pidFile must be a non-empty path, got ${JSON.stringify(pidFile)}`);
  }
  if (programName !== undefined && (typeof programName !== 'string' || programName === '' || programName.includes('\0'))) {
    throw new TypeError(`daemonize: programName must be a non-empty string without NUL, got ${JSON.stringify(programName)}`);
  }
  if (files !== undefined) {
    if (!Array.isArray(files)) throw new TypeError('daemonize: files must be an array of fds or objects with an fd');
    files.forEach((file, i) => fileFd(file, i));
  }
  if (workingDirectory !== undefined && workingDirectory !== null && (typeof workingDirectory !== 'string' || workingDirectory === '')) {
    throw new TypeError(`daemonize: workingDirectory must be a path or null, got ${JSON.stringify(workingDirectory)}`);
  }
  if (umask !== undefined && umask !== null && (!Number.isInteger(umask) || umask < 0 || umask > 0o777)) {
    throw new RangeError(`daemonize: umask must be an integer from 0 to 0o777 or null, got ${String(umask)}`);
  }
  if (readyTimeoutMs !== undefined && (typeof readyTimeoutMs !== 'number' || !(readyTimeoutMs > 0) || readyTimeoutMs > 2 ** 31 - 1)) {
    throw new RangeError(`daemonize: readyTimeoutMs must be a positive number of milliseconds (at most 2^31-1), got ${String(readyTimeoutMs)}`);
  }
}

function fileFd(file: number | { fd: number }, index: number): number {
  const fd = typeof file === 'number' ? file : (file as { fd?: unknown } | null)?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new TypeError(`daemonize: files[${index}] is not a file descriptor or an object with one`);
  }
  return fd;
}

function nameOf(options: DaemonizeOptions): string {
  return options.programName ?? basename(process.argv[1] ?? process.argv0);
}

// ---------------------------------------------------------------------------
// The original process

/**
 * 16 hex digits from the kernel's random source, for the private socket
 * names. Read from /dev/urandom rather than through node:crypto, whose first
 * load costs several milliseconds of a start that `start` waits for.
 */
function randomToken(): string {
  const bytes = Buffer.alloc(8);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, bytes, 0, 8, null);
  } finally {
    closeSync(fd);
  }
  return bytes.toString('hex');
}

async function startDaemon(options: DaemonizeOptions): Promise<Daemon> {
  const name = nameOf(options);
  const native = nativeBinding();
  if (!native) {
    throw new DaemonizeError('NO_NATIVE', `${name}: cannot daemonize: ${nativeLoadError()?.message ?? 'the native addon is not loaded'}`);
  }
  const binding = native;
  const supervisor = ['NOTIFY_SOCKET', 'INVOCATION_ID'].filter((key) => process.env[key]);
  if (supervisor.length > 0 && !options.force) {
    throw new DaemonizeError(
      'SUPERVISED',
      `${name}: refusing to daemonize: a service manager already supervises this process ` +
        `(${supervisor.map((key) => `${key}=${process.env[key]}`).join(', ')}), and a daemonized copy would escape it. ` +
        'Run in the foreground (Type=notify), or pass force: true (Type=forking sets INVOCATION_ID too).',
    );
  }
  const workingDirectory = options.workingDirectory === undefined ? '/' : options.workingDirectory === null ? null : resolve(options.workingDirectory);
  if (workingDirectory !== null && !isDirectory(workingDirectory)) {
    throw new RangeError(`daemonize: workingDirectory ${workingDirectory} is not a directory`);
  }
  const files = (options.files ?? []).map((file, i) => {
    const fd = fileFd(file, i);
    try {
      fstatSync(fd);
    } catch {
      throw new TypeError(`daemonize: files[${i}] (fd ${fd}) is not open`);
    }
    return fd;
  });

  const pidFile = options.pidFile === undefined ? null : lockPidFile(binding, resolve(options.pidFile), name);
  const opened: number[] = [];
  let spawned = 0;
  const closeOpened = (): void => opened.splice(0).forEach(safeClose);
  try {
    const token = randomToken();
    const notifySocket = `@${NAME_PREFIX}${token}/notify`;
    const notifyFd = bindSocket(binding, notifySocket, opened);
    const channel = `@${NAME_PREFIX}${token}/stage`;
    const channelFd = bindSocket(binding, channel, opened);
    const [outRead, outWrite] = makePipe(binding, opened);
    const [errRead, errWrite] = makePipe(binding, opened);
    const devNull = openSync('/dev/null', 'r+');
    opened.push(devNull);

    const fdMap = [devNull, outWrite, errWrite, ...files];
    const pidFileFd = pidFile ? fdMap.push(pidFile.fd) - 1 : null;
    fdMap.push(channelFd);
    const instructions: Instructions = {
      version: 1,
      token,
      notifySocket,
      restoreNotifySocket: process.env.NOTIFY_SOCKET ?? null,
      files: files.length,
      pidFile: pidFile && pidFileFd !== null ? { path: pidFile.path, fd: pidFileFd } : null,
      workingDirectory,
      umask: options.umask === undefined ? 0 : options.umask,
      captureOutput: options.captureOutput === true,
    };
    const sent = binding.sendmsg(sunPath(channel), Buffer.from(JSON.stringify(instructions)), null, null);
    if (failed(sent)) throw systemError(sent, 'sendmsg', `to the stage channel ${channel}`);

    const argv = [options.programName ?? process.argv0, ...process.execArgv, ...process.argv.slice(1)];
    const envp = Object.entries(process.env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]));
    const pid = withOthersCloexec(binding, () => binding.spawnDaemon(process.execPath, argv, envp, fdMap));
    if (failed(pid)) {
      throw new DaemonizeError('SPAWN_FAILED', `${name}: cannot start the daemon: ${systemError(pid, 'spawn', process.execPath).message}`);
    }
    spawned = pid;

    // The daemon has its copies; ours of its ends go, so EOF means it let go.
    for (const fd of [channelFd, outWrite, errWrite, devNull]) {
      safeClose(fd);
      opened.splice(opened.indexOf(fd), 1);
    }
    if (pidFile) {
      try {
        writePid(pidFile.fd, pid);
      } catch (error) {
        throw new DaemonizeError('PID_FILE', `${name}: cannot write the PID file ${pidFile.path}: ${(error as Error).message}`, { cause: error });
      }
    }
    superviseStart({
      binding,
      name,
      pid,
      notifyFd,
      outRead,
      errRead,
      pidFile,
      timeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    });
    return new Promise<Daemon>(() => {});
  } catch (error) {
    // A daemon that started but cannot be watched or recorded must not outlive the failure we report.
    if (spawned > 0) killQuietly(spawned, 'SIGKILL');
    closeOpened();
    if (pidFile) {
      removePidFile(pidFile);
      safeClose(pidFile.fd);
    }
    if (error instanceof DaemonizeError || error instanceof TypeError || error instanceof RangeError) throw error;
    throw new DaemonizeError('SPAWN_FAILED', `${name}: cannot start the daemon: ${(error as Error).message}`, { cause: error });
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

interface LockedPidFile {
  path: string;
  fd: number;
}

/**
 * Opens and locks the PID file. A daemon removing its file as it exits could
 * leave us locking a file that has just been unlinked, so the lock only counts
 * when `path` still names the file we locked.
 */
function lockPidFile(binding: NativeBinding, path: string, name: string): LockedPidFile {
  const { LOCK_EX, LOCK_NB } = binding.constants;
  for (let attempt = 0; attempt < 10; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    } catch (error) {
      throw new DaemonizeError('PID_FILE', `${name}: cannot open the PID file: ${(error as Error).message}`, { cause: error });
    }
    const locked = binding.flock(fd, LOCK_EX | LOCK_NB);
    if (locked === -errnoNumber('EWOULDBLOCK')) {
      const holder = readPid(fd);
      safeClose(fd);
      throw new DaemonizeError(
        'ALREADY_RUNNING',
        holder === null
          ? `${name}: already running: the PID file ${path} is locked by another process`
          : `${name}: already running as PID ${holder} (the PID file ${path} is locked)`,
      );
    }
    if (failed(locked)) {
      safeClose(fd);
      throw new DaemonizeError('PID_FILE', `${name}: cannot lock the PID file: ${systemError(locked, 'flock', path, path).message}`);
    }
    if (sameFile(fd, path)) {
      // A stale file (no lock holder) is ours now: its old PID goes at once.
      ftruncateSync(fd, 0);
      return { path, fd };
    }
    safeClose(fd);
  }
  throw new DaemonizeError('PID_FILE', `${name}: the PID file ${path} keeps being replaced while we lock it`);
}

function readPid(fd: number): number | null {
  const buffer = Buffer.alloc(32);
  try {
    const text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8').trim();
    return /^[1-9][0-9]*$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

function writePid(fd: number, pid: number): void {
  const text = Buffer.from(`${pid}\n`);
  ftruncateSync(fd, 0);
  writeSync(fd, text, 0, text.length, 0);
}

function sameFile(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

/** Unlinks the PID file only if `path` still names our file (a new instance may own the path by now). */
function removePidFile(pidFile: LockedPidFile): void {
  if (!sameFile(pidFile.fd, pidFile.path)) return;
  try {
    unlinkSync(pidFile.path);
  } catch {
    // Already gone: nothing to clean up.
  }
}

function sunPath(address: string): Buffer {
  const parsed = parseUnixAddress(address);
  if (parsed.kind !== 'abstract') throw new Error(`daemonize: ${address} is not an abstract socket address`);
  return parsed.sunPath;
}

function bindSocket(binding: NativeBinding, address: string, opened: number[]): number {
  const fd = binding.bindDgram(sunPath(address));
  if (failed(fd)) throw systemError(fd, 'bind', address);
  opened.push(fd);
  return fd;
}

function makePipe(binding: NativeBinding, opened: number[]): [number, number] {
  const fds = binding.pipe();
  if (failed(fds)) throw systemError(fds, 'pipe');
  opened.push(...fds);
  return fds;
}

/**
 * Runs `spawn` with FD_CLOEXEC set on every fd from 3 up, so the daemon
 * inherits only what the fd map gives it (this process may have inherited
 * fds without the flag), and puts the flags back afterwards.
 */
function withOthersCloexec<T>(binding: NativeBinding, spawn: () => T): T {
  const switched: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    // No /proc: rely on the flags as they are.
  }
  for (const entry of entries) {
    const fd = Number(entry);
    if (fd > 2 && binding.getCloexec(fd) === 0 && binding.setCloexec(fd, true) === 0) switched.push(fd);
  }
  try {
    return spawn();
  } finally {
    for (const fd of switched) binding.setCloexec(fd, false);
  }
}

interface StartWatch {
  binding: NativeBinding;
  name: string;
  pid: number;
  notifyFd: number;
  outRead: number;
  errRead: number;
  pidFile: LockedPidFile | null;
  timeoutMs: number;
}

/** Waits for READY=1, the daemon's end or the timeout, whichever comes first, and exits accordingly. */
function superviseStart(watch: StartWatch): void {
  const { binding, name, pid, notifyFd, pidFile } = watch;
  let status: string | null = null;
  let errnoValue: number | null = null;
  let exitStatus: number | null = null;
  let ready = false;
  let settled = false;
  let tail = Buffer.alloc(0);

  const stdout = forward(watch.outRead, 1, () => {});
  const stderr = forward(watch.errRead, 2, (chunk) => {
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES);
  });

  // Reads every queued datagram: one wake-up may stand for several.
  const drain = (): void => {
    for (;;) {
      const received = binding.recvmsg(notifyFd, 4096);
      if (failed(received)) return;
      // Answer barriers (and drop anything else passed) by closing what came.
      for (const fd of received.fds) safeClose(fd);
      // As NotifyAccess=main: only the daemon itself speaks for the daemon.
      if (received.pid !== pid) continue;
      for (const line of received.data.toString('utf8').split(/[\r\n]+/)) {
        const eq = line.indexOf('=');
        if (eq <= 0) continue;
        const key = line.slice(0, eq);
        const value = line.slice(eq + 1);
        if (key === 'READY' && value === '1') ready = true;
        else if (key === 'STATUS') status = value;
        else if (key === 'ERRNO' && /^[0-9]+$/.test(value)) errnoValue = Number(value);
        else if (key === 'EXIT_STATUS' && /^[0-9]+$/.test(value)) exitStatus = Number(value);
      }
    }
  };
  const socketWatcher = new binding.FdWatcher(notifyFd, () => {
    drain();
    if (ready && !settled) void onReady();
  });
  const death = watchExit(binding, pid, () => {
    if (!settled) void onDeath();
  });
  const timer = setTimeout(() => {
    if (!settled) void onTimeout();
  }, watch.timeoutMs);

  const settle = (): void => {
    settled = true;
    clearTimeout(timer);
    socketWatcher.close();
  };
  const finish = async (code: number, message: string | null): Promise<never> => {
    await Promise.race([Promise.all([stdout, stderr]), delay(DRAIN_MS)]);
    death.close();
    if (message !== null) {
      writeQuietly(2, `${message}\n`);
      if (pidFile) removePidFile(pidFile);
    }
    process.exit(code);
  };
  const reason = (): string => {
    const text = status ?? lastMessageLine(tail.toString('utf8')) ?? '';
    const errnoText = errnoValue === null ? '' : ` (ERRNO=${errnoValue}${errnoName(errnoValue)})`;
    return text || errnoText ? `: ${text}${errnoText}` : '';
  };

  async function onReady(): Promise<never> {
    settle();
    const holder = pidFile ? readPid(pidFile.fd) : pid;
    if (holder !== pid) {
      await stop(pid, death.gone);
      return finish(
        DAEMONIZE_EXIT.PROTOCOL,
        `${name}: the daemon (PID ${pid}) reported READY=1, but ${pidFile!.path} holds ${holder ?? 'no PID'} instead of its PID; stopped it`,
      );
    }
    return finish(0, null);
  }

  async function onDeath(): Promise<never> {
    settle();
    drain();
    await Promise.race([Promise.all([stdout, stderr]), delay(DRAIN_MS)]);
    const when = ready ? 'right after it reported READY=1' : 'before it was ready';
    if (exitStatus !== null && exitStatus !== 0) {
      return finish(exitStatus, `${name}: the daemon (PID ${pid}) exited with status ${describeExitCode(exitStatus)} ${when}${reason()}`);
    }
    const how = exitStatus === 0 ? 'exited with status 0' : 'ended without an exit status (killed by a signal?)';
    return finish(DAEMONIZE_EXIT.DIED, `${name}: the daemon (PID ${pid}) ${how} ${when}${reason()}`);
  }

  async function onTimeout(): Promise<never> {
    settle();
    drain();
    await stop(pid, death.gone);
    return finish(DAEMONIZE_EXIT.READY_TIMEOUT, `${name}: the daemon (PID ${pid}) did not report READY=1 within ${watch.timeoutMs} ms; stopped it${reason()}`);
  }
}

/**
 * The line of stderr that best says why: the last one that is not indented
 * (stack frames, error properties), not a closing brace and not the
 * "Node.js v20..." line Node prints after an uncaught exception.
 */
function lastMessageLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '' && !/^\s/.test(line) && line !== '}' && !/^Node\.js v\d/.test(line))
    .pop();
}

/** Copies a pipe from the daemon to our fd as it comes; resolves at EOF. */
function forward(fd: number, to: number, also: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolvePromise) => {
    const pipe = new (builtin.net().Socket)({ fd, readable: true, writable: false });
    pipe.on('data', (chunk: Buffer) => {
      writeQuietly(to, chunk);
      also(chunk);
    });
    pipe.on('end', () => resolvePromise());
    pipe.on('close', () => resolvePromise());
    pipe.on('error', () => resolvePromise());
  });
}

/** Synchronous, so nothing is lost at process.exit, and never throws: our own stdout may be gone. */
function writeQuietly(fd: number, data: string | Buffer): void {
  try {
    const buffer = typeof data === 'string' ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
  } catch {
    // Nobody to tell.
  }
}

/** Calls `onExit` when `pid` ends: a pidfd when the kernel has them, else a look at /proc every 50 ms. */
function watchExit(binding: NativeBinding, pid: number, onExit: () => void): { close(): void; gone: () => boolean } {
  const gone = (): boolean => {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
      return state === 'Z' || state === 'X';
    } catch {
      return true;
    }
  };
  let close = (): void => {};
  // Once is enough; the pidfd stays readable and the watch is level-triggered.
  const once = (): void => {
    close();
    onExit();
  };
  const pidfd = binding.pidfdOpen(pid);
  if (!failed(pidfd)) {
    const watcher = new binding.FdWatcher(pidfd, once);
    close = () => {
      close = () => {};
      watcher.close();
      safeClose(pidfd);
    };
  } else {
    const poll = setInterval(() => {
      if (gone()) once();
    }, 50);
    close = () => clearInterval(poll);
  }
  return { close: () => close(), gone };
}

/** SIGTERM, then SIGKILL after STOP_GRACE_MS: a failed start leaves nothing running (and the lock free). */
async function stop(pid: number, gone: () => boolean): Promise<void> {
  killQuietly(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (!gone() && Date.now() < deadline) await delay(20);
  if (!gone()) {
    killQuietly(pid, 'SIGKILL');
    while (!gone()) await delay(20);
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

function errnoName(value: number): string {
  const entry = Object.entries(builtin.os().constants.errno).find(([, number]) => number === value);
  return entry ? ` ${entry[0]}` : '';
}

function safeClose(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}

// ---------------------------------------------------------------------------
// The daemon

function becomeDaemon(instructions: Instructions): Daemon {
  const binding = nativeBinding()!;
  const notifyAddress = sunPath(instructions.notifySocket);
  let readySent = false;

  // Until READY=1, tell the original process how we end, whatever ends us
  // through JavaScript (process.exit, an uncaught exception, an empty loop).
  const reportExit = (code: number): void => {
    if (readySent) return;
    const status = Number.isInteger(code) ? code & 0xff : 1;
    binding.sendmsg(notifyAddress, Buffer.from(`EXIT_STATUS=${status}`), null, null);
  };
  process.on('exit', reportExit);

  // The inherited files and the PID file stay open for the daemon's life, but
  // like every fd Node opens (and like sd_listen_fds()) they are not passed
  // on implicitly: a child that outlived us would keep the PID file locked.
  const files = Array.from({ length: instructions.files }, (_, i) => 3 + i);
  const pidFile = instructions.pidFile;
  for (const fd of pidFile ? [...files, pidFile.fd] : files) binding.setCloexec(fd, true);
  if (pidFile) {
    // Remove our PID file as we exit, if it is still ours.
    process.on('exit', () => removePidFile(pidFile));
  }
  if (instructions.umask !== null) process.umask(instructions.umask);
  if (instructions.workingDirectory !== null) process.chdir(instructions.workingDirectory);

  // captureOutput: pipes read here. The write ends are re-opened with
  // O_NONBLOCK through /proc, because they replace fds 1 and 2 under Node's
  // stdout/stderr streams, which may already exist and assume non-blocking
  // fds: a blocking pipe that fills up would stop the loop that empties it.
  let capture: { stdout: net.Socket; stderr: net.Socket; writeEnds: [number, number] } | null = null;
  if (instructions.captureOutput) {
    const ends = [binding.pipe(), binding.pipe()];
    const [out, err] = ends.map((pipe) => {
      if (failed(pipe)) throw systemError(pipe, 'pipe', 'for captureOutput');
      const writeEnd = openSync(`/proc/self/fd/${pipe[1]}`, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      closeSync(pipe[1]);
      return [pipe[0], writeEnd] as const;
    }) as [readonly [number, number], readonly [number, number]];
    const reader = (fd: number): net.Socket => new (builtin.net().Socket)({ fd, readable: true, writable: false }).unref();
    capture = { stdout: reader(out[0]), stderr: reader(err[0]), writeEnds: [out[1], err[1]] };
  }

  // Just before READY=1 leaves, fds 1 and 2 let go of the original process's
  // pipes (so it sees them end right after READY=1 and can exit); just
  // after, NOTIFY_SOCKET is as the original process had it.
  const handOverOutput = (): void => {
    const devNull = openSync('/dev/null', 'r+');
    const targets = capture?.writeEnds ?? [devNull, devNull];
    binding.dup2(targets[0], 1);
    binding.dup2(targets[1], 2);
    safeClose(devNull);
    if (capture) capture.writeEnds.forEach(safeClose);
  };
  const onNotify = (text: string, env: NodeJS.ProcessEnv, send: () => NotifyResult): NotifyResult => {
    if (env.NOTIFY_SOCKET !== instructions.notifySocket || !/^READY=1$/m.test(text)) return send();
    handOverOutput();
    const result = send();
    if (result.sent) {
      readySent = true;
      setNotifyInterceptor(null);
      process.off('exit', reportExit);
      if (instructions.restoreNotifySocket === null) delete env.NOTIFY_SOCKET;
      else env.NOTIFY_SOCKET = instructions.restoreNotifySocket;
    }
    return result;
  };
  process.env.NOTIFY_SOCKET = instructions.notifySocket;
  setNotifyInterceptor(onNotify);

  return {
    pid: process.pid,
    files,
    stdout: capture?.stdout ?? null,
    stderr: capture?.stderr ?? null,
    pidFile: pidFile?.path ?? null,
    pidFileFd: pidFile?.fd ?? null,
  };
}
