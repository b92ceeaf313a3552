// What one notification does to a run of the service: systemd's
// service_notify_message_authorized() (NotifyAccess=) and
// service_notify_message(), field by field in systemd's order, with the
// warning systemd would log for each field it cannot use. FakeService keeps
// the state; it hands this module the narrow view below, so the rules read in
// one place and the state cannot be changed but through its own methods.
import { constants as osConstants } from 'node:os';

import { isValidFdName, monotonicUsec } from '../notify.js';
import { nowMs } from './clock.js';
import type { FakeNotifyAccess, FakeServiceState } from './fake-service.js';
import type { FdStore } from './fd-store.js';
import type { FakeNotification } from './notification.js';
import { belongsTo, isAlive } from './processes.js';
import type { ServiceStop } from './service-stop.js';
import type { ServiceWatchdog } from './service-watchdog.js';

export const NOTIFY_ACCESS_VALUES: ReadonlySet<string> = new Set(['none', 'main', 'exec', 'all']);
export const DIGITS = /^[0-9]+$/;

/** A run as service_notify_message() sees it: what it reads, and the doors by which it changes the run. */
export interface NotifiedRun {
  /** The spawned process, leader of the service's process group. */
  readonly spawnedPid: number;
  readonly mainPid: number;
  readonly state: FakeServiceState;
  readonly notifyAccess: FakeNotifyAccess;
  readonly store: FdStore;
  readonly watchdog: ServiceWatchdog;
  readonly stop: ServiceStop;
  /** MAINPID= passed every check: the new main PID (and its exit watch). */
  setMainPid(pid: number): void;
  setState(state: FakeServiceState): void;
  enterStopping(): void;
  /** The watchdog countdown afresh (or stopped, in the stop states). */
  resetWatchdog(): void;
  /** WATCHDOG=trigger: what a missed deadline does. */
  watchdogExpired(): void;
  setStatus(status: string | null): void;
  setNotifyAccess(access: FakeNotifyAccess): void;
  setErrno(errno: number): void;
  violate(text: string, message: FakeNotification | null): void;
}

/** service_notify_message_authorized(): null when `pid` may notify, else systemd's warning. */
export function authorize(run: NotifiedRun, pid: number): string | null {
  if (run.notifyAccess === 'none') return `Got notification message from PID ${pid}, but reception is disabled`;
  if (run.notifyAccess !== 'all' && pid !== run.mainPid) {
    return `Got notification message from PID ${pid}, but reception only permitted for main PID ${run.mainPid}`;
  }
  return null;
}

