// Answers -> the context templates render. Every string here is already
// escaped for the syntax it lands in (unit files, JSON, JavaScript source,
// shell), and every decision is made here: templates only branch on a value
// (false, 0, '' and [] are no) and loop over lists.
import {
  hardeningFor,
  leftOutByRelease,
  measuredExposure,
  type Directive as HardeningDirective,
  type ExposureIdentity,
  type LeftOut,
} from './hardening.js';
import { introducedIn, knows } from './systemd-versions.js';
import { execArg, execArgSpecifiers, InputError, jsString, shellList, shellWord, unitPath, unitText } from './escape.js';
import type { Answers, SocketSpec } from './answers.js';

/** sysexits' EX_CONFIG: the daemon exits with it on a configuration error; restarting cannot help. */
const EX_CONFIG = 78;
/** sysexits' EX_UNAVAILABLE: the daemon exits with it when a present service manager cannot be told READY=1. */
const EX_UNAVAILABLE = 69;

export interface Directive {
  key: string;
  value: string;
  comment: string;
}

export interface SocketContext {
  /** ListenStream or ListenDatagram. */
  key: string;
  /** The Listen*= value, escaped for a unit file. */
  value: string;
  tcp: boolean;
  udp: boolean;
  unix: boolean;
  /** Stream sockets serve HTTP; datagram sockets echo. */
  stream: boolean;
  /** The fallback when not socket-activated, as JavaScript literals: port and host, or path. */
  fallbackJs: string;
  /** Human-readable, for README and comments: tcp:127.0.0.1:8080. */
  display: string;
  /** What the daemon does on it, for README. */
  role: string;
}

export interface ProjectContext {
  /** Package and unit base name: [a-z0-9._-] only, safe everywhere as is. */
  name: string;
  /** The description as written, for Markdown (README). */
  description: string;
  /** ...as a JavaScript string literal, quotes included. */
  descriptionJs: string;
  typescript: boolean;
  /** 'ts' or 'js': the source extension. */
  ext: string;
  /** The entry point node runs, relative to the project: dist/main.js or src/main.js. */
  entry: string;
  /** Type= as chosen (notify, notify-reload, simple, exec, forking). */
  type: string;
  /** The daemon reports READY=1/RELOADING=1 (notify, notify-reload). */
  notify: boolean;
  /** Type=forking: the unit runs `node <entry> --daemonize --pid-file <pidFile>`. */
  forking: boolean;
  /** The command that makes it re-read its configuration: `systemctl reload` (notify services answer it, forking ones get ExecReload=), or a SIGHUP. */
  reloadCommand: string;
  /** Files written for each init system: systemd/ units (and the install script), init.d/<name>, openrc/<name>. */
  systemd: boolean;
  sysv: boolean;
  openrc: boolean;
  initScripts: boolean;
  /** The init scripts, each with what it is, in Markdown: "`init.d/x` is an LSB init script for `start-stop-daemon`; ...". */
  initScriptsSaid: string;
  /** Where the init scripts read the daemon's environment, in Markdown: "`/etc/default/x` or `/etc/conf.d/x`". */
  initScriptConfig: string;
  /** main supports --daemonize (sysv, openrc or forking chosen). */
  daemonize: boolean;
  /** Who runs --daemonize, in words: 'the init.d script and the Type=forking unit'. */
  daemonizeUsers: string;
  /** main calls ready(): for a notify unit, and for --daemonize, whose first process waits for it. */
  sendsReady: boolean;
  /** Where the init scripts' daemon writes its PID file (Markdown, comments). */
  scriptPidFile: string;
  /** What ExecStart= has after node and the entry point (` %i`, the --daemonize arguments), as a JavaScript string literal for the install script's drop-in. */
  execStartTailJs: string;
  sockets: SocketContext[];
  hasSockets: boolean;
  /** A udp socket: main echoes datagrams (and imports dgram, bindDgram). */
  echoes: boolean;
  /** The FileDescriptorName= the daemon adopts by, as a JavaScript string literal. */
  socketNameJs: string;
  socketName: string;
  /** WatchdogSec=; 0 (false in a template's #if): no watchdog. */
  watchdog: number;
  /** FileDescriptorStoreMax=; 0 (false in a template's #if): no fd store. */
  fdStore: number;
  template: boolean;
  userScope: boolean;
  /** Unit file names: my-daemon.service or my-daemon@.service; my-daemon.socket. */
  serviceFile: string;
  socketFile: string;
  /** What `systemctl` is given to start it: my-daemon.service, or my-daemon@main.service for a template. */
  startUnit: string;
  /** ...and its socket: my-daemon.socket, or my-daemon@main.socket. */
  startSocket: string;
  /** What `systemctl enable --now` is given: the socket when there is one (it starts the service), else the service. */
  enableUnit: string;
  /** Why its Type= is what it is, for README's table. */
  typeReason: string;
  /** System scope: the install directory, as a shell word. */
  installPathShell: string;
  /** ...as a JavaScript string literal (install-units.mjs). */
  installPathJs: string;
  installPath: string;
  /** How `systemctl --user` / `systemctl` is spelled for this scope. */
  systemctl: string;
  /** Stop timeout the daemon keeps under (ms): below the unit's TimeoutStopSec=. */
  stopTimeoutMs: number;
  exConfig: number;
  /** The exit status for "a present manager cannot be told READY=1". */
  exUnavailable: number;
  /** The systemd the units are written for (--systemd-version). */
  systemdVersion: number;
  /** The unit is sandboxed (hardening strict or baseline). */
  hardened: boolean;
  /** systemd-analyze security's exposure of the unit on its target, as measured (MEASURED_EXPOSURE), or '' when not measured. */
  exposure: string;
  /** What newer systemd would add, one line per release: "242: ProtectHostname=yes, RestrictSUIDSGID=yes"; empty: nothing. */
  newerAdds: string[];
  /** Type=notify-reload was asked for a target before 253: the unit is notify + ExecReload=. */
  reloadFallback: boolean;
}

