// A fake service manager for tests: it runs a daemon the way systemd runs a
// Type=notify service (NOTIFY_SOCKET, LISTEN_FDS/LISTEN_FDNAMES/LISTEN_PID,
// WATCHDOG_USEC/WATCHDOG_PID, the fd store) and records every notification
// with the sender's credentials, so a test can await READY=1, send signals and
// collect the exit status. Message handling follows systemd's
// service_notify_message() and manager_dispatch_notify_fd() (src/core/), and
// every warning systemd would log is kept as a violation a test can assert on.
//
// Limitations (what a fake without cgroups or PID 1 cannot do):
// - "The service's processes" means the process group of the spawned process
//   (it is started as a group leader) plus the current main PID. A process
//   that calls setsid() escapes it, as it would escape a KillMode= based on
//   process groups; under systemd the cgroup would still hold it.
// - A sender that has exited before its message is read cannot be traced to a
//   service; it is attributed to the only running service, if there is one.
// - Stored fds are not polled for POLLHUP/POLLERR (FDPOLL= is recorded only).
// - Each spawn binds fresh listening sockets; a .socket unit would keep them
//   across restarts. The fd store keeps sockets across spawns, as it does
//   under systemd.
// - NotifyAccess=exec behaves as main: there are no ExecStartPre=-style
//   control processes here.
import { isUtf8 } from 'node:buffer';
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { closeSync, fstatSync, linkSync, lstatSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';

import { failed, nativeBinding, nativeLoadError, systemError, type NativeBinding, type ReceivedMessage } from './native.js';
import { fdOf, isValidFdName, NOTIFY_MAX_BYTES, type FdSource } from './notify.js';
import { formatSunPath, parseUnixAddress, SUN_PATH_MAX } from './unix-address.js';

// ---------------------------------------------------------------------------
// Public types

/** NotifyAccess=: whose messages the manager acts on. */
export type FakeNotifyAccess = 'none' | 'main' | 'exec' | 'all';
/** KillMode=: who gets the stop signal (see FakeService.stop). */
export type FakeKillMode = 'control-group' | 'mixed' | 'process';
/** Where the service is in its life, as systemd's ActiveState/SubState sees it. */
export type FakeServiceState = 'starting' | 'ready' | 'reloading' | 'stopping' | 'exited';
/** systemd's Result= once the service has exited. */
export type FakeServiceResult = 'success' | 'exit-code' | 'signal' | 'watchdog' | 'timeout' | 'protocol';

export interface FakeServiceManagerOptions {
  /**
   * Directory for the notify socket (`<dir>/notify`) and for relative unix
   * socket paths. Default: a fresh directory under os.tmpdir() (or /tmp when
   * that is too long for a socket address), removed by close().
   */
  dir?: string;
  /** Bind the notify socket in the abstract namespace ('@...'): nothing appears on disk. */
  abstract?: boolean;
  /**
   * FileDescriptorStoreMax=: how many fds the store keeps (default 1024).
   * systemd's own default is 0, which disables the store: set it in your unit.
   */
  fdStoreMax?: number;
}

/** A listening socket the manager binds and hands over, like a .socket unit with FileDescriptorName=. */
export type FakeSocketSpec =
  | { name: string; tcp: { host?: string; port?: number; backlog?: number } }
  | { name: string; udp: { host?: string; port?: number } }
  /** An absolute path, a path relative to the manager's dir, or '@abstract'. */
  | { name: string; unix: string; backlog?: number }
  /** An fd you own (the manager neither binds nor closes it). */
  | { name: string; fd: FdSource };

/** A socket as handed to the daemon. */
export interface FakeSocket {
  name: string;
  /** Where the daemon finds it: 3 (SD_LISTEN_FDS_START) and up. */
  fd: number;
  kind: 'tcp' | 'udp' | 'unix' | 'fd';
  /** tcp/udp: the bound address and port (port 0 resolved to the real one). */
  host?: string;
  port?: number;
  family?: 'IPv4' | 'IPv6';
  /** unix: the bound path, or '@name' for an abstract socket. */
  path?: string;
}

export interface FakeServiceSpawnOptions {
  command: string;
  args?: readonly string[];
  cwd?: string;
  /**
   * Applied last, over the manager's own variables (`undefined` removes one),
   * so a test can hand a daemon a broken protocol on purpose, e.g. a wrong LISTEN_PID.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Start from process.env (default true), minus any protocol variables it holds. */
  inheritEnv?: boolean;
  /** 'notify' (default): ready on READY=1. 'simple': ready as soon as it runs. */
  type?: 'notify' | 'simple';
  /** NotifyAccess= (default 'main', the generated units' setting). */
  notifyAccess?: FakeNotifyAccess;
  /** Sockets handed over first, as LISTEN_FDS/LISTEN_FDNAMES, in this order. */
  sockets?: readonly FakeSocketSpec[];
  /** Hand the fd store over after the sockets (default true), as systemd does on every start. */
  passFdStore?: boolean;
  /** WatchdogSec= in microseconds: sets WATCHDOG_USEC and WATCHDOG_PID. */
  watchdogUsec?: number | bigint;
  /** Kill the service when the watchdog expires or on WATCHDOG=trigger (default false: only recorded). */
  enforceWatchdog?: boolean;
  /** WatchdogSignal= (default 'SIGABRT'). */
  watchdogSignal?: NodeJS.Signals;
  /** KillMode= (default 'control-group'). */
  killMode?: FakeKillMode;
  /** KillSignal=, sent by stop() (default 'SIGTERM'). */
  killSignal?: NodeJS.Signals;
  /** TimeoutStopSec= (and TimeoutAbortSec=) in milliseconds before SIGKILL (default 5000). */
  stopTimeoutMs?: number;
  /** 'pipe' (default): stdout/stderr are captured in `stdout`/`stderr`. stdin is always /dev/null. */
  stdio?: 'pipe' | 'inherit' | 'ignore';
}

/** One fd that arrived with a notification, as fstat and getsockname saw it on arrival. */
export interface FakeReceivedFd {
  /** The manager's descriptor: closed once the message is handled, unless `stored`. */
  fd: number;
  /** Kept in the fd store. */
  stored: boolean;
  type: 'socket' | 'fifo' | 'file' | 'directory' | 'character-device' | 'block-device' | 'other';
  dev: number;
  ino: number;
  socket?: {
    type: 'stream' | 'dgram' | 'seqpacket' | number;
    family: 'unix' | 'inet' | 'inet6' | number;
    listening: boolean;
    address?: string;
    port?: number;
    /** unix sockets: the bound path, '@name' when abstract, '' when unbound. */
    path?: string;
  };
}

/** An fd held in the store (FDSTORE=1). */
export interface FakeStoredFd extends FakeReceivedFd {
  /** FDNAME=, or 'stored' when none (or an invalid one) was given. */
  name: string;
  /** false when stored with FDPOLL=0. */
  poll: boolean;
  storedBy: number;
  storedAt: number;
}

/** One datagram received on the notify socket. */
export interface FakeNotification {
  /** The text exactly as received (one trailing NUL, which systemd tolerates, removed). */
  raw: string;
  /** The non-empty lines, split on \n and \r as systemd splits them. */
  lines: readonly string[];
  /** KEY=VALUE lines; a key sent twice keeps its first value, the one systemd reads. */
  fields: Readonly<Record<string, string>>;
  /** The sender, from SCM_CREDENTIALS (0 when the kernel sent none). */
  pid: number;
  uid: number;
  gid: number;
  fds: readonly FakeReceivedFd[];
  /** CLOCK_MONOTONIC in milliseconds (the clock of MONOTONIC_USEC, divided by 1000). */
  receivedAt: number;
  /** false when the manager ignored the message as a whole; `rejection` says why. */
  accepted: boolean;
  rejection: string | null;
}

/** A warning systemd would log about a notification (or about the service's protocol). */
export interface FakeViolation {
  text: string;
  pid: number | null;
  message: FakeNotification | null;
}

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

/**
 * What waitFor() waits for: 'READY=1' (a line, exactly), 'STATUS' (a field,
 * any value), { STATUS: /serving/ } (fields matching strings or patterns), or
 * a predicate.
 */
export type FakeNotificationMatch =
  | string
  | Readonly<Record<string, string | RegExp>>
  | ((message: FakeNotification) => boolean);

export interface FakeWaitOptions {
  /** Default 5000. */
  timeoutMs?: number;
  /** Index in `messages` to start from (default 0): pass messages.length to wait for a new one. */
  since?: number;
  /** Match rejected messages too (default false). */
  includeRejected?: boolean;
}

// ---------------------------------------------------------------------------
// Constants and small helpers

/** systemd's NOTIFY_BUFFER_MAX: a longer datagram is dropped as a whole. */
const NOTIFY_BUFFER_MAX = NOTIFY_MAX_BYTES;
/** Exits by these signals are clean, as in systemd's default SuccessExitStatus=. */
const CLEAN_SIGNALS: ReadonlySet<string> = new Set(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE']);
/** Variables only the manager may set; inherited copies would point a daemon at the wrong manager. */
const PROTOCOL_VARIABLES = ['NOTIFY_SOCKET', 'LISTEN_PID', 'LISTEN_PIDFDID', 'LISTEN_FDS', 'LISTEN_FDNAMES', 'WATCHDOG_PID', 'WATCHDOG_USEC', 'INVOCATION_ID'];
const NOTIFY_ACCESS_VALUES: ReadonlySet<string> = new Set(['none', 'main', 'exec', 'all']);
const DEFAULT_TIMEOUT_MS = 5000;
const OUTPUT_LIMIT = 1 << 20;
const DIGITS = /^[0-9]+$/;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** CLOCK_MONOTONIC in milliseconds. */
function nowMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

function monotonicUsecNow(): bigint {
  return process.hrtime.bigint() / 1000n;
}

/** /proc/<pid>/stat fields we need, or null when the process is gone. */
function procStat(pid: number): { state: string; ppid: number; pgrp: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain ') '.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]), pgrp: Number(rest[2]) };
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}

