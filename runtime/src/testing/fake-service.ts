// One run of a service under the fake manager: its state as systemd's
// service.c keeps it (ActiveState/SubState, main PID, STATUS=, the watchdog,
// the stop timeout, Result=), driven by the notifications the manager hands
// it, and the waiting a test does on it. What each notification field does is
// in service-notify.ts; this class holds the state it changes.
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

import type { NativeBinding } from '../native.js';
import { monotonicUsec } from '../notify.js';
import { delay } from '../quiet-fd.js';
import { checkDuration, DEFAULT_TIMEOUT_MS, nowMs } from './clock.js';
import type { FdStore } from './fd-store.js';
import {
  describeMatch,
  toPredicate,
  type FakeNotification,
  type FakeNotificationMatch,
  type FakeViolation,
  type FakeWaitOptions,
  type PendingNotification,
} from './notification.js';
import { isAlive, sendSignal, watchProcessExit } from './processes.js';
import { applyNotification, authorize, DIGITS, type NotifiedRun } from './service-notify.js';
import { ServiceOutput } from './service-output.js';
import { ServiceStop } from './service-stop.js';
import { ServiceWatchdog, type FakeWatchdogStatus } from './service-watchdog.js';
import type { FakeSocket } from './sockets.js';
import { failureReport, waitUntil } from './waiting.js';

/** NotifyAccess=: whose messages the manager acts on. */
export type FakeNotifyAccess = 'none' | 'main' | 'exec' | 'all';
/** KillMode=: who gets the stop signal (see FakeService.stop). */
export type FakeKillMode = 'control-group' | 'mixed' | 'process';
/** Where the service is in its life, as systemd's ActiveState/SubState sees it. */
export type FakeServiceState = 'starting' | 'ready' | 'reloading' | 'stopping' | 'exited';
/** systemd's Result= once the service has exited. */
export type FakeServiceResult = 'success' | 'exit-code' | 'signal' | 'watchdog' | 'timeout' | 'protocol';

export interface FakeServiceExit {
  /** The main PID when the service ended. */
  pid: number;
  /**
   * How the main process ended. Both are null when MAINPID= had moved the
   * main PID to a process that is not our child: only a parent can collect
   * an exit status.
   */
  code: number | null;
  signal: NodeJS.Signals | null;
  result: FakeServiceResult;
}

