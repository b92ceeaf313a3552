// sd_listen_fds(3) / sd_listen_fds_with_names(3): the file descriptors a
// service manager passed us at 3, 4, ... (socket activation, the FD store),
// with their LISTEN_FDNAMES names, plus the sd_is_*(3) probes as one call,
// inspectFd(), that says what each fd is.
//
// Results are tri-state, as in libsystemd: activated (fds), not activated (a
// normal result: nobody passed us anything, or it was meant for another
// process), or malformed (LISTEN_* is set for us but is garbage; an Error
// names the variable and why). Nothing here throws because of the environment.
//
// What each environment gives (libsystemd's answer in brackets):
//   LISTEN_PID unset                        -> not-activated 'no-listen-pid'      [0]
//   LISTEN_PID another process's pid        -> not-activated 'other-process'      [0]
//   LISTEN_PID '', 'abc', ' 12', '12 ',
//     '+12', '0x1f', '1.5'                  -> malformed LISTEN_PID EINVAL        [-EINVAL; its strtoul lets ' 12', '+12', '0x1f' through, we do not]
//   LISTEN_PID '0', '-5', above 2^31-1      -> malformed LISTEN_PID ERANGE        [-ERANGE]
//   LISTEN_PIDFDID not a decimal u64        -> malformed LISTEN_PIDFDID EINVAL/ERANGE [-EINVAL/-ERANGE]
//   LISTEN_PIDFDID not our pidfd's inode    -> not-activated 'other-pidfd'        [0]
//   LISTEN_PIDFDID, but no pidfd/pidfs      -> check skipped (kernels before 6.9, no addon) [same]
//   LISTEN_FDS unset                        -> not-activated 'no-listen-fds'      [0]
//   LISTEN_FDS '', 'abc', ' 2', '2 ', '0x2' -> malformed LISTEN_FDS EINVAL        [-EINVAL; its strtol lets ' 2', '0x2' through, we do not]
//   LISTEN_FDS '0', '-1'                    -> malformed LISTEN_FDS EINVAL        [-EINVAL: n <= 0]
//   LISTEN_FDS above 2^31-1-3               -> malformed LISTEN_FDS ERANGE        [-ERANGE/-EINVAL]
//   LISTEN_FDS counts past the last open fd -> malformed LISTEN_FDS EBADF         [-EBADF from fcntl]
//   LISTEN_FDNAMES unset                    -> every name 'unknown'               [same]
//   LISTEN_FDNAMES with N fields, N != fds  -> malformed LISTEN_FDNAMES EINVAL    [-EINVAL]
//   LISTEN_FDNAMES '' with one fd           -> one fd named ''                    [-EINVAL: it counts no names; but
//                                              systemd writes '' for one fd stored under FDNAME= (empty is a valid name)]
// Only canonical decimal digits are numbers here: the manager never writes
// anything else, and a stricter parser turns oddities into a visible result.
//
// Hazard shared with libsystemd: a LISTEN_FDS larger than what was passed
// reaches fds Node opened for itself (libuv's epoll and eventfds live right
// after the inherited ones); they are reported, with kind 'other'.

import { builtin, errnoNumber } from './builtins.js';

import { failed, nativeBinding, systemError } from './native.js';
import type { SystemError } from './native.js';
import { AF_INET, AF_INET6, AF_UNIX } from './socket-bytes.js';
import { formatSunPath } from './unix-address.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { closeSync, fstatSync } = process.getBuiltinModule('node:fs');

/** The first passed fd (SD_LISTEN_FDS_START); the rest follow without gaps. */
export const SD_LISTEN_FDS_START = 3;

/** statfs f_type of pidfs (PID_FS_MAGIC): pidfds have a unique inode there, since Linux 6.9. */
const PIDFS_MAGIC = 0x50494446;
/** statfs f_type of the POSIX message queue filesystem (MQUEUE_MAGIC). */
const MQUEUE_MAGIC = 0x19800202;
const INT_MAX = 2 ** 31 - 1;
const U64_MAX = 2n ** 64n - 1n;

// <sys/socket.h>: the socket types socketInfo() reports (the families are socket-bytes.ts').
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_SEQPACKET = 5;