/** Whether `pid` descends from one of `ancestors` or sits in the process group led by `group`. */
function belongsTo(pid: number, ancestors: ReadonlySet<number>, group: number): boolean {
  let current = pid;
  for (let depth = 0; depth < 64 && current > 1; depth++) {
    const stat = procStat(current);
    if (stat === null) return false;
    if (depth === 0 && stat.pgrp === group) return true;
    if (ancestors.has(stat.ppid)) return true;
    current = stat.ppid;
  }
  return false;
}

function safeClose(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing left to release.
  }
}

function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  if (!(pid > 0 || pid < -1)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

const SOCKET_TYPES: Record<number, 'stream' | 'dgram' | 'seqpacket'> = { 1: 'stream', 2: 'dgram', 5: 'seqpacket' };
const SOCKET_FAMILIES: Record<number, 'unix' | 'inet' | 'inet6'> = { 1: 'unix', 2: 'inet', 10: 'inet6' };

/** What an fd is, read before the manager decides whether to keep it. */
function describeFd(binding: NativeBinding, fd: number): FakeReceivedFd {
  let type: FakeReceivedFd['type'] = 'other';
  let dev = 0;
  let ino = 0;
  try {
    const st = fstatSync(fd);
    dev = st.dev;
    ino = st.ino;
    if (st.isSocket()) type = 'socket';
    else if (st.isFIFO()) type = 'fifo';
    else if (st.isFile()) type = 'file';
    else if (st.isDirectory()) type = 'directory';
    else if (st.isCharacterDevice()) type = 'character-device';
    else if (st.isBlockDevice()) type = 'block-device';
  } catch {
    // fstat cannot fail on an fd we just received; keep 'other' if it does.
  }
  const described: FakeReceivedFd = { fd, stored: false, type, dev, ino };
  if (type === 'socket') {
    const info = binding.socketInfo(fd);
    if (!failed(info)) {
      described.socket = {
        type: SOCKET_TYPES[info.type] ?? info.type,
        family: SOCKET_FAMILIES[info.domain] ?? info.domain,
        listening: info.listening,
      };
      if (info.address !== undefined) described.socket.address = info.address;
      if (info.port !== undefined) described.socket.port = info.port;
      if (info.path !== undefined) described.socket.path = formatSunPath(info.path);
    }
  }
  return described;
}

/** Splits a datagram as systemd's strv_split(buf, NEWLINE) does: \n and \r separate, empty lines vanish. */
function parseLines(raw: string): { lines: string[]; fields: Record<string, string> } {
  const lines = raw.split(/[\r\n]+/).filter((line) => line.length > 0);
  const fields: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    // systemd reads the first occurrence (strv_find_startswith).
    if (!Object.hasOwn(fields, key)) fields[key] = line.slice(eq + 1);
  }
  return { lines, fields };
}

function toPredicate(match: FakeNotificationMatch): (message: FakeNotification) => boolean {
  if (typeof match === 'function') return match;
  if (typeof match === 'string') {
    if (match.includes('=')) return (message) => message.lines.includes(match);
    return (message) => Object.hasOwn(message.fields, match);
  }
  const wanted = Object.entries(match);
  return (message) =>
    wanted.every(([key, expected]) => {
      const value = message.fields[key];
      if (value === undefined) return false;
      return typeof expected === 'string' ? value === expected : expected.test(value);
    });
}

