// sd_notify(3): tells the service manager about state changes by sending one
// datagram of newline-separated KEY=VALUE fields to $NOTIFY_SOCKET, optionally
// with a spoofed sender PID (SCM_CREDENTIALS) and file descriptors (SCM_RIGHTS).
//
// Results are tri-state, as in libsystemd: sent, not sent because no manager
// asked for notifications ("disabled"), or not sent because something failed
// (reported with an Error that names the socket, and said once per cause on
// stderr: see notify-report.ts). Only programmer errors throw.
import type net from 'node:net';

import { builtin, errnoNumber } from './builtins.js';

import { failed, nativeBinding, nativeLoadError, systemError } from './native.js';
import { interceptor } from './notify-hook.js';
import { reportDelivery } from './notify-report.js';
import { parseUnixAddress, type UnixAddress } from './unix-address.js';
import { FDNAME_MAX, isValidFdName } from './fd-name.js';
import { SCM_MAX_FD } from './socket-bytes.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { closeSync } = process.getBuiltinModule('node:fs');

/** systemd drops notification datagrams longer than this (NOTIFY_BUFFER_MAX). */
export const NOTIFY_MAX_BYTES = 4096;
/** The kernel's limit on fds in one message (SCM_MAX_FD). */
export const NOTIFY_MAX_FDS = SCM_MAX_FD;
// systemd's FDNAME_MAX and fdname_is_valid(): one rule, in fd-name.ts (socket activation loads it without notify).
export { FDNAME_MAX, isValidFdName } from './fd-name.js';
/**
 * How long a send waits for room in a manager's queue. A manager that stopped
 * reading would otherwise freeze the event loop (libsystemd's send blocks for
 * good); past this, the result is send-failed with EAGAIN.
 */
const SEND_TIMEOUT_MS = 1000;

type Flag = true | 1;
type Usec = number | bigint;

/**
 * The notification vocabulary of sd_notify(3), spelled as on the wire. A
 * field left undefined is not sent; `true` is sent as `1`.
 */
export interface NotifyFields {
  READY?: Flag;
  /** Always sent together with MONOTONIC_USEC (added when absent). */
  RELOADING?: Flag;
  STOPPING?: Flag;
  STATUS?: string;
  ERRNO?: number;
  BUSERROR?: string;
  MAINPID?: number;
  /**
   * The pidfd inode ID of the MAINPID process (fstat(pidfd).st_ino on pidfs,
   * Linux 6.9+; what sd_pidfd_get_inode_id(3) returns), so the manager cannot
   * confuse it with a process that reused the PID. systemd 257 and later.
   */
  MAINPIDFDID?: number | bigint;
  /** The main process is the pidfd passed as the message's one fd (options.fds). systemd 257 and later. */
  MAINPIDFD?: Flag;
  /** A Varlink error name (org.varlink.service.InvalidParameter), as BUSERROR. systemd 257 and later. */
  VARLINKERROR?: string;
  /** Microseconds, relative to now. */
  EXTEND_TIMEOUT_USEC?: Usec;
  /** 1 keeps the watchdog alive; 'trigger' asks the manager to act as if it expired. */
  WATCHDOG?: Flag | 'trigger';
  WATCHDOG_USEC?: Usec;
  /** CLOCK_MONOTONIC in microseconds; filled in from process.hrtime.bigint() for RELOADING. */
  MONOTONIC_USEC?: Usec;
  FDSTORE?: Flag;
  FDSTOREREMOVE?: Flag;
  FDNAME?: string;
  /** 0 stops the manager from polling stored fds for errors/hangup. */
  FDPOLL?: 0 | false;
  NOTIFYACCESS?: 'none' | 'main' | 'exec' | 'all';
  RESTART_RESET?: Flag;
  BARRIER?: Flag;
  EXIT_STATUS?: number;
  /** Custom fields for your own tooling. */
  [custom: `X_${string}`]: string | number | bigint | boolean | undefined;
}

/** Something that owns a file descriptor: a raw fd or a Node object with one. */
export type FdSource =
  | number
  | { fd: number }
  | net.Server
  | net.Socket
  | import('node:dgram').Socket
  | import('node:fs/promises').FileHandle;

