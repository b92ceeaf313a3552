// The sandboxing directives a generated .service carries, per hardening level,
// scope and target systemd version, as data: the generator renders each as
// `# comment` above `Key=value`. Every directive of `strict` and `baseline` was
// seen working under a real systemd 252 manager with a Node 20 daemon built on
// sd-daemon-runtime (start, READY=1, HTTP on a socket-activated listener,
// watchdog pings, reload, clean stop): test/e2e/hardening.test.ts proves it
// again on every run. What breaks Node, and how, is in UNIT_HARDENING_FACTS.
//
// The sets are written once, for the newest systemd; hardeningFor() then fits
// them to the target through the table in systemd-versions.ts: a directive the
// target does not know is left out (and reported, with the release that adds
// it), @pkey becomes its three calls by name before 244, and a user unit
// before 245 keeps only what needs no namespace. The exposure of each result,
// as systemd-analyze 252 rates it, is MEASURED_EXPOSURE below.
import { BEHAVIOURS, introducedIn, knows } from './systemd-versions.js';

export type HardeningLevel = 'strict' | 'baseline' | 'none';
export type HardeningScope = 'system' | 'user';
export type SocketKind = 'tcp' | 'udp' | 'unix';

export interface HardeningOptions {
  level: HardeningLevel;
  scope: HardeningScope;
  /** The unit has DynamicUser=yes (emitted by the caller; system scope only). */
  dynamicUser: boolean;
  /**
   * The kinds of the .socket unit's listeners (empty: no socket unit). Checked,
   * but no directive depends on them: a passed socket needs no address family
   * (see RestrictAddressFamilies= in UNIT_HARDENING_FACTS); onlySocketActivated decides.
   */
  socketKinds: SocketKind[];
  /** Every listener comes from the .socket unit, so the daemon needs no network of its own: PrivateNetwork=yes. */
  onlySocketActivated: boolean;
  /** Already escaped for a unit file by the caller; rendered as-is into one ReadWritePaths= line. */
  writablePaths?: string[];
  /** The systemd the unit is written for; absent: the newest (every directive of the level). */
  systemdVersion?: number;
}

/** A directive of the level that the target systemd lacks, and the release that has it. */
export interface LeftOut {
  key: string;
  value: string;
  since: number;
  /** Why it is left out, in words (for the unit comment and the README). */
  why: string;
}

export interface Directive {
  key: string;
  value: string;
  /** One line: what the directive does to the service. */
  comment: string;
}

/** What was measured here (systemd 252, Node 20, kernel 6.x, x86-64), directive by directive. */
export interface HardeningFact {
  directive: string;
  /** What happened to the daemon, with the manager's exit status when it died. */
  finding: string;
  /** Where it stands: in strict, in baseline, or left out and why. */
  decision: string;
}