/**
 * What an fd is. 'unknown' means the native addon is not loaded, so only the
 * environment could be read; 'other' is anything else (a directory, a block
 * device, an AF_NETLINK socket, an eventfd...).
 */
export type FdKind =
  | 'tcp4'
  | 'tcp6'
  | 'udp4'
  | 'udp6'
  | 'unix-stream'
  | 'unix-dgram'
  | 'unix-seqpacket'
  | 'fifo'
  | 'file'
  | 'character-device'
  | 'mqueue'
  | 'other'
  | 'unknown';

/** What inspectFd() finds out about an fd. */
export interface FdInfo {
  fd: number;
  kind: FdKind;
  /** SO_ACCEPTCONN: a socket in listen(2); false for connected sockets and non-sockets. */
  listening: boolean;
  /** Local address of an inet socket, as inet_ntop writes it ('127.0.0.1', '::1'). */
  host?: string;
  /** Local port of an inet socket. */
  port?: number;
  /** Local address of a unix socket: a path, '@name' when abstract, '' when unnamed. */
  path?: string;
}

/** One passed fd: what it is and the name the manager gave it. */
export interface ListenFd extends FdInfo {
  /** Its LISTEN_FDNAMES field (FileDescriptorName=, FDNAME=); 'unknown' when none were passed. */
  name: string;
}

export type ListenVariable = 'LISTEN_PID' | 'LISTEN_PIDFDID' | 'LISTEN_FDS' | 'LISTEN_FDNAMES';

/** Why the variables are unusable: `code` is the errno name libsystemd would return negated. */
export interface ListenFdsError extends Error {
  variable: ListenVariable;
  code: 'EINVAL' | 'ERANGE' | 'EBADF' | string;
  errno: number;
}

export type NotActivatedReason =
  /** LISTEN_PID is not set: no manager passed fds (a normal start, or a development run). */
  | 'no-listen-pid'
  /** LISTEN_PID names another process: the variables were inherited, they are not for us. */
  | 'other-process'
  /** LISTEN_PIDFDID names another process that had our pid before us. */
  | 'other-pidfd'
  /** LISTEN_PID is ours but LISTEN_FDS is not set. */
  | 'no-listen-fds';

export type ListenFdsResult =
  | { status: 'activated'; fds: ListenFd[] }
  /** `fds` is always empty, so code that only loops over it needs no check. */
  | { status: 'not-activated'; reason: NotActivatedReason; fds: [] }
  | { status: 'malformed'; variable: ListenVariable; error: ListenFdsError; fds: [] };

