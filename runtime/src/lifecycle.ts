// The daemon's life under a service manager: crash reporting, graceful stop on
// SIGTERM/SIGINT, reload on SIGHUP, and keeping a slow start alive. Each step
// tells the manager what is happening in the words of sd_notify(3), so
// `systemctl status` shows the truth and the manager's timeouts fit the work.
import { ExitCode } from './exit-codes.js';
import { log as defaultLog, type Logger } from './log.js';
import { extendTimeout, notify, ready, reloading, stopping, type NotifyResult } from './notify.js';
import { stopWatchdog } from './watchdog.js';

function positiveErrno(error: unknown): number | undefined {
  // Node's system errors carry a negative errno; ERRNO= wants the positive one.
  const value = (error as { errno?: unknown } | null)?.errno;
  return typeof value === 'number' && Number.isInteger(value) && value !== 0 ? Math.abs(value) : undefined;
}

/** One line for STATUS=: no newlines, bounded, so it always fits a datagram. */
function statusLine(text: string): string {
  const line = text.replace(/[\r\n\0]+/g, ' ').trim();
  return line.length > 400 ? `${line.slice(0, 399)}…` : line;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export interface CrashHandlerOptions {
  logger?: Logger;
  /** Exit code after a crash; must not be 0 (default 70, EX_SOFTWARE). */
  exitCode?: number;
}

/**
 * On an uncaught exception or unhandled rejection: log it at crit with its
 * stack, send STATUS= (and ERRNO= when the error carries one), and exit with
 * a non-zero code so the manager's Restart=on-failure applies. Returns a
 * function that removes the handlers.
 */
export function installCrashHandler(options: CrashHandlerOptions = {}): () => void {
  const exitCode = options.exitCode ?? ExitCode.SOFTWARE;
  if (!Number.isInteger(exitCode) || exitCode < 1 || exitCode > 255) {
    throw new RangeError(`installCrashHandler: exitCode must be 1-255 (a crash never exits 0), got ${exitCode}`);
  }
  const onCrash = (error: unknown, origin: string): void => {
    const logger = options.logger ?? defaultLog;
    try {
      logger.crit(`${origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception'}:`, error);
      notify({ STATUS: statusLine(`crashed: ${describe(error)}`), ERRNO: positiveErrno(error) });
    } finally {
      process.exit(exitCode);
    }
  };
  const onRejection = (reason: unknown): void => onCrash(reason, 'unhandledRejection');
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onRejection);
  };
}

/** One piece of shutdown work; the name is what a log record says when it hangs or throws. */
export type StopHook = (() => void | Promise<void>) | { name: string; run: () => void | Promise<void> };

export interface SignalOptions {
  /**
   * Shutdown work (close servers, flush), run once on the first SIGTERM or
   * SIGINT: one function, or several run in order. A hook's name (its
   * `name`, or the function's name) is what the log says when it hangs or throws.
   */
  onStop?: StopHook | readonly StopHook[];
  /** Reload work (re-read configuration); on SIGHUP. A throw keeps the service up and reports it. */
  onReload?: () => void | Promise<void>;
  /**
   * Give up on a stop that takes longer than this and exit with `forceExitCode`
   * (default 10 000 ms; keep it below the unit's TimeoutStopSec=).
   */
  stopTimeoutMs?: number;
  /** Exit code after a stop that finished in time (default 0). */
  exitCode?: number;
  /** Exit code when a stop hook throws or overruns (default 1). */
  forceExitCode?: number;
  logger?: Logger;
}

export interface SignalHandlers {
  /** Runs the stop sequence as if SIGTERM had arrived. */
  stop(reason?: string): Promise<void>;
  /** Runs the reload sequence as if SIGHUP had arrived; resolves with the final READY=1 result. */
  reload(): Promise<NotifyResult>;
  /** Removes the signal handlers. */
  remove(): void;
}

/**
 * Graceful stop and reload, as systemd expects of a Type=notify or
 * notify-reload service:
 * - SIGTERM/SIGINT: STOPPING=1, stop the watchdog keep-alive, run onStop,
 *   exit; past the deadline, exit non-zero anyway. A second SIGINT exits at once.
 * - SIGHUP: RELOADING=1 + MONOTONIC_USEC, run onReload, then READY=1 (with
 *   STATUS= and ERRNO= when the reload failed). Reloads never overlap: a SIGHUP
 *   during a reload runs one more reload afterwards.
 */