export interface UnitContext {
  /** Description=, escaped. */
  description: string;
  /** Type= as emitted: notify-reload becomes notify + ExecReload= before systemd 253. */
  type: string;
  typeComment: string;
  /** Type=forking: PIDFile= and RuntimeDirectory= (its directory) are emitted. */
  forking: boolean;
  /** PIDFile=, the same path ExecStart= passes to --pid-file (its specifiers meant). */
  pidFile: string;
  /** RuntimeDirectory=, relative to /run (system) or $XDG_RUNTIME_DIR (user). */
  runtimeDirectory: string;
  /** ExecReload=/bin/kill -s HUP $MAINPID, where systemd does not send SIGHUP itself (notify before 253, forking). */
  execReload: boolean;
  execReloadComment: string;
  notifyAccess: boolean;
  /** The whole ExecStart= value, each argument quoted for systemd. */
  execStart: string;
  workingDirectory: string;
  watchdogSec: number;
  restart: string;
  restartPreventExitStatus: number;
  /** The comment above RestartPreventExitStatus=, line by line. */
  restartPreventComment: string[];
  timeoutStopSec: number;
  dynamicUser: boolean;
  /** User= when a named user was chosen, else empty. */
  user: string;
  fdStoreMax: number;
  hardening: Directive[];
  /** The comment above the sandboxing directives: the target, its measured exposure, what newer systemd would add. */
  sandboxComment: string[];
  wantedBy: string;
  /** The socket unit: Listen*= lines, FileDescriptorName=. */
  sockets: SocketContext[];
  hasSockets: boolean;
  socketName: string;
  /** The service file name (name.service, or name@.service for a template, whose socket is name@.socket: instance by instance). */
  serviceFile: string;
  socketFile: string;
  socketWantedBy: string;
  /** network.target exists only for the system manager. */
  systemScope: boolean;
}

