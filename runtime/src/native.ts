// Loads the N-API addon (native/src/addon.cc) on first use and declares
// exactly what it exports. Loading never throws: without the addon the runtime still imports,
// capabilities() says why, and every mechanism that needs it degrades to its
// documented no-op.
// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { existsSync } = process.getBuiltinModule('node:fs');
const { dirname, join, resolve } = process.getBuiltinModule('node:path');
const { fileURLToPath } = process.getBuiltinModule('node:url');
const { getSystemErrorMap } = process.getBuiltinModule('node:util');

import { sendDatagram, type SocketSyscalls } from './notify-socket.js';

/** What `recvmsg` returns for one datagram. */
export interface ReceivedMessage {
  data: Buffer;
  /** The sender's credentials (SO_PASSCRED); null when the kernel sent none. */
  pid: number | null;
  uid: number | null;
  gid: number | null;
  /** File descriptors that came with the message, already CLOEXEC. */
  fds: number[];
  /** The datagram was longer than the buffer. */
  truncated: boolean;
  /** Some control data (fds) did not fit and were closed by the kernel. */
  controlTruncated: boolean;
}

/** What `socketInfo` returns; `family` and the address fields are absent when getsockname failed. */
export interface RawSocketInfo {
  type: number;
  domain: number;
  protocol: number;
  listening: boolean;
  family?: number;
  address?: string;
  port?: number;
  /** Raw sun_path bytes (abstract names start with a NUL). */
  path?: Buffer;
}

export interface FdWatcher {
  close(): void;
}

/** The addon's exports. Every function returns a negative errno on OS failure. */
export interface NativeBinding {
  /**
   * One datagram through the addon's kept notify socket; a full receiver queue
   * is waited on for `sendTimeoutMs` (absent or 0: without limit), then -EAGAIN.
   */
  sendmsg(sunPath: Buffer, data: Buffer, fds: number[] | null, ucred: [number, number, number] | null, sendTimeoutMs?: number): number;
  bindDgram(sunPath: Buffer): number;
  recvmsg(fd: number, maxBytes: number): ReceivedMessage | number;
  socketInfo(fd: number): RawSocketInfo | number;
  fsType(fd: number): number;
  setCloexec(fd: number, on: boolean): number;
  getCloexec(fd: number): number;
  flock(fd: number, operation: number): number;
  pipe(): [number, number] | number;
  pidfdOpen(pid: number): number;
  /** dup2(2): `newFd`, now referring to what `oldFd` does (not CLOEXEC). */
  dup2(oldFd: number, newFd: number): number;
  /** fork, setsid, fork, exec: the daemon's PID (in a new session, not its leader). fds[i] becomes its fd i. */
  spawnDaemon(file: string, argv: string[], envp: string[], fds: number[]): number;
  FdWatcher: new (fd: number, callback: (status: number) => void) => FdWatcher;
  /** memfd_create(2) with MFD_CLOEXEC | MFD_ALLOW_SEALING: the fd, or -errno (-ENOSYS before Linux 3.17). */
  memfdCreate(name: string): number;
  /** fcntl(fd, F_ADD_SEALS, seals): 0 or -errno. */
  addSeals(fd: number, seals: number): number;
  constants: {
    LOCK_SH: number;
    LOCK_EX: number;
    LOCK_UN: number;
    LOCK_NB: number;
    F_SEAL_SEAL: number;
    F_SEAL_SHRINK: number;
    F_SEAL_GROW: number;
    F_SEAL_WRITE: number;
  };
}

/** What the addon itself exports: the same, except that its sendmsg sends through a socket given to it. */
type RawBinding = Omit<NativeBinding, 'sendmsg'> & SocketSyscalls;

/**
 * A testing aid: SD_DAEMON_RUNTIME_NATIVE=off makes the addon unavailable, so
 * a test suite (or an operator reproducing a report) sees exactly what a
 * platform without a prebuild sees. Any other non-empty value is refused the
 * same way, with a message, rather than guessed at.
 */
export const NATIVE_SWITCH = 'SD_DAEMON_RUNTIME_NATIVE';

/** Why the addon is missing: `code` tells a deliberate switch-off from a failed load. */
export interface NativeLoadError extends Error {
  code: 'ERR_SD_NATIVE_OFF' | 'ERR_SD_NATIVE_NOT_LOADED';
}

function loadError(code: NativeLoadError['code'], message: string): NativeLoadError {
  const error = new Error(message) as NativeLoadError;
  error.code = code;
  return error;
}

