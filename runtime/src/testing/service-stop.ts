// Stopping one run of a service: KillMode= decides which processes get a
// signal, TimeoutStopSec= (pushed out by EXTEND_TIMEOUT_USEC=) when SIGKILL
// follows. The service's process group stands in for its cgroup.
import { Deadline } from './clock.js';
import type { FakeKillMode } from './fake-service.js';
import { sendSignal } from './processes.js';

export class ServiceStop {
  readonly #groupLeader: number;
  readonly #killMode: FakeKillMode;
  readonly #mainPid: () => number;
  readonly #timeout: Deadline;
  #requested = false;
  #timedOut = false;

  /** `groupLeader`: the spawned process, leader of the group; `mainPid`: the main PID now; `ended`: whether it has exited. */
  constructor(groupLeader: number, killMode: FakeKillMode, mainPid: () => number, ended: () => boolean) {
    this.#groupLeader = groupLeader;
    this.#killMode = killMode;
    this.#mainPid = mainPid;
    this.#timeout = new Deadline(() => {
      if (ended()) return;
      this.#timedOut = true;
      this.signal('SIGKILL', 'kill');
    });
  }

  /** A stop is under way (stop(), or an enforced watchdog): another stop() joins it. */
  get requested(): boolean {
    return this.#requested;
  }

  /** SIGKILL had to follow: Result=timeout. */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** Sends `signal` as KillMode= says, then SIGKILL once `timeoutMs` have passed. */
  begin(signal: NodeJS.Signals, timeoutMs: number): void {
    this.signal(signal, 'terminate');
    this.#requested = true;
    this.#timeout.start(timeoutMs);
  }

  /** KillMode=: control-group signals everyone; mixed only the main process, until SIGKILL; process only the main process. */
  signal(signal: NodeJS.Signals, phase: 'terminate' | 'kill'): void {
    const mode = this.#killMode;
    if (mode === 'control-group' || (mode === 'mixed' && phase === 'kill')) this.signalGroup(signal);
    sendSignal(this.#mainPid(), signal);
  }

  /** The whole process group (detached at spawn), standing in for the cgroup. Returns whether any process got it. */
  signalGroup(signal: NodeJS.Signals): boolean {
    return sendSignal(-this.#groupLeader, signal);
  }

  /** EXTEND_TIMEOUT_USEC=: SIGKILL does not follow before `until` (CLOCK_MONOTONIC ms). */
  extendTo(until: number): void {
    this.#timeout.extendTo(until);
  }

  /**
   * The main process is gone: no SIGKILL is pending, and what is left of the
   * group goes, as its cgroup would be emptied (KillMode=process leaves it).
   */
  ended(): void {
    this.#timeout.clear();
    this.#requested = false;
    if (this.#killMode !== 'process') this.signalGroup('SIGKILL');
  }
}