const STOP_TIMEOUT_SEC = 15;

export interface InitScriptContext {
  name: string;
  /** For the LSB header (a comment line: the description holds no control characters). */
  description: string;
  /** The values the scripts use, each one POSIX shell word. */
  descriptionShell: string;
  daemonShell: string;
  daemonDirShell: string;
  /** The entry point relative to the project directory. */
  entryShell: string;
  pidFileShell: string;
  /** The user the daemon runs as (--run-as), or none: then root, DynamicUser= having no equivalent outside systemd. */
  hasUser: boolean;
  userShell: string;
  /** OpenRC's command_args: the words after node, for openrc-run to eval. */
  commandArgsShell: string;
  /** start-stop-daemon --retry: TERM, as long as TimeoutStopSec= allows, then KILL. */
  stopRetryShell: string;
  stopTimeoutSec: number;
  typescript: boolean;
}

/**
 * The PID file of the daemonize mode and the directory that holds it: a
 * directory of its own (created for it: RuntimeDirectory= or the script),
 * under /run, or under $XDG_RUNTIME_DIR (%t) for a user unit; a template's
 * instances each have their own (%i).
 */
function pidFileOf(answers: Answers, root: '/run' | '%t'): { runtimeDirectory: string; file: string } {
  const runtimeDirectory = answers.template ? `${answers.name}/%i` : answers.name;
  return { runtimeDirectory, file: `${root}/${runtimeDirectory}/${answers.name}.pid` };
}

/** The init scripts' PID file (they run one instance, under the system's init). */
function scriptPidFile(answers: Answers): string {
  return pidFileOf(answers, '/run').file;
}

/** What ExecStart= runs after node and the entry point, each argument quoted for systemd. */
function execStartTail(answers: Answers): string[] {
  const args: string[] = [];
  // A template instance gets its instance name as an argument (the specifier is meant: not escaped).
  if (answers.template) args.push('%i');
  if (answers.type === 'forking') {
    const { file } = pidFileOf(answers, answers.scope === 'system' ? '/run' : '%t');
    args.push(execArg('type', '--daemonize'), execArg('type', '--pid-file'), execArgSpecifiers('type', file));
  }
  return args;
}

/** 'a', 'a and b', 'a, b and c'. */
const inWords = (items: string[]): string => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

const daemonizes = (answers: Answers): boolean =>
  answers.type === 'forking' || answers.initSystems.includes('sysv') || answers.initSystems.includes('openrc');

function socketContext(socket: SocketSpec): SocketContext {
  const stream = socket.kind !== 'udp';
  const key = stream ? 'ListenStream' : 'ListenDatagram';
  if (socket.kind === 'unix') {
    return {
      key,
      value: unitPath('sockets', socket.path),
      tcp: false,
      udp: false,
      unix: true,
      stream,
      fallbackJs: `{ path: ${jsString(socket.path)} }`,
      display: `unix:${socket.path}`,
      role: 'HTTP (started by hand, its directory must be writable by you)',
    };
  }
  const host = socket.host;
  const address = host ? `${host}:${socket.port}` : String(socket.port);
  const jsHost = host.replace(/^\[(.*)\]$/, '$1');
  return {
    key,
    value: address,
    tcp: socket.kind === 'tcp',
    udp: socket.kind === 'udp',
    unix: false,
    stream,
    fallbackJs: host ? `{ port: ${socket.port}, host: ${jsString(jsHost)} }` : `{ port: ${socket.port} }`,
    display: `${socket.kind}:${address}`,
    role: stream ? 'HTTP' : 'echoes every datagram back to its sender',
  };
}

