// The original process of a daemonize() start (steps 1-3 of the overview in
// daemonize.ts): checks, the PID file, the private sockets and pipes, the
// instructions on the stage channel, the double fork; then supervise.ts
// waits for the daemon and exits. Loaded only by a process that daemonizes.
import type { Daemon, DaemonizeOptions } from '../daemonize.js';
import { failed, nativeBinding, nativeLoadError, systemError, type NativeBinding } from '../native.js';
import { DaemonizeError } from './errors.js';
import { safeClose } from '../quiet-fd.js';
import { abstractSunPath } from './fds.js';
import { lockPidFile, removePidFile, writePid } from './pid-file.js';
import { channelAddresses, type Instructions } from './stage-channel.js';
import { killQuietly, superviseStart } from './supervise.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } = process.getBuiltinModule('node:fs');
const { resolve } = process.getBuiltinModule('node:path');

const DEFAULT_READY_TIMEOUT_MS = 30_000;

/**
 * Starts the daemon and never resolves: superviseStart() ends this process.
 * Errors found before the daemon exists reject (see daemonize()). `options`
 * are checked already; `name` starts every message; `fileFds` are the fds of
 * options.files.
 */
export async function startDaemon(options: DaemonizeOptions, name: string, fileFds: number[]): Promise<Daemon> {
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
  const workingDirectory =
    options.workingDirectory === undefined ? '/' : options.workingDirectory === null ? null : resolve(options.workingDirectory);
  if (workingDirectory !== null && !isDirectory(workingDirectory)) {
    throw new RangeError(`daemonize: workingDirectory ${workingDirectory} is not a directory`);
  }
  const files = fileFds.map((fd, i) => {
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
    const addresses = channelAddresses(token);
    const notifyFd = bindSocket(binding, addresses.notify, opened);
    const channelFd = bindSocket(binding, addresses.stage, opened);
    const [outRead, outWrite] = makePipe(binding, opened);
    const [errRead, errWrite] = makePipe(binding, opened);
    // The daemon's life line: it holds the only write end, so EOF here means it ended (supervise.ts).
    const [lifeRead, lifeWrite] = makePipe(binding, opened);
    const devNull = openSync('/dev/null', 'r+');
    opened.push(devNull);

    const fdMap = [devNull, outWrite, errWrite, ...files];
    const pidFileFd = pidFile ? fdMap.push(pidFile.fd) - 1 : null;
    fdMap.push(channelFd);
    const lifeFd = fdMap.push(lifeWrite) - 1;
    const instructions: Instructions = {
      version: 1,
      token,
      notifySocket: addresses.notify,
      restoreNotifySocket: process.env.NOTIFY_SOCKET ?? null,
      files: files.length,
      pidFile: pidFile && pidFileFd !== null ? { path: pidFile.path, fd: pidFileFd } : null,
      workingDirectory,
      umask: options.umask === undefined ? 0 : options.umask,
      captureOutput: options.captureOutput === true,
      lifeFd,
    };
    const sent = binding.sendmsg(abstractSunPath(addresses.stage), Buffer.from(JSON.stringify(instructions)), null, null);
    if (failed(sent)) throw systemError(sent, 'sendmsg', `to the stage channel ${addresses.stage}`);

    const argv = [options.programName ?? process.argv0, ...process.execArgv, ...process.argv.slice(1)];
    const envp = Object.entries(process.env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]));
    const pid = withOthersCloexec(binding, () => binding.spawnDaemon(process.execPath, argv, envp, fdMap));
    if (failed(pid)) {
      throw new DaemonizeError('SPAWN_FAILED', `${name}: cannot start the daemon: ${systemError(pid, 'spawn', process.execPath).message}`);
    }
    spawned = pid;

    // The daemon has its copies; ours of its ends go, so EOF means it let go.
    for (const fd of [channelFd, outWrite, errWrite, lifeWrite, devNull]) {
      safeClose(fd);
      opened.splice(opened.indexOf(fd), 1);
    }
    if (pidFile) {
      try {
        writePid(pidFile.fd, pid);
      } catch (error) {
        throw new DaemonizeError('PID_FILE', `${name}: cannot write the PID file ${pidFile.path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    superviseStart({
      binding,
      name,
      pid,
      notifyFd,
      outRead,
      errRead,
      lifeRead,
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

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function bindSocket(binding: NativeBinding, address: string, opened: number[]): number {
  const fd = binding.bindDgram(abstractSunPath(address));
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