export interface NotifyOptions {
  /** Delete NOTIFY_SOCKET from the environment afterwards (whatever the outcome). */
  unsetEnv?: boolean;
  /** Send on behalf of this PID (sd_pid_notify); needs privileges, else sent as ourselves. */
  pid?: number;
  /** File descriptors to pass along (FDSTORE=1 or BARRIER=1). */
  fds?: readonly FdSource[];
  /** Environment to read NOTIFY_SOCKET from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

export type NotifySkipReason =
  /** NOTIFY_SOCKET is not set (or empty): no manager wants notifications. */
  | 'disabled'
  /** The native addon is not loaded, so no datagram can be sent. */
  | 'no-native'
  /** NOTIFY_SOCKET names a transport this runtime cannot use (vsock). */
  | 'unsupported'
  /** NOTIFY_SOCKET is set but is not a usable address. */
  | 'invalid-address'
  /** The kernel refused the send (no such socket, permission, wrong type...). */
  | 'send-failed';

export type NotifyResult =
  | { sent: true; socket: string; bytes: number; withCredentials: boolean }
  | { sent: false; reason: 'disabled' }
  | { sent: false; reason: Exclude<NotifySkipReason, 'disabled'>; socket: string; error: Error };

const DISABLED: NotifyResult = Object.freeze({ sent: false, reason: 'disabled' });
// Shared by the calls that pass no options or no fds (a keep-alive ping does
// neither), so that they allocate nothing for them; never written to.
const NO_OPTIONS: NotifyOptions = Object.freeze({});
const NO_FDS: readonly number[] = Object.freeze([]);
const KEY_PATTERN = /^[A-Z][A-Z0-9_]*$/;

/** CLOCK_MONOTONIC in microseconds, the clock systemd compares MONOTONIC_USEC with. */
export function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n;
}

const INT_MAX = 2 ** 31 - 1;
const USEC_MAX = 2n ** 64n - 1n;

/**
 * What each field of the vocabulary accepts, as the manager parses it: a
 * value outside it would be ignored or misread there, so it is refused here.
 * Fields not listed (X_ custom ones, newer vocabulary) take any string,
 * boolean or non-negative integer.
 */
type FieldKind =
  | { kind: 'flag' }
  | { kind: 'text' }
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'usec' }
  | { kind: 'uint64' }
  | { kind: 'choice'; choices: readonly (string | number | boolean)[] };

const FLAG: FieldKind = { kind: 'flag' };
const USEC: FieldKind = { kind: 'usec' };
const FIELD_KINDS: Record<string, FieldKind> = {
  READY: FLAG,
  RELOADING: FLAG,
  STOPPING: FLAG,
  FDSTORE: FLAG,
  FDSTOREREMOVE: FLAG,
  RESTART_RESET: FLAG,
  BARRIER: FLAG,
  STATUS: { kind: 'text' },
  BUSERROR: { kind: 'text' },
  FDNAME: { kind: 'text' },
  VARLINKERROR: { kind: 'text' },
  MAINPIDFD: FLAG,
  MAINPIDFDID: { kind: 'uint64' },
  ERRNO: { kind: 'integer', min: 0, max: INT_MAX },
  MAINPID: { kind: 'integer', min: 1, max: INT_MAX },
  EXIT_STATUS: { kind: 'integer', min: 0, max: 255 },
  EXTEND_TIMEOUT_USEC: USEC,
  WATCHDOG_USEC: USEC,
  MONOTONIC_USEC: USEC,
  WATCHDOG: { kind: 'choice', choices: [1, true, 'trigger'] },
  NOTIFYACCESS: { kind: 'choice', choices: ['none', 'main', 'exec', 'all'] },
  FDPOLL: { kind: 'choice', choices: [0, false] },
};

function describeValue(value: unknown): string {
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : typeof value === 'bigint' ? `${value}n` : String(value);
}

/** A non-negative safe integer (number) or non-negative bigint, as text; RangeError otherwise. */
function wholeNumber(key: string, value: number | bigint): string {
  if (typeof value === 'bigint' ? value < 0n : !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`notify: ${key} must be a non-negative integer, got ${describeValue(value)}`);
  }
  return String(value);
}

