// The Answers model: every choice the generator makes, typed and validated
// once. Each entry of OPTIONS is a command-line option and (when it has a
// prompt) the question that asks for it, so no prompt exists without its
// option twin. Parsing turns the raw string or boolean into a typed value or
// throws an InputError naming the option.
import { isIPv4, isIPv6 } from 'node:net';

import { InputError, rejectControl, trimSpaces, unitPath, unitText } from './escape.js';
import { DEFAULT_SYSTEMD_VERSION, DISTRIBUTIONS, introducedIn, knows, OLDEST_SYSTEMD_VERSION } from './systemd-versions.js';

export type UnitType = 'notify' | 'notify-reload' | 'simple' | 'exec' | 'forking';
export type InitSystem = 'systemd' | 'sysv' | 'openrc';
export type Scope = 'system' | 'user';
export type Hardening = 'strict' | 'baseline' | 'none';
export type Restart = 'no' | 'on-success' | 'on-failure' | 'on-abnormal' | 'on-watchdog' | 'on-abort' | 'always';
export type Language = 'ts' | 'js';
export type RuntimeSource = 'bundled' | 'registry';

export type SocketSpec =
  | { kind: 'tcp' | 'udp'; host: string; port: number }
  | { kind: 'unix'; path: string };

export interface Answers {
  name: string;
  description: string;
  type: UnitType;
  sockets: SocketSpec[];
  /** FileDescriptorName= of the socket unit, the name main.ts adopts by. */
  socketName: string;
  /** WatchdogSec= in seconds; 0 turns the watchdog off. */
  watchdogSec: number;
  scope: Scope;
  /** 'dynamic' (DynamicUser=yes) or a user name (User=). System scope only. */
  runAs: string;
  restart: Restart;
  hardening: Hardening;
  /** FileDescriptorStoreMax=; 0 turns the fd store off. */
  fdStore: number;
  /** Emit a template unit (name@.service), one instance per argument. */
  template: boolean;
  /** What to write files for: systemd units, an LSB init script (init.d/), an OpenRC runscript (openrc/). */
  initSystems: InitSystem[];
  language: Language;
  /** Where a system-scope install puts the built project. */
  installPath: string;
  runtime: RuntimeSource;
  /** The node binary ExecStart= runs (absolute). */
  nodePath: string;
  /** The oldest systemd the units must run on: they carry nothing it lacks (src/lib/systemd-versions.ts). */
  systemdVersion: number;
}

type Raw = string | boolean | number | undefined;

interface Choice {
  value: string;
  name: string;
}

export interface OptionSpec<K extends keyof Answers = keyof Answers> {
  key: K;
  /** The option's name on the command line (kebab-case). */
  flag: string;
  type: 'string' | 'boolean' | 'number';
  description: string;
  /** The default, as a function of the answers parsed before this one. */
  default: (earlier: Partial<Answers>) => Raw;
  /** The question; options without one are never asked. */
  prompt?: { message: string; choices?: Choice[] };
  parse: (raw: Raw, earlier: Partial<Answers>) => Answers[K];
  /** Renders a parsed value back to what the option accepts (for .yo-rc.json and messages). */
  show?: (value: Answers[K]) => string;
}

const UNIT_TYPES: Choice[] = [
  { value: 'notify', name: 'notify: ready when the daemon sends READY=1 (recommended)' },
  { value: 'notify-reload', name: 'notify-reload: notify, and `systemctl reload` sends SIGHUP (systemd 253+; older: notify + ExecReload=)' },
  { value: 'simple', name: 'simple: ready as soon as it is started' },
  { value: 'exec', name: 'exec: ready once node has been executed (systemd 240+)' },
  { value: 'forking', name: 'forking: node --daemonize detaches itself and writes a PID file (for setups that need it)' },
];
const INIT_SYSTEMS: readonly InitSystem[] = ['systemd', 'sysv', 'openrc'];
const RESTARTS: Restart[] = ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'];

