// The service watchdog (sd_watchdog_enabled(3), WatchdogSec= in systemd.service(5)):
// when the manager sets WATCHDOG_USEC, the daemon must send WATCHDOG=1 more
// often than that, or be treated as hung. The keep-alive pings from the main
// event loop on purpose: a loop blocked by a runaway computation stops the
// pings, and that is exactly the hang the watchdog exists to catch.
import { log as defaultLog, type Logger } from './log.js';
import { notify, watchdogPing, watchdogTrigger, type NotifyOptions, type NotifyResult } from './notify.js';

/** systemd's "infinity" for usec values (USEC_INFINITY). */
const USEC_INFINITY = 0xffffffffffffffffn;

export interface WatchdogEnv {
  unsetEnv?: boolean;
  /** Environment to read WATCHDOG_USEC/WATCHDOG_PID from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

export type WatchdogStatus =
  /** timeoutMs is the whole timeout (WATCHDOG_USEC / 1000): ping well within it. */
  | { enabled: true; usec: bigint; timeoutMs: number }
  /**
   * disabled: WATCHDOG_USEC unset (or empty); other-process: WATCHDOG_PID names
   * another process (the variables were inherited, not meant for us);
   * invalid: a value does not parse, or WATCHDOG_USEC is 0 or infinity.
   */
  | { enabled: false; reason: 'disabled' | 'other-process' }
  | { enabled: false; reason: 'invalid'; error: Error };

const DIGITS = /^[0-9]+$/;

/**
 * Is a watchdog expected of this process, and with what timeout? Follows
 * libsystemd's rules: WATCHDOG_USEC must be a decimal number that is neither 0
 * nor infinity; WATCHDOG_PID, when set, must be our PID. Never throws.
 */
export function watchdogEnabled(options: WatchdogEnv = {}): WatchdogStatus {
  const env = options.env ?? process.env;
  try {
    const usecText = env.WATCHDOG_USEC;
    if (usecText === undefined || usecText === '') return { enabled: false, reason: 'disabled' };
    if (!DIGITS.test(usecText)) return invalid(`WATCHDOG_USEC=${JSON.stringify(usecText)} is not a number of microseconds`);
    const usec = BigInt(usecText);
    if (usec === 0n || usec >= USEC_INFINITY)
      return invalid(`WATCHDOG_USEC=${usecText} is ${usec === 0n ? 'zero' : 'infinity (or beyond 64 bits)'}; no watchdog can run on it`);
    const pidText = env.WATCHDOG_PID;
    if (pidText !== undefined) {
      if (!DIGITS.test(pidText) || Number(pidText) <= 0) return invalid(`WATCHDOG_PID=${JSON.stringify(pidText)} is not a PID`);
      // Is this for us? A child that inherited the variables must not ping.
      if (Number(pidText) !== process.pid) return { enabled: false, reason: 'other-process' };
    }
    return { enabled: true, usec, timeoutMs: Number(usec) / 1000 };
  } finally {
    if (options.unsetEnv) {
      delete env.WATCHDOG_USEC;
      delete env.WATCHDOG_PID;
    }
  }
}

function invalid(message: string): WatchdogStatus {
  return { enabled: false, reason: 'invalid', error: new Error(message) };
}

export interface KeepAliveOptions extends WatchdogEnv {
  /** Ping at this fraction of the timeout (default 0.5, as sd_watchdog_enabled(3) advises). */
  fraction?: number;
  /**
   * Called before each ping; a false result, a throw or a rejection skips the
   * ping, so a daemon that is up but unhealthy gets restarted by the manager.
   */
  healthCheck?: () => boolean | Promise<boolean>;
  /** Called with every ping's outcome, and with healthCheck failures. */
  onPing?: (event: PingEvent) => void;
  /**
   * Where a change of the health check's state is reported: turning bad
   * (warning) and good again (notice), one record per change, never one per
   * ping. Default: the runtime's `log`; null: silent. Pings that cannot be
   * delivered are reported by notify() itself (once per cause on stderr, and
   * once when they get through again), like every other notification.
   */
  logger?: Logger | null;
}

export type PingEvent = { kind: 'ping'; result: NotifyResult } | { kind: 'unhealthy'; error?: unknown };

export interface Watchdog {
  /** True while pings are scheduled. */
  readonly running: boolean;
  /** The current timeout in ms (0 when disabled). */
  readonly timeoutMs: number;
  /** Why it is not running, when it is not. */
  readonly status: WatchdogStatus;
  /** Sends WATCHDOG=1 now (without the health check). */
  ping(): NotifyResult;
  /** WATCHDOG=trigger: asks the manager to act as if the watchdog had expired. */
  trigger(): NotifyResult;
  /** Changes the timeout at run time (WATCHDOG_USEC=) and reschedules the pings. */
  setTimeout(ms: number): NotifyResult;
  /** Stops the pings; the manager's timer keeps running. */
  stop(): void;
}

let current: KeepAlive | null = null;

/**
 * Starts the keep-alive when the manager asked for one, and returns it; when it
 * did not, returns a stopped Watchdog that says why (a normal case, not an
 * error). Idempotent: while one runs, later calls return the same one.
 */
export function startWatchdog(options: KeepAliveOptions = {}): Watchdog {
  if (current?.running) return current;
  const fraction = options.fraction ?? 0.5;
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`startWatchdog: fraction must be between 0 and 1, got ${fraction}`);
  current = new KeepAlive(watchdogEnabled(options), fraction, options);
  return current;
}