function renderValue(key: string, value: unknown): string {
  const spec = FIELD_KINDS[key];
  const type = typeof value;
  if (spec === undefined) {
    if (type === 'boolean') return value ? '1' : '0';
    if (type === 'string') return value as string;
    if (type === 'number' || type === 'bigint') return wholeNumber(key, value as number | bigint);
    throw new TypeError(`notify: ${key} has a value of type ${value === null ? 'null' : type}`);
  }
  switch (spec.kind) {
    case 'flag':
      if (value === true || value === 1) return '1';
      if (type === 'number') {
        wholeNumber(key, value as number);
        throw new RangeError(`notify: ${key} can only be 1 (or true), got ${describeValue(value)}`);
      }
      throw new TypeError(`notify: ${key} can only be 1 (or true), got ${describeValue(value)}`);
    case 'text':
      if (type !== 'string') throw new TypeError(`notify: ${key} must be a string, got ${describeValue(value)}`);
      return value as string;
    case 'integer': {
      if (type === 'bigint') wholeNumber(key, value as bigint); // a negative one is out of range first
      if (type !== 'number') throw new TypeError(`notify: ${key} must be a number, got ${describeValue(value)}`);
      const text = wholeNumber(key, value as number);
      if (Number(value) < spec.min || Number(value) > spec.max) {
        throw new RangeError(`notify: ${key} must be from ${spec.min} to ${spec.max}, got ${text}`);
      }
      return text;
    }
    case 'usec':
    case 'uint64': {
      const what = spec.kind === 'usec' ? 'a number of microseconds' : 'a number or bigint';
      if (type !== 'number' && type !== 'bigint') throw new TypeError(`notify: ${key} must be ${what}, got ${describeValue(value)}`);
      const text = wholeNumber(key, value as number | bigint);
      if (BigInt(text) > USEC_MAX) throw new RangeError(`notify: ${key} must fit in 64 bits (at most ${USEC_MAX}), got ${text}`);
      return text;
    }
    case 'choice': {
      if (spec.choices.includes(value as string | number | boolean)) return value === true ? '1' : value === false ? '0' : String(value);
      const allowed = spec.choices.map((choice) => JSON.stringify(choice)).join(', ');
      if (type === 'number' && spec.choices.some((choice) => typeof choice === 'number')) {
        wholeNumber(key, value as number);
        throw new RangeError(`notify: ${key} must be one of ${allowed}, got ${describeValue(value)}`);
      }
      throw new TypeError(`notify: ${key} must be one of ${allowed}, got ${describeValue(value)}`);
    }
  }
}

function checkLine(key: string, value: string): void {
  if (value.includes('\n')) throw new TypeError(`notify: the value of ${key} contains a newline, which would start a new field`);
  if (value.includes('\0')) throw new TypeError(`notify: the value of ${key} contains a NUL byte`);
}

function checkFdName(name: string): void {
  if (!isValidFdName(name)) {
    throw new TypeError(`notify: FDNAME ${JSON.stringify(name)} is invalid (printable ASCII except ':', at most ${FDNAME_MAX} characters)`);
  }
}

/**
 * Joins fields into the exact datagram text, validating every value. RELOADING
 * gets MONOTONIC_USEC in the same datagram, because systemd needs both at once.
 */
export function formatState(state: string | NotifyFields): string {
  let text: string;
  if (typeof state === 'string') {
    if (state === checkedRaw) return state;
    if (state.length === 0) throw new TypeError('notify: the state is empty');
    if (state.includes('\0')) throw new TypeError('notify: the state contains a NUL byte');
    text = state;
    // The one value the raw form is checked for: systemd would drop the fds of an invalid name.
    // (Looked for first: matchAll builds a new RegExp on every call, most of a WATCHDOG=1's cost.)
    if (text.includes('FDNAME=')) {
      for (const match of text.matchAll(/^FDNAME=(.*)$/gm)) {
        checkFdName(match[1]!);
      }
    }
    if (text.includes('RELOADING=1') && /^RELOADING=1$/m.test(text) && !/^MONOTONIC_USEC=/m.test(text)) {
      text += `${text.endsWith('\n') ? '' : '\n'}MONOTONIC_USEC=${monotonicUsec()}`;
    }
  } else if (state !== null && typeof state === 'object') {
    const lines: string[] = [];
    const fields = state as Record<string, unknown>;
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      if (!KEY_PATTERN.test(key)) throw new TypeError(`notify: ${JSON.stringify(key)} is not a valid field name (A-Z, 0-9, _)`);
      const rendered = renderValue(key, value);
      checkLine(key, rendered);
      if (key === 'FDNAME') checkFdName(rendered);
      lines.push(`${key}=${rendered}`);
    }
    if (fields.RELOADING !== undefined && fields.MONOTONIC_USEC === undefined) {
      lines.push(`MONOTONIC_USEC=${monotonicUsec()}`);
    }
    if (lines.length === 0) throw new TypeError('notify: the state has no fields');
    text = lines.join('\n');
  } else {
    throw new TypeError(`notify: the state must be a string or an object of fields, got ${state === null ? 'null' : typeof state}`);
  }
  // A UTF-16 code unit is at most 3 bytes of UTF-8 (a lone surrogate becomes U+FFFD, a pair 4 bytes for
  // 2 units), so only a text longer than a third of the limit can be over it and needs counting.
  if (text.length * 3 > NOTIFY_MAX_BYTES) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > NOTIFY_MAX_BYTES) {
      throw new RangeError(`notify: the message is ${bytes} bytes; systemd drops notifications over ${NOTIFY_MAX_BYTES} bytes`);
    }
  }
  if (text === state) checkedRaw = text;
  return text;
}

