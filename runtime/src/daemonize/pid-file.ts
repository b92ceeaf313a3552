// The PID file of daemonize(): created and flock'ed by the original process
// (the lock, not the file, says who runs), inherited by the daemon with its
// lock, written with the daemon's PID, and removed only while it is still
// the file we locked.
import { errnoNumber } from '../builtins.js';
import { failed, systemError, type NativeBinding } from '../native.js';
import { DaemonizeError } from './errors.js';
import { safeClose } from '../quiet-fd.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const {
  constants: fsConstants,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} = process.getBuiltinModule('node:fs');

export interface LockedPidFile {
  path: string;
  fd: number;
}

/**
 * Opens and locks the PID file (`path` absolute). A daemon removing its file
 * as it exits could leave us locking a file that has just been unlinked, so
 * the lock only counts when `path` still names the file we locked. `name`
 * starts every message.
 */
export function lockPidFile(binding: NativeBinding, path: string, name: string): LockedPidFile {
  const { LOCK_EX, LOCK_NB } = binding.constants;
  for (let attempt = 0; attempt < 10; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    } catch (error) {
      throw new DaemonizeError('PID_FILE', `${name}: cannot open the PID file: ${(error as Error).message}`, { cause: error });
    }
    const locked = binding.flock(fd, LOCK_EX | LOCK_NB);
    // errnoNumber() loads node:os: only a failed lock pays for it.
    if (failed(locked) && locked === -errnoNumber('EWOULDBLOCK')) {
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

/** The PID the file holds, or null when it holds none. */
export function readPid(fd: number): number | null {
  const buffer = Buffer.alloc(32);
  try {
    const text = buffer
      .subarray(0, readSync(fd, buffer, 0, buffer.length, 0))
      .toString('utf8')
      .trim();
    return /^[1-9][0-9]*$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

export function writePid(fd: number, pid: number): void {
  const text = Buffer.from(`${pid}\n`);
  ftruncateSync(fd, 0);
  writeSync(fd, text, 0, text.length, 0);
}

/** Unlinks the PID file only if `path` still names our file (a new instance may own the path by now). */
export function removePidFile(pidFile: LockedPidFile): void {
  if (!sameFile(pidFile.fd, pidFile.path)) return;
  try {
    unlinkSync(pidFile.path);
  } catch {
    // Already gone: nothing to clean up.
  }
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