/** Stops the running keep-alive, if any (used on shutdown). */
export function stopWatchdog(): void {
  current?.stop();
}

class KeepAlive implements Watchdog {
  #timer: NodeJS.Timeout | null = null;
  #timeoutMs = 0;
  #checking = false;
  // What was last reported, so each health change is logged once.
  #unhealthy = false;
  // Pings read NOTIFY_SOCKET from the same environment the timeout came from.
  readonly #notifyOptions: NotifyOptions;

  constructor(
    public status: WatchdogStatus,
    private readonly fraction: number,
    private readonly options: KeepAliveOptions,
  ) {
    this.#notifyOptions = options.env ? { env: options.env } : {};
    if (status.enabled) this.#schedule(status.timeoutMs);
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  ping(): NotifyResult {
    const result = watchdogPing(this.#notifyOptions);
    this.options.onPing?.({ kind: 'ping', result });
    return result;
  }

  trigger(): NotifyResult {
    return watchdogTrigger(this.#notifyOptions);
  }

  setTimeout(ms: number): NotifyResult {
    if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`watchdog.setTimeout: ${ms} is not a timeout in milliseconds`);
    const usec = BigInt(Math.round(ms * 1000));
    const result = notify({ WATCHDOG_USEC: usec }, this.#notifyOptions);
    // The manager only knows about the new timeout if the message arrived.
    if (result.sent) {
      this.status = { enabled: true, usec, timeoutMs: ms };
      this.#schedule(ms);
    }
    return result;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #schedule(timeoutMs: number): void {
    this.stop();
    this.#timeoutMs = timeoutMs;
    // The first ping goes out at once: the manager's timer started with us.
    void this.#tick();
    this.#timer = setInterval(() => void this.#tick(), this.#interval());
    // Never keep the process alive just to ping.
    this.#timer.unref();
  }

  #logger(): Logger | null {
    return this.options.logger === undefined ? defaultLog : this.options.logger;
  }

  #reportHealth(healthy: boolean, error?: unknown): void {
    if (healthy === !this.#unhealthy) return;
    this.#unhealthy = !healthy;
    if (healthy) {
      this.#logger()?.notice('watchdog: health check passes again; keep-alive pings resumed');
    } else {
      const why = error === undefined ? 'it returned false' : `it threw: ${error instanceof Error ? error.message : String(error)}`;
      this.#logger()?.warning(`watchdog: health check failed (${why}); withholding keep-alive pings so the manager restarts this service`);
    }
  }

  #interval(): number {
    // Timers take at most 2^31-1 ms (about 24.8 days); Node turns a longer
    // one into 1 ms, which would ping a thousand times a second.
    return Math.min(2 ** 31 - 1, Math.max(1, Math.floor(this.#timeoutMs * this.fraction)));
  }

  async #tick(): Promise<void> {
    const check = this.options.healthCheck;
    if (!check) {
      this.ping();
      return;
    }
    // A slow health check does not pile up: one at a time.
    if (this.#checking) return;
    this.#checking = true;
    try {
      if ((await check()) === true) {
        this.#reportHealth(true);
        if (this.running) this.ping();
      } else {
        this.#reportHealth(false);
        this.options.onPing?.({ kind: 'unhealthy' });
      }
    } catch (error) {
      this.#reportHealth(false, error);
      this.options.onPing?.({ kind: 'unhealthy', error });
    } finally {
      this.#checking = false;
    }
  }
}