export const UNIT_HARDENING_FACTS: readonly HardeningFact[] = [
  {
    directive: 'MemoryDenyWriteExecute=yes',
    finding:
      "V8's JIT needs writable+executable code pages: node dies before READY=1 with code=killed, status=5/TRAP " +
      '("Fatal error ... Check failed: 12 == errno" in Factory::CodeBuilder::AllocateInstructionStream, the Sparkplug baseline compiler). ' +
      'With `node --jitless` the daemon passes the whole lifecycle. But --jitless removes WebAssembly, so fetch() (undici loads llhttp as WASM) ' +
      'throws "ReferenceError: WebAssembly is not defined" and the process exits 1; every start prints "Warning: disabling flag --expose_wasm"; ' +
      'and JavaScript runs slower: pure-JS CPU work (recursion, sort, string hashing) 2.5x slower (365 ms -> 955 ms), a mixed JSON workload 1.3x (420 -> 560 ms), ' +
      '10 000 keep-alive HTTP requests against a node server 1.2-1.3x (840 -> 1100 ms); start-up unchanged (~70 ms).',
    decision:
      'left out of strict (no --jitless): the 0.1 it would take off the exposure score does not pay for a broken fetch() and slower JavaScript',
  },
  {
    directive: 'SystemCallFilter=@system-service',
    finding:
      'alone, with the default action, node is killed at start-up by SIGSYS (code=killed, status=31/SYS): V8 calls pkey_alloc, which is in @pkey. ' +
      '`@system-service @pkey` runs the whole lifecycle even with the kill action, and with `~@privileged @resources` removed as well ' +
      '(Node raises RLIMIT_NOFILE through prlimit64, which is in @default, so ~@resources keeps that working). ' +
      'With SystemCallErrorNumber=EPERM, @system-service alone also runs: pkey_alloc fails with EPERM and V8 goes on without memory protection keys. ' +
      'No release puts the pkey calls in @system-service (`systemd-analyze syscall-filter @system-service` of 247, 252 and 257), and @pkey only exists from 244 on; ' +
      '`@system-service pkey_alloc pkey_free pkey_mprotect` (the calls by name) runs the whole lifecycle with the kill action too, where @system-service alone is killed 31/SYS (both measured here, 252).',
    decision:
      'strict: @system-service @pkey (from 244; before, the three calls by name), then ~@privileged @resources, SystemCallErrorNumber=EPERM ' +
      '(an unexpected call fails instead of killing); os.setPriority() then fails with EPERM',
  },
  {
    directive: 'RestrictAddressFamilies=',
    finding:
      'without AF_UNIX, every sd_notify fails (sendmsg EAFNOSUPPORT): the unit stays "activating" until TimeoutStartSec= and the watchdog is never fed. ' +
      'Sockets inherited from a .socket unit need no family at all (the filter is on socket(2)): HTTP on an activated TCP listener, an activated UDP socket ' +
      '(receive and reply) and an activated unix stream socket all work under AF_UNIX alone. os.networkInterfaces() needs AF_NETLINK, else it throws ' +
      'ERR_SYSTEM_ERROR "uv_interface_addresses returned Unknown system error 97"; dns.lookup() and net.connect() to "localhost" work without it.',
    decision:
      'strict: AF_UNIX only when every listener is socket-activated (PrivateNetwork=yes leaves nothing to make an Internet socket for), else AF_UNIX AF_INET AF_INET6; ' +
      'no AF_NETLINK. baseline: AF_UNIX AF_INET AF_INET6 AF_NETLINK',
  },
  {
    directive: 'PrivateNetwork=yes',
    finding:
      'a purely socket-activated daemon serves HTTP (TCP) and UDP through its inherited sockets; it can make no outgoing connection except to its own private loopback',
    decision: 'strict, only when onlySocketActivated',
  },
  {
    directive: 'ProcSubset=pid',
    finding:
      'the daemon runs; os.cpus() returns [] (it reads /proc/stat and /proc/cpuinfo), os.availableParallelism(), os.loadavg(), os.totalmem() and os.uptime() still work',
    decision: 'strict, system scope (size pools with os.availableParallelism(), not os.cpus().length)',
  },
  {
    directive: 'PrivateUsers=yes',
    finding:
      'works with DynamicUser=yes and for a root service (uid_map "0 0 1"). It is what lets an unprivileged user manager set up the namespaces ' +
      '(ProtectSystem=, PrivateTmp=, PrivateDevices=, PrivateNetwork=, ProtectKernel*=, ...) and drop capabilities (systemd.exec(5)); the e2e manager here runs as root, ' +
      'so an unprivileged user manager itself could not be exercised. Files of users other than root and the service appear owned by nobody, and supplementary groups do not apply.',
    decision: 'strict and baseline for user scope (baseline needs it for its namespacing); strict for system scope',
  },
  {
    directive: 'ProtectProc=, ProcSubset=, ProtectControlGroups=, RemoveIPC=, DynamicUser=',
    finding:
      'systemd.exec(5), 252: "only available for system services and is not supported for services running in per-user instances of the service manager"',
    decision:
      'never emitted for user scope; DevicePolicy= (cgroup device control, which an unprivileged user manager lacks) is left out there too, PrivateDevices= already gives a minimal /dev',
  },
  {
    directive: 'ProtectHome=yes',
    finding:
      'hides /home, /root and /run/user: WorkingDirectory=/root fails with 200/CHDIR before node starts (measured); a node binary (nvm) or an app under them ' +
      'cannot be executed or read either. ProtectHome=read-only with PrivateUsers=yes runs there.',
    decision: 'strict system scope; user scope (whose code usually lives in $HOME) and baseline use read-only',
  },
  {
    directive: 'ProtectSystem=full with DynamicUser=yes',
    finding: 'DynamicUser=yes forces ProtectSystem=strict whatever the unit says (systemd-analyze security reports strict either way)',
    decision: 'baseline writes ProtectSystem=strict when DynamicUser=yes, so the unit says what is in force',
  },
  {
    directive: 'IPAddressDeny=any',
    finding:
      'enforced here (the BPF firewall works on this hybrid cgroup machine: a connection to 127.0.0.1 from inside the service times out). ' +
      'systemd.resource-control(5): the service\'s list "is not applied to any sockets passed into the service via socket activation", and indeed ' +
      'HTTP on an activated TCP listener and replies on an activated UDP socket pass under it. On a service that binds its own listener it would ' +
      'block serving: the right allow-list (IPAddressAllow=) belongs to the deployment.',
    decision:
      'strict, system scope, only when every listener is socket-activated (it then denies what PrivateNetwork= already confines; 0.2 less exposure). ' +
      'Not for user scope: an unprivileged user manager skips the BPF firewall (bpf-firewall.c: geteuid() != 0, "Not enough privileges"). No IPAddressAllow=localhost by default',
  },
];