function describeMatch(match: FakeNotificationMatch): string {
  if (typeof match === 'function') return `a message accepted by ${match.name || 'the predicate'}`;
  if (typeof match === 'string') return match.includes('=') ? match : `a ${match}= field`;
  return Object.entries(match).map(([key, value]) => `${key}=${String(value)}`).join(' + ');
}

function parseErrno(text: string): number | null {
  if (DIGITS.test(text)) return Number(text);
  const named = (osConstants.errno as Record<string, number>)[text];
  return named ?? null;
}

/** A short temp dir: sun_path holds 107 bytes, and os.tmpdir() can be long. */
function shortTempBase(): string {
  const base = tmpdir();
  // 'sd-fake-XXXXXX/' plus room for a socket name of 40 bytes.
  return Buffer.byteLength(base) + 1 + 15 + 40 <= SUN_PATH_MAX - 1 ? base : '/tmp';
}

// ---------------------------------------------------------------------------
// The fd store

/** Received fds the store handled without keeping (duplicates): closed without a warning. */
const consumed = new WeakSet<FakeReceivedFd>();

/** FileDescriptorStore: newest first, the order systemd hands fds over in (it prepends). */
class FdStore {
  entries: FakeStoredFd[] = [];

  constructor(readonly max: number) {}

  add(received: FakeReceivedFd, name: string, poll: boolean, pid: number): 'stored' | 'duplicate' | 'full' {
    if (this.entries.length >= this.max) return 'full';
    // systemd suppresses the same open file stored twice (same_fd). dev+ino
    // identify a socket or pipe exactly; two opens of one regular file share
    // them, so those are kept apart.
    if (received.type === 'socket' || received.type === 'fifo') {
      const same = this.entries.find((e) => e.type === received.type && e.dev === received.dev && e.ino === received.ino);
      if (same) {
        consumed.add(received);
        return 'duplicate';
      }
    }
    received.stored = true;
    this.entries.unshift({ ...received, name, poll, storedBy: pid, storedAt: nowMs() });
    return 'stored';
  }

  remove(name?: string): number {
    const removed = this.entries.filter((e) => name === undefined || e.name === name);
    this.entries = this.entries.filter((e) => !removed.includes(e));
    for (const entry of removed) safeClose(entry.fd);
    return removed.length;
  }
}

// ---------------------------------------------------------------------------
// One spawned service

interface ServiceInit {
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

// Module-private doors into FakeService, assigned in its static block: the
// manager drives a service through them, users cannot.
let createService!: (init: ServiceInit) => FakeService;
let receiveMessage!: (service: FakeService, message: Mutable<FakeNotification>, barrier: boolean, utf8: boolean) => void;
let announceMessage!: (service: FakeService, message: FakeNotification) => void;
let addViolation!: (service: FakeService, text: string, message: FakeNotification | null) => void;
let forceKill!: (service: FakeService) => void;
let outputClosed!: (service: FakeService) => Promise<void>;

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
  #stdout = '';
  #stderr = '';
  #exit: FakeServiceExit | null = null;
  #resolveExit!: (exit: FakeServiceExit) => void;
  /** The child's stdio pipes are closed: all its output is in #stdout/#stderr. */
  readonly #outputClosed: Promise<void>;
  #mainWatch: { close(): void } | null = null;
  // Watchdog: deadline-based, so EXTEND_TIMEOUT_USEC= can push it out.
  #watchdogUsec: bigint | null;
  #watchdogDeadline: number | null = null;
  #watchdogTimer: NodeJS.Timeout | null = null;
  #pings = 0;
  #lastPingAt: number | null = null;
  #missed = 0;
  #triggers = 0;
  #killedAt: number | null = null;
  #watchdogFired = false;
  // Stop: SIGKILL once the deadline passes.
  #stopDeadline: number | null = null;
  #stopTimer: NodeJS.Timeout | null = null;
  #timedOut = false;