/** The unit files' names: my-daemon.service, or my-daemon@.service for a template (one instance per argument). */
export function unitFiles(answers: Answers): { serviceFile: string; socketFile: string } {
  const base = answers.template ? `${answers.name}@` : answers.name;
  return { serviceFile: `${base}.service`, socketFile: `${base}.socket` };
}

/** Type=notify and notify-reload: the daemon reports READY=1 and RELOADING=1. */
const notifies = (answers: Answers): boolean => answers.type === 'notify' || answers.type === 'notify-reload';

/** Why the unit's Type= is what it is, in README's words. */
function typeReason(answers: Answers): string {
  if (notifies(answers)) return 'systemd counts it started once it sends `READY=1`, and follows its reloads and stop';
  if (answers.type === 'forking')
    return "`node --daemonize` detaches the daemon and exits once it is ready; systemd then reads the daemon's PID from `PIDFile=`";
  return 'systemd counts it started as soon as it runs';
}

function entryOf(answers: Answers): string {
  return answers.language === 'ts' ? 'dist/main.js' : 'src/main.js';
}

/** The sandboxing directives for the answers' target, what the target lacks, and the exposure measured for them. */
function sandboxOf(answers: Answers): { directives: HardeningDirective[]; leftOut: LeftOut[]; exposure: string } {
  const dynamicUser = answers.scope === 'system' && answers.runAs === 'dynamic';
  const onlySocketActivated = answers.sockets.length > 0;
  const { directives, leftOut } = hardeningFor({
    level: answers.hardening,
    scope: answers.scope,
    dynamicUser,
    socketKinds: answers.sockets.map((s) => s.kind),
    onlySocketActivated,
    systemdVersion: answers.systemdVersion,
  });
  // A named root is not measured: it scores as root, whatever the sandbox.
  const identity: ExposureIdentity | undefined =
    answers.scope === 'user' ? 'user-manager' : dynamicUser ? 'dynamic' : answers.runAs === 'root' ? undefined : 'named';
  const exposure =
    identity === undefined
      ? undefined
      : measuredExposure({ level: answers.hardening, identity, onlySocketActivated }, answers.systemdVersion);
  return { directives, leftOut, exposure: exposure === undefined ? '' : exposure.toFixed(1) };
}

/** The comment lines above a unit's sandboxing directives. */
function sandboxComment(answers: Answers, leftOut: LeftOut[], exposure: string): string[] {
  if (answers.hardening === 'none') return [];
  const lines = [
    `Sandbox (${answers.hardening}) for systemd ${answers.systemdVersion} (--systemd-version): every directive below is one it knows.`,
    exposure
      ? `systemd-analyze security --offline=true rates this unit ${exposure} (measured with systemd 252).`
      : 'Its exposure: `systemd-analyze security` on the installed unit (this combination was not measured).',
  ];
  const newer = leftOutByRelease(leftOut);
  if (newer.length > 0) {
    lines.push('Newer systemd would add (regenerate with a higher --systemd-version):');
    lines.push(...newer.map((line) => `  ${line}`));
  }
  return lines;
}

