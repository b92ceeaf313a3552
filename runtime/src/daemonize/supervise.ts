// The original process after the daemon exists: it waits for READY=1, the
// daemon's end or the timeout, whichever comes first, passes the daemon's
// output on meanwhile, and exits with the truth (daemon(7) steps 12-15).
// Everything here runs on the addon's fd watches and plain fs calls, not on
// node:net streams: net and the stream machinery (some 30 built-in modules)
// are not loaded by a bare node, and `start` waits for this process. With
// node:os loaded only on a failed lock, this took the original process from
// 216 to 159 million instructions (callgrind, pidfd polling excluded).
import { builtin } from '../builtins.js';
import { describeExitCode } from '../exit-codes.js';
import { failed, type NativeBinding } from '../native.js';
import { parseNotifyDatagram } from '../notify-datagram.js';
import { delay, safeClose, writeQuietly } from '../quiet-fd.js';
import { DAEMONIZE_EXIT } from './errors.js';
import { readPid, removePidFile, type LockedPidFile } from './pid-file.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { readFileSync, readSync } = process.getBuiltinModule('node:fs');

/** How long a stopped daemon gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5000;
/** How long the original process waits for the daemon's pipes to drain before it exits. */
const DRAIN_MS = 1000;
const TAIL_BYTES = 8192;

export interface StartWatch {
  binding: NativeBinding;
  /** Starts every message (the program's name). */
  name: string;
  pid: number;
  /** The private notify socket the daemon's READY=1 comes to. */
  notifyFd: number;
  /** The read ends of the pipes behind the daemon's fds 1 and 2. */
  outRead: number;
  errRead: number;
  /** The read end of the pipe whose EOF says the daemon ended (see watchExit). */
  lifeRead: number;
  pidFile: LockedPidFile | null;
  timeoutMs: number;
}

/** Waits for READY=1, the daemon's end or the timeout, whichever comes first, and exits accordingly. */
export function superviseStart(watch: StartWatch): void {
  const { binding, name, pid, notifyFd, pidFile } = watch;
  let status: string | null = null;
  let errnoValue: number | null = null;
  let exitStatus: number | null = null;
  let ready = false;
  let settled = false;
  let tail = Buffer.alloc(0);

  const stdout = forward(binding, watch.outRead, 1, () => {});
  const stderr = forward(binding, watch.errRead, 2, (chunk) => {
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
      // Read as systemd reads it: a datagram with an embedded NUL is ignored
      // whole, and a key sent twice keeps its first value.
      const datagram = parseNotifyDatagram(received.data);
      if (datagram.problem !== null) continue;
      const { READY, STATUS, ERRNO, EXIT_STATUS } = datagram.fields;
      if (READY === '1') ready = true;
      if (STATUS !== undefined) status = STATUS;
      if (ERRNO !== undefined && /^[0-9]+$/.test(ERRNO)) errnoValue = Number(ERRNO);
      if (EXIT_STATUS !== undefined && /^[0-9]+$/.test(EXIT_STATUS)) exitStatus = Number(EXIT_STATUS);
    }
  };
  const socketWatcher = new binding.FdWatcher(notifyFd, () => {
    drain();
    if (ready && !settled) void onReady();
  });
  const death = watchExit(binding, pid, watch.lifeRead, () => {
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
  const drained = (): Promise<unknown> => Promise.race([Promise.all([stdout, stderr]), delay(DRAIN_MS)]);
  const finish = async (code: number, message: string | null): Promise<never> => {
    await drained();
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
    await drained();
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
    return finish(
      DAEMONIZE_EXIT.READY_TIMEOUT,
      `${name}: the daemon (PID ${pid}) did not report READY=1 within ${watch.timeoutMs} ms; stopped it${reason()}`,
    );
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

/**
 * Copies a pipe from the daemon to our fd `to` as it comes; resolves at EOF
 * (or on a read error: the daemon's output is then lost, not its start).
 * The watch makes the fd non-blocking (libuv does), so a wake-up with
 * nothing to read is EAGAIN, and the next one comes when there is.
 */
function forward(binding: NativeBinding, fd: number, to: number, also: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolvePromise) => {
    const buffer = Buffer.allocUnsafe(65536);
    const watcher = new binding.FdWatcher(fd, (pollStatus) => {
      let length = 0;
      if (pollStatus >= 0) {
        try {
          length = readSync(fd, buffer, 0, buffer.length, null);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return;
        }
      }
      if (length > 0) {
        const chunk = buffer.subarray(0, length);
        writeQuietly(to, chunk);
        also(chunk);
        return;
      }
      watcher.close();
      safeClose(fd);
      resolvePromise();
    });
  });
}

/**
 * Calls `onExit` when the daemon ends. The daemon holds the only write end of
 * the pipe behind `lifeRead` (close-on-exec there, so nothing it spawns keeps
 * it), and the kernel closes it as the daemon exits, however it exits: EOF
 * is the end, waited on like any fd. Not a pidfd: pidfd_open needs Linux 5.3
 * and valgrind answers it ENOSYS, and the fallback for those was to read
 * /proc every 50 ms for the whole start. /proc is still read once, to
 * confirm: a daemon that closed the pipe itself (a close-every-fd loop) and
 * runs on, or one that has closed its fds but not finished exiting, is looked
 * at every 50 ms from then on.
 */
function watchExit(binding: NativeBinding, pid: number, lifeRead: number, onExit: () => void): { close(): void; gone: () => boolean } {
  const gone = (): boolean => {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
      return state === 'Z' || state === 'X';
    } catch {
      return true;
    }
  };
  let poll: ReturnType<typeof setInterval> | null = null;
  let watcher: { close(): void } | null = null;
  const stopWatching = (): void => {
    if (watcher) {
      watcher.close();
      safeClose(lifeRead);
      watcher = null;
    }
  };
  const once = (): void => {
    close();
    onExit();
  };
  const close = (): void => {
    stopWatching();
    if (poll) clearInterval(poll);
    poll = null;
  };
  const buffer = Buffer.allocUnsafe(64);
  // The watch makes the fd non-blocking (libuv does): EAGAIN is a spurious wake-up.
  watcher = new binding.FdWatcher(lifeRead, (pollStatus) => {
    if (pollStatus >= 0) {
      try {
        // The daemon never writes here; bytes would not mean anything.
        if (readSync(lifeRead, buffer, 0, buffer.length, null) > 0) return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return;
      }
    }
    stopWatching();
    if (gone()) {
      once();
      return;
    }
    poll = setInterval(() => {
      if (gone()) once();
    }, 50);
  });
  return { close, gone };
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

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** ' ENOENT' for 2: for messages only (it loads node:os). */
function errnoName(value: number): string {
  const entry = Object.entries(builtin.os().constants.errno).find(([, number]) => number === value);
  return entry ? ` ${entry[0]}` : '';
}
