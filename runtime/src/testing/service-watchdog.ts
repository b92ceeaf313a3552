// WatchdogSec= for one run of a service: the deadline a WATCHDOG=1 ping
// pushes out, and the counts FakeService.watchdog reports. What an expiry
// does (the watchdog signal, Result=watchdog) is the service's decision.
import { Deadline } from './clock.js';

export interface FakeWatchdogStatus {
  /** The effective timeout (WATCHDOG_USEC= overrides the configured one); null when disabled. */
  usec: bigint | null;
  enforced: boolean;
  /** Accepted WATCHDOG=1 messages. */
  pings: number;
  lastPingAt: number | null;
  /** Deadlines that passed without a ping: each one is a kill under systemd. */
  missed: number;
  /** WATCHDOG=trigger messages received. */
  triggers: number;
  /** When enforcement sent the watchdog signal; null if it never did. */
  killedAt: number | null;
}

export class ServiceWatchdog {
  /** Read it through FakeService.watchdog, which hands out a copy. */
  readonly status: FakeWatchdogStatus;
  // A ping may be queued but not read yet when the deadline wakes (systemd
  // runs the watchdog at idle priority for that reason): `drain` reads the
  // notify socket before the deadline is judged.
  readonly #deadline: Deadline;

  constructor(usec: bigint | null, enforced: boolean, onMissed: () => void, drain: () => void) {
    this.status = { usec, enforced, pings: 0, lastPingAt: null, missed: 0, triggers: 0, killedAt: null };
    this.#deadline = new Deadline(() => {
      this.status.missed++;
      onMissed();
    }, drain);
  }

  /** Starts the countdown afresh (start-up complete, a ping, a new timeout); nothing when disabled. */
  restart(): void {
    this.#deadline.clear();
    if (this.status.usec !== null) this.#deadline.start(Number(this.status.usec) / 1000);
  }

  /** No countdown: the watchdog does not run in the stop states. */
  stop(): void {
    this.#deadline.clear();
  }

  /** WATCHDOG=1 at `at` (CLOCK_MONOTONIC ms); the caller restarts the countdown if the service is running. */
  ping(at: number): void {
    this.status.pings++;
    this.status.lastPingAt = at;
  }

  /** WATCHDOG=trigger: counted; the caller acts as on a missed deadline. */
  trigger(): void {
    this.status.triggers++;
  }

  /** Enforcement sent the watchdog signal at `at` (CLOCK_MONOTONIC ms). */
  killed(at: number): void {
    this.status.killedAt = at;
  }

  /** WATCHDOG_USEC=: the new timeout (0 disables the watchdog). */
  setUsec(usec: bigint): void {
    this.status.usec = usec === 0n ? null : usec;
  }

  /** EXTEND_TIMEOUT_USEC=: the deadline does not pass before `until` (CLOCK_MONOTONIC ms). */
  extendTo(until: number): void {
    this.#deadline.extendTo(until);
  }
}