/** service_notify_message(), field by field, in systemd's order. */
export function applyNotification(run: NotifiedRun, message: FakeNotification, utf8: boolean): void {
  const { fields, lines } = message;
  const violate = (text: string): void => run.violate(text, message);
  const active = run.state === 'starting' || run.state === 'ready' || run.state === 'reloading';

  if (fields.MAINPID !== undefined && active) setMainPid(run, fields.MAINPID, message);

  let monotonic: bigint | null = null;
  if (fields.MONOTONIC_USEC !== undefined) {
    if (DIGITS.test(fields.MONOTONIC_USEC)) monotonic = BigInt(fields.MONOTONIC_USEC);
    else violate(`Failed to parse MONOTONIC_USEC= field in notification message, ignoring: ${fields.MONOTONIC_USEC}`);
  }
  if (lines.includes('RELOADING=1')) {
    if (monotonic === null) {
      violate(
        'RELOADING=1 without MONOTONIC_USEC=: systemd cannot tell this reload from an earlier one, so a reload it requested (Type=notify-reload) waits until it times out',
      );
    } else if (monotonic > monotonicUsec()) {
      violate(
        `MONOTONIC_USEC=${monotonic} is ahead of CLOCK_MONOTONIC: it must come from the monotonic clock (process.hrtime.bigint() / 1000n), not the wall clock`,
      );
    }
  }

  // STOPPING=1 wins over READY=1, and READY=1 over RELOADING=1.
  if (lines.includes('STOPPING=1')) {
    if (run.state === 'ready' || run.state === 'reloading') run.enterStopping();
  } else if (lines.includes('READY=1')) {
    if (run.state === 'starting') {
      run.setState('ready');
      // service_enter_start_post(): the watchdog runs once start-up is complete.
      run.resetWatchdog();
    } else if (run.state === 'reloading') {
      run.setState('ready');
    }
  } else if (lines.includes('RELOADING=1')) {
    if (run.state === 'ready') run.setState('reloading');
  }

  if (fields.STATUS !== undefined) {
    if (!utf8) violate('Status message in notification message is not UTF-8 clean, ignoring.');
    else run.setStatus(fields.STATUS === '' ? null : fields.STATUS);
  }

  if (fields.NOTIFYACCESS !== undefined) {
    if (NOTIFY_ACCESS_VALUES.has(fields.NOTIFYACCESS)) run.setNotifyAccess(fields.NOTIFYACCESS as FakeNotifyAccess);
    else violate(`Failed to parse NOTIFYACCESS= field value '${fields.NOTIFYACCESS}' in notification message, ignoring`);
  }

  if (fields.ERRNO !== undefined) {
    const parsed = parseErrno(fields.ERRNO);
    if (parsed === null) violate(`Failed to parse ERRNO= field value '${fields.ERRNO}' in notification message`);
    else run.setErrno(parsed);
  }

  if (fields.EXTEND_TIMEOUT_USEC !== undefined) {
    if (DIGITS.test(fields.EXTEND_TIMEOUT_USEC)) extendTimeouts(run, BigInt(fields.EXTEND_TIMEOUT_USEC));
    else violate(`Failed to parse EXTEND_TIMEOUT_USEC=${fields.EXTEND_TIMEOUT_USEC}`);
  }

  if (fields.WATCHDOG !== undefined) {
    if (fields.WATCHDOG === '1') {
      run.watchdog.ping(message.receivedAt);
      run.resetWatchdog();
    } else if (fields.WATCHDOG === 'trigger') {
      run.watchdog.trigger();
      run.watchdogExpired();
    } else {
      violate('Passed WATCHDOG= field is invalid, ignoring.');
    }
  }

  if (fields.WATCHDOG_USEC !== undefined) {
    if (DIGITS.test(fields.WATCHDOG_USEC)) {
      run.watchdog.setUsec(BigInt(fields.WATCHDOG_USEC));
      run.resetWatchdog();
    } else {
      violate(`Failed to parse WATCHDOG_USEC=${fields.WATCHDOG_USEC}`);
    }
  }

  // FDSTOREREMOVE=1 or FDSTORE=1, each with FDNAME=.
  const store = run.store;
  if (lines.includes('FDSTOREREMOVE=1')) {
    const name = fields.FDNAME;
    if (name === undefined || !isValidFdName(name)) {
      violate('FDSTOREREMOVE=1 requested, but no valid file descriptor name passed, ignoring.');
    } else {
      store.remove(name);
    }
  } else if (lines.includes('FDSTORE=1')) {
    let name = fields.FDNAME;
    if (name !== undefined && !isValidFdName(name)) {
      violate('Passed FDNAME= name is invalid, ignoring.');
      name = undefined;
    }
    const poll = !lines.includes('FDPOLL=0');
    for (const fd of message.fds) {
      if (store.add(fd, name ?? 'stored', poll, message.pid) === 'full') {
        violate(`Cannot store more fds than FileDescriptorStoreMax=${store.max}, closing remaining.`);
        break;
      }
    }
  }
}

/** MAINPID=, with service_is_suitable_main_pid()'s checks. */
function setMainPid(run: NotifiedRun, text: string, message: FakeNotification): void {
  if (!DIGITS.test(text) || Number(text) <= 0) {
    run.violate(`Failed to parse MAINPID=${text} field in notification message, ignoring`, message);
    return;
  }
  const pid = Number(text);
  if (pid === run.mainPid) return;
  if (pid === process.pid) {
    run.violate(`New main PID ${pid} is the manager itself, refusing.`, message);
    return;
  }
  if (!isAlive(pid)) {
    run.violate(`New main PID ${pid} does not exist or is a zombie.`, message);
    return;
  }
  // Under systemd "belongs to the service" means "is in its cgroup"; here, in its process tree or group.
  if (!belongsTo(pid, new Set([run.spawnedPid, run.mainPid]), run.spawnedPid) && message.uid !== 0) {
    run.violate(`New main PID ${pid} does not belong to service, refusing.`, message);
    return;
  }
  run.setMainPid(pid);
}

/** EXTEND_TIMEOUT_USEC=: neither the stop timeout nor the watchdog fires before now + usec. */
function extendTimeouts(run: NotifiedRun, usec: bigint): void {
  if (usec === 0n) return;
  const until = nowMs() + Number(usec) / 1000;
  run.stop.extendTo(until);
  run.watchdog.extendTo(until);
}

function parseErrno(text: string): number | null {
  if (DIGITS.test(text)) return Number(text);
  const named = (osConstants.errno as Record<string, number>)[text];
  return named ?? null;
}
