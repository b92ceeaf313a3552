// The answer schema: every choice the generator makes, declared once. Each
// entry of OPTIONS is the answer's name, type, default, help text, question
// (when it is asked), check and the files it changes; the command-line
// options (cli.ts, resolve.ts), the prompts, `--help`, .yo-rc.json and the
// validation are all read from it, and test/generator/app.test.ts holds the
// USAGE examples and each entry's `affects` to it. Parsing turns the raw
// string or boolean into a typed value or throws an InputError naming the
// option.
import { isIPv4, isIPv6 } from 'node:net';

import { InputError, rejectControl, trimSpaces, unitPath, unitText } from './escape.js';
import { DEFAULT_SYSTEMD_VERSION, DISTRIBUTIONS, introducedIn, knows, OLDEST_SYSTEMD_VERSION } from './systemd-versions.js';

/**
 * The values of each choice answer, with the line that explains each at the
 * prompt: the types below, the check, the question and --help come from these.
 */
const UNIT_TYPES = {
  notify: 'ready when the daemon sends READY=1 (recommended)',
  'notify-reload': 'notify, and `systemctl reload` sends SIGHUP (systemd 253+; older: notify + ExecReload=)',
  simple: 'ready as soon as it is started',
  exec: 'ready once node has been executed (systemd 240+)',
  forking: 'node --daemonize detaches itself and writes a PID file (for setups that need it)',
} as const;
const SCOPES = { system: 'starts at boot, under the system manager', user: 'runs under your own systemd --user' } as const;
const HARDENINGS = {
  strict: 'the strongest sandbox a Node daemon runs in (recommended)',
  baseline: 'the common protections, for daemons that need more access',
  none: '',
} as const;
const RESTARTS = { no: '', 'on-success': '', 'on-failure': '', 'on-abnormal': '', 'on-watchdog': '', 'on-abort': '', always: '' } as const;
const INIT_SYSTEMS = { systemd: 'units', sysv: 'an LSB init script for start-stop-daemon', openrc: 'an OpenRC runscript' } as const;
const LANGUAGES = { ts: 'TypeScript, built to dist/', js: 'JavaScript' } as const;
const RUNTIMES = {
  bundled: 'the tarball bundled with the generator, copied into the project so it installs offline',
  registry: 'from the npm registry at ^ the generator version',
} as const;

export type UnitType = keyof typeof UNIT_TYPES;
export type InitSystem = keyof typeof INIT_SYSTEMS;
export type Scope = keyof typeof SCOPES;
export type Hardening = keyof typeof HARDENINGS;
export type Restart = keyof typeof RESTARTS;
export type Language = keyof typeof LANGUAGES;
export type RuntimeSource = keyof typeof RUNTIMES;

export type SocketSpec = { kind: 'tcp' | 'udp'; host: string; port: number } | { kind: 'unix'; path: string };

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

/** A choice table: value -> what it means ('' when its name says it). */
type Choices = Readonly<Record<string, string>>;

/**
 * How an answer is written. choice: one value of `choices`; integer: a whole
 * number in `range` (or one of `words`); yes-no: a flag that may stand alone
 * on the command line (`--template`, `--template=no`); list: comma-separated;
 * text: anything its own `parse` accepts.
 */
export type AnswerType = 'text' | 'choice' | 'integer' | 'yes-no' | 'list';