export function projectContext(answers: Answers): ProjectContext {
  const notify = notifies(answers);
  const daemonize = daemonizes(answers);
  const systemctl = answers.scope === 'user' ? 'systemctl --user' : 'systemctl';
  const startUnit = answers.template ? `${answers.name}@main.service` : `${answers.name}.service`;
  const startSocket = answers.template ? `${answers.name}@main.socket` : `${answers.name}.socket`;
  const sysv = answers.initSystems.includes('sysv');
  const openrc = answers.initSystems.includes('openrc');
  return {
    name: answers.name,
    description: answers.description,
    descriptionJs: jsString(answers.description),
    typescript: answers.language === 'ts',
    ext: answers.language,
    entry: entryOf(answers),
    type: answers.type,
    notify,
    forking: answers.type === 'forking',
    reloadCommand: notify || answers.type === 'forking' ? `${systemctl} reload ${startUnit}` : `${systemctl} kill -s HUP ${startUnit}`,
    systemd: answers.initSystems.includes('systemd'),
    sysv,
    openrc,
    initScripts: sysv || openrc,
    initScriptsSaid: [
      sysv ? `\`init.d/${answers.name}\` is an LSB init script for \`start-stop-daemon\`` : '',
      openrc ? `\`openrc/${answers.name}\` is an OpenRC runscript` : '',
    ]
      .filter(Boolean)
      .join('; '),
    initScriptConfig: [sysv ? `\`/etc/default/${answers.name}\`` : '', openrc ? `\`/etc/conf.d/${answers.name}\`` : '']
      .filter(Boolean)
      .join(' or '),
    daemonize,
    daemonizeUsers: inWords(
      [
        sysv ? 'the init.d script' : '',
        openrc ? 'the OpenRC script' : '',
        answers.type === 'forking' && answers.initSystems.includes('systemd') ? 'the Type=forking unit' : '',
      ].filter(Boolean),
    ),
    sendsReady: notify || daemonize,
    scriptPidFile: scriptPidFile(answers),
    execStartTailJs: jsString(
      execStartTail(answers)
        .map((arg) => ` ${arg}`)
        .join(''),
    ),
    sockets: answers.sockets.map(socketContext),
    hasSockets: answers.sockets.length > 0,
    echoes: answers.sockets.some((socket) => socket.kind === 'udp'),
    socketNameJs: jsString(answers.socketName),
    socketName: answers.socketName,
    watchdog: answers.watchdogSec,
    fdStore: answers.fdStore,
    template: answers.template,
    userScope: answers.scope === 'user',
    ...unitFiles(answers),
    startUnit,
    startSocket,
    enableUnit: answers.sockets.length > 0 ? startSocket : startUnit,
    typeReason: typeReason(answers),
    installPathShell: shellWord(answers.installPath),
    installPathJs: jsString(answers.installPath),
    installPath: answers.installPath,
    systemctl,
    stopTimeoutMs: (STOP_TIMEOUT_SEC - 5) * 1000,
    exConfig: EX_CONFIG,
    exUnavailable: EX_UNAVAILABLE,
    ...((sandbox) => ({
      systemdVersion: answers.systemdVersion,
      hardened: answers.hardening !== 'none',
      exposure: sandbox.exposure,
      newerAdds: leftOutByRelease(sandbox.leftOut),
      reloadFallback: answers.type === 'notify-reload' && !knows(answers.systemdVersion, 'Type', 'notify-reload'),
    }))(sandboxOf(answers)),
  };
}

/**
 * The unit files' context. `projectDir` is where ExecStart= finds the
 * project: the install path for system scope, the project itself for user
 * scope (its install script re-points it if the project moves).
 */