// The last raw text that passed formatState() unchanged: its checks depend on
// the text alone, and a daemon sends the same WATCHDOG=1 over and over. (Not
// one that gained MONOTONIC_USEC: that is the time of each call.)
let checkedRaw: string | undefined;

/** The fd behind a raw number or a Node object that owns one. */
export function fdOf(source: FdSource): number {
  if (typeof source === 'number') {
    // An fd is a C int: a larger number would wrap around to another fd in the addon.
    if (!Number.isInteger(source) || source < 0 || source > INT_MAX) throw new TypeError(`notify: ${source} is not a file descriptor`);
    return source;
  }
  if (source === null || typeof source !== 'object') {
    throw new TypeError(`notify: ${source === null ? 'null' : typeof source} is not a file descriptor or an object that owns one`);
  }
  const candidate = source as unknown as Record<string | symbol, unknown>;
  // FileHandle and plain { fd } objects.
  if (typeof candidate.fd === 'number' && Number.isInteger(candidate.fd) && candidate.fd >= 0 && candidate.fd <= INT_MAX)
    return candidate.fd;
  // dgram.Socket keeps its handle behind an internal state symbol (checked
  // first: its deprecated _handle getter prints DEP0112).
  const stateSymbol = Object.getOwnPropertySymbols(candidate).find((s) => s.description === 'state symbol');
  const dgramHandle = stateSymbol ? (candidate[stateSymbol] as { handle?: { fd?: number } }).handle : undefined;
  if (dgramHandle && typeof dgramHandle.fd === 'number' && dgramHandle.fd >= 0) return dgramHandle.fd;
  // net.Server and net.Socket keep their fd on the libuv handle.
  const handle = candidate._handle as { fd?: number } | null | undefined;
  if (handle && typeof handle.fd === 'number' && handle.fd >= 0) return handle.fd;
  throw new TypeError('notify: this object has no open file descriptor (is the server listening, the socket bound, the file open?)');
}

/**
 * Sends `state` to the service manager. `state` is raw wire text
 * ("READY=1\nSTATUS=...") or an object of fields ({ READY: 1, STATUS: '...' }).
 *
 * Never throws because of the environment: read the result. It is common to
 * ignore it. Throws TypeError/RangeError for invalid input (a newline in a
 * value, an invalid FDNAME, over 4096 bytes, over 253 fds).
 */
export function notify(state: string | NotifyFields, options: NotifyOptions = NO_OPTIONS): NotifyResult {
  const env = options.env ?? process.env;
  try {
    const text = formatState(state);
    const fds = options.fds == null ? NO_FDS : options.fds.map(fdOf);
    if (typeof state === 'object' && state !== null && state.FDSTORE !== undefined && fds.length === 0) {
      throw new TypeError('notify: FDSTORE=1 without file descriptors (pass them in options.fds)');
    }
    if (typeof state === 'object' && state !== null && state.MAINPIDFD !== undefined && fds.length !== 1) {
      throw new TypeError(`notify: MAINPIDFD=1 takes exactly one fd, the main process's pidfd, in options.fds (got ${fds.length})`);
    }
    if (fds.length > NOTIFY_MAX_FDS) {
      throw new RangeError(`notify: ${fds.length} file descriptors; one message carries at most ${NOTIFY_MAX_FDS}`);
    }
    if (options.pid !== undefined && (!Number.isSafeInteger(options.pid) || options.pid <= 0 || options.pid > INT_MAX)) {
      throw new RangeError(`notify: pid must be a PID (1 to ${INT_MAX}), got ${options.pid}`);
    }
    const result =
      interceptor !== null
        ? interceptor(text, env, () => send(env.NOTIFY_SOCKET, encode(text), fds, options.pid))
        : send(env.NOTIFY_SOCKET, encode(text), fds, options.pid);
    // A present manager that was not told is said on stderr, once per cause.
    reportDelivery(text, result);
    return result;
  } finally {
    if (options.unsetEnv) delete env.NOTIFY_SOCKET;
  }
}