/** One answer, declared once. */
export interface AnswerSpec<K extends keyof Answers = keyof Answers> {
  key: K;
  /** The option's name on the command line (kebab-case); also the name InputErrors give. */
  flag: string;
  type: AnswerType;
  /** What it is, for --help (the choices and the default are added there). */
  help: string;
  /** choice and list answers: the accepted values and what each means. */
  choices?: Choices;
  /** integer answers: the smallest and largest value accepted... */
  range?: readonly [number, number];
  /** ...and words that stand for a number (watchdog off = 0). */
  words?: Readonly<Record<string, number>>;
  /** The default, as a function of the answers parsed before this one. */
  default: (earlier: Partial<Answers>) => Raw;
  /** The default as --help says it, where it depends on other answers or on the machine. */
  shownDefault?: string;
  /** The question; answers without one are never asked. Choice answers list their choices. */
  prompt?: string;
  /** Raw value -> typed value, or an InputError; choice, integer and yes-no answers have theirs from the type. */
  parse: (raw: Raw, earlier: Partial<Answers>) => Answers[K];
  /** A rule against the answers above it, run on the value the type's parse made. */
  check?: (value: Answers[K], earlier: Partial<Answers>) => void;
  /** Renders a parsed value back to what the option accepts (for .yo-rc.json and messages). */
  show?: (value: Answers[K]) => string;
  /**
   * The generated files this answer can change (project-relative; <name> and
   * <ext> stand for the answers). .yo-rc.json, which stores every answer, is
   * left out. A test generates each answer changed and holds the files that
   * changed to this list.
   */
  affects: readonly string[];
}

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
  if (name.length > 200)
    throw new InputError('name', `is ${name.length} characters long; at most 200 (unit names end in .service within 255)`);
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
  const hostPort = /^(?:(\[[^\]]*\]|[^:[\]]*):)?([0-9]+)$/.exec(rest);
  if (!hostPort) throw new InputError(field, `${JSON.stringify(raw)}: expected ${kind}:port or ${kind}:host:port (IPv6 hosts in brackets)`);
  const host = hostPort[1];
  if (host !== undefined && !(host.startsWith('[') ? isIPv6(host.slice(1, -1)) : isIPv4(host))) {
    throw new InputError(
      field,
      `${JSON.stringify(raw)}: the host must be an IP address, such as 127.0.0.1 or [::1] (systemd takes no host names here)`,
    );
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
    throw new InputError(
      'run-as',
      `${JSON.stringify(value)} is neither 'dynamic' nor a user name (lowercase letter or '_', then letters, digits, '_', '-'; at most 31)`,
    );
  }
  if (earlier.scope === 'user')
    throw new InputError('run-as', 'a user-scope service always runs as the user who owns the manager; drop --run-as');
  // systemd warns about these: files owned by nobody belong to everyone's unmapped ids.
  if (value === 'nobody' || value === 'nfsnobody')
    throw new InputError(
      'run-as',
      `${value} is shared with unmapped ids; systemd calls it unsafe. Use 'dynamic' or a user of the daemon's own`,
    );
  return value;
}

/** Version managers install node under the user's home, which ProtectHome= hides and which moves on upgrades. */
export function nodeUnderVersionManager(path: string): boolean {
  return /\/(\.nvm|\.volta|\.asdf|\.fnm|fnm|\.local\/share\/fnm|\.nodenv|n\/versions)\//.test(path);
}

/** Every generated file but the vendored runtime: what the name changes. */
const ALL_FILES = [
  'package.json',
  'README.md',
  '.gitignore',
  'tsconfig.json',
  'test/tsconfig.json',
  'src/main.<ext>',
  'test/main.test.<ext>',
  'scripts/install-units.mjs',
  'scripts/uninstall-units.mjs',
  'systemd/<name>.service',
  'systemd/<name>.socket',
  'init.d/<name>',
  'openrc/<name>',
] as const;
/** The files that run the daemon under an init system. */
const SERVICE_FILES = ['systemd/<name>.service', 'init.d/<name>', 'openrc/<name>'] as const;
/** The daemon's scaffolded source and test. */
const SOURCE = ['src/main.<ext>', 'test/main.test.<ext>'] as const;

/** The parse a type gives (text and list answers bring their own). */
function parseByType(spec: Omit<AnswerSpec, 'parse'>): (raw: Raw) => unknown {
  const { flag: field, choices, range, words } = spec;
  switch (spec.type) {
    case 'choice':
      return (raw) => oneOf(field, raw, Object.keys(choices!));
    case 'integer':
      return (raw) =>
        words !== undefined && Object.hasOwn(words, String(raw)) ? words[String(raw)] : integer(field, raw, range![0], range![1]);
    case 'yes-no':
      // A bare --template arrives as ''.
      return (raw) => (raw === '' ? true : flag(field, raw));
    default:
      throw new Error(`the ${spec.key} answer (${spec.type}) needs a parse of its own`);
  }
}

/** Checks one entry against its own key's type, gives it its type's parse (and check), and widens it for the table. */
function answer<K extends keyof Answers>(spec: Omit<AnswerSpec<K>, 'parse'> & { parse?: AnswerSpec<K>['parse'] }): AnswerSpec {
  const typed = spec.parse ?? (parseByType(spec as unknown as Omit<AnswerSpec, 'parse'>) as AnswerSpec<K>['parse']);
  const { check } = spec;
  const parse: AnswerSpec<K>['parse'] = check
    ? (raw, earlier) => {
        const value = typed(raw, earlier);
        check(value, earlier);
        return value;
      }
    : typed;
  return { ...spec, parse } as unknown as AnswerSpec;
}

