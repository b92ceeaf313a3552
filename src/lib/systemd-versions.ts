// Which systemd knows which unit-file setting: the one table the generator
// consults before it emits a key or a value (hardening.ts, context.ts), so a
// unit written for systemd N carries nothing N does not know and relies on no
// behaviour N does not have. A key missing here is a programming error:
// introducedIn() throws, and test/generator/hardening.test.ts checks every
// emitted line of every target against this table.
//
// Sources, quoted in each entry: systemd's NEWS ("NEWS 242": the release
// whose section announces it), the "Added in version N" notes of the man pages
// shipped with systemd 257 (systemd.exec(5), systemd.service(5), systemd.unit(5),
// systemd.socket(5), systemd.resource-control(5): "man 257"), and, where NEWS
// is silent, the merged pull request. Settings older than 183 carry no version
// in the man pages; they are marked 0.

export interface Since {
  /** The first systemd release that understands it (0: before 183, unrecorded). */
  since: number;
  source: string;
}

/**
 * How a key's value is checked: `free` (paths, text, numbers: any value the key
 * takes), `bool` (yes/no), `enum` (the whole value must be listed in VALUES),
 * `list` (every space-separated word, a leading `~` dropped, must be listed).
 */
export type ValueKind = 'free' | 'bool' | 'enum' | 'list';

export interface KeyEntry extends Since {
  values: ValueKind;
}

/** The oldest systemd accepted as a target: RHEL 8's 239, the oldest still supported on an enterprise distro. */
export const OLDEST_SYSTEMD_VERSION = 239;
/**
 * The default target: 239 cannot produce a unit that breaks on RHEL 8 (239),
 * Ubuntu 20.04 (245), Debian 11 (247), Debian 12 (252) or anything newer; ask
 * for newer (--systemd-version) to get the newer protections and Type=notify-reload.
 */
export const DEFAULT_SYSTEMD_VERSION = 239;
/** The targets the tests generate for: each release that changes what is emitted, and the distributions' versions. */
export const TESTED_TARGETS: readonly number[] = [239, 240, 242, 244, 245, 247, 248, 249, 252, 253, 255, 257];
/** Where distributions stand, for messages and the prompt. */
export const DISTRIBUTIONS =
  'RHEL 8: 239, Ubuntu 20.04: 245, Debian 11: 247, RHEL 9: 252, Debian 12: 252, Ubuntu 24.04: 255, Debian 13: 257';

const OLD = (page: string): string => `${page}: no version recorded (before 183)`;
/** A key older than 183: the man page `page` records no version. */
const old = (page: string, values: ValueKind): KeyEntry => ({ since: 0, values, source: OLD(page) });
/** A key NEWS announces in release `since`, for which man 257 says "Added in version `since`" too: the sources agree. */
const news = (since: number, values: ValueKind): KeyEntry => ({ since, values, source: `NEWS ${since}; man 257: ${since}` });
/** A key NEWS does not announce; man 257 says "Added in version `since`". */
const man = (since: number, values: ValueKind): KeyEntry => ({ since, values, source: `man 257: ${since}` });