function load(): { binding: NativeBinding | null; error: NativeLoadError | null } {
  const switched = process.env[NATIVE_SWITCH];
  if (switched !== undefined && switched !== '') {
    const what = switched === 'off' ? 'switched off' : `refused (only "off" is understood, got ${JSON.stringify(switched)})`;
    return {
      binding: null,
      error: loadError(
        'ERR_SD_NATIVE_OFF',
        `sd-daemon-runtime: native addon not loaded: ${NATIVE_SWITCH}=${switched} ${what}; unset ${NATIVE_SWITCH} to load it (it is a testing aid)`,
      ),
    };
  }
  // import.meta and node:module (whose first load pulls in source-map
  // support) are touched only here, so importing the runtime does neither.
  const moduleUrl = import.meta.url;
  const packageRoot = resolve(dirname(fileURLToPath(moduleUrl)), '..');
  const tried: string[] = [];
  // 1. Our own prebuild, by the name scripts/build-native.js gives it: one
  //    dlopen, no directory scans (this is most of a notify's first call).
  for (const libc of ['glibc', 'musl']) {
    const file = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, `node.napi.${libc}.node`);
    if (!existsSync(file)) {
      tried.push(`${file} (not found)`);
      continue;
    }
    try {
      return { binding: dlopen(file), error: null };
    } catch (error) {
      tried.push(`${file} (${firstLine(error)})`);
    }
  }
  // 2. The build from the shipped sources (scripts/install.js, where no
  //    prebuild fits), which is also where a checkout's own build lands.
  const built = join(packageRoot, 'native', 'build', 'Release', 'sd_daemon_native.node');
  if (existsSync(built)) {
    try {
      return { binding: dlopen(built), error: null };
    } catch (error) {
      tried.push(`${built} (${firstLine(error)})`);
    }
  } else {
    tried.push(`${built} (not built)`);
  }
  // npm may have skipped the install script (--ignore-scripts, a denied
  // allowScripts entry): name the command that builds the addon by hand.
  const fix = `to build it for ${process.platform}-${process.arch}: node ${join(packageRoot, 'scripts', 'install.js')}`;
  return {
    binding: null,
    error: loadError('ERR_SD_NATIVE_NOT_LOADED', `sd-daemon-runtime: native addon not loaded; tried:\n  ${tried.join('\n  ')}\n${fix}`),
  };
}

function dlopen(file: string): NativeBinding {
  const module = { exports: {} as RawBinding };
  process.dlopen(module, file);
  const raw = module.exports;
  // sendmsg as callers know it: through the kept socket (notify-socket.ts decides how long it lives).
  return { ...raw, sendmsg: (sunPath, data, fds, ucred, sendTimeoutMs) => sendDatagram(raw, sunPath, data, fds, ucred, sendTimeoutMs) };
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0] ?? '';
}

let loaded: { binding: NativeBinding | null; error: NativeLoadError | null } | undefined;

/**
 * The addon, loaded on first use (importing the runtime costs no dlopen), or
 * null when it could not be loaded (see `nativeLoadError()`).
 */
export function nativeBinding(): NativeBinding | null {
  loaded ??= load();
  return loaded.binding;
}

/** Why the addon is missing (every location tried, or the switch); null when it loaded. */
export function nativeLoadError(): NativeLoadError | null {
  loaded ??= load();
  return loaded.error;
}

let errorMap: Map<number, [string, string]> | undefined;

/** A Node-style system error: `errno` negative, `code` such as 'ENOENT', `syscall`. */
export interface SystemError extends Error {
  errno: number;
  code: string;
  syscall: string;
  path?: string;
}

/** Turns the addon's negative errno into an Error shaped like Node's own. */
export function systemError(negativeErrno: number, syscall: string, detail?: string, path?: string): SystemError {
  errorMap ??= getSystemErrorMap();
  const [code, description] = errorMap.get(negativeErrno) ?? [`E${-negativeErrno}`, `errno ${-negativeErrno}`];
  const where = detail ? ` ${detail}` : '';
  const error = new Error(`${syscall} ${code}${where}: ${description}`) as SystemError;
  error.errno = negativeErrno;
  error.code = code;
  error.syscall = syscall;
  if (path !== undefined) error.path = path;
  return error;
}

/** True when an addon call failed (it returned a negative errno). */
export function failed(result: unknown): result is number {
  return typeof result === 'number' && result < 0;
}