export function unitContext(answers: Answers, projectDir: string): UnitContext {
  const notify = notifies(answers);
  // Type=notify-reload only where the target knows it (the table): otherwise notify + ExecReload=, which reloads the same way.
  const nativeReload = answers.type === 'notify-reload' && knows(answers.systemdVersion, 'Type', 'notify-reload');
  const type = answers.type === 'notify-reload' && !nativeReload ? 'notify' : answers.type;
  const forking = answers.type === 'forking';
  const dirField = answers.scope === 'system' ? 'install-path' : 'directory';
  const dirLabel = answers.scope === 'system' ? undefined : 'the project directory (a user service runs the project where it stands)';
  const projectDirError = (error: unknown): never => {
    if (error instanceof InputError && dirLabel) throw new InputError(dirField, error.message.replace(/^--install-path: /, ''), dirLabel);
    throw error;
  };
  let workingDirectory = '';
  try {
    workingDirectory = unitPath('install-path', projectDir);
  } catch (error) {
    projectDirError(error);
  }
  const args = [execArg('node', answers.nodePath), execArg('install-path', `${projectDir}/${entryOf(answers)}`), ...execStartTail(answers)];
  const pid = pidFileOf(answers, answers.scope === 'system' ? '/run' : '%t');
  const dynamicUser = answers.scope === 'system' && answers.runAs === 'dynamic';
  const sandbox = sandboxOf(answers);
  return {
    description: unitText('description', answers.description),
    type,
    typeComment:
      answers.type === 'notify-reload' && !nativeReload
        ? `Type=notify-reload needs systemd ${introducedIn('Type', 'notify-reload')}; on ${answers.systemdVersion}, notify plus ExecReload= does the same.`
        : typeComments[answers.type]!,
    forking,
    pidFile: pid.file,
    runtimeDirectory: pid.runtimeDirectory,
    execReload: (notify && !nativeReload) || forking,
    execReloadComment: forking
      ? '`systemctl reload`: SIGHUP to the PID in PIDFile=; the daemon re-reads its configuration.'
      : '`systemctl reload`: the daemon answers SIGHUP with RELOADING=1 ... READY=1.',
    notifyAccess: notify || answers.watchdogSec > 0,
    execStart: args.join(' '),
    workingDirectory,
    watchdogSec: answers.watchdogSec,
    restart: answers.restart,
    restartPreventExitStatus: EX_CONFIG,
    restartPreventComment: [
      `Exit status ${EX_CONFIG} (EX_CONFIG) means a configuration error: restarting cannot help.`,
      ...(forking
        ? [
            `Only the main process's status counts: the start command exiting with the daemon's ${EX_CONFIG}`,
            'is retried until StartLimitBurst= stops it (systemd/systemd#19295).',
          ]
        : []),
    ],
    timeoutStopSec: STOP_TIMEOUT_SEC,
    dynamicUser,
    user: answers.scope === 'system' && answers.runAs !== 'dynamic' ? answers.runAs : '',
    fdStoreMax: answers.fdStore,
    hardening: sandbox.directives,
    sandboxComment: sandboxComment(answers, sandbox.leftOut, sandbox.exposure),
    wantedBy: answers.scope === 'user' ? 'default.target' : 'multi-user.target',
    sockets: answers.sockets.map(socketContext),
    hasSockets: answers.sockets.length > 0,
    socketName: answers.socketName,
    ...unitFiles(answers),
    socketWantedBy: 'sockets.target',
    systemScope: answers.scope === 'system',
  };
}

const typeComments: Record<string, string> = {
  notify: 'Started once the daemon sends READY=1; it reports reloads and its stop the same way.',
  'notify-reload': 'As notify; `systemctl reload` sends SIGHUP and waits for RELOADING=1 ... READY=1.',
  simple: 'Started as soon as the process exists.',
  exec: 'Started once node has been executed.',
  forking: 'node --daemonize detaches the daemon and exits once it is ready (or with its failure code); systemd then reads PIDFile=.',
};

/** The init scripts' context: every value a shell word. They run the project where a system unit would (the install path). */
export function initScriptContext(answers: Answers, projectDir: string): InitScriptContext {
  const pidFile = scriptPidFile(answers);
  const entry = entryOf(answers);
  const hasUser = answers.runAs !== 'dynamic';
  return {
    name: answers.name,
    description: answers.description,
    descriptionShell: shellWord(answers.description),
    daemonShell: shellWord(answers.nodePath),
    daemonDirShell: shellWord(projectDir),
    entryShell: shellWord(entry),
    pidFileShell: shellWord(pidFile),
    hasUser,
    userShell: hasUser ? shellWord(answers.runAs) : "''",
    commandArgsShell: shellWord(shellList([`${projectDir}/${entry}`, '--daemonize', '--pid-file', pidFile])),
    stopRetryShell: shellWord(`TERM/${STOP_TIMEOUT_SEC}/KILL/5`),
    stopTimeoutSec: STOP_TIMEOUT_SEC,
    typescript: answers.language === 'ts',
  };
}