export const KEYS: Readonly<Record<string, KeyEntry>> = {
  // [Unit]
  Description: old('systemd.unit(5)', 'free'),
  Documentation: old('systemd.unit(5)', 'free'),
  Requires: old('systemd.unit(5)', 'free'),
  After: old('systemd.unit(5)', 'free'),
  StartLimitIntervalSec: {
    since: 229,
    values: 'free',
    source: 'NEWS 229 (moved to [Unit], renamed from StartLimitInterval=); man 257: 229',
  },
  StartLimitBurst: { since: 229, values: 'free', source: 'NEWS 229 (moved to [Unit]); man 257: 229' },
  // [Install]
  WantedBy: old('systemd.unit(5)', 'free'),
  // [Service]
  Type: old('systemd.service(5)', 'enum'),
  PIDFile: old('systemd.service(5)', 'free'),
  RuntimeDirectory: man(211, 'free'),
  NotifyAccess: old('systemd.service(5)', 'enum'),
  ExecStart: old('systemd.service(5)', 'free'),
  ExecReload: old('systemd.service(5)', 'free'),
  WorkingDirectory: old('systemd.exec(5)', 'free'),
  Environment: old('systemd.exec(5)', 'free'),
  WatchdogSec: old('systemd.service(5)', 'free'),
  Restart: old('systemd.service(5)', 'enum'),
  RestartPreventExitStatus: man(189, 'free'),
  TimeoutStopSec: man(188, 'free'),
  FileDescriptorStoreMax: man(219, 'free'),
  DynamicUser: news(232, 'bool'),
  User: old('systemd.exec(5)', 'free'),
  // Sandboxing (systemd.exec(5), systemd.resource-control(5)).
  ProtectSystem: news(214, 'enum'),
  ProtectHome: news(214, 'enum'),
  ReadWritePaths: news(231, 'free'),
  PrivateTmp: old('systemd.exec(5)', 'bool'),
  PrivateDevices: man(209, 'bool'),
  DevicePolicy: { since: 208, values: 'enum', source: 'man 257 (systemd.resource-control): 208' },
  PrivateIPC: news(248, 'bool'),
  PrivateMounts: news(239, 'bool'),
  PrivateUsers: { since: 232, values: 'bool', source: 'NEWS 232; man 257: 232 (in a user manager: 245, see BEHAVIOURS)' },
  PrivateNetwork: old('systemd.exec(5)', 'bool'),
  IPAddressDeny: { since: 235, values: 'enum', source: 'NEWS 235; man 257 (systemd.resource-control): 235' },
  ProtectKernelTunables: news(232, 'bool'),
  ProtectKernelModules: news(232, 'bool'),
  ProtectKernelLogs: news(244, 'bool'),
  ProtectControlGroups: news(232, 'bool'),
  ProtectClock: news(245, 'bool'),
  ProtectHostname: news(242, 'bool'),
  ProtectProc: news(247, 'enum'),
  ProcSubset: news(247, 'enum'),
  NoNewPrivileges: man(187, 'bool'),
  CapabilityBoundingSet: old('systemd.exec(5)', 'free'),
  AmbientCapabilities: news(229, 'free'),
  RestrictNamespaces: news(233, 'bool'),
  RestrictRealtime: news(231, 'bool'),
  RestrictSUIDSGID: news(242, 'bool'),
  LockPersonality: news(235, 'bool'),
  KeyringMode: news(235, 'enum'),
  RemoveIPC: news(232, 'bool'),
  UMask: old('systemd.exec(5)', 'free'),
  RestrictAddressFamilies: man(211, 'list'),
  SystemCallArchitectures: man(209, 'enum'),
  SystemCallFilter: man(187, 'list'),
  SystemCallErrorNumber: man(209, 'enum'),
  // [Socket]
  ListenStream: old('systemd.socket(5)', 'free'),
  ListenDatagram: old('systemd.socket(5)', 'free'),
  FileDescriptorName: news(227, 'free'),
};