/** The distributions that ship systemd `version`, from DISTRIBUTIONS: 'RHEL 8'. */
function shippedWith(version: number): string {
  return DISTRIBUTIONS.split(', ')
    .filter((entry) => entry.endsWith(`: ${version}`))
    .map((entry) => entry.split(':')[0])
    .join(', ');
}

/** The schema, in the order answers are parsed: a default or check may read the answers above it. */
export const OPTIONS: readonly AnswerSpec[] = [
  answer({
    key: 'name',
    flag: 'name',
    type: 'text',
    help: 'Package and unit name (also the first argument)',
    default: () => undefined,
    shownDefault: 'none: required',
    prompt: 'Daemon name (npm package and systemd unit)',
    parse: parseName,
    affects: ALL_FILES,
  }),
  answer({
    key: 'description',
    flag: 'description',
    type: 'text',
    help: "One line for package.json and the unit's Description=",
    default: (a) => `${a.name}, a Node.js daemon`,
    shownDefault: '"<name>, a Node.js daemon"',
    prompt: 'Description',
    parse: (raw) => {
      const text = String(raw);
      unitText('description', text);
      if (text.length > 200) throw new InputError('description', `is ${text.length} characters long; at most 200`);
      return text;
    },
    affects: ['package.json', 'README.md', ...SOURCE, ...SERVICE_FILES, 'systemd/<name>.socket'],
  }),
  answer({
    key: 'type',
    flag: 'type',
    type: 'choice',
    help: 'Service type; forking runs node --daemonize, which writes a PID file',
    choices: UNIT_TYPES,
    default: () => 'notify',
    prompt: 'Service type',
    affects: ['README.md', ...SOURCE, 'scripts/install-units.mjs', 'systemd/<name>.service', 'systemd/<name>.socket'],
  }),
  answer({
    key: 'sockets',
    flag: 'sockets',
    type: 'list',
    help: "Listening sockets, comma-separated: tcp:[host:]port, udp:[host:]port, unix:/path, or 'none'",
    // A forking service has no socket unit: see parse.
    default: (a) => (a.type === 'forking' ? 'none' : 'tcp:127.0.0.1:8080'),
    shownDefault: '"tcp:127.0.0.1:8080"; "none" with --type forking',
    prompt: 'Sockets systemd opens for the daemon (comma-separated, or none)',
    parse: (raw, earlier) => {
      rejectControl('sockets', String(raw));
      const text = trimSpaces(String(raw));
      if (text === 'none' || text === '') return [];
      if (earlier.type === 'forking') {
        // LISTEN_PID names the process systemd started, which the daemonizer replaces.
        throw new InputError(
          'sockets',
          'a forking service cannot take sockets from a socket unit (they are passed to the process systemd starts, which --daemonize leaves); use --sockets none (it then listens on PORT, default 8080) or --type notify',
        );
      }
      const sockets = text.split(',').map((part) => parseSocket(trimSpaces(part)));
      if (!sockets.some((s) => s.kind !== 'udp')) {
        throw new InputError('sockets', 'the daemon serves HTTP: give at least one tcp: or unix: socket (udp: ones come in addition)');
      }
      return sockets;
    },
    show: (sockets) => (sockets.length === 0 ? 'none' : sockets.map(showSocket).join(',')),
    affects: ['README.md', ...SOURCE, 'scripts/install-units.mjs', 'systemd/<name>.service', 'systemd/<name>.socket'],
  }),
  answer({
    key: 'socketName',
    flag: 'socket-name',
    type: 'text',
    help: 'FileDescriptorName= of the socket unit, by which the daemon adopts its sockets',
    default: () => 'http',
    parse: (raw) => {
      const value = String(raw);
      if (!/^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,63}$/.test(value)) {
        throw new InputError('socket-name', `${JSON.stringify(value)}: use letters, digits, '_', '.', '-' (at most 64)`);
      }
      return value;
    },
    affects: ['README.md', ...SOURCE, 'systemd/<name>.socket'],
  }),
  answer({
    key: 'watchdogSec',
    flag: 'watchdog',
    type: 'integer',
    help: 'WatchdogSec= in seconds, or 0 / off for no watchdog',
    range: [0, 3600],
    words: { off: 0 },
    default: (a) => (a.type === 'forking' ? '0' : '10'),
    shownDefault: '"10"; "0" with --type forking',
    prompt: 'Watchdog timeout in seconds (0 for none)',
    check: (seconds, earlier) => {
      if (seconds > 0 && earlier.type === 'forking') {
        throw new InputError(
          'watchdog',
          'the watchdog needs notifications (WATCHDOG=1), which a forking service does not send; use --watchdog off or --type notify',
        );
      }
    },
    show: (value) => String(value),
    affects: ['README.md', ...SOURCE, 'systemd/<name>.service'],
  }),
  answer({
    key: 'scope',
    flag: 'scope',
    type: 'choice',
    help: "Which manager runs it: the system's (/etc/systemd/system) or your own (systemctl --user)",
    choices: SCOPES,
    default: () => 'system',
    prompt: 'Scope',
    affects: ['README.md', 'scripts/install-units.mjs', 'scripts/uninstall-units.mjs', 'systemd/<name>.service', 'systemd/<name>.socket'],
  }),
  answer({
    key: 'runAs',
    flag: 'run-as',
    type: 'text',
    help: "System scope: 'dynamic' (DynamicUser=yes) or an existing user name",
    default: () => 'dynamic',
    parse: parseRunAs,
    // README: the exposure measured for a named user differs.
    affects: ['README.md', ...SERVICE_FILES],
  }),
  answer({
    key: 'restart',
    flag: 'restart',
    type: 'choice',
    help: 'Restart= policy',
    choices: RESTARTS,
    default: () => 'on-failure',
    affects: ['systemd/<name>.service'],
  }),
  answer({
    key: 'hardening',
    flag: 'hardening',
    type: 'choice',
    help: 'Sandboxing; strict is the strongest set node runs under',
    choices: HARDENINGS,
    default: () => 'strict',
    prompt: 'Hardening',
    affects: ['README.md', 'systemd/<name>.service'],
  }),
  answer({
    key: 'fdStore',
    flag: 'fd-store',
    type: 'integer',
    help: 'FileDescriptorStoreMax=: fds the manager keeps across restarts (0: none)',
    range: [0, 4096],
    default: () => '0',
    show: (value) => String(value),
    affects: ['README.md', 'src/main.<ext>', 'systemd/<name>.service'],
  }),
  answer({
    key: 'template',
    flag: 'template',
    type: 'yes-no',
    help: 'Emit a template unit (name@.service): one instance per argument',
    default: () => false,
    show: (value) => String(value),
    // The units are then named <name>@.service and <name>@.socket.
    affects: [
      'README.md',
      'src/main.<ext>',
      'scripts/install-units.mjs',
      'scripts/uninstall-units.mjs',
      'systemd/<name>.service',
      'systemd/<name>.socket',
      'systemd/<name>@.service',
      'systemd/<name>@.socket',
    ],
  }),
  answer({
    key: 'initSystems',
    flag: 'init',
    type: 'list',
    help: 'What to write service files for, comma-separated; sysv is an LSB init script for start-stop-daemon',
    choices: INIT_SYSTEMS,
    default: () => 'systemd',
    parse: (raw, earlier) => {
      const known = Object.keys(INIT_SYSTEMS) as InitSystem[];
      rejectControl('init', String(raw));
      const systems = String(raw).split(',').map(trimSpaces);
      for (const system of systems) {
        if (!(known as string[]).includes(system)) {
          throw new InputError('init', `${JSON.stringify(system)} is not a supported init system (${known.join(', ')})`);
        }
      }
      const chosen = known.filter((s) => systems.includes(s));
      const scripts = chosen.filter((s) => s !== 'systemd');
      if (scripts.length > 0 && earlier.scope === 'user') {
        throw new InputError('init', `${scripts.join(' and ')} scripts belong to the system's init: use them with --scope system`);
      }
      if (scripts.length > 0 && earlier.template) {
        throw new InputError(
          'init',
          `template units are systemd's; ${scripts.join(' and ')} scripts run one instance: drop --template or ${scripts.join(', ')}`,
        );
      }
      return chosen;
    },
    show: (value) => value.join(','),
    affects: [
      'package.json',
      'README.md',
      'src/main.<ext>',
      'scripts/install-units.mjs',
      'systemd/<name>.service',
      'systemd/<name>.socket',
      'init.d/<name>',
      'openrc/<name>',
    ],
  }),
  answer({
    key: 'language',
    flag: 'language',
    type: 'choice',
    help: "The daemon's language; ts is built to dist/",
    choices: LANGUAGES,
    default: () => 'ts',
    prompt: 'Language',
    affects: ALL_FILES,
  }),
  answer({
    key: 'installPath',
    flag: 'install-path',
    type: 'text',
    help: 'System scope: where the built project is installed (ExecStart= points there)',
    default: (a) => `/opt/${a.name}`,
    shownDefault: '/opt/<name>',
    parse: (raw) => {
      const value = String(raw);
      unitPath('install-path', value);
      return value;
    },
    affects: ['README.md', 'scripts/install-units.mjs', ...SERVICE_FILES],
  }),
  answer({
    key: 'runtime',
    flag: 'runtime',
    type: 'choice',
    help: 'Where the project gets sd-daemon-runtime: the npm registry at ^ the generator version, or the tarball bundled with the generator (copied into the project: installs offline)',
    choices: RUNTIMES,
    default: () => 'registry',
    affects: ['package.json', 'vendor/'],
  }),
  answer({
    key: 'nodePath',
    flag: 'node',
    type: 'text',
    help: 'The node binary ExecStart= runs',
    default: () => process.execPath,
    shownDefault: 'the node running yo',
    parse: (raw) => {
      const value = String(raw);
      unitPath('node', value);
      if (value === '/') throw new InputError('node', '"/" is a directory, not the node binary');
      // systemd expands no variables in the program path and keeps '$$' as two characters there.
      if (value.includes('$'))
        throw new InputError(
          'node',
          `${JSON.stringify(value)} contains '$', which ExecStart= cannot carry in the program path; use a path without it`,
        );
      return value;
    },
    affects: SERVICE_FILES,
  }),
  answer({
    key: 'systemdVersion',
    flag: 'systemd-version',
    type: 'integer',
    help: `The oldest systemd the units must run on: they carry no directive it lacks (${DISTRIBUTIONS})`,
    range: [OLDEST_SYSTEMD_VERSION, 999],
    // Not the generating machine's: a unit made on a new workstation must still run on the servers.
    default: () => String(DEFAULT_SYSTEMD_VERSION),
    shownDefault: `${DEFAULT_SYSTEMD_VERSION} (${shippedWith(DEFAULT_SYSTEMD_VERSION)}), whatever systemd runs here`,
    prompt: `Oldest systemd the units must run on (${DISTRIBUTIONS})`,
    show: (value) => String(value),
    affects: ['README.md', 'systemd/<name>.service', 'systemd/<name>.socket'],
  }),
];