const directive = (key: string, value: string, comment: string): Directive => ({ key, value, comment });

const LEVELS: readonly HardeningLevel[] = ['strict', 'baseline', 'none'];
const SCOPES: readonly HardeningScope[] = ['system', 'user'];
const SOCKET_KINDS: readonly SocketKind[] = ['tcp', 'udp', 'unix'];

function check(options: HardeningOptions): void {
  if (!LEVELS.includes(options.level))
    throw new TypeError(`hardeningDirectives: level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(options.level)}`);
  if (!SCOPES.includes(options.scope))
    throw new TypeError(`hardeningDirectives: scope must be one of ${SCOPES.join(', ')}, got ${JSON.stringify(options.scope)}`);
  for (const kind of options.socketKinds) {
    if (!SOCKET_KINDS.includes(kind))
      throw new TypeError(`hardeningDirectives: socket kind must be one of ${SOCKET_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  if (options.scope === 'user' && options.dynamicUser) {
    throw new TypeError(
      'hardeningDirectives: DynamicUser= is not supported by user managers (systemd.exec(5)); dynamicUser must be false for scope "user"',
    );
  }
  const version = options.systemdVersion;
  if (version !== undefined && !Number.isInteger(version))
    throw new TypeError(`hardeningDirectives: systemdVersion must be an integer, got ${JSON.stringify(version)}`);
  for (const p of options.writablePaths ?? []) {
    // The caller escapes; this only refuses what would end the line or the value.
    if (p === '' || /[\n\r\0]/.test(p))
      throw new TypeError(`hardeningDirectives: writable path ${JSON.stringify(p)} is empty or contains a newline or NUL`);
  }
}

function writable(paths: string[] | undefined): Directive[] {
  if (!paths || paths.length === 0) return [];
  return [directive('ReadWritePaths', paths.join(' '), 'the paths the service may write to, despite the read-only file system')];
}

/** Directives strict and baseline share, word for word. */
const SHARED = {
  privateTmp: directive('PrivateTmp', 'yes', 'private /tmp and /var/tmp, removed when the service stops'),
  privateDevices: directive('PrivateDevices', 'yes', 'a minimal /dev without physical devices'),
  protectKernelTunables: directive('ProtectKernelTunables', 'yes', '/proc/sys, /sys and similar kernel settings are read-only'),
  protectKernelModules: directive('ProtectKernelModules', 'yes', 'no loading or reading of kernel modules'),
  protectKernelLogs: directive('ProtectKernelLogs', 'yes', 'no access to the kernel log ring buffer'),
  protectControlGroups: directive('ProtectControlGroups', 'yes', 'the cgroup file system is read-only'),
  protectClock: directive('ProtectClock', 'yes', 'the system and hardware clocks cannot be set'),
  protectHostname: directive('ProtectHostname', 'yes', 'the host name cannot be changed'),
  noNewPrivileges: directive('NoNewPrivileges', 'yes', 'no privileges gained through execve() (setuid binaries, file capabilities)'),
  restrictRealtime: directive('RestrictRealtime', 'yes', 'no realtime scheduling'),
  restrictSUIDSGID: directive('RestrictSUIDSGID', 'yes', 'no setuid or setgid files can be made'),
  lockPersonality: directive('LockPersonality', 'yes', 'the execution domain (personality) is locked'),
  systemCallArchitectures: directive('SystemCallArchitectures', 'native', 'system calls of the native ABI only'),
  systemCallErrorNumber: directive('SystemCallErrorNumber', 'EPERM', 'a filtered call fails with EPERM instead of killing the process'),
} as const;

/** `strict`: the strongest set under which the daemon still does everything it must. */
function strict(options: HardeningOptions): Directive[] {
  const system = options.scope === 'system';
  const lines: Directive[] = [];
  if (!system) {
    lines.push(
      directive(
        'PrivateUsers',
        'yes',
        'own user namespace: lets a user manager apply the namespacing below, and the service holds no capability on the host',
      ),
    );
  }
  lines.push(
    directive('ProtectSystem', 'strict', 'the whole file system is read-only, except the API file systems'),
    system
      ? directive('ProtectHome', 'yes', '/home, /root and /run/user are empty and inaccessible')
      : directive('ProtectHome', 'read-only', '/home, /root and /run/user are read-only (a user service runs from $HOME)'),
    ...writable(options.writablePaths),
    SHARED.privateTmp,
    SHARED.privateDevices,
  );
  if (system) lines.push(directive('DevicePolicy', 'closed', 'only the pseudo devices (null, zero, random, ...) may be opened'));
  lines.push(
    directive('PrivateIPC', 'yes', 'own System V IPC and POSIX message queue namespace'),
    directive('PrivateMounts', 'yes', 'own mount namespace: mounts neither leak in nor out'),
  );
  if (system)
    lines.push(
      directive('PrivateUsers', 'yes', 'own user namespace: the service holds no capability on the host and sees other users as nobody'),
    );
  if (options.onlySocketActivated) {
    lines.push(directive('PrivateNetwork', 'yes', 'no network but a private loopback: every listener comes from the socket unit'));
    // An unprivileged user manager skips the BPF firewall behind IPAddressDeny=.
    if (system)
      lines.push(
        directive('IPAddressDeny', 'any', "no IP traffic on sockets the service opens itself (the socket unit's listeners are exempt)"),
      );
  }
  lines.push(...kernelProtections(system));
  if (system) {
    lines.push(
      directive('ProtectProc', 'invisible', "other users' processes are hidden in /proc"),
      directive(
        'ProcSubset',
        'pid',
        '/proc shows processes only, no kernel interfaces (os.cpus() is empty; use os.availableParallelism())',
      ),
    );
  }
  lines.push(
    SHARED.noNewPrivileges,
    directive('CapabilityBoundingSet', '', 'no capabilities at all'),
    directive('AmbientCapabilities', '', 'no ambient capabilities passed to the process'),
    directive('RestrictNamespaces', 'yes', 'no new namespaces of any kind'),
    SHARED.restrictRealtime,
    SHARED.restrictSUIDSGID,
    SHARED.lockPersonality,
    directive('KeyringMode', 'private', 'own kernel session keyring, shared with no other service'),
  );
  if (system) lines.push(directive('RemoveIPC', 'yes', "the IPC objects of the service's user go when it stops"));
  lines.push(
    directive('UMask', '0077', 'files the service creates are readable by its own user only'),
    options.onlySocketActivated
      ? directive(
          'RestrictAddressFamilies',
          'AF_UNIX',
          'new sockets: AF_UNIX only, for sd_notify (the socket unit passes the listeners ready-made)',
        )
      : directive(
          'RestrictAddressFamilies',
          'AF_UNIX AF_INET AF_INET6',
          'new sockets: AF_UNIX (sd_notify) and IP; no netlink, so os.networkInterfaces() throws',
        ),
    SHARED.systemCallArchitectures,
    directive(
      'SystemCallFilter',
      '@system-service @pkey',
      'allow the calls of an ordinary service, plus memory protection keys (V8 calls pkey_alloc)',
    ),
    directive('SystemCallFilter', '~@privileged @resources', 'then take away the privileged and resource-control calls'),
    SHARED.systemCallErrorNumber,
  );
  return lines;
}

/** Kernel tunables, modules, log, cgroups (in system scope, as both measured sets have it), clock and host name: all read-only. Shared by strict and baseline, in this order. */
function kernelProtections(system: boolean): Directive[] {
  return [
    SHARED.protectKernelTunables,
    SHARED.protectKernelModules,
    SHARED.protectKernelLogs,
    ...(system ? [SHARED.protectControlGroups] : []),
    SHARED.protectClock,
    SHARED.protectHostname,
  ];
}

/** `baseline`: what almost any daemon survives, including ones that spawn tools, use netlink or connect out. */
function baseline(options: HardeningOptions): Directive[] {
  const system = options.scope === 'system';
  const lines: Directive[] = [];
  if (!system) {
    lines.push(directive('PrivateUsers', 'yes', 'own user namespace: lets a user manager apply the namespacing below'));
  }
  lines.push(
    SHARED.noNewPrivileges,
    // DynamicUser=yes forces strict anyway; saying "full" there would misstate the unit.
    options.dynamicUser
      ? directive('ProtectSystem', 'strict', 'the whole file system is read-only, except the API file systems (DynamicUser= implies it)')
      : directive('ProtectSystem', 'full', '/usr, /boot, /efi and /etc are read-only'),
    directive('ProtectHome', 'read-only', '/home, /root and /run/user are read-only'),
    ...writable(options.writablePaths),
    SHARED.privateTmp,
    SHARED.privateDevices,
    ...kernelProtections(system),
    SHARED.restrictRealtime,
    SHARED.restrictSUIDSGID,
    SHARED.lockPersonality,
    directive(
      'RestrictAddressFamilies',
      'AF_UNIX AF_INET AF_INET6 AF_NETLINK',
      'new sockets: AF_UNIX (sd_notify), IP and netlink (os.networkInterfaces()) only',
    ),
    SHARED.systemCallArchitectures,
    directive(
      'SystemCallFilter',
      '~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap',
      'deny the calls no service needs: clock setting, debugging, modules, mounts, raw I/O, reboot, swap',
    ),
    SHARED.systemCallErrorNumber,
  );
  return lines;
}

/** The level's directives for the newest systemd, in the order to render them. */
function fullSet(options: HardeningOptions): Directive[] {
  switch (options.level) {
    case 'strict':
      return strict(options);
    case 'baseline':
      return baseline(options);
    case 'none':
      return [];
  }
}

/**
 * What a user manager can only apply inside the user namespace PrivateUsers=
 * gives it, which it has from 245 on (BEHAVIOURS.userNamespacing): the
 * namespacing settings, and dropping capabilities, which an unprivileged
 * process holds none of anyway.
 */
const USER_NAMESPACED = new Set([
  'PrivateUsers',
  'ProtectSystem',
  'ProtectHome',
  'ReadWritePaths',
  'PrivateTmp',
  'PrivateDevices',
  'PrivateIPC',
  'PrivateMounts',
  'PrivateNetwork',
  'ProtectKernelTunables',
  'ProtectKernelModules',
  'ProtectKernelLogs',
  'ProtectClock',
  'ProtectHostname',
  'CapabilityBoundingSet',
  'AmbientCapabilities',
]);

const PKEY_CALLS = 'pkey_alloc pkey_free pkey_mprotect';

/** One directive of the full set on the target: kept, rewritten to what the target understands, or left out. */
function fit(d: Directive, options: HardeningOptions, version: number): Directive | LeftOut {
  if (options.scope === 'user' && version < BEHAVIOURS.userNamespacing.since && USER_NAMESPACED.has(d.key)) {
    return {
      key: d.key,
      value: d.value,
      since: BEHAVIOURS.userNamespacing.since,
      why: 'a user manager applies it only inside PrivateUsers=, which it supports from 245 on',
    };
  }
  // Node needs the pkey calls whatever the target (V8 calls pkey_alloc): by name where the group is unknown.
  if (d.key === 'SystemCallFilter' && d.value.split(' ').includes('@pkey') && !knows(version, 'SystemCallFilter', '@pkey')) {
    return {
      key: d.key,
      value: d.value.replace('@pkey', PKEY_CALLS),
      comment:
        'allow the calls of an ordinary service, plus the memory protection key calls by name (V8 calls pkey_alloc; the @pkey group needs systemd 244)',
    };
  }
  if (!knows(version, d.key, d.value)) {
    const since = introducedIn(d.key, d.value);
    return { key: d.key, value: d.value, since, why: `needs systemd ${since}` };
  }
  return d;
}

const isLeftOut = (x: Directive | LeftOut): x is LeftOut => 'since' in x;

/**
 * The hardening directives of a .service for the options' level, scope and
 * target systemd (in the order to render them), and what the level has that
 * the target lacks. `none` is an empty list. Throws a TypeError for options
 * that cannot be (an unknown level, scope or socket kind, DynamicUser in a
 * user manager, a writable path with a newline, a key missing from the table
 * of versions).
 */
export function hardeningFor(options: HardeningOptions): { directives: Directive[]; leftOut: LeftOut[] } {
  check(options);
  const version = options.systemdVersion ?? Infinity;
  const fitted = fullSet(options).map((d) => fit(d, options, version));
  return { directives: fitted.filter((x): x is Directive => !isLeftOut(x)), leftOut: fitted.filter(isLeftOut) };
}

/** hardeningFor(options).directives. */
export function hardeningDirectives(options: HardeningOptions): Directive[] {
  return hardeningFor(options).directives;
}

/** The left-out directives by release, oldest first: "242: ProtectHostname=yes, RestrictSUIDSGID=yes". */
export function leftOutByRelease(leftOut: LeftOut[]): string[] {
  const byRelease = new Map<number, string[]>();
  for (const d of [...leftOut].sort((a, b) => a.since - b.since)) {
    const list = byRelease.get(d.since) ?? [];
    list.push(`${d.key}=${d.value}`);
    byRelease.set(d.since, list);
  }
  return [...byRelease].map(([since, list]) => `${since}: ${list.join(', ')}`);
}

/** Who the service runs as, as systemd-analyze scores it: DynamicUser=yes, a named User=, or (user scope) the manager's user. */
export type ExposureIdentity = 'dynamic' | 'named' | 'user-manager';

export interface ExposureConfig {
  level: HardeningLevel;
  identity: ExposureIdentity;
  onlySocketActivated: boolean;
}

/**
 * The releases from which the emitted units differ (the `since` of each
 * fitted directive): a target between two of them gets the units of the lower.
 * test/generator/verify.test.ts proves that every version from 239 to 260 emits
 * the same units as its step.
 */
export const EXPOSURE_STEPS: readonly number[] = [239, 242, 244, 245, 247, 248];

/**
 * `systemd-analyze security --offline=true` overall exposure (0 best, 10
 * worst), measured with systemd 252 (Debian 12) on the complete .service the
 * generator writes (Type=notify, one TCP listener), per EXPOSURE_STEPS.
 * 252's analyzer rates the settings 252 knows: the 253+ units are the 248 units
 * (nothing newer is emitted), and nothing newer than 252 is rated.
 * test/generator/verify.test.ts measures them all again and fails on any difference.
 * A named user other than these (User=root) is not measured.
 */
export const MEASURED_EXPOSURE: Readonly<Record<string, readonly number[]>> = {
  //                                       239  242  244  245  247  248+
  'strict dynamic socket-activated': [0.6, 0.6, 0.5, 0.4, 0.2, 0.2],
  'strict dynamic own-listener': [1.5, 1.5, 1.3, 1.3, 1.1, 1.1],
  'strict named socket-activated': [0.8, 0.6, 0.5, 0.4, 0.2, 0.2],
  'strict named own-listener': [1.7, 1.5, 1.3, 1.3, 1.1, 1.1],
  'strict user-manager socket-activated': [6.1, 5.9, 5.9, 1.2, 1.2, 1.2],
  'strict user-manager own-listener': [6.4, 6.2, 6.2, 1.9, 1.9, 1.9],
  'baseline dynamic socket-activated': [5.0, 5.0, 4.8, 4.5, 4.5, 4.5],
  'baseline dynamic own-listener': [5.0, 5.0, 4.8, 4.5, 4.5, 4.5],
  'baseline named socket-activated': [5.3, 5.1, 4.8, 4.6, 4.6, 4.6],
  'baseline named own-listener': [5.3, 5.1, 4.8, 4.6, 4.6, 4.6],
  'baseline user-manager socket-activated': [7.6, 7.4, 7.4, 5.1, 5.1, 5.1],
  'baseline user-manager own-listener': [7.6, 7.4, 7.4, 5.1, 5.1, 5.1],
  'none dynamic socket-activated': [8.4, 8.4, 8.4, 8.4, 8.4, 8.4],
  'none dynamic own-listener': [8.4, 8.4, 8.4, 8.4, 8.4, 8.4],
  'none named socket-activated': [9.2, 9.2, 9.2, 9.2, 9.2, 9.2],
  'none named own-listener': [9.2, 9.2, 9.2, 9.2, 9.2, 9.2],
  'none user-manager socket-activated': [9.8, 9.8, 9.8, 9.8, 9.8, 9.8],
  'none user-manager own-listener': [9.8, 9.8, 9.8, 9.8, 9.8, 9.8],
};

export function exposureKey(config: ExposureConfig): string {
  return `${config.level} ${config.identity} ${config.onlySocketActivated ? 'socket-activated' : 'own-listener'}`;
}

/** The step a target's units are those of: the newest EXPOSURE_STEPS entry at or below it. */
export function exposureStep(systemdVersion: number): number {
  return [...EXPOSURE_STEPS].reverse().find((step) => step <= systemdVersion) ?? EXPOSURE_STEPS[0]!;
}

/** The measured exposure of a configuration on a target, or undefined when it was not measured. */
export function measuredExposure(config: ExposureConfig, systemdVersion: number): number | undefined {
  return MEASURED_EXPOSURE[exposureKey(config)]?.[EXPOSURE_STEPS.indexOf(exposureStep(systemdVersion))];
}