/** Exits by these signals are clean, as in systemd's default SuccessExitStatus=. */
const CLEAN_SIGNALS: ReadonlySet<string> = new Set(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE']);

/** What the manager decided for a run before spawning it. */
export interface ServiceInit {
  child: ChildProcess;
  pid: number;
  invocationId: string;
  sockets: FakeSocket[];
  listenFdNames: string[];
  environment: Record<string, string>;
  type: 'notify' | 'simple';
  notifyAccess: FakeNotifyAccess;
  watchdogUsec: bigint | null;
  enforceWatchdog: boolean;
  watchdogSignal: NodeJS.Signals;
  killMode: FakeKillMode;
  killSignal: NodeJS.Signals;
  stopTimeoutMs: number;
  binding: NativeBinding;
  store: FdStore;
  /** Reads every queued notification, so a service's last words land before its exit. */
  drain: () => void;
  /** Adds a violation to the manager's list as well. */
  report: (violation: FakeViolation) => void;
}

/** How the manager drives a service; users of FakeService never see it. */
export interface ServiceControl {
  /** Authorizes (NotifyAccess=) and applies a notification attributed to this service. */
  receive(message: PendingNotification, barrier: boolean, utf8: boolean): void;
  /** Tells waiters about a message once the manager has finished with it. */
  announce(message: FakeNotification): void;
  violate(text: string, message: FakeNotification | null): void;
  /** SIGKILL to the process group and the main PID (close(), or the test process exiting). */
  forceKill(): void;
  /** The child's stdio pipes are closed: all its output has been read. */
  readonly outputClosed: Promise<void>;
}

// The manager's one door into FakeService, assigned in its static block. The
// public type must keep `private constructor()` (users cannot start a service
// but through a manager), and TypeScript has no module-private visibility, so
// the class hands out its constructor here; everything else the manager needs
// comes back with it as a ServiceControl, not as more doors.
let openService!: (init: ServiceInit) => { service: FakeService; control: ServiceControl };
export function startService(init: ServiceInit): { service: FakeService; control: ServiceControl } {
  return openService(init);
}

/**
 * A daemon started by FakeServiceManager.spawn(). Events: 'message'
 * (FakeNotification), 'state' (FakeServiceState), 'exit' (FakeServiceExit).
 */
export class FakeService extends EventEmitter {
  /** The spawned process (through `sh -c 'exec'` when LISTEN_PID/WATCHDOG_PID are set, which keeps the pid). */
  readonly pid: number;
  /** INVOCATION_ID given to this run. */
  readonly invocationId: string;
  readonly child: ChildProcess;
  /** The sockets handed over, at fds 3.. in this order. */
  readonly sockets: readonly FakeSocket[];
  /** LISTEN_FDNAMES as a list: the sockets' names, then the stored fds' names. */
  readonly listenFdNames: readonly string[];
  /** The protocol variables the manager set for this run (NOTIFY_SOCKET, LISTEN_*, WATCHDOG_*, INVOCATION_ID), minus those `env` overrode. */
  readonly environment: Readonly<Record<string, string>>;
  /** Settles (never rejects) when the main process is gone. */
  readonly exited: Promise<FakeServiceExit>;

  readonly #init: ServiceInit;
  #mainPid: number;
  #notifyAccess: FakeNotifyAccess;
  #state: FakeServiceState;
  #status: string | null = null;
  #errno: number | null = null;
  readonly #messages: FakeNotification[] = [];
  readonly #violations: FakeViolation[] = [];
  #exit: FakeServiceExit | null = null;
  #resolveExit!: (exit: FakeServiceExit) => void;
  readonly #output: ServiceOutput;
  #mainWatch: { close(): void } | null = null;
  readonly #watchdog: ServiceWatchdog;
  #watchdogFired = false;
  readonly #stop: ServiceStop;
  /** This run as the notification rules (service-notify.ts) see and change it. */
  readonly #run: NotifiedRun;

  static {
    openService = (init) => {
      const service = new FakeService(init);
      const control: ServiceControl = {
        receive: (message, barrier, utf8) => service.#receive(message, barrier, utf8),
        announce: (message) => {
          service.emit('message', message);
          service.emit('change');
        },
        violate: (text, message) => service.#violate(text, message),
        forceKill: () => {
          if (service.#exit) return;
          service.#stop.signalGroup('SIGKILL');
          sendSignal(service.#mainPid, 'SIGKILL');
        },
        outputClosed: service.#output.closed,
      };
      return { service, control };
    };
  }

  private constructor(init: ServiceInit) {
    super();
    this.#init = init;
    this.pid = init.pid;
    this.invocationId = init.invocationId;
    this.child = init.child;
    this.sockets = Object.freeze(init.sockets);
    this.listenFdNames = Object.freeze(init.listenFdNames);
    this.environment = Object.freeze(init.environment);
    this.#mainPid = init.pid;
    this.#notifyAccess = init.notifyAccess;
    this.#stop = new ServiceStop(
      init.pid,
      init.killMode,
      () => this.#mainPid,
      () => this.#exit !== null,
    );
    this.#watchdog = new ServiceWatchdog(init.watchdogUsec, init.enforceWatchdog, () => this.#watchdogExpired(), init.drain);
    this.#state = init.type === 'simple' ? 'ready' : 'starting';
    const service = this;
    this.#run = {
      spawnedPid: init.pid,
      get mainPid() {
        return service.#mainPid;
      },
      get state() {
        return service.#state;
      },
      get notifyAccess() {
        return service.#notifyAccess;
      },
      store: init.store,
      watchdog: this.#watchdog,
      stop: this.#stop,
      setMainPid: (pid) => {
        this.#mainPid = pid;
        this.#unwatchMain();
        if (pid !== this.pid) this.#watchMain(pid);
      },
      setState: (state) => this.#setState(state),
      enterStopping: () => this.#enterStopping(),
      resetWatchdog: () => this.#resetWatchdog(),
      watchdogExpired: () => this.#watchdogExpired(),
      setStatus: (status) => (this.#status = status),
      setNotifyAccess: (access) => (this.#notifyAccess = access),
      setErrno: (errno) => (this.#errno = errno),
      violate: (text, message) => this.#violate(text, message),
    };
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
    // Waiters come and go; a busy test can have many at once.
    this.setMaxListeners(0);

    this.#output = new ServiceOutput(init.child, () => this.emit('change'));
    // The exit is recorded once the output pipes are read to their end, so a
    // test that awaits `exited` sees everything the daemon printed; a leftover
    // process still holding the pipes delays it by 500 ms at most.
    init.child.on('exit', (code, signal) => {
      void Promise.race([this.#output.closed, delay(500)]).then(() => this.#onChildExit(code, signal));
    });
    // After a successful spawn, ChildProcess only reports failures of child.kill(),
    // which is never used (signals go through process.kill); an unheard 'error' would throw.
    init.child.on('error', () => {});
    // A simple service is running as soon as it is started; its watchdog runs from then on.
    if (init.type === 'simple') this.#resetWatchdog();
  }
  /** The main PID: the spawned process until MAINPID= names another. */
  get mainPid(): number {
    return this.#mainPid;
  }

  /** NotifyAccess= in force (NOTIFYACCESS= can change it). */
  get notifyAccess(): FakeNotifyAccess {
    return this.#notifyAccess;
  }

  get state(): FakeServiceState {
    return this.#state;
  }

  /** The last STATUS= (null before any, or after an empty STATUS=). */
  get status(): string | null {
    return this.#status;
  }

  /** The last ERRNO=. */
  get errno(): number | null {
    return this.#errno;
  }

  /** Every message attributed to this service, accepted or not, in arrival order. */
  get messages(): readonly FakeNotification[] {
    return this.#messages;
  }

  /** The messages the manager ignored (see each `rejection`). */
  get rejected(): readonly FakeNotification[] {
    return this.#messages.filter((m) => !m.accepted);
  }

  /** Every warning systemd would log about this service's notifications. */
  get violations(): readonly FakeViolation[] {
    return this.#violations;
  }

  get watchdog(): FakeWatchdogStatus {
    return { ...this.#watchdog.status };
  }

  /** Captured output (with stdio 'pipe'; the last MiB). */
  get stdout(): string {
    return this.#output.stdout;
  }

  get stderr(): string {
    return this.#output.stderr;
  }

  /** How the service ended; null while it runs. */
  get exitInfo(): FakeServiceExit | null {
    return this.#exit;
  }

  /**
   * Resolves with the first message (from `since`) that matches; rejects when
   * the service exits first or the time runs out, with an error that shows
   * the state, the last messages and the end of stderr.
   */
  waitFor(match: FakeNotificationMatch, options: FakeWaitOptions = {}): Promise<FakeNotification> {
    const test = toPredicate(match);
    let next = options.since ?? 0;
    return this.#until(describeMatch(match), options.timeoutMs, () => {
      for (; next < this.#messages.length; next++) {
        const message = this.#messages[next]!;
        if ((message.accepted || options.includeRejected) && test(message)) return message;
      }
      return undefined;
    });
  }

  /**
   * Resolves with the captured output once it matches `pattern` (stdio 'pipe'
   * only). Output and notifications travel on different channels, so a line
   * printed before READY=1 may still be in the pipe when READY=1 arrives.
   */
  waitForOutput(pattern: string | RegExp, options: { stream?: 'stdout' | 'stderr'; timeoutMs?: number } = {}): Promise<string> {
    const stream = options.stream ?? 'stdout';
    const matches = (text: string): boolean => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
    return this.#until(`${stream} matching ${String(pattern)}`, options.timeoutMs, () => {
      const text = stream === 'stdout' ? this.#output.stdout : this.#output.stderr;
      return matches(text) ? text : undefined;
    });
  }

  /** Resolves when the service is in `state` (now or later); rejects if it exits first (unless waiting for 'exited'). */
  async waitForState(state: FakeServiceState, options: { timeoutMs?: number } = {}): Promise<void> {
    await this.#until(`state ${state}`, options.timeoutMs, () => (this.#state === state ? true : undefined));
  }

  /**
   * Sends a signal, as `systemctl kill --kill-whom=main|all` does; the state
   * does not change. Returns whether any process received it.
   */
  kill(signal: NodeJS.Signals = 'SIGTERM', whom: 'main' | 'all' = 'main'): boolean {
    if (this.#exit) return false;
    if (whom === 'main') return sendSignal(this.#mainPid, signal);
    const group = this.#stop.signalGroup(signal);
    return sendSignal(this.#mainPid, signal) || group;
  }

  /**
   * systemctl stop: sends the kill signal (to the whole process group with
   * KillMode=control-group, to the main process with mixed or process), waits
   * `timeoutMs` (extended by EXTEND_TIMEOUT_USEC=), then sends SIGKILL and
   * records Result=timeout. Resolves with the exit; calling it again joins the
   * stop in progress.
   */
  stop(options: { timeoutMs?: number; signal?: NodeJS.Signals } = {}): Promise<FakeServiceExit> {
    if (this.#exit || this.#stop.requested) return this.exited;
    const timeoutMs = options.timeoutMs ?? this.#init.stopTimeoutMs;
    checkDuration('stop: timeoutMs', timeoutMs);
    this.#enterStopping();
    this.#stop.begin(options.signal ?? this.#init.killSignal, timeoutMs);
    return this.exited;
  }

  /**
   * systemctl reload of a Type=notify-reload service: sends `signal` (default
   * SIGHUP), waits for RELOADING=1 with a MONOTONIC_USEC= taken after the
   * signal was sent, then for READY=1 (the same message may carry both).
   */
  async reload(
    options: { signal?: NodeJS.Signals; timeoutMs?: number } = {},
  ): Promise<{ reloading: FakeNotification; ready: FakeNotification }> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = nowMs() + timeoutMs;
    const since = this.#messages.length;
    const begin = monotonicUsec();
    if (!this.kill(options.signal ?? 'SIGHUP')) throw this.#failure(`cannot send ${options.signal ?? 'SIGHUP'} for a reload`);
    const startedAfterSignal = (message: FakeNotification): boolean => {
      const usec = message.fields.MONOTONIC_USEC;
      return message.lines.includes('RELOADING=1') && usec !== undefined && DIGITS.test(usec) && BigInt(usec) >= begin;
    };
    const reloading = await this.waitFor(startedAfterSignal, { since, timeoutMs });
    if (reloading.lines.includes('READY=1')) return { reloading, ready: reloading };
    const ready = await this.waitFor('READY=1', {
      since: this.#messages.indexOf(reloading) + 1,
      timeoutMs: Math.max(0, deadline - nowMs()),
    });
    return { reloading, ready };
  }

  // -- message handling (called by the manager) -----------------------------

  #receive(message: PendingNotification, barrier: boolean, utf8: boolean): void {
    if (message.accepted && !barrier) {
      const refusal = authorize(this.#run, message.pid);
      if (refusal !== null) {
        message.accepted = false;
        message.rejection = refusal;
      }
    }
    if (message.rejection !== null) this.#violate(message.rejection, message);
    this.#messages.push(message);
    if (message.accepted && !barrier) applyNotification(this.#run, message, utf8);
  }

  /** A main process that is not our child: watched through a pidfd, since only a parent gets SIGCHLD. */
  #watchMain(pid: number): void {
    this.#mainWatch = watchProcessExit(this.#init.binding, pid, () => {
      if (this.#mainPid === pid && !this.#exit) this.#mainGone();
    });
  }

  #unwatchMain(): void {
    this.#mainWatch?.close();
    this.#mainWatch = null;
  }

  #violate(text: string, message: FakeNotification | null): void {
    const violation: FakeViolation = { text, pid: message?.pid ?? null, message };
    this.#violations.push(violation);
    this.#init.report(violation);
  }

  #setState(state: FakeServiceState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
    this.emit('change');
  }

  #enterStopping(): void {
    // The watchdog does not run in the stop states.
    this.#watchdog.stop();
    this.#setState('stopping');
  }

  // -- watchdog ---------------------------------------------------------------

  #resetWatchdog(): void {
    if (this.#state === 'stopping' || this.#state === 'exited') this.#watchdog.stop();
    else this.#watchdog.restart();
  }

  /** A missed deadline or WATCHDOG=trigger: with enforcement, the watchdog signal and Result=watchdog. */
  #watchdogExpired(): void {
    if (!this.#init.enforceWatchdog || this.#exit || this.#watchdogFired) {
      this.emit('change');
      return;
    }
    this.#watchdogFired = true;
    this.#watchdog.killed(nowMs());
    this.#enterStopping();
    this.#stop.begin(this.#init.watchdogSignal, this.#init.stopTimeoutMs);
  }

  // -- exit -----------------------------------------------------------------

  #onChildExit(code: number | null, signal: NodeJS.Signals | null): void {
    // Messages sent before the exit are already queued: read them first, as
    // systemd dispatches notifications before SIGCHLD.
    this.#init.drain();
    if (this.#exit) return;
    if (this.#mainPid === this.pid) this.#finish(code, signal);
    else if (!isAlive(this.#mainPid)) this.#finish(null, null);
    // Otherwise MAINPID= moved the service to a process that lives on; its watcher finishes it.
  }

  #mainGone(): void {
    this.#init.drain();
    if (this.#exit) return;
    // The spawned process, if it is still running, is a leftover now.
    this.#finish(null, null);
  }

  #finish(code: number | null, signal: NodeJS.Signals | null): void {
    this.#unwatchMain();
    this.#watchdog.stop();
    const clean = code === 0 || (signal !== null && CLEAN_SIGNALS.has(signal)) || (code === null && signal === null);
    let result: FakeServiceResult;
    if (this.#watchdogFired) result = 'watchdog';
    else if (this.#stop.timedOut) result = 'timeout';
    else if (!clean) result = code !== null ? 'exit-code' : 'signal';
    // A Type=notify service that ends cleanly before READY=1 never became active.
    else if (this.#state === 'starting' && this.#init.type === 'notify') result = 'protocol';
    else result = 'success';
    const exit: FakeServiceExit = { pid: this.#mainPid, code, signal, result };
    this.#exit = exit;
    this.#stop.ended();
    this.#setState('exited');
    this.#resolveExit(exit);
    this.emit('exit', exit);
    this.emit('change');
  }

  // -- waiting ----------------------------------------------------------------

  #until<T>(what: string, timeoutMs: number | undefined, check: () => T | undefined): Promise<T> {
    const ended = (): boolean => this.#exit !== null;
    return waitUntil({ events: this, ended, outputClosed: this.#output.closed, failure: (w) => this.#failure(w) }, what, timeoutMs, check);
  }

  #failure(what: string): Error {
    const { pid } = this;
    return failureReport(what, {
      pid,
      state: this.#state,
      exit: this.#exit,
      messages: this.#messages,
      violations: this.#violations,
      stderr: this.#output.stderr,
    });
  }
}
