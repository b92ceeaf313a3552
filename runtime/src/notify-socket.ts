// The unbound AF_UNIX datagram socket that notifications (and daemonize's
// stage messages) leave through, kept open between calls: creating and closing
// a socket costs more than the send itself (libsystemd pays it on every call).
// Every message still carries its destination address, so a manager that
// re-creates its socket at the same path receives the next message.
//
// This is policy, so it lives here and not in the addon, which only makes the
// syscalls (dgramSocket, setSendTimeout, sendmsg on a given fd).
// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { closeSync, fstatSync } = process.getBuiltinModule('node:fs');
const { isMainThread } = process.getBuiltinModule('node:worker_threads');

/** The addon calls this module needs (a subset of the raw binding native.ts loads). */
export interface SocketSyscalls {
  dgramSocket(): number;
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
  /** fstat's identity of the socket we opened: the fd number alone may have been reused. */
  dev: number;
  ino: number;
  /** The SO_SNDTIMEO set on fd, in ms (0: a send may wait forever), set only when it changes. */
  timeoutMs: number;
}

// One per JS environment: module state is per thread, so each worker has its
// own (closed when the worker exits), and CLOEXEC keeps it from children.
let kept: Kept | undefined;
let exitHooked = false;

function identity(fd: number): { dev: number; ino: number } | null {
  try {
    const { dev, ino } = fstatSync(fd);
    return { dev, ino };
  } catch {
    return null;
  }
}

/**
 * The kept socket, or -errno. It is used only while it is still the socket we
 * opened: if other code closed it (and the number now belongs to something
 * else), it is forgotten, never closed or written to.
 */
function acquire(native: SocketSyscalls): Kept | number {
  if (kept !== undefined) {
    const now = identity(kept.fd);
    if (now !== null && now.dev === kept.dev && now.ino === kept.ino) return kept;
    kept = undefined;
  }
  const fd = native.dgramSocket();
  if (fd < 0) return fd;
  const id = identity(fd);
  if (id === null) {
    closeSync(fd);
    return -9; // EBADF: it vanished under us, which only another thread closing fds can do
  }
  if (!exitHooked && !isMainThread) {
    exitHooked = true;
    process.once('exit', closeKept);
  }
  kept = { fd, ...id, timeoutMs: 0 };
  return kept;
}

function closeKept(): void {
  if (kept === undefined) return;
  const { fd, dev, ino } = kept;
  kept = undefined;
  const now = identity(fd);
  if (now !== null && now.dev === dev && now.ino === ino) closeSync(fd);
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
