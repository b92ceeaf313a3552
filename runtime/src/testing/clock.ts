// Time as the fake manager reads it: CLOCK_MONOTONIC (the clock of
// MONOTONIC_USEC= and of systemd's own timers), and deadlines that a
// notification can push out (EXTEND_TIMEOUT_USEC=).

/** waitFor(), reload() and TimeoutStopSec= default to this many milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** CLOCK_MONOTONIC in milliseconds. */
export function nowMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

export function checkDuration(what: string, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${what} must be a duration in milliseconds, got ${ms}`);
}

/**
 * A deadline that can move: its timer wakes at the deadline as it stood when
 * armed, and if the deadline was pushed out meanwhile, sleeps again until the
 * new one. `onExpired` runs once the deadline has really passed. `beforeCheck`
 * runs first on every wake-up, so that a message already queued (a watchdog
 * ping) can still clear or move the deadline.
 */
export class Deadline {
  #at: number | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly onExpired: () => void,
    private readonly beforeCheck: () => void = () => {},
  ) {}

  /** Whether the deadline is set and has not expired. */
  get pending(): boolean {
    return this.#at !== null;
  }

  /** Sets the deadline `ms` from now, replacing any earlier one. */
  start(ms: number): void {
    this.clear();
    this.#at = nowMs() + ms;
    this.#arm();
  }

  /** Moves a pending deadline out to `until` (CLOCK_MONOTONIC ms), never in. */
  extendTo(until: number): void {
    if (this.#at !== null && this.#at < until) this.#at = until;
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#at = null;
  }

  #arm(): void {
    if (this.#at === null) return;
    // beforeCheck() may have started a new deadline, and with it a timer.
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        if (this.#at === null) return;
        this.beforeCheck();
        if (this.#at === null) return;
        if (nowMs() < this.#at) {
          this.#arm();
          return;
        }
        this.#at = null;
        this.onExpired();
      },
      Math.max(0, this.#at - nowMs()),
    );
    // A pending deadline must not keep a test process alive on its own.
    this.#timer.unref();
  }
}
