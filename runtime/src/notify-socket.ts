// The unbound AF_UNIX datagram socket that notifications (and daemonize's
// stage messages) leave through, kept open between calls: creating and closing
// a socket costs more than the send itself (libsystemd pays it on every call).
// Every message still carries its destination address, so a manager that
// re-creates its socket at the same path receives the next message.
//
// This is policy, so it lives here and not in the addon, which only makes the
// syscalls (dgramSocket, setSendTimeout, sendmsg on a given fd).
// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { closeSync } = process.getBuiltinModule('node:fs');

/** The addon calls this module needs (a subset of the raw binding native.ts loads). */
export interface SocketSyscalls {
  dgramSocket(): number;
  /** The socket's inode number (unique among live sockets), or -errno (-ENOTSOCK for anything else). */
  socketIno(fd: number): number;
  setSendTimeout(fd: number, ms: number): number;
  sendmsg(
    fd: number,
    sunPath: Buffer,
    data: Buffer,
    fds: number[] | null,
    ucred: [number, number, number] | null,
    timeoutMs: number,
  ): number;
}

interface Kept {
  fd: number;
  /** The inode of the socket we opened: the fd number alone may have been reused. */
  ino: number;
  /** The SO_SNDTIMEO set on fd, in ms (0: a send may wait forever), set only when it changes. */
  timeoutMs: number;
}

// One per JS environment: module state is per thread, so each worker has its
// own (closed when the worker exits), and CLOEXEC keeps it from children.
// The exit hook is set in every thread alike: telling a worker from the main
// thread means loading node:worker_threads, and with it the stream modules,
// which would make every `import 'sd-daemon-runtime'` pay for them.
let kept: Kept | undefined;
let exitHooked = false;

/**
 * The kept socket, or -errno. It is used only while it is still the socket we
 * opened: if other code closed it (and the number now belongs to something
 * else), it is forgotten, never closed or written to.
 */
function acquire(native: SocketSyscalls): Kept | number {
  if (kept !== undefined) {
    if (native.socketIno(kept.fd) === kept.ino) return kept;
    kept = undefined;
  }
  const fd = native.dgramSocket();
  if (fd < 0) return fd;
  const ino = native.socketIno(fd);
  if (ino < 0) {
    // It vanished under us, which only another thread closing fds can do.
    if (ino !== -9) closeSync(fd);
    return ino;
  }
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => closeKept(native));
  }
  kept = { fd, ino, timeoutMs: 0 };
  return kept;
}

function closeKept(native: SocketSyscalls): void {
  if (kept === undefined) return;
  const { fd, ino } = kept;
  kept = undefined;
  if (native.socketIno(fd) === ino) closeSync(fd);
}

/**
 * sendmsg(2) of one datagram to `sunPath` through the kept socket; a full
 * receiver queue is waited on for `timeoutMs` (0: without limit), then -EAGAIN.
 * Returns the bytes sent or -errno.
 */
export function sendDatagram(
  native: SocketSyscalls,
  sunPath: Buffer,
  data: Buffer,
  fds: number[] | null,
  ucred: [number, number, number] | null,
  timeoutMs = 0,
): number {
  const socket = acquire(native);
  if (typeof socket === 'number') return socket;
  const ms = Math.max(0, Math.trunc(timeoutMs));
  if (socket.timeoutMs !== ms) {
    const set = native.setSendTimeout(socket.fd, ms);
    if (set < 0) return set;
    socket.timeoutMs = ms;
  }
  return native.sendmsg(socket.fd, sunPath, data, fds, ucred, ms);
}