function oneOf<T extends string>(field: string, raw: Raw, allowed: readonly T[]): T {
  const value = String(raw);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InputError(field, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function integer(field: string, raw: Raw, min: number, max: number): number {
  rejectControl(field, String(raw));
  const text = trimSpaces(String(raw));
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new InputError(field, `${JSON.stringify(String(raw))} is not a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

function flag(field: string, raw: Raw): boolean {
  if (typeof raw === 'boolean') return raw;
  const text = String(raw).toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(text)) return true;
  if (['false', 'no', '0', 'off'].includes(text)) return false;
  throw new InputError(field, `${JSON.stringify(String(raw))} is not yes or no`);
}

/**
 * The project name: an npm package name (lowercase, URL-safe, no leading dot
 * or underscore, at most 214 characters) that is also a valid systemd unit
 * name prefix (letters, digits, '-', '_', '.'), so one name serves both.
 */
export function parseName(raw: Raw): string {
  const name = String(raw ?? '');
  if (name === '') throw new InputError('name', 'is required (the daemon and its unit are named after it)');
  rejectControl('name', name);
  if (name.startsWith('@') || name.includes('/')) {
    throw new InputError('name', `${JSON.stringify(name)}: scoped package names and paths are not supported: pass the bare name`);
  }
  const bad = [...name].find((c) => !/[a-z0-9._-]/.test(c));
  if (bad !== undefined) {
    throw new InputError('name', `${JSON.stringify(name)} contains '${bad}'; use lowercase letters, digits, '-', '_' and '.'`);
  }
  if (!/^[a-z0-9]/.test(name)) throw new InputError('name', `${JSON.stringify(name)} must start with a letter or digit`);
  if (name.length > 200) throw new InputError('name', `is ${name.length} characters long; at most 200 (unit names end in .service within 255)`);
  if (['node_modules', 'favicon.ico'].includes(name)) throw new InputError('name', `${JSON.stringify(name)} is reserved by npm`);
  return name;
}

/**
 * A socket: tcp:[host:]port, udp:[host:]port or unix:/absolute/path. The
 * host is an IPv4 address or an [IPv6] one in brackets: ListenStream= and
 * ListenDatagram= take no host names (systemd refuses the unit).
 */
export function parseSocket(raw: string): SocketSpec {
  const field = 'sockets';
  rejectControl(field, raw);
  const match = /^(tcp|udp|unix):(.*)$/.exec(raw);
  if (!match) throw new InputError(field, `${JSON.stringify(raw)} is not tcp:[host:]port, udp:[host:]port or unix:/path`);
  const [, kind, rest] = match as unknown as [string, 'tcp' | 'udp' | 'unix', string];
  if (kind === 'unix') {
    unitPath(field, rest);
    if (Buffer.byteLength(rest) > 107) throw new InputError(field, `${JSON.stringify(rest)} is longer than a socket address (107 bytes)`);
    return { kind, path: rest };
  }
  const hostPort = /^(?:(\[[^\]]*\]|[^:\[\]]*):)?([0-9]+)$/.exec(rest);
  if (!hostPort) throw new InputError(field, `${JSON.stringify(raw)}: expected ${kind}:port or ${kind}:host:port (IPv6 hosts in brackets)`);
  const host = hostPort[1];
  if (host !== undefined && !(host.startsWith('[') ? isIPv6(host.slice(1, -1)) : isIPv4(host))) {
    throw new InputError(field, `${JSON.stringify(raw)}: the host must be an IP address, such as 127.0.0.1 or [::1] (systemd takes no host names here)`);
  }
  const port = integer(field, hostPort[2], 1, 65535);
  return { kind, host: hostPort[1] ?? '', port };
}

export function showSocket(socket: SocketSpec): string {
  return socket.kind === 'unix' ? `unix:${socket.path}` : `${socket.kind}:${socket.host ? `${socket.host}:` : ''}${socket.port}`;
}

/** A user name as systemd accepts in User= (its strict rules: no dots, no leading digit). */
function parseRunAs(raw: Raw, earlier: Partial<Answers>): string {
  const value = String(raw);
  if (value === 'dynamic') return value;
  rejectControl('run-as', value);
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(value)) {
    throw new InputError('run-as', `${JSON.stringify(value)} is neither 'dynamic' nor a user name (lowercase letter or '_', then letters, digits, '_', '-'; at most 31)`);
  }
  if (earlier.scope === 'user') throw new InputError('run-as', 'a user-scope service always runs as the user who owns the manager; drop --run-as');
  // systemd warns about these: files owned by nobody belong to everyone's unmapped ids.
  if (value === 'nobody' || value === 'nfsnobody') throw new InputError('run-as', `${value} is shared with unmapped ids; systemd calls it unsafe. Use 'dynamic' or a user of the daemon's own`);
  return value;
}

/** Version managers install node under the user's home, which ProtectHome= hides and which moves on upgrades. */
export function nodeUnderVersionManager(path: string): boolean {
  return /\/(\.nvm|\.volta|\.asdf|\.fnm|fnm|\.local\/share\/fnm|\.nodenv|n\/versions)\//.test(path);
}

/** Checks one entry against its own key's type, then widens it for the table. */
function option<K extends keyof Answers>(spec: OptionSpec<K>): OptionSpec {
  return spec as unknown as OptionSpec;
}

export const OPTIONS: OptionSpec[] = [
  option({
    key: 'name',
    flag: 'name',
    type: 'string',
    description: 'Package and unit name (also the first argument)',
    default: () => undefined,
    prompt: { message: 'Daemon name (npm package and systemd unit)' },
    parse: parseName,
  }),
  option({
    key: 'description',
    flag: 'description',
    type: 'string',
    description: 'One line for package.json and the unit\'s Description=',
    default: (a) => `${a.name}, a Node.js daemon`,
    prompt: { message: 'Description' },
    parse: (raw) => {
      const text = String(raw);
      unitText('description', text);
      if (text.length > 200) throw new InputError('description', `is ${text.length} characters long; at most 200`);
      return text;
    },
  }),
  option({
    key: 'type',
    flag: 'type',
    type: 'string',
    description: 'Service type: notify, notify-reload, simple, exec or forking (node --daemonize, PIDFile=)',
    default: () => 'notify',
    prompt: { message: 'Service type', choices: UNIT_TYPES },
    parse: (raw) => oneOf('type', raw, ['notify', 'notify-reload', 'simple', 'exec', 'forking'] as const),
  }),
  option({
    key: 'sockets',
    flag: 'sockets',
    type: 'string',
    description: "Listening sockets, comma-separated: tcp:[host:]port, udp:[host:]port, unix:/path, or 'none'",
    // A forking service has no socket unit: see parse.
    default: (a) => (a.type === 'forking' ? 'none' : 'tcp:127.0.0.1:8080'),
    prompt: { message: 'Sockets systemd opens for the daemon (comma-separated, or none)' },
    parse: (raw, earlier) => {
      rejectControl('sockets', String(raw));
      const text = trimSpaces(String(raw));
      if (text === 'none' || text === '') return [];
      if (earlier.type === 'forking') {
        // LISTEN_PID names the process systemd started, which the daemonizer replaces.
        throw new InputError('sockets', 'a forking service cannot take sockets from a socket unit (they are passed to the process systemd starts, which --daemonize leaves); use --sockets none (it then listens on PORT, default 8080) or --type notify');
      }
      const sockets = text.split(',').map((part) => parseSocket(trimSpaces(part)));
      if (!sockets.some((s) => s.kind !== 'udp')) {
        throw new InputError('sockets', 'the daemon serves HTTP: give at least one tcp: or unix: socket (udp: ones come in addition)');
      }
      return sockets;
    },
    show: (sockets) => (sockets.length === 0 ? 'none' : sockets.map(showSocket).join(',')),
  }),
  option({
    key: 'socketName',
    flag: 'socket-name',
    type: 'string',
    description: 'FileDescriptorName= of the socket unit, by which the daemon adopts its sockets',
    default: () => 'http',
    parse: (raw) => {
      const value = String(raw);
      if (!/^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,63}$/.test(value)) {
        throw new InputError('socket-name', `${JSON.stringify(value)}: use letters, digits, '_', '.', '-' (at most 64)`);
      }
      return value;
    },
  }),
  option({
    key: 'watchdogSec',
    flag: 'watchdog',
    type: 'string',
    description: 'WatchdogSec= in seconds, or 0 / off for no watchdog',
    default: (a) => (a.type === 'forking' ? '0' : '10'),
    prompt: { message: 'Watchdog timeout in seconds (0 for none)' },
    parse: (raw, earlier) => {
      const seconds = String(raw) === 'off' ? 0 : integer('watchdog', raw, 0, 3600);
      if (seconds > 0 && earlier.type === 'forking') {
        throw new InputError('watchdog', 'the watchdog needs notifications (WATCHDOG=1), which a forking service does not send; use --watchdog off or --type notify');
      }
      return seconds;
    },
    show: (value) => String(value),
  }),
  option({
    key: 'scope',
    flag: 'scope',
    type: 'string',
    description: 'system (a system service, /etc/systemd/system) or user (systemctl --user)',
    default: () => 'system',
    prompt: {
      message: 'Scope',
      choices: [
        { value: 'system', name: 'system: starts at boot, under the system manager' },
        { value: 'user', name: 'user: runs under your own systemd --user' },
      ],
    },
    parse: (raw) => oneOf('scope', raw, ['system', 'user'] as const),
  }),
  option({
    key: 'runAs',
    flag: 'run-as',
    type: 'string',
    description: "System scope: 'dynamic' (DynamicUser=yes) or an existing user name",
    default: () => 'dynamic',
    parse: parseRunAs,
  }),
  option({
    key: 'restart',
    flag: 'restart',
    type: 'string',
    description: `Restart= policy: ${RESTARTS.join(', ')}`,
    default: () => 'on-failure',
    parse: (raw) => oneOf('restart', raw, RESTARTS),
  }),
  option({
    key: 'hardening',
    flag: 'hardening',
    type: 'string',
    description: 'Sandboxing: strict (the strongest set node runs under), baseline or none',
    default: () => 'strict',
    prompt: {
      message: 'Hardening',
      choices: [
        { value: 'strict', name: 'strict: the strongest sandbox a Node daemon runs in (recommended)' },
        { value: 'baseline', name: 'baseline: the common protections, for daemons that need more access' },
        { value: 'none', name: 'none' },
      ],
    },
    parse: (raw) => oneOf('hardening', raw, ['strict', 'baseline', 'none'] as const),
  }),
  option({
    key: 'fdStore',
    flag: 'fd-store',
    type: 'string',
    description: 'FileDescriptorStoreMax=: fds the manager keeps across restarts (0: none)',
    default: () => '0',
    parse: (raw) => integer('fd-store', raw, 0, 4096),
    show: (value) => String(value),
  }),
  option({
    key: 'template',
    flag: 'template',
    // A string, not a Boolean option: yeoman would turn --template=false into true.
    type: 'string',
    description: 'Emit a template unit (name@.service): one instance per argument (yes/no)',
    default: () => false,
    // A bare --template arrives as ''.
    parse: (raw) => (raw === '' ? true : flag('template', raw)),
    show: (value) => String(value),
  }),
  option({
    key: 'initSystems',
    flag: 'init',
    type: 'string',
    description: 'What to write service files for (comma-separated): systemd (units), sysv (an LSB init script for start-stop-daemon), openrc',
    default: () => 'systemd',
    parse: (raw, earlier) => {
      rejectControl('init', String(raw));
      const systems = String(raw).split(',').map(trimSpaces);
      for (const system of systems) {
        if (!(INIT_SYSTEMS as readonly string[]).includes(system)) {
          throw new InputError('init', `${JSON.stringify(system)} is not a supported init system (${INIT_SYSTEMS.join(', ')})`);
        }
      }
      const chosen = INIT_SYSTEMS.filter((s) => systems.includes(s));
      const scripts = chosen.filter((s) => s !== 'systemd');
      if (scripts.length > 0 && earlier.scope === 'user') {
        throw new InputError('init', `${scripts.join(' and ')} scripts belong to the system's init: use them with --scope system`);
      }
      if (scripts.length > 0 && earlier.template) {
        throw new InputError('init', `template units are systemd's; ${scripts.join(' and ')} scripts run one instance: drop --template or ${scripts.join(', ')}`);
      }
      return chosen;
    },
    show: (value) => value.join(','),
  }),
  option({
    key: 'language',
    flag: 'language',
    type: 'string',
    description: 'ts (TypeScript, built to dist/) or js',
    default: () => 'ts',
    prompt: {
      message: 'Language',
      choices: [
        { value: 'ts', name: 'TypeScript' },
        { value: 'js', name: 'JavaScript' },
      ],
    },
    parse: (raw) => oneOf('language', raw, ['ts', 'js'] as const),
  }),
  option({
    key: 'installPath',
    flag: 'install-path',
    type: 'string',
    description: 'System scope: where the built project is installed (ExecStart= points there)',
    default: (a) => `/opt/${a.name}`,
    parse: (raw) => {
      const value = String(raw);
      unitPath('install-path', value);
      return value;
    },
  }),
  option({
    key: 'runtime',
    flag: 'runtime',
    type: 'string',
    description: 'sd-daemon-runtime from the npm registry at ^ the generator version (registry), or the tarball bundled with the generator, copied into the project so it installs offline (bundled)',
    default: () => 'registry',
    parse: (raw) => oneOf('runtime', raw, ['bundled', 'registry'] as const),
  }),
  option({
    key: 'nodePath',
    flag: 'node',
    type: 'string',
    description: 'The node binary ExecStart= runs (default: the node running the generator)',
    default: () => process.execPath,
    parse: (raw) => {
      const value = String(raw);
      unitPath('node', value);
      if (value === '/') throw new InputError('node', '"/" is a directory, not the node binary');
      // systemd expands no variables in the program path and keeps '$$' as two characters there.
      if (value.includes('$')) throw new InputError('node', `${JSON.stringify(value)} contains '$', which ExecStart= cannot carry in the program path; use a path without it`);
      return value;
    },
  }),
  option({
    key: 'systemdVersion',
    flag: 'systemd-version',
    type: 'string',
    description: `The oldest systemd the units must run on: they carry no directive it lacks (${DISTRIBUTIONS})`,
    // Not the generating machine's: a unit made on a new workstation must still run on the servers.
    default: () => String(DEFAULT_SYSTEMD_VERSION),
    prompt: { message: `Oldest systemd the units must run on (${DISTRIBUTIONS})` },
    parse: (raw) => integer('systemd-version', raw, OLDEST_SYSTEMD_VERSION, 999),
    show: (value) => String(value),
  }),
];

/**
 * Parses raw values (options, prompt answers, stored config) in table order,
 * so defaults can depend on earlier answers. Throws the first InputError.
 */
export function parseAnswers(raw: Record<string, Raw>, given: (spec: OptionSpec) => Raw = (spec) => raw[spec.key]): Answers {
  const answers: Partial<Answers> = {};
  for (const spec of OPTIONS) {
    const value = given(spec);
    (answers as Record<string, unknown>)[spec.key] = spec.parse(value === undefined ? spec.default(answers) : value, answers);
  }
  const result = answers as Answers;
  // Type=exec has no stand-in on an older systemd (notify-reload has: notify + ExecReload=).
  if (!knows(result.systemdVersion, 'Type', result.type) && result.type !== 'notify-reload') {
    throw new InputError(
      'type',
      `Type=${result.type} needs systemd ${introducedIn('Type', result.type)}; --systemd-version is ${result.systemdVersion}: use --type simple or notify, or --systemd-version ${introducedIn('Type', result.type)}`,
    );
  }
  if (result.fdStore > 0 && result.type !== 'notify' && result.type !== 'notify-reload') {
    throw new InputError('fd-store', `the fd store needs a notify service (FDSTORE=1 is a notification); --type is ${result.type}`);
  }
  return result;
}

/** The answers as option values again: what .yo-rc.json stores, so a flagless re-run reproduces them. */
export function storedAnswers(answers: Answers): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const spec of OPTIONS) {
    const value = answers[spec.key];
    const show = spec.show as ((v: unknown) => string) | undefined;
    out[spec.key] = show ? show(value) : (value as string | boolean);
  }
  return out;
}