export interface ListenFdsOptions {
  /** Delete LISTEN_PID, LISTEN_PIDFDID, LISTEN_FDS and LISTEN_FDNAMES afterwards, whatever the outcome. */
  unsetEnv?: boolean;
  /** Environment to read (and unset); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

const VARIABLES: readonly ListenVariable[] = ['LISTEN_PID', 'LISTEN_PIDFDID', 'LISTEN_FDS', 'LISTEN_FDNAMES'];

/**
 * The fds passed to this process, with names and kinds. Each passed fd gets
 * FD_CLOEXEC, so children we spawn do not inherit the listening sockets.
 *
 * Never throws because of the environment; read `status`. It is common to
 * only loop over `fds`, which is empty unless activated. Without the native
 * addon the environment is still parsed and validated (a closed fd is still
 * found), but every fd has kind 'unknown', FD_CLOEXEC is not set, and
 * LISTEN_PIDFDID is not checked.
 */
export function listenFds(options: ListenFdsOptions = {}): ListenFdsResult {
  const env = options.env ?? process.env;
  try {
    return read(env);
  } finally {
    if (options.unsetEnv) for (const name of VARIABLES) delete env[name];
  }
}

function read(env: NodeJS.ProcessEnv): ListenFdsResult {
  const pidText = env.LISTEN_PID;
  if (pidText === undefined) return notActivated('no-listen-pid');
  const pid = parseDecimal('LISTEN_PID', pidText, 1n, BigInt(INT_MAX));
  if (pid.error) return pid.error;
  // Is this for us? Children inherit the variables; only the pid the manager
  // started may take the fds.
  if (pid.value !== BigInt(process.pid)) return notActivated('other-process');

  const pidfdIdText = env.LISTEN_PIDFDID;
  if (pidfdIdText !== undefined) {
    const pidfdId = parseDecimal('LISTEN_PIDFDID', pidfdIdText, 0n, U64_MAX);
    if (pidfdId.error) return pidfdId.error;
    // Is this *really* for us? A pid can be reused; the pidfs inode cannot.
    const own = ownPidfdId();
    if (own !== null && own !== pidfdId.value) return notActivated('other-pidfd');
  }

  const countText = env.LISTEN_FDS;
  if (countText === undefined) return notActivated('no-listen-fds');
  const count = parseDecimal('LISTEN_FDS', countText, 1n, BigInt(INT_MAX - SD_LISTEN_FDS_START));
  if (count.error) return count.error;
  const n = Number(count.value);

  // Close-on-exec first, as libsystemd does, so that even when the names turn
  // out to be garbage the fds do not leak into processes we spawn. Node's
  // startup already does this for fds inherited without gaps
  // (uv_disable_stdio_inheritance), but not for embedders or fds that something
  // cleared since; doing it here is what makes it a guarantee.
  for (let fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
    const problem = claim(fd);
    if (problem !== null) {
      const why = problem.code === 'EBADF' ? 'is not open' : `is not usable: ${problem.message}`;
      return malformed('LISTEN_FDS', problem.code, `LISTEN_FDS=${n} but fd ${fd} ${why}`, problem.errno);
    }
  }

  let names: string[];
  const namesText = env.LISTEN_FDNAMES;
  if (namesText === undefined) {
    names = new Array<string>(n).fill('unknown');
  } else {
    // Empty fields are names too: the manager joins names with ':' and an
    // empty FDNAME= is valid, so 'a::b' is three fds and '' is one.
    names = namesText.split(':');
    if (names.length !== n) {
      return malformed(
        'LISTEN_FDNAMES',
        'EINVAL',
        `LISTEN_FDNAMES=${JSON.stringify(namesText)} has ${names.length} name${names.length === 1 ? '' : 's'} but LISTEN_FDS=${n}`,
      );
    }
  }

  const fds: ListenFd[] = names.map((name, i) => ({ ...describe(SD_LISTEN_FDS_START + i), name }));
  return { status: 'activated', fds };
}

function notActivated(reason: NotActivatedReason): ListenFdsResult {
  return { status: 'not-activated', reason, fds: [] };
}

function malformed(variable: ListenVariable, code: string, message: string, errno?: number): ListenFdsResult {
  const error = new Error(message) as ListenFdsError;
  error.variable = variable;
  error.code = code;
  error.errno = errno ?? -(builtin.os().constants.errno as Record<string, number>)[code]!;
  return { status: 'malformed', variable, error, fds: [] };
}

type Parsed = { value: bigint; error?: undefined } | { value?: undefined; error: ListenFdsResult };

/** Canonical decimal within [min, max], else the malformed result naming the variable. */
function parseDecimal(variable: ListenVariable, text: string, min: bigint, max: bigint): Parsed {
  const shown = `${variable}=${JSON.stringify(text)}`;
  if (text === '') return { error: malformed(variable, 'EINVAL', `${shown} is empty`) };
  if (/^-[0-9]+$/.test(text)) {
    // A negative count is invalid (libsystemd: n <= 0 is -EINVAL); a negative pid is out of range.
    const code = variable === 'LISTEN_FDS' ? 'EINVAL' : 'ERANGE';
    return { error: malformed(variable, code, `${shown} is negative`) };
  }
  if (!/^[0-9]+$/.test(text)) return { error: malformed(variable, 'EINVAL', `${shown} is not a decimal number`) };
  const value = BigInt(text);
  if (value < min) {
    const code = variable === 'LISTEN_FDS' ? 'EINVAL' : 'ERANGE';
    return { error: malformed(variable, code, `${shown} must be at least ${min}`) };
  }
  if (value > max) return { error: malformed(variable, 'ERANGE', `${shown} is larger than ${max}`) };
  return { value };
}

let cachedPidfdId: bigint | null | undefined;

/**
 * The pidfs inode of our own process (what the manager puts in
 * LISTEN_PIDFDID), or null when this kernel cannot tell: no pidfd_open
 * (before 5.3, seccomp), or pidfds that are anonymous inodes (before 6.9).
 * Our pid never changes, so one look is enough.
 */
function ownPidfdId(): bigint | null {
  if (cachedPidfdId !== undefined) return cachedPidfdId;
  cachedPidfdId = null;
  const native = nativeBinding();
  if (!native) return null;
  const pidfd = native.pidfdOpen(process.pid);
  if (failed(pidfd)) return null;
  try {
    // st_ino is the full 64-bit id on 64-bit kernels, the only ones we ship for.
    if (native.fsType(pidfd) === PIDFS_MAGIC) cachedPidfdId = fstatSync(pidfd, { bigint: true }).ino;
  } catch {
    // fstat failing on a pidfd we just opened leaves the check skipped, as libsystemd does.
  } finally {
    closeSync(pidfd);
  }
  return cachedPidfdId;
}

/** Sets FD_CLOEXEC on a passed fd; with no addon, only checks that it is open. */
function claim(fd: number): SystemError | null {
  const native = nativeBinding();
  if (native) {
    const r = native.setCloexec(fd, true);
    return failed(r) ? systemError(r, 'fcntl', `F_SETFD FD_CLOEXEC on fd ${fd}`) : null;
  }
  try {
    fstatSync(fd);
    return null;
  } catch (error) {
    return error as SystemError;
  }
}

/** inspectFd() for an fd already known to be open: never throws. */
function describe(fd: number): FdInfo {
  try {
    return inspectFd(fd);
  } catch {
    return { fd, kind: 'unknown', listening: false };
  }
}

/**
 * What `fd` is: the sd_is_socket*(3), sd_is_fifo(3), sd_is_special(3) and
 * sd_is_mq(3) probes in one call. For example sd_is_socket_inet(fd, AF_INET,
 * SOCK_STREAM, 1, 80) is `kind === 'tcp4' && listening && port === 80`.
 * Kind 'unknown' when the native addon is not loaded. Throws the SystemError
 * (EBADF) when `fd` is not open: asking about a closed fd is a bug.
 */
export function inspectFd(fd: number): FdInfo {
  if (!Number.isInteger(fd) || fd < 0) throw new TypeError(`inspectFd: ${fd} is not a file descriptor`);
  const native = nativeBinding();
  if (!native) {
    fstatSync(fd);
    return { fd, kind: 'unknown', listening: false };
  }
  const info = native.socketInfo(fd);
  if (!failed(info)) {
    const out: FdInfo = { fd, kind: socketKind(info.domain, info.type), listening: info.listening };
    if (info.address !== undefined && (info.domain === AF_INET || info.domain === AF_INET6)) {
      out.host = info.address;
      out.port = info.port;
    }
    if (info.path !== undefined && info.domain === AF_UNIX) out.path = formatSunPath(info.path);
    return out;
  }
  if (info !== -errnoNumber('ENOTSOCK')) throw systemError(info, 'getsockopt', `SO_TYPE on fd ${fd}`);
  // Not a socket. A message queue looks like a regular file to fstat; only
  // its filesystem tells it apart.
  const fsType = native.fsType(fd);
  if (!failed(fsType) && fsType === MQUEUE_MAGIC) return { fd, kind: 'mqueue', listening: false };
  const stat = fstatSync(fd);
  const kind: FdKind = stat.isFIFO() ? 'fifo' : stat.isFile() ? 'file' : stat.isCharacterDevice() ? 'character-device' : 'other';
  return { fd, kind, listening: false };
}

function socketKind(domain: number, type: number): FdKind {
  if (domain === AF_INET || domain === AF_INET6) {
    const v = domain === AF_INET ? '4' : '6';
    if (type === SOCK_STREAM) return `tcp${v}`;
    if (type === SOCK_DGRAM) return `udp${v}`;
    return 'other';
  }
  if (domain === AF_UNIX) {
    if (type === SOCK_STREAM) return 'unix-stream';
    if (type === SOCK_DGRAM) return 'unix-dgram';
    if (type === SOCK_SEQPACKET) return 'unix-seqpacket';
  }
  return 'other';
}
