// The fake manager itself: one notify socket standing for one service unit.
// It spawns runs of the service with the protocol's variables and fds, routes
// each notification to the run it belongs to, keeps the fd store across runs,
// and cleans everything up on close().
import { spawn as spawnChild } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';

import { failed, nativeBinding, nativeLoadError, systemError, type NativeBinding } from '../native.js';
import { parseUnixAddress, SUN_PATH_MAX } from '../unix-address.js';
import { checkDuration, DEFAULT_TIMEOUT_MS } from './clock.js';
import { FdStore, handledByStore, type FakeStoredFd } from './fd-store.js';
import { startService, type FakeKillMode, type FakeNotifyAccess, type FakeService, type ServiceControl } from './fake-service.js';
import { safeClose } from '../quiet-fd.js';
import type { FakeNotification, FakeViolation } from './notification.js';
import { NotifyReceiver, type IncomingNotification } from './notify-receiver.js';
import { belongsTo, isAlive } from './processes.js';
import { NOTIFY_ACCESS_VALUES } from './service-notify.js';
import { openSocket, removeStaleSocket, type FakeSocketSpec, type OpenedSocket } from './sockets.js';

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

/** Variables only the manager may set; inherited copies would point a daemon at the wrong manager. */
const PROTOCOL_VARIABLES = [
  'NOTIFY_SOCKET',
  'LISTEN_PID',
  'LISTEN_PIDFDID',
  'LISTEN_FDS',
  'LISTEN_FDNAMES',
  'WATCHDOG_PID',
  'WATCHDOG_USEC',
  'INVOCATION_ID',
];

/** For each manager not yet closed, how to kill what it still runs. */
const openManagers = new Set<() => void>();
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
  readonly #receiver: NotifyReceiver;
  readonly #ownsDir: boolean;
  readonly #socketPath: string | null;
  readonly #store: FdStore;
  readonly #services: FakeService[] = [];
  readonly #controls = new Map<FakeService, ServiceControl>();
  readonly #killAll = (): void => {
    for (const service of this.#services) this.#controls.get(service)!.forceKill();
  };
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
    if (!Number.isSafeInteger(fdStoreMax) || fdStoreMax < 0)
      throw new RangeError(`fdStoreMax must be a non-negative integer, got ${fdStoreMax}`);
    const ownsDir = options.dir === undefined;
    const dir = ownsDir ? await mkdtemp(join(shortTempBase(), 'sd-fake-')) : resolvePath(options.dir!);
    const address = options.abstract
      ? `@sd-daemon-runtime/fake-manager/${process.pid}-${randomBytes(6).toString('hex')}`
      : join(dir, 'notify');
    try {
      const parsed = parseUnixAddress(address);
      if (parsed.kind !== 'path' && parsed.kind !== 'abstract') {
        throw new RangeError(
          `FakeServiceManager: the notify socket ${address} ${parsed.kind === 'invalid' ? parsed.problem : 'is not a unix address'}; use a shorter dir`,
        );
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

  private constructor(
    binding: NativeBinding,
    fd: number,
    dir: string,
    ownsDir: boolean,
    address: string,
    socketPath: string | null,
    store: FdStore,
  ) {
    this.#binding = binding;
    this.dir = dir;
    this.#ownsDir = ownsDir;
    this.notifySocket = address;
    this.#socketPath = socketPath;
    this.#store = store;
    this.#receiver = new NotifyReceiver(
      binding,
      fd,
      (incoming) => this.#dispatch(incoming),
      (text) => this.#violations.push({ text, pid: null, message: null }),
    );
    openManagers.add(this.#killAll);
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
    if (!NOTIFY_ACCESS_VALUES.has(notifyAccess))
      throw new TypeError(`spawn: notifyAccess must be none, main, exec or all, got ${String(notifyAccess)}`);
    const killMode = options.killMode ?? 'control-group';
    if (!['control-group', 'mixed', 'process'].includes(killMode))
      throw new TypeError(`spawn: killMode must be control-group, mixed or process, got ${String(killMode)}`);
    const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    checkDuration('spawn: stopTimeoutMs', stopTimeoutMs);
    const watchdogUsec = toUsec(options.watchdogUsec);

    const opened: OpenedSocket[] = [];
    try {
      for (const spec of options.sockets ?? []) opened.push(await openSocket(spec, 3 + opened.length, this.dir, this.#unixPaths));
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
    const { service, control } = startService({
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
      drain: () => this.#receiver.drain(),
      report: (violation) => this.#violations.push(violation),
    });
    this.#services.push(service);
    this.#controls.set(service, control);
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
    for (const service of running) this.#controls.get(service)!.forceKill();
    let timer: NodeJS.Timeout | undefined;
    // SIGKILL cannot be ignored; the cap only guards against a process stuck in
    // the kernel, or a setsid() escapee holding a stdio pipe.
    await Promise.race([
      Promise.all(this.#services.map((service) => Promise.all([service.exited, this.#controls.get(service)!.outputClosed]))),
      new Promise((resolve) => (timer = setTimeout(resolve, DEFAULT_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    this.#receiver.drain();
    this.#receiver.close();
    this.#store.remove();
    for (const path of this.#unixPaths) removeStaleSocket(path);
    if (this.#socketPath) removeStaleSocket(this.#socketPath);
    if (this.#ownsDir) await rm(this.dir, { recursive: true, force: true });
    openManagers.delete(this.#killAll);
  }

  /** The rest of manager_dispatch_notify_fd(): find the service, hand the message over, close what nobody kept. */
  #dispatch({ message, barrier, utf8, problems }: IncomingNotification): void {
    const service = this.#serviceFor(message.pid);
    const control = service ? this.#controls.get(service)! : null;
    if (control) {
      control.receive(message, barrier, utf8);
    } else {
      if (message.accepted && !barrier) {
        message.accepted = false;
        message.rejection = `Cannot find unit for notify message of PID ${message.pid}, ignoring.`;
      }
      if (message.rejection !== null) this.#violations.push({ text: message.rejection, pid: message.pid, message });
    }

    // Closing a barrier's fd is its answer; any other fd the store did not keep goes too.
    for (const fd of message.fds) if (!fd.stored) safeClose(fd.fd);
    const leftovers = message.fds.filter((fd) => !handledByStore(fd));
    if (leftovers.length > 0 && !barrier) problems.push('Got extra auxiliary fds with notification message, closing them.');
    for (const text of problems) {
      if (control) control.violate(text, message);
      else this.#violations.push({ text, pid: message.pid, message });
    }
    this.#messages.push(message);
    control?.announce(message);
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
}

function toUsec(value: number | bigint | undefined): bigint | null {
  if (value === undefined) return null;
  if (typeof value === 'number' && (!Number.isSafeInteger(value) || value < 0))
    throw new RangeError(`spawn: watchdogUsec must be a non-negative integer, got ${value}`);
  const usec = BigInt(value);
  if (usec < 0n) throw new RangeError(`spawn: watchdogUsec must be a non-negative integer, got ${value}`);
  return usec === 0n ? null : usec;
}

/** A short temp dir: sun_path holds 107 bytes, and os.tmpdir() can be long. */
function shortTempBase(): string {
  const base = tmpdir();
  // 'sd-fake-XXXXXX/' plus room for a socket name of 40 bytes.
  return Buffer.byteLength(base) + 1 + 15 + 40 <= SUN_PATH_MAX - 1 ? base : '/tmp';
}

/** Leaves no daemon behind when a test run ends without close(): SIGKILL is synchronous. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const killAll of openManagers) killAll();
  });
}