/** Rules across answers that read one parsed after them, checked once every answer is parsed. */
const RULES: ReadonlyArray<(a: Answers) => void> = [
  (a) => {
    // Type=exec has no stand-in on an older systemd (notify-reload has: notify + ExecReload=).
    if (!knows(a.systemdVersion, 'Type', a.type) && a.type !== 'notify-reload') {
      const since = introducedIn('Type', a.type);
      throw new InputError(
        'type',
        `Type=${a.type} needs systemd ${since}; --systemd-version is ${a.systemdVersion}: use --type simple or notify, or --systemd-version ${since}`,
      );
    }
  },
  (a) => {
    if (a.fdStore > 0 && a.type !== 'notify' && a.type !== 'notify-reload') {
      throw new InputError('fd-store', `the fd store needs a notify service (FDSTORE=1 is a notification); --type is ${a.type}`);
    }
  },
];

/** What --help says of an answer: its help, its choices, its default. */
export function helpText(spec: AnswerSpec): string {
  const choices = spec.choices ? ` (${spec.type === 'list' ? 'any' : 'one'} of ${Object.keys(spec.choices).join(', ')})` : '';
  const range = spec.range ? ` (${spec.range[0]} to ${spec.range[1]})` : '';
  const yesNo = spec.type === 'yes-no' ? ' (yes/no)' : '';
  return `${spec.help}${choices}${range}${yesNo} [default: ${spec.shownDefault ?? JSON.stringify(spec.default({}))}]`;
}

/**
 * Parses raw values (options, prompt answers, stored config) in table order,
 * so defaults can depend on earlier answers. Throws the first InputError.
 */
export function parseAnswers(raw: Record<string, Raw>, given: (spec: AnswerSpec) => Raw = (spec) => raw[spec.key]): Answers {
  const answers: Partial<Answers> = {};
  for (const spec of OPTIONS) {
    const value = given(spec);
    (answers as Record<string, unknown>)[spec.key] = spec.parse(value === undefined ? spec.default(answers) : value, answers);
  }
  const result = answers as Answers;
  for (const rule of RULES) rule(result);
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