// The last address parsed and the last datagram encoded: a daemon sends the
// same WATCHDOG=1 to the same socket over and over, so this skips both steps
// on the hot path. (Both are immutable: the addon only reads them.)
let lastSocket = '';
let lastAddress: UnixAddress | undefined;
let lastText = '';
let lastData: Buffer | undefined;

function encode(text: string): Buffer {
  if (text !== lastText || lastData === undefined) {
    lastText = text;
    lastData = Buffer.from(text, 'utf8');
  }
  return lastData;
}

function send(socket: string | undefined, data: Buffer, fds: readonly number[], pid: number | undefined): NotifyResult {
  if (socket === undefined || socket === '') return DISABLED;
  if (socket !== lastSocket || lastAddress === undefined) {
    lastSocket = socket;
    lastAddress = parseUnixAddress(socket);
  }
  const address = lastAddress;
  if (address.kind === 'vsock') {
    return {
      sent: false,
      reason: 'unsupported',
      socket,
      error: new Error(`NOTIFY_SOCKET=${socket}: vsock notification sockets are not supported by sd-daemon-runtime`),
    };
  }
  if (address.kind === 'invalid') {
    return {
      sent: false,
      reason: 'invalid-address',
      socket,
      error: new Error(`NOTIFY_SOCKET=${JSON.stringify(socket)} ${address.problem}`),
    };
  }
  const native = nativeBinding();
  if (!native) {
    return {
      sent: false,
      reason: 'no-native',
      socket,
      error: new Error(`cannot notify ${socket}: ${nativeLoadError()?.message ?? 'native addon missing'}`),
    };
  }
  // Credentials go along only when we speak for another PID. libsystemd also
  // attaches them when the real and effective ids differ, to report the real
  // ones; Linux already reports the sender's real uid and gid by default (a
  // test checks what the receiver gets), so that would cost four id lookups
  // per call for the same bytes on the manager's side.
  const withCredentials = pid !== undefined && pid !== process.pid;
  // The addon only reads the fds (NO_FDS, frozen, is never passed: it is empty).
  const fdList = fds.length ? (fds as number[]) : null;
  let n = native.sendmsg(
    address.sunPath,
    data,
    fdList,
    withCredentials ? [pid, process.getuid?.() ?? 0, process.getgid?.() ?? 0] : null,
    SEND_TIMEOUT_MS,
  );
  if (failed(n) && withCredentials) {
    // The kernel refuses foreign credentials without CAP_SYS_ADMIN: send as ourselves.
    n = native.sendmsg(address.sunPath, data, fdList, null, SEND_TIMEOUT_MS);
    if (!failed(n)) return { sent: true, socket, bytes: n, withCredentials: false };
  }
  if (failed(n)) {
    return { sent: false, reason: 'send-failed', socket, error: systemError(n, 'sendmsg', `to NOTIFY_SOCKET=${socket}`, socket) };
  }
  return { sent: true, socket, bytes: n, withCredentials };
}

// Typed doors onto notify(), one per common message.

export interface StatusOptions extends NotifyOptions {
  status?: string;
}

/** READY=1 (with STATUS= when given): startup finished, or a reload completed. */
export function ready(options: StatusOptions = {}): NotifyResult {
  return notify({ READY: 1, STATUS: options.status }, options);
}

/** RELOADING=1 + MONOTONIC_USEC in one datagram; send ready() when the reload is done. */
export function reloading(options: StatusOptions = {}): NotifyResult {
  return notify({ RELOADING: 1, MONOTONIC_USEC: monotonicUsec(), STATUS: options.status }, options);
}

/** STOPPING=1: shutdown has begun. */
export function stopping(options: StatusOptions = {}): NotifyResult {
  return notify({ STOPPING: 1, STATUS: options.status }, options);
}

/** STATUS=<text>: one line shown by `systemctl status`. */
export function status(text: string, options: NotifyOptions = {}): NotifyResult {
  return notify({ STATUS: text }, options);
}

/** ERRNO=<n> with an optional STATUS=: why the service failed. */
export function errno(code: number, options: StatusOptions = {}): NotifyResult {
  return notify({ STATUS: options.status, ERRNO: code }, options);
}