/** Values of `enum` and `list` keys, `Key=word`: the release that understands the word. */
export const VALUES: Readonly<Record<string, Since>> = {
  'Type=simple': { since: 0, source: OLD('systemd.service(5)') },
  'Type=forking': { since: 0, source: OLD('systemd.service(5)') },
  'Type=notify': { since: 0, source: OLD('systemd.service(5)') },
  'Type=exec': { since: 240, source: 'NEWS 240: "A new service type Type=exec"' },
  'Type=notify-reload': { since: 253, source: 'NEWS 253: "A new service type Type=notify-reload is defined"' },
  'NotifyAccess=main': { since: 0, source: OLD('systemd.service(5)') },
  'Restart=no': { since: 0, source: OLD('systemd.service(5)') },
  'Restart=on-success': { since: 0, source: OLD('systemd.service(5)') },
  'Restart=on-failure': { since: 0, source: OLD('systemd.service(5)') },
  'Restart=on-abort': { since: 0, source: OLD('systemd.service(5)') },
  'Restart=always': { since: 0, source: OLD('systemd.service(5)') },
  'Restart=on-watchdog': { since: 207, source: 'NEWS 207' },
  'Restart=on-abnormal': { since: 214, source: 'NEWS 214' },
  'ProtectSystem=strict': { since: 232, source: 'NEWS 232: "ProtectSystem= option gained a new value strict"' },
  'ProtectSystem=full': { since: 214, source: 'NEWS 214' },
  'ProtectHome=yes': { since: 214, source: 'NEWS 214' },
  'ProtectHome=read-only': { since: 214, source: 'NEWS 214' },
  'DevicePolicy=closed': { since: 208, source: 'man 257 (systemd.resource-control): 208' },
  'IPAddressDeny=any': { since: 235, source: 'NEWS 235' },
  'ProtectProc=invisible': { since: 247, source: 'NEWS 247' },
  'ProcSubset=pid': { since: 247, source: 'NEWS 247' },
  'KeyringMode=private': { since: 235, source: 'NEWS 235' },
  'SystemCallArchitectures=native': { since: 209, source: 'man 257: 209' },
  'SystemCallErrorNumber=EPERM': { since: 209, source: 'man 257: 209' },
  'RestrictAddressFamilies=AF_UNIX': { since: 211, source: 'man 257: 211' },
  'RestrictAddressFamilies=AF_INET': { since: 211, source: 'man 257: 211' },
  'RestrictAddressFamilies=AF_INET6': { since: 211, source: 'man 257: 211' },
  'RestrictAddressFamilies=AF_NETLINK': { since: 211, source: 'man 257: 211' },
  // System call groups. @system-service came with systemd/systemd#8766 (merged June 2018, released in 239; NEWS is silent).
  'SystemCallFilter=@system-service': { since: 239, source: 'systemd/systemd#8766, released in 239 (NEWS 241 already edits it)' },
  'SystemCallFilter=@pkey': { since: 244, source: 'NEWS 244: "A new @pkey system call group is now defined"' },
  'SystemCallFilter=@privileged': { since: 231, source: 'NEWS 231: "pre-defined, named system call filter sets"' },
  'SystemCallFilter=@resources': {
    since: 234,
    source: 'NEWS is silent; in use on systemd 234 (systemd/systemd#6952), so no later than 234',
  },
  'SystemCallFilter=@clock': { since: 231, source: 'NEWS 231' },
  'SystemCallFilter=@cpu-emulation': { since: 231, source: 'NEWS 231' },
  'SystemCallFilter=@debug': { since: 231, source: 'NEWS 231' },
  'SystemCallFilter=@module': { since: 231, source: 'NEWS 231' },
  'SystemCallFilter=@mount': { since: 231, source: 'NEWS 231' },
  'SystemCallFilter=@obsolete': { since: 231, source: 'NEWS 231' },
  'SystemCallFilter=@raw-io': { since: 231, source: 'NEWS 231' },
  'SystemCallFilter=@reboot': { since: 233, source: 'NEWS 233: "Group @reboot has been added"' },
  'SystemCallFilter=@swap': { since: 233, source: 'NEWS 233: "group @swap has been added"' },
  // Named calls: SystemCallFilter= has taken names since 187; libseccomp resolves them (2.4+, as RHEL 8 and Debian 11 ship).
  'SystemCallFilter=pkey_alloc': { since: 187, source: 'a call by name (man 257: 187); libseccomp >= 2.4 knows it' },
  'SystemCallFilter=pkey_free': { since: 187, source: 'a call by name (man 257: 187); libseccomp >= 2.4 knows it' },
  'SystemCallFilter=pkey_mprotect': { since: 187, source: 'a call by name (man 257: 187); libseccomp >= 2.4 knows it' },
};

/** Behaviour that a known key only has from a later release on. */
export const BEHAVIOURS = {
  /**
   * In a user manager, PrivateUsers= (and with it every namespacing setting:
   * ProtectSystem=, PrivateTmp=, ...) only works from 245 on; before, systemd.exec(5)
   * calls them "not supported for services running in per-user instances".
   */
  userNamespacing: {
    since: 245,
    source: 'NEWS 245: "PrivateUsers= in service files now works in services run by the systemd --user per-user instance"',
  },
} as const satisfies Record<string, Since>;

function keyEntry(key: string): KeyEntry {
  const entry = KEYS[key];
  if (!entry)
    throw new TypeError(
      `systemd-versions: ${key}= is not in the table of directives (src/lib/systemd-versions.ts); add it with the release that introduced it`,
    );
  return entry;
}

/** The words of a value the table checks: the whole value (enum), each word without `~` (list), none (free, bool). */
export function valueWords(key: string, value: string): string[] {
  const { values } = keyEntry(key);
  if (values === 'enum') return [value];
  if (values === 'list')
    return value
      .split(/\s+/)
      .filter(Boolean)
      .map((word) => word.replace(/^~/, ''));
  if (values === 'bool' && value !== 'yes' && value !== 'no')
    throw new TypeError(`systemd-versions: ${key}= is yes or no, got ${JSON.stringify(value)}`);
  return [];
}

/** The release that understands `key=value`: the key's, or a later one for a value word. Throws for anything not in the table. */
export function introducedIn(key: string, value: string): number {
  let since = keyEntry(key).since;
  for (const word of valueWords(key, value)) {
    const entry = VALUES[`${key}=${word}`];
    if (!entry)
      throw new TypeError(
        `systemd-versions: ${key}=${word} is not in the table of values (src/lib/systemd-versions.ts); add it with the release that introduced it`,
      );
    since = Math.max(since, entry.since);
  }
  return since;
}

/** Whether systemd `version` understands `key=value`. */
export function knows(version: number, key: string, value: string): boolean {
  return introducedIn(key, value) <= version;
}
