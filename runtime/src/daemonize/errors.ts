// The exit codes of daemonize()'s original process and the error that carries
// them: shared by the parent side, the start supervision and the public entry
// (daemonize.ts re-exports both), so none of them imports another for it.

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
  // `declare`: typed here, assigned in the constructor; no class-field
  // initialiser to compile at import (callgrind: 0.07M instructions).
  declare readonly code: DaemonizeExitName;
  declare readonly exitCode: number;

  constructor(code: DaemonizeExitName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DaemonizeError';
    this.code = code;
    this.exitCode = DAEMONIZE_EXIT[code];
  }
}