/** MAINPID=<pid>: another process is now the service's main process. */
export function mainPid(pid: number, options: NotifyOptions = {}): NotifyResult {
  return notify({ MAINPID: pid }, options);
}

/** EXTEND_TIMEOUT_USEC: asks for `ms` more milliseconds to start, reload or stop. */
export function extendTimeout(ms: number, options: NotifyOptions = {}): NotifyResult {
  // notify() rejects a negative or non-finite value (after its unsetEnv cleanup).
  return notify({ EXTEND_TIMEOUT_USEC: Math.round(ms * 1000) }, options);
}

/** WATCHDOG=1: the keep-alive ping. */
export function watchdogPing(options: NotifyOptions = {}): NotifyResult {
  return notify('WATCHDOG=1', options);
}

/** WATCHDOG=trigger: asks the manager to act as if the watchdog expired. */
export function watchdogTrigger(options: NotifyOptions = {}): NotifyResult {
  return notify('WATCHDOG=trigger', options);
}

/** WATCHDOG_USEC=<usec>: changes the watchdog timeout at run time. */
export function setWatchdogUsec(usec: Usec, options: NotifyOptions = {}): NotifyResult {
  return notify({ WATCHDOG_USEC: usec }, options);
}

export interface FdStoreOptions extends NotifyOptions {
  /** false sends FDPOLL=0: the manager keeps the fds even if they signal EPOLLHUP/EPOLLERR. */
  poll?: boolean;
}

/** FDSTORE=1 + FDNAME=<name>: hands fds to the manager to keep across restarts. */
export function storeFds(name: string, sources: readonly FdSource[], options: FdStoreOptions = {}): NotifyResult {
  return notify({ FDSTORE: 1, FDNAME: name, FDPOLL: options.poll === false ? 0 : undefined }, { ...options, fds: sources });
}

/** FDSTOREREMOVE=1 + FDNAME=<name>: the manager closes the stored fds of that name. */
export function removeStoredFds(name: string, options: NotifyOptions = {}): NotifyResult {
  return notify({ FDSTOREREMOVE: 1, FDNAME: name }, options);
}

export interface BarrierOptions extends NotifyOptions {
  /** How long to wait for the manager, in milliseconds (default 5000). */
  timeoutMs?: number;
}

/**
 * sd_notify_barrier(3): resolves once the manager has processed every message
 * sent before it. Sends BARRIER=1 with the write end of a pipe, closes ours,
 * and waits for the read end to hang up, which happens when the manager
 * closes its copy. Resolves with the send result (a no-op result when
 * disabled); rejects with ETIMEDOUT when the manager does not answer in time.
 */
export async function barrier(options: BarrierOptions = {}): Promise<NotifyResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const env = options.env ?? process.env;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    if (options.unsetEnv) delete env.NOTIFY_SOCKET;
    throw new RangeError(`barrier: timeoutMs must be a duration, got ${timeoutMs}`);
  }
  const native = nativeBinding();
  if (!native || !env.NOTIFY_SOCKET) return notify('BARRIER=1', options);
  const pipe = native.pipe();
  if (failed(pipe)) {
    const socket = env.NOTIFY_SOCKET;
    if (options.unsetEnv) delete env.NOTIFY_SOCKET;
    const result: NotifyResult = {
      sent: false,
      reason: 'send-failed',
      socket,
      error: systemError(pipe, 'pipe', `for a barrier on NOTIFY_SOCKET=${socket}`),
    };
    reportDelivery('BARRIER=1', result);
    return result;
  }
  const [readEnd, writeEnd] = pipe;
  let result: NotifyResult;
  try {
    result = notify('BARRIER=1', { ...options, fds: [writeEnd] });
  } finally {
    closeSync(writeEnd);
  }
  if (!result.sent) {
    closeSync(readEnd);
    return result;
  }
  const socket = result.socket;
  return new Promise<NotifyResult>((resolve, reject) => {
    const reader = new (builtin.net().Socket)({ fd: readEnd, readable: true, writable: false });
    const timer = setTimeout(() => {
      reader.destroy();
      reject(
        systemError(-errnoNumber('ETIMEDOUT'), 'barrier', `after ${timeoutMs} ms: NOTIFY_SOCKET=${socket} did not close the barrier fd`),
      );
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      reader.destroy();
      resolve(result);
    };
    reader.on('end', done);
    reader.on('close', done);
    reader.on('error', done);
    reader.resume();
  });
}