export function handleSignals(options: SignalOptions = {}): SignalHandlers {
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const logger = (): Logger => options.logger ?? defaultLog;
  let stopping_: Promise<void> | null = null;
  let reloadRunning: Promise<NotifyResult> | null = null;
  let reloadAgain = false;

  const hooks = namedHooks(options.onStop);
  const stop = (reason = 'stop requested'): Promise<void> => {
    if (stopping_) return stopping_;
    stopping_ = (async () => {
      stopping({ status: statusLine(`Stopping: ${reason}`) });
      stopWatchdog();
      const forceExitCode = options.forceExitCode ?? 1;
      let running = '';
      // Referenced on purpose: a hook awaiting a promise nothing will settle
      // must not let the loop run empty and exit 0 before the deadline.
      const deadline = setTimeout(() => {
        logger().err(`stop hook "${running}" did not finish within ${stopTimeoutMs} ms; exiting with ${forceExitCode}`);
        process.exit(forceExitCode);
      }, stopTimeoutMs);
      // Every hook runs even after one throws: a failed flush must not keep
      // the servers open. The exit code says that something failed.
      let failures = 0;
      for (const hook of hooks) {
        running = hook.name;
        try {
          await hook.run();
        } catch (error) {
          failures++;
          logger().err(`stop hook "${hook.name}" failed:`, error);
        }
      }
      clearTimeout(deadline);
      process.exit(failures === 0 ? (options.exitCode ?? 0) : forceExitCode);
    })();
    return stopping_;
  };

  const reloadOnce = async (): Promise<NotifyResult> => {
    reloading({ status: 'Reloading' });
    try {
      await options.onReload?.();
      return ready({ status: 'Reloaded' });
    } catch (error) {
      logger().err('reload failed:', error);
      return notify({ READY: 1, STATUS: statusLine(`Reload failed: ${describe(error)}`), ERRNO: positiveErrno(error) });
    }
  };

  const reload = (): Promise<NotifyResult> => {
    if (reloadRunning) {
      reloadAgain = true;
      return reloadRunning;
    }
    reloadRunning = (async () => {
      let result: NotifyResult;
      do {
        reloadAgain = false;
        result = await reloadOnce();
      } while (reloadAgain && !stopping_);
      reloadRunning = null;
      return result;
    })();
    return reloadRunning;
  };

  const onTerm = (): void => void stop('SIGTERM');
  const onInt = (): void => {
    if (stopping_) process.exit(options.forceExitCode ?? 1);
    void stop('SIGINT');
  };
  const onHup = (): void => void reload();
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  return {
    stop,
    reload,
    remove() {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.off('SIGHUP', onHup);
    },
  };
}

function namedHooks(onStop: SignalOptions['onStop']): { name: string; run: () => void | Promise<void> }[] {
  if (onStop === undefined) return [];
  const list: readonly StopHook[] = Array.isArray(onStop) ? onStop : [onStop as StopHook];
  return list.map((hook, index) => {
    if (typeof hook === 'function') return { name: hook.name || (Array.isArray(onStop) ? `onStop[${index}]` : 'onStop'), run: hook };
    if (hook && typeof hook === 'object' && typeof hook.run === 'function' && typeof hook.name === 'string') return hook;
    throw new TypeError(`handleSignals: onStop${Array.isArray(onStop) ? `[${index}]` : ''} must be a function or { name, run }`);
  });
}

export interface ExtendOptions {
  /** How often to ask for more time, in ms (default 5000). */
  everyMs?: number;
  /** How much more time each request asks for, in ms (default 3 × everyMs, so one lost message is survivable). */
  extendMs?: number;
  /** Stop asking after this long in total, in ms, so a hung start still times out (default 5 minutes). */
  maxMs?: number;
}

/**
 * Keeps EXTEND_TIMEOUT_USEC going while `work` runs (a slow start, a long
 * migration before READY=1), up to `maxMs` in total. Resolves or rejects with
 * `work`'s own outcome.
 */
export async function withExtendedTimeout<T>(work: Promise<T> | (() => Promise<T>), options: ExtendOptions = {}): Promise<T> {
  const everyMs = options.everyMs ?? 5000;
  const extendMs = options.extendMs ?? everyMs * 3;
  const maxMs = options.maxMs ?? 5 * 60_000;
  for (const [name, value] of Object.entries({ everyMs, extendMs, maxMs })) {
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`withExtendedTimeout: ${name} must be a positive duration, got ${value}`);
  }
  const started = Date.now();
  const tick = (): void => {
    const left = maxMs - (Date.now() - started);
    if (left <= 0) return clearInterval(timer);
    extendTimeout(Math.min(extendMs, left));
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  tick();
  try {
    return await (typeof work === 'function' ? work() : work);
  } finally {
    clearInterval(timer);
  }
}