  static {
    createService = (init) => new FakeService(init);
    receiveMessage = (service, message, barrier, utf8) => service.#receive(message, barrier, utf8);
    announceMessage = (service, message) => {
      service.emit('message', message);
      service.emit('change');
    };
    addViolation = (service, text, message) => service.#violate(text, message);
    outputClosed = (service) => service.#outputClosed;
    forceKill = (service) => {
      if (service.#exit) return;
      service.#signalGroup('SIGKILL');
      sendSignal(service.#mainPid, 'SIGKILL');
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
    this.#watchdogUsec = init.watchdogUsec;
    this.#state = init.type === 'simple' ? 'ready' : 'starting';
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
    this.#outputClosed = new Promise((resolve) => init.child.once('close', () => resolve()));
    // Waiters come and go; a busy test can have many at once.
    this.setMaxListeners(0);

    init.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stdout = keepTail(this.#stdout + chunk);
      this.emit('change');
    });
    init.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = keepTail(this.#stderr + chunk);
      this.emit('change');
    });
    // The exit is recorded once the output pipes are read to their end, so a
    // test that awaits `exited` sees everything the daemon printed; a leftover
    // process still holding the pipes delays it by 500 ms at most.
    init.child.on('exit', (code, signal) => {
      void Promise.race([this.#outputClosed, delay(500)]).then(() => this.#onChildExit(code, signal));
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
    return {
      usec: this.#watchdogUsec,
      enforced: this.#init.enforceWatchdog,
      pings: this.#pings,
      lastPingAt: this.#lastPingAt,
      missed: this.#missed,
      triggers: this.#triggers,
      killedAt: this.#killedAt,
    };
  }

  /** Captured output (with stdio 'pipe'; the last MiB). */
  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
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
      const text = stream === 'stdout' ? this.#stdout : this.#stderr;
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
    const group = this.#signalGroup(signal);
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
    if (this.#exit || this.#stopDeadline !== null) return this.exited;
    const timeoutMs = options.timeoutMs ?? this.#init.stopTimeoutMs;
    checkDuration('stop: timeoutMs', timeoutMs);
    this.#enterStopping();
    this.#signalByMode(options.signal ?? this.#init.killSignal, 'terminate');
    this.#armStopTimer(timeoutMs);
    return this.exited;
  }

  /**
   * systemctl reload of a Type=notify-reload service: sends `signal` (default
   * SIGHUP), waits for RELOADING=1 with a MONOTONIC_USEC= taken after the
   * signal was sent, then for READY=1 (the same message may carry both).
   */
  async reload(options: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<{ reloading: FakeNotification; ready: FakeNotification }> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = nowMs() + timeoutMs;
    const since = this.#messages.length;
    const begin = monotonicUsecNow();
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

  #receive(message: Mutable<FakeNotification>, barrier: boolean, utf8: boolean): void {
    if (message.accepted && !barrier) {
      const refusal = this.#authorize(message.pid);
      if (refusal !== null) {
        message.accepted = false;
        message.rejection = refusal;
      }
    }
    if (message.rejection !== null) this.#violate(message.rejection, message);
    this.#messages.push(message);
    if (message.accepted && !barrier) this.#apply(message, utf8);
  }

  /** service_notify_message_authorized(). */
  #authorize(pid: number): string | null {
    if (this.#notifyAccess === 'none') return `Got notification message from PID ${pid}, but reception is disabled`;
    if (this.#notifyAccess !== 'all' && pid !== this.#mainPid) {
      return `Got notification message from PID ${pid}, but reception only permitted for main PID ${this.#mainPid}`;
    }
    return null;
  }

  /** service_notify_message(), field by field, in systemd's order. */
  #apply(message: FakeNotification, utf8: boolean): void {
    const { fields, lines } = message;
    const active = this.#state === 'starting' || this.#state === 'ready' || this.#state === 'reloading';

    if (fields.MAINPID !== undefined && active) this.#setMainPid(fields.MAINPID, message);

    let monotonic: bigint | null = null;
    if (fields.MONOTONIC_USEC !== undefined) {
      if (DIGITS.test(fields.MONOTONIC_USEC)) monotonic = BigInt(fields.MONOTONIC_USEC);
      else this.#violate(`Failed to parse MONOTONIC_USEC= field in notification message, ignoring: ${fields.MONOTONIC_USEC}`, message);
    }
    if (lines.includes('RELOADING=1')) {
      if (monotonic === null) {
        this.#violate('RELOADING=1 without MONOTONIC_USEC=: systemd cannot tell this reload from an earlier one, so a reload it requested (Type=notify-reload) waits until it times out', message);
      } else if (monotonic > monotonicUsecNow()) {
        this.#violate(`MONOTONIC_USEC=${monotonic} is ahead of CLOCK_MONOTONIC: it must come from the monotonic clock (process.hrtime.bigint() / 1000n), not the wall clock`, message);
      }
    }

    // STOPPING=1 wins over READY=1, and READY=1 over RELOADING=1.
    if (lines.includes('STOPPING=1')) {
      if (this.#state === 'ready' || this.#state === 'reloading') this.#enterStopping();
    } else if (lines.includes('READY=1')) {
      if (this.#state === 'starting') {
        this.#setState('ready');
        // service_enter_start_post(): the watchdog runs once start-up is complete.
        this.#resetWatchdog();
      } else if (this.#state === 'reloading') {
        this.#setState('ready');
      }
    } else if (lines.includes('RELOADING=1')) {
      if (this.#state === 'ready') this.#setState('reloading');
    }

    if (fields.STATUS !== undefined) {
      if (!utf8) {
        this.#violate('Status message in notification message is not UTF-8 clean, ignoring.', message);
      } else {
        this.#status = fields.STATUS === '' ? null : fields.STATUS;
      }
    }

    if (fields.NOTIFYACCESS !== undefined) {
      if (NOTIFY_ACCESS_VALUES.has(fields.NOTIFYACCESS)) this.#notifyAccess = fields.NOTIFYACCESS as FakeNotifyAccess;
      else this.#violate(`Failed to parse NOTIFYACCESS= field value '${fields.NOTIFYACCESS}' in notification message, ignoring`, message);
    }

    if (fields.ERRNO !== undefined) {
      const parsed = parseErrno(fields.ERRNO);
      if (parsed === null) this.#violate(`Failed to parse ERRNO= field value '${fields.ERRNO}' in notification message`, message);
      else this.#errno = parsed;
    }

    if (fields.EXTEND_TIMEOUT_USEC !== undefined) {
      if (DIGITS.test(fields.EXTEND_TIMEOUT_USEC)) this.#extendTimeouts(BigInt(fields.EXTEND_TIMEOUT_USEC));
      else this.#violate(`Failed to parse EXTEND_TIMEOUT_USEC=${fields.EXTEND_TIMEOUT_USEC}`, message);
    }

    if (fields.WATCHDOG !== undefined) {
      if (fields.WATCHDOG === '1') {
        this.#pings++;
        this.#lastPingAt = message.receivedAt;
        this.#resetWatchdog();
      } else if (fields.WATCHDOG === 'trigger') {
        this.#triggers++;
        this.#watchdogExpired();
      } else {
        this.#violate('Passed WATCHDOG= field is invalid, ignoring.', message);
      }
    }

    if (fields.WATCHDOG_USEC !== undefined) {
      if (DIGITS.test(fields.WATCHDOG_USEC)) {
        const usec = BigInt(fields.WATCHDOG_USEC);
        this.#watchdogUsec = usec === 0n ? null : usec;
        this.#resetWatchdog();
      } else {
        this.#violate(`Failed to parse WATCHDOG_USEC=${fields.WATCHDOG_USEC}`, message);
      }
    }

    // FDSTOREREMOVE=1 or FDSTORE=1, each with FDNAME=.
    const store = this.#init.store;
    if (lines.includes('FDSTOREREMOVE=1')) {
      const name = fields.FDNAME;
      if (name === undefined || !isValidFdName(name)) {
        this.#violate('FDSTOREREMOVE=1 requested, but no valid file descriptor name passed, ignoring.', message);
      } else {
        store.remove(name);
      }
    } else if (lines.includes('FDSTORE=1')) {
      let name = fields.FDNAME;
      if (name !== undefined && !isValidFdName(name)) {
        this.#violate('Passed FDNAME= name is invalid, ignoring.', message);
        name = undefined;
      }
      const poll = !lines.includes('FDPOLL=0');
      for (const fd of message.fds) {
        if (store.add(fd, name ?? 'stored', poll, message.pid) === 'full') {
          this.#violate(`Cannot store more fds than FileDescriptorStoreMax=${store.max}, closing remaining.`, message);
          break;
        }
      }
    }
  }

  /** MAINPID=, with service_is_suitable_main_pid()'s checks. */
  #setMainPid(text: string, message: FakeNotification): void {
    if (!DIGITS.test(text) || Number(text) <= 0) {
      this.#violate(`Failed to parse MAINPID=${text} field in notification message, ignoring`, message);
      return;
    }
    const pid = Number(text);
    if (pid === this.#mainPid) return;
    if (pid === process.pid) {
      this.#violate(`New main PID ${pid} is the manager itself, refusing.`, message);
      return;
    }
    if (!isAlive(pid)) {
      this.#violate(`New main PID ${pid} does not exist or is a zombie.`, message);
      return;
    }
    // Under systemd "belongs to the service" means "is in its cgroup"; here, in its process tree or group.
    if (!belongsTo(pid, new Set([this.pid, this.#mainPid]), this.pid) && message.uid !== 0) {
      this.#violate(`New main PID ${pid} does not belong to service, refusing.`, message);
      return;
    }
    this.#mainPid = pid;
    this.#unwatchMain();
    if (pid !== this.pid) this.#watchMain(pid);
  }

  /** A main process that is not our child: a pidfd becomes readable when it exits. */
  #watchMain(pid: number): void {
    const binding = this.#init.binding;
    const gone = (): void => {
      if (this.#mainPid === pid && !this.#exit) this.#mainGone();
    };
    const pidfd = binding.pidfdOpen(pid);
    if (!failed(pidfd)) {
      const watcher = new binding.FdWatcher(pidfd, gone);
      this.#mainWatch = {
        close: () => {
          watcher.close();
          safeClose(pidfd);
        },
      };
      return;
    }
    // Kernels before 5.3 have no pidfd: look every 50 ms.
    const timer = setInterval(() => {
      if (!isAlive(pid)) gone();
    }, 50);
    timer.unref();
    this.#mainWatch = { close: () => clearInterval(timer) };
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
    this.#clearWatchdog();
    this.#setState('stopping');
  }

  // -- watchdog ---------------------------------------------------------------

  #resetWatchdog(): void {
    this.#clearWatchdog();
    if (this.#watchdogUsec === null || this.#state === 'stopping' || this.#state === 'exited') return;
    this.#watchdogDeadline = nowMs() + Number(this.#watchdogUsec) / 1000;
    this.#armWatchdogTimer();
  }

  #armWatchdogTimer(): void {
    if (this.#watchdogDeadline === null) return;
    if (this.#watchdogTimer) clearTimeout(this.#watchdogTimer);
    this.#watchdogTimer = setTimeout(() => {
      this.#watchdogTimer = null;
      if (this.#watchdogDeadline === null) return;
      // A ping may be queued but not read yet; systemd runs the watchdog at idle priority for that reason.
      this.#init.drain();
      if (this.#watchdogDeadline === null) return;
      if (nowMs() < this.#watchdogDeadline) {
        this.#armWatchdogTimer();
        return;
      }
      this.#missed++;
      this.#watchdogDeadline = null;
      this.#watchdogExpired();
    }, Math.max(0, this.#watchdogDeadline - nowMs()));
    this.#watchdogTimer.unref();
  }

  #clearWatchdog(): void {
    if (this.#watchdogTimer) clearTimeout(this.#watchdogTimer);
    this.#watchdogTimer = null;
    this.#watchdogDeadline = null;
  }

  /** A missed deadline or WATCHDOG=trigger: with enforcement, the watchdog signal and Result=watchdog. */
  #watchdogExpired(): void {
    if (!this.#init.enforceWatchdog || this.#exit || this.#watchdogFired) {
      this.emit('change');
      return;
    }
    this.#watchdogFired = true;
    this.#killedAt = nowMs();
    this.#enterStopping();
    this.#signalByMode(this.#init.watchdogSignal, 'terminate');
    this.#armStopTimer(this.#init.stopTimeoutMs);
  }

  /** EXTEND_TIMEOUT_USEC=: neither the stop timeout nor the watchdog fires before now + usec. */
  #extendTimeouts(usec: bigint): void {
    if (usec === 0n) return;
    const until = nowMs() + Number(usec) / 1000;
    if (this.#stopDeadline !== null && this.#stopDeadline < until) this.#stopDeadline = until;
    if (this.#watchdogDeadline !== null && this.#watchdogDeadline < until) this.#watchdogDeadline = until;
  }

  // -- stopping ---------------------------------------------------------------

  #armStopTimer(timeoutMs: number): void {
    this.#stopDeadline = nowMs() + timeoutMs;
    const arm = (): void => {
      if (this.#stopDeadline === null) return;
      this.#stopTimer = setTimeout(() => {
        this.#stopTimer = null;
        if (this.#exit || this.#stopDeadline === null) return;
        if (nowMs() < this.#stopDeadline) {
          arm();
          return;
        }
        this.#timedOut = true;
        this.#signalByMode('SIGKILL', 'kill');
      }, Math.max(0, this.#stopDeadline - nowMs()));
      this.#stopTimer.unref();
    };
    arm();
  }

  /** KillMode=: control-group signals everyone; mixed only the main process, until SIGKILL; process only the main process. */
  #signalByMode(signal: NodeJS.Signals, phase: 'terminate' | 'kill'): void {
    const mode = this.#init.killMode;
    if (mode === 'control-group' || (mode === 'mixed' && phase === 'kill')) this.#signalGroup(signal);
    sendSignal(this.#mainPid, signal);
  }

  /** The process group the spawned process leads (detached), standing in for the cgroup. */
  #signalGroup(signal: NodeJS.Signals): boolean {
    return sendSignal(-this.pid, signal);
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
    this.#clearWatchdog();
    if (this.#stopTimer) clearTimeout(this.#stopTimer);
    this.#stopTimer = null;
    const clean = code === 0 || (signal !== null && CLEAN_SIGNALS.has(signal)) || (code === null && signal === null);
    let result: FakeServiceResult;
    if (this.#watchdogFired) result = 'watchdog';
    else if (this.#timedOut) result = 'timeout';
    else if (!clean) result = code !== null ? 'exit-code' : 'signal';
    // A Type=notify service that ends cleanly before READY=1 never became active.
    else if (this.#state === 'starting' && this.#init.type === 'notify') result = 'protocol';
    else result = 'success';
    const exit: FakeServiceExit = { pid: this.#mainPid, code, signal, result };
    this.#exit = exit;
    this.#stopDeadline = null;
    // What is left of the service goes, as its cgroup would be emptied (KillMode=process leaves it).
    if (this.#init.killMode !== 'process') this.#signalGroup('SIGKILL');
    this.#setState('exited');
    this.#resolveExit(exit);
    this.emit('exit', exit);
    this.emit('change');
  }

  // -- waiting ----------------------------------------------------------------

  #until<T>(what: string, timeoutMs: number | undefined, check: () => T | undefined): Promise<T> {
    const limit = timeoutMs ?? DEFAULT_TIMEOUT_MS;
    checkDuration('timeoutMs', limit);
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const finish = (): void => {
        if (timer) clearTimeout(timer);
        this.off('change', onChange);
      };
      const onChange = (): void => {
        const value = check();
        if (value !== undefined) {
          finish();
          resolve(value);
        } else if (this.#exit) {
          finish();
          // Output still in the pipe belongs in the error; a leftover holding the pipe must not stall it.
          void Promise.race([this.#outputClosed, delay(500)]).then(() => reject(this.#failure(`exited before ${what}`)));
        }
      };
      this.on('change', onChange);
      timer = setTimeout(() => {
        finish();
        reject(this.#failure(`timed out after ${limit} ms waiting for ${what}`));
      }, limit);
      onChange();
    });
  }

  /** An error that carries what a test author needs to see why. */
  #failure(what: string): Error {
    const exit = this.#exit;
    const lines = [`FakeService (pid ${this.pid}): ${what}`];
    lines.push(exit ? `  exited: code ${exit.code}, signal ${exit.signal}, result ${exit.result}` : `  state: ${this.#state}`);
    const last = this.#messages.slice(-5).map((m) => `    ${JSON.stringify(m.raw)}${m.accepted ? '' : ` (rejected: ${m.rejection})`}`);
    lines.push(last.length ? `  last messages:\n${last.join('\n')}` : '  no messages received');
    const violations = this.#violations.slice(-5).map((v) => `    ${v.text}`);
    if (violations.length) lines.push(`  violations:\n${violations.join('\n')}`);
    const stderr = this.#stderr.slice(-2000).trimEnd();
    if (stderr) lines.push(`  stderr:\n${stderr.replace(/^/gm, '    ')}`);
    return new Error(lines.join('\n'));
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function keepTail(text: string): string {
  return text.length > OUTPUT_LIMIT ? text.slice(-OUTPUT_LIMIT) : text;
}

function checkDuration(what: string, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${what} must be a duration in milliseconds, got ${ms}`);
}

// ---------------------------------------------------------------------------
// The manager

interface OpenedSocket {
  socket: FakeSocket;
  fd: number;
  /** Closes the manager's copy once the daemon holds its own. */
  release(): void;
}

const openManagers = new Set<FakeServiceManager>();
let exitHookInstalled = false;

/**
 * Runs daemons as systemd would, for tests. One manager stands for one
 * service unit: spawn() is a start, and spawning again after an exit is a
 * restart (the fd store carries over). Always close() it, typically in an
 * after/afterEach hook: that kills what is still running and releases every
 * fd and file. Until then the notify socket keeps the event loop alive, as a
 * listening server does. Should a test run end without close(), the
 * services still running are killed when the process exits.
 *
 * @example
 * const manager = await FakeServiceManager.create();
 * const daemon = await manager.spawn({ command: process.execPath, args: ['dist/main.js'],
 *   sockets: [{ name: 'http', tcp: { host: '127.0.0.1', port: 0 } }] });
 * await daemon.waitFor('READY=1');
 * const exit = await daemon.stop(); // { code: 0, signal: null, result: 'success', ... }
 * await manager.close();
 */
export class FakeServiceManager {
  /** The address to put in NOTIFY_SOCKET: a path, or '@name' when abstract. */
  readonly notifySocket: string;
  /** Where the notify socket and relative unix sockets live. */
  readonly dir: string;

  readonly #binding: NativeBinding;
  #fd: number;
  #watcher: { close(): void } | null;
  readonly #ownsDir: boolean;
  readonly #socketPath: string | null;
  readonly #store: FdStore;
  readonly #services: FakeService[] = [];
  readonly #messages: FakeNotification[] = [];
  readonly #violations: FakeViolation[] = [];
  readonly #unixPaths = new Set<string>();
  #closing: Promise<void> | null = null;

  /**
   * Binds the notify socket. Throws when the native addon is missing (the
   * manager needs recvmsg with SO_PASSCRED), when `dir` is too long for a
   * socket address, or when the bind fails.
   */
  static async create(options: FakeServiceManagerOptions = {}): Promise<FakeServiceManager> {
    const native = nativeBinding();
    if (!native) {
      throw new Error(
        'FakeServiceManager needs the sd-daemon-runtime native addon (recvmsg with SO_PASSCRED to read notifications and their senders), ' +
          `and it is not loaded: ${nativeLoadError()?.message ?? 'unknown reason'}`,
      );
    }
    const fdStoreMax = options.fdStoreMax ?? 1024;
    if (!Number.isSafeInteger(fdStoreMax) || fdStoreMax < 0) throw new RangeError(`fdStoreMax must be a non-negative integer, got ${fdStoreMax}`);
    const ownsDir = options.dir === undefined;
    const dir = ownsDir ? await mkdtemp(join(shortTempBase(), 'sd-fake-')) : resolvePath(options.dir!);
    const address = options.abstract
      ? `@sd-daemon-runtime/fake-manager/${process.pid}-${randomBytes(6).toString('hex')}`
      : join(dir, 'notify');
    try {
      const parsed = parseUnixAddress(address);
      if (parsed.kind !== 'path' && parsed.kind !== 'abstract') {
        throw new RangeError(`FakeServiceManager: the notify socket ${address} ${parsed.kind === 'invalid' ? parsed.problem : 'is not a unix address'}; use a shorter dir`);
      }
      if (parsed.kind === 'path') removeStaleSocket(address);
      const fd = native.bindDgram(parsed.sunPath);
      if (failed(fd)) throw systemError(fd, 'bind', `notify socket ${address}`, address);
      return new FakeServiceManager(native, fd, dir, ownsDir, address, parsed.kind === 'path' ? address : null, new FdStore(fdStoreMax));
    } catch (error) {
      if (ownsDir) await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  private constructor(binding: NativeBinding, fd: number, dir: string, ownsDir: boolean, address: string, socketPath: string | null, store: FdStore) {
    this.#binding = binding;
    this.#fd = fd;
    this.dir = dir;
    this.#ownsDir = ownsDir;
    this.notifySocket = address;
    this.#socketPath = socketPath;
    this.#store = store;
    const watcher = new binding.FdWatcher(fd, () => this.#drain());
    this.#watcher = watcher;
    openManagers.add(this);
    installExitHook();
  }

  /** Every datagram received, including ones no service claimed. */
  get messages(): readonly FakeNotification[] {
    return this.#messages;
  }

  /** Every service spawned, in order. */
  get services(): readonly FakeService[] {
    return this.#services;
  }

  /** Every warning systemd would log, for all services and for unclaimed messages. */
  get violations(): readonly FakeViolation[] {
    return this.#violations;
  }

  /**
   * The fd store, in the order the next spawn hands it over (after the
   * sockets): newest first, as systemd does. Look fds up by name, not position.
   */
  get fdStore(): readonly FakeStoredFd[] {
    return this.#store.entries;
  }

  /** The stored fds with this FDNAME=. */
  storedFds(name: string): FakeStoredFd[] {
    return this.#store.entries.filter((entry) => entry.name === name);
  }

  /** Closes stored fds (all, or those named `name`), like `systemctl clean --what=fdstore`. Returns how many. */
  removeStoredFds(name?: string): number {
    return this.#store.remove(name);
  }

  /**
   * Starts a daemon: binds `sockets`, sets NOTIFY_SOCKET, LISTEN_FDS,
   * LISTEN_FDNAMES, LISTEN_PID, WATCHDOG_USEC, WATCHDOG_PID and INVOCATION_ID,
   * and spawns `command` as the leader of a new process group with the fds at
   * 3... LISTEN_PID and WATCHDOG_PID must be the daemon's own pid, which only
   * exists after fork, so the command then runs through
   * `sh -c 'LISTEN_PID=$$ ...; exec "$0" "$@"'` (exec keeps the pid).
   */
  async spawn(options: FakeServiceSpawnOptions): Promise<FakeService> {
    if (this.#closing) throw new Error('FakeServiceManager: spawn() after close()');
    if (typeof options?.command !== 'string' || options.command === '') throw new TypeError('spawn: command must be a non-empty string');
    const args = [...(options.args ?? [])];
    const notifyAccess = options.notifyAccess ?? 'main';
    if (!NOTIFY_ACCESS_VALUES.has(notifyAccess)) throw new TypeError(`spawn: notifyAccess must be none, main, exec or all, got ${String(notifyAccess)}`);
    const killMode = options.killMode ?? 'control-group';
    if (!['control-group', 'mixed', 'process'].includes(killMode)) throw new TypeError(`spawn: killMode must be control-group, mixed or process, got ${String(killMode)}`);
    const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    checkDuration('spawn: stopTimeoutMs', stopTimeoutMs);
    const watchdogUsec = toUsec(options.watchdogUsec);

    const opened: OpenedSocket[] = [];
    try {
      for (const spec of options.sockets ?? []) opened.push(await this.#openSocket(spec, 3 + opened.length));
    } catch (error) {
      for (const socket of opened) socket.release();
      throw error;
    }
    const stored = options.passFdStore === false ? [] : [...this.#store.entries];
    const fds = [...opened.map((o) => o.fd), ...stored.map((s) => s.fd)];
    const names = [...opened.map((o) => o.socket.name), ...stored.map((s) => s.name)];

    const env: Record<string, string> = {};
    if (options.inheritEnv !== false) {
      for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    }
    for (const key of PROTOCOL_VARIABLES) delete env[key];
    const invocationId = randomBytes(16).toString('hex');
    const protocol: Record<string, string> = { NOTIFY_SOCKET: this.notifySocket, INVOCATION_ID: invocationId };
    if (fds.length > 0) {
      protocol.LISTEN_FDS = String(fds.length);
      protocol.LISTEN_FDNAMES = names.join(':');
    }
    if (watchdogUsec !== null) protocol.WATCHDOG_USEC = watchdogUsec.toString();
    Object.assign(env, protocol);
    const overrides = options.env ?? {};
    for (const [key, value] of Object.entries(overrides)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }

    // Variables that must hold the daemon's own pid are set by the shell that becomes it.
    const ownPid = [...(fds.length > 0 ? ['LISTEN_PID'] : []), ...(watchdogUsec !== null ? ['WATCHDOG_PID'] : [])].filter(
      (name) => !Object.hasOwn(overrides, name),
    );
    const [file, argv]: [string, string[]] =
      ownPid.length > 0
        ? ['/bin/sh', ['-c', `export ${ownPid.map((name) => `${name}=$$`).join(' ')}; exec "$0" "$@"`, options.command, ...args]]
        : [options.command, args];
    const output = options.stdio ?? 'pipe';
    const child = spawnChild(file, argv, {
      cwd: options.cwd,
      env,
      stdio: ['ignore', output, output, ...fds],
      // Its own process group stands in for the service's cgroup.
      detached: true,
    });
    // The daemon holds its own copies now; ours go, so that only the daemon accepts on them.
    for (const socket of opened) socket.release();
    if (child.pid === undefined) {
      const [error] = (await once(child, 'error')) as [Error];
      throw error;
    }
    for (const name of ownPid) protocol[name] = String(child.pid);
    for (const key of Object.keys(protocol)) if (Object.hasOwn(overrides, key)) delete protocol[key];
    const service = createService({
      child,
      pid: child.pid,
      invocationId,
      sockets: opened.map((o) => o.socket),
      listenFdNames: names,
      environment: protocol,
      type: options.type ?? 'notify',
      notifyAccess,
      watchdogUsec,
      enforceWatchdog: options.enforceWatchdog ?? false,
      watchdogSignal: options.watchdogSignal ?? 'SIGABRT',
      killMode,
      killSignal: options.killSignal ?? 'SIGTERM',
      stopTimeoutMs,
      binding: this.#binding,
      store: this.#store,
      drain: () => this.#drain(),
      report: (violation) => this.#violations.push(violation),
    });
    this.#services.push(service);
    return service;
  }

  /**
   * Kills every service still running (SIGKILL to its process group and main
   * PID), then closes the notify socket and every received and stored fd,
   * and removes the socket files and the temp dir it created. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const running = this.#services.filter((service) => service.exitInfo === null);
    for (const service of running) forceKill(service);
    let timer: NodeJS.Timeout | undefined;
    // SIGKILL cannot be ignored; the cap only guards against a process stuck in
    // the kernel, or a setsid() escapee holding a stdio pipe.
    await Promise.race([
      Promise.all(this.#services.map((service) => Promise.all([service.exited, outputClosed(service)]))),
      new Promise((resolve) => (timer = setTimeout(resolve, DEFAULT_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    this.#drain();
    this.#watcher?.close();
    this.#watcher = null;
    safeClose(this.#fd);
    this.#fd = -1;
    this.#store.remove();
    for (const path of this.#unixPaths) removeStaleSocket(path);
    if (this.#socketPath) removeStaleSocket(this.#socketPath);
    if (this.#ownsDir) await rm(this.dir, { recursive: true, force: true });
    openManagers.delete(this);
  }

  /** Reads until EAGAIN: one readiness callback may stand for many datagrams. */
  #drain(): void {
    while (this.#fd >= 0 && this.#watcher) {
      const received = this.#binding.recvmsg(this.#fd, NOTIFY_BUFFER_MAX);
      if (typeof received === 'number') {
        if (received === -osConstants.errno.EAGAIN || received === -osConstants.errno.EINTR) return;
        // A real error would wake us forever; systemd stops reading the socket too.
        this.#violations.push({ text: `Failed to receive notification message: ${systemError(received, 'recvmsg').message}`, pid: null, message: null });
        this.#watcher.close();
        this.#watcher = null;
        return;
      }
      this.#receive(received);
    }
  }

  /** manager_dispatch_notify_fd(): validate, answer barriers, find the service, hand over. */
  #receive(received: ReceivedMessage): void {
    const fds = received.fds.map((fd) => describeFd(this.#binding, fd));
    let data = received.data;
    let rejection: string | null = null;
    if (received.pid === null || received.pid <= 0) {
      rejection = 'Received notify message without valid credentials. Ignoring.';
    } else if (received.truncated) {
      rejection = `Received notify message exceeded maximum size (${NOTIFY_BUFFER_MAX} bytes). Ignoring.`;
    } else {
      const nul = data.indexOf(0);
      if (nul !== -1 && nul < data.length - 1) rejection = 'Received notify message with embedded NUL bytes. Ignoring.';
      else if (nul === data.length - 1) data = data.subarray(0, -1);
    }
    const raw = data.toString('utf8');
    const { lines, fields } = parseLines(raw);
    const message: Mutable<FakeNotification> = {
      raw,
      lines,
      fields,
      pid: received.pid ?? 0,
      uid: received.uid ?? -1,
      gid: received.gid ?? -1,
      fds,
      receivedAt: nowMs(),
      accepted: rejection === null,
      rejection,
    };
    const service = this.#serviceFor(message.pid);
    // A barrier is answered before any unit lookup or NotifyAccess= check: closing its fd is the answer.
    const barrier = rejection === null && lines.includes('BARRIER=1');
    const problems: string[] = [];
    if (received.controlTruncated) problems.push('Some file descriptors sent with the notification message were lost (MSG_CTRUNC).');
    if (barrier && lines.length !== 1) problems.push('Extra notification messages sent with BARRIER=1, ignoring everything.');
    else if (barrier && fds.length !== 1) problems.push('Got incorrect number of fds with BARRIER=1, closing them.');

    if (service) {
      receiveMessage(service, message, barrier, isUtf8(data));
    } else {
      if (message.accepted && !barrier) {
        message.accepted = false;
        message.rejection = `Cannot find unit for notify message of PID ${message.pid}, ignoring.`;
      }
      if (message.rejection !== null) this.#violations.push({ text: message.rejection, pid: message.pid, message });
    }

    for (const fd of fds) if (!fd.stored) safeClose(fd.fd);
    const leftovers = fds.filter((fd) => !fd.stored && !consumed.has(fd));
    if (leftovers.length > 0 && !barrier) problems.push('Got extra auxiliary fds with notification message, closing them.');
    for (const text of problems) {
      if (service) addViolation(service, text, message);
      else this.#violations.push({ text, pid: message.pid, message });
    }
    this.#messages.push(message);
    if (service) announceMessage(service, message);
  }

  /** Which service a sender belongs to: its main process, its process tree, or the only one running. */
  #serviceFor(pid: number): FakeService | null {
    if (pid <= 0 || pid === process.pid) return null;
    const running = this.#services.filter((service) => service.exitInfo === null);
    const byPid = running.find((service) => service.mainPid === pid || service.pid === pid);
    if (byPid) return byPid;
    const inTree = running.find((service) => belongsTo(pid, new Set([service.pid, service.mainPid]), service.pid));
    if (inTree) return inTree;
    if (running.length === 1 && !isAlive(pid)) return running[0]!;
    // Late words of a service that has just ended.
    for (let i = this.#services.length - 1; i >= 0; i--) {
      const service = this.#services[i]!;
      if (service.mainPid === pid || service.pid === pid) return service;
    }
    return null;
  }

  async #openSocket(spec: FakeSocketSpec, fdNumber: number): Promise<OpenedSocket> {
    if (!spec || typeof spec.name !== 'string' || !isValidFdName(spec.name)) {
      throw new TypeError(`spawn: socket name ${JSON.stringify(spec?.name)} is not a valid FileDescriptorName= (printable ASCII except ':', at most 255)`);
    }
    const name = spec.name;
    if ('fd' in spec) {
      return { socket: { name, fd: fdNumber, kind: 'fd' }, fd: fdOf(spec.fd), release: () => {} };
    }
    if ('tcp' in spec) {
      const server = net.createServer();
      await listen(server, { host: spec.tcp.host ?? '127.0.0.1', port: spec.tcp.port ?? 0, backlog: spec.tcp.backlog });
      const address = server.address() as net.AddressInfo;
      return {
        socket: { name, fd: fdNumber, kind: 'tcp', host: address.address, port: address.port, family: address.family === 'IPv6' ? 'IPv6' : 'IPv4' },
        fd: fdOf(server),
        release: () => server.close(),
      };
    }
    if ('udp' in spec) {
      const host = spec.udp.host ?? '127.0.0.1';
      const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: host, port: spec.udp.port ?? 0 }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      const address = socket.address();
      return {
        socket: { name, fd: fdNumber, kind: 'udp', host: address.address, port: address.port, family: address.family === 'IPv6' ? 'IPv6' : 'IPv4' },
        fd: fdOf(socket),
        release: () => socket.close(),
      };
    }
    if ('unix' in spec) {
      const text = spec.unix;
      const abstract = text.startsWith('@');
      const path = abstract || isAbsolute(text) ? text : join(this.dir, text);
      const parsed = parseUnixAddress(path);
      if (parsed.kind !== 'path' && parsed.kind !== 'abstract') {
        throw new RangeError(`spawn: unix socket ${JSON.stringify(path)} ${parsed.kind === 'invalid' ? parsed.problem : 'is not a unix address'}`);
      }
      // Like a .socket unit, replace a stale socket file left by an earlier run.
      if (!abstract) removeStaleSocket(path);
      const server = net.createServer();
      await listen(server, { path: abstract ? `\0${text.slice(1)}` : path, backlog: spec.backlog });
      if (!abstract) this.#unixPaths.add(path);
      return {
        socket: { name, fd: fdNumber, kind: 'unix', path },
        fd: fdOf(server),
        release: () => (abstract ? server.close() : closeKeepingPath(server, path)),
      };
    }
    throw new TypeError(`spawn: socket ${JSON.stringify(name)} needs one of tcp, udp, unix or fd`);
  }
}

function toUsec(value: number | bigint | undefined): bigint | null {
  if (value === undefined) return null;
  if (typeof value === 'number' && (!Number.isSafeInteger(value) || value < 0)) throw new RangeError(`spawn: watchdogUsec must be a non-negative integer, got ${value}`);
  const usec = BigInt(value);
  if (usec < 0n) throw new RangeError(`spawn: watchdogUsec must be a non-negative integer, got ${value}`);
  return usec === 0n ? null : usec;
}

function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Closes our copy of a listening unix socket without losing its path: libuv
 * unlinks the path of a pipe server it closes, and the daemon still serves
 * there. A hard link keeps the socket's name across the close.
 */
function closeKeepingPath(server: net.Server, path: string): void {
  const keep = `${path}.keep-${process.pid}`;
  try {
    linkSync(path, keep);
  } catch {
    server.close();
    return;
  }
  server.close();
  renameSync(keep, path);
}

/** Unlinks `path` if it is a socket (never a regular file someone put there). */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there.
  }
}

/** Leaves no daemon behind when a test run ends without close(): SIGKILL is synchronous. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const manager of openManagers) {
      for (const service of manager.services) forceKill(service);
    }
  });
}
