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
import {
  decodeControl,
  encodeControl,
  RECEIVE_CONTROL_BYTES,
  readSockaddr,
  SOCKADDR_MAX,
  SOL_SOCKET,
  unixSockaddr,
} from './socket-bytes.js';

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

/**
 * What the addon itself exports (native/src/addon.cc): the syscalls alone.
 * Socket addresses and control messages are bytes socket-bytes.ts builds and
 * reads; NativeBinding is built on these.
 */
interface RawBinding extends Pick<NativeBinding, 'fsType' | 'flock' | 'pipe' | 'pidfdOpen' | 'dup2' | 'memfdCreate' | 'FdWatcher'> {
  dgramSocket(): number;
  socketIno(fd: number): number;
  setSendTimeout(fd: number, ms: number): number;
  sendmsg(fd: number, sockaddr: Buffer, data: Buffer, control: Buffer, timeoutMs: number): number;
  bindDgram(sockaddr: Buffer): number;
  /** [bytes (the datagram's full length), control bytes filled, msg_flags] */
  recvmsg(fd: number, data: Buffer, control: Buffer): [number, number, number] | number;
  getsockopt(fd: number, level: number, option: number): number;
  /** The address's length; the address is written to `sockaddr`. */
  getsockname(fd: number, sockaddr: Buffer): number;
  fcntl(fd: number, command: number, arg: number): number;
  /** argv and envp: NUL-terminated strings back to back. The ints the two processes reported, in order. */
  spawnDaemon(file: string, argv: Buffer, envp: Buffer, fds: Int32Array): number[] | number;
}

// Linux's ABI numbers (asm-generic: the same on every architecture Node builds for Linux; mips, sparc and alpha differ).
const constants: NativeBinding['constants'] = {
  LOCK_SH: 1,
  LOCK_EX: 2,
  LOCK_NB: 4,
  LOCK_UN: 8,
  F_SEAL_SEAL: 0x0001,
  F_SEAL_SHRINK: 0x0002,
  F_SEAL_GROW: 0x0004,
  F_SEAL_WRITE: 0x0008,
};
const [F_GETFD, F_SETFD, FD_CLOEXEC, F_ADD_SEALS] = [1, 2, 1, 1024 + 9];
const [SO_TYPE, SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN] = [3, 30, 38, 39];
const [MSG_CTRUNC, MSG_TRUNC] = [0x08, 0x20];
const [EINVAL, ECHILD] = [22, 10];

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
  return fromRaw(module.exports);
}

/** NativeBinding's calls made of the raw syscalls; the rules of each are written here, not in C++. */
function fromRaw(raw: RawBinding): NativeBinding {
  const socketSyscalls: SocketSyscalls = {
    dgramSocket: raw.dgramSocket,
    socketIno: raw.socketIno,
    setSendTimeout: raw.setSendTimeout,
    sendmsg: (fd, sunPath, data, fds, ucred, timeoutMs) =>
      raw.sendmsg(fd, unixSockaddr(sunPath), data, encodeControl(fds, ucred), timeoutMs),
  };
  const getCloexec = (fd: number): number => {
    const flags = raw.fcntl(fd, F_GETFD, 0);
    return flags < 0 ? flags : flags & FD_CLOEXEC ? 1 : 0;
  };
  return {
    // Through the kept socket (notify-socket.ts decides how long it lives).
    sendmsg: (sunPath, data, fds, ucred, sendTimeoutMs) => sendDatagram(socketSyscalls, sunPath, data, fds, ucred, sendTimeoutMs),
    // An empty sun_path would ask the kernel to pick a name (autobind): never what a caller of bindDgram means.
    bindDgram: (sunPath) => (sunPath.length === 0 ? -EINVAL : raw.bindDgram(unixSockaddr(sunPath))),
    recvmsg: (fd, maxBytes) => {
      const data = Buffer.alloc(Math.max(maxBytes, 1));
      const control = Buffer.alloc(RECEIVE_CONTROL_BYTES);
      const received = raw.recvmsg(fd, data, control);
      if (typeof received === 'number') return received;
      const [bytes, controlBytes, flags] = received;
      return {
        // A copy of what arrived, so a large buffer is not kept alive by a short message.
        data: Buffer.from(data.subarray(0, Math.min(bytes, data.length))),
        ...decodeControl(control.subarray(0, controlBytes)),
        truncated: (flags & MSG_TRUNC) !== 0,
        controlTruncated: (flags & MSG_CTRUNC) !== 0,
      };
    },
    socketInfo: (fd) => {
      // SO_TYPE and SO_DOMAIN must answer (-ENOTSOCK for anything but a socket); SO_PROTOCOL and SO_ACCEPTCONN read 0
      // where they cannot.
      const type = raw.getsockopt(fd, SOL_SOCKET, SO_TYPE);
      if (type < 0) return type;
      const domain = raw.getsockopt(fd, SOL_SOCKET, SO_DOMAIN);
      if (domain < 0) return domain;
      const info: RawSocketInfo = {
        type,
        domain,
        protocol: Math.max(raw.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL), 0),
        listening: raw.getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN) > 0,
      };
      const address = Buffer.alloc(SOCKADDR_MAX);
      const length = raw.getsockname(fd, address);
      return length < 0 ? info : { ...info, ...readSockaddr(address.subarray(0, Math.min(length, SOCKADDR_MAX))) };
    },
    fsType: raw.fsType,
    setCloexec: (fd, on) => {
      const flags = raw.fcntl(fd, F_GETFD, 0);
      if (flags < 0) return flags;
      const wanted = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
      return wanted === flags ? 0 : raw.fcntl(fd, F_SETFD, wanted);
    },
    getCloexec,
    flock: raw.flock,
    pipe: raw.pipe,
    pidfdOpen: raw.pidfdOpen,
    dup2: raw.dup2,
    spawnDaemon: (file, argv, envp, fds) => {
      const strings = (list: unknown): Buffer | null =>
        Array.isArray(list) && list.every((s) => typeof s === 'string' && !s.includes('\0'))
          ? Buffer.from(list.map((s) => `${s}\0`).join(''))
          : null;
      const [argvBytes, envpBytes] = [strings(argv), strings(envp)];
      if (!argvBytes || !envpBytes || !Array.isArray(fds) || !fds.every(Number.isInteger)) {
        throw new TypeError('spawnDaemon(file: string, argv: string[], envp: string[], fds: number[]): strings without NUL, integer fds');
      }
      const reported = raw.spawnDaemon(file, argvBytes, envpBytes, Int32Array.from(fds));
      if (typeof reported === 'number') return reported;
      // The daemon's -errno (its exec failed) comes first and wins over the intermediate's report; nothing at all means
      // the intermediate died without a word.
      return reported.find((value) => value < 0) ?? reported.at(-1) ?? -ECHILD;
    },
    FdWatcher: raw.FdWatcher,
    memfdCreate: raw.memfdCreate,
    addSeals: (fd, seals) => raw.fcntl(fd, F_ADD_SEALS, seals),
    constants,
  };
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
