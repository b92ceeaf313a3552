// daemonize(): the SysV-style start of daemon(7) for a Node program, for init
// scripts, start-stop-daemon, OpenRC and systemd's Type=forking. Node cannot
// fork, so, like Go's godaemon, the program is executed again (same node,
// Node flags, script and arguments) and the new process is told that it is the
// daemon. Unlike godaemon, the original process waits until the daemon says
// READY=1 and exits with the truth: 0 once it is ready, the daemon's own code
// and message when it fails to start (daemon(7) steps 12-15).
//
// How a start goes:
//  1. The original process checks it is not supervised already, opens and
//     flocks the PID file (a second instance stops here, at once), binds a
//     private notify socket and a "stage channel" socket, and queues the
//     daemon's instructions on the channel.
//  2. The addon's spawnDaemon() forks a syscall-only intermediate that calls
//     setsid() and forks the daemon, which execs node. The daemon is in a new
//     session but not its leader, so it can never acquire a controlling
//     terminal. No JavaScript runs in between: the intermediate costs about
//     a millisecond instead of a Node start-up (so stage() never says 'child').
//  3. The daemon's fds: 0 is /dev/null (read-write); 1 and 2 are pipes to the
//     original process, which copies them to its own stdout/stderr (so a
//     failing start shows why, where it was started); 3.. are `files`, in
//     order, then the PID file, the stage channel and the write end of a pipe
//     whose EOF tells the original process the daemon ended. Everything else was
//     CLOEXEC. Signal dispositions and the signal mask start at default.
//  4. In the daemon, stage() finds the channel by its abstract name, reads
//     the instructions and closes it; daemonize() then sets the umask, changes
//     to the working directory, and points NOTIFY_SOCKET at the private socket.
//  5. The daemon's own ready() / notify('READY=1') is the signal: just before
//     it goes out, fds 1 and 2 move to /dev/null (or to the captureOutput
//     pipes); just after, NOTIFY_SOCKET gets its original value back, so later
//     watchdog pings return 'disabled' instead of failing to reach a socket
//     nobody reads any more. That is the interceptor in notify.ts: an ES
//     module's export cannot be wrapped from outside, and notify() pays one
//     null comparison for it.
//  6. The original process checks that the PID file holds the daemon's PID and
//     exits 0. If the daemon ends first, it exits with the daemon's exit
//     status (sent as EXIT_STATUS= on the way out) and its STATUS=, ERRNO= or
//     last line of stderr; if READY=1 does not come in time, it stops the
//     daemon and exits READY_TIMEOUT.
//
// Where each part lives: this file is the public entry (options, stage(),
// daemonize()); daemonize/parent.ts does steps 1-3, daemonize/supervise.ts
// step 6, daemonize/daemon.ts steps 4-5; daemonize/stage-channel.ts is the
// channel (and why it is a socket, not an environment variable);
// daemonize/pid-file.ts the PID file. Both sides are imported statically: the
// bundle (scripts/bundle.js) keeps them in the entry file, where V8 only
// pre-parses them. Loading each side by dynamic import() was measured
// costlier (callgrind, 2026-12-03): esbuild split the entry into 7 chunks,
// and `import 'sd-daemon-runtime'` took 147.6 instead of 143.1 million
// instructions, the daemon's start 160.4 instead of 151.6.
//
// Limitations:
// - Code before daemonize() runs twice, in the original and in the daemon.
//   Open files to inherit (and take their locks) only when stage() is
//   'parent'; in the daemon they are at Daemon.files.
// - The daemon's exit status reaches the original process only when it exits
//   through JavaScript (process.exit, an uncaught exception, the loop ending).
//   Killed by a signal before READY=1, it is reported as DIED.
// - READY=1 must go through this package's notify()/ready(); a copy of the
//   runtime bundled separately, or systemd-notify, would reach the original
//   process but leave fds 1 and 2 on its pipes.
// - Processes the daemon starts before READY=1 inherit the pipes behind its
//   fds 1 and 2: the original process waits for them at most a second, and
//   they write into a closed pipe afterwards. Start workers after READY=1,
//   or give them their own stdio.
// - The PID file is removed when the daemon exits through JavaScript, and
//   only if it is still the same file; a file left behind (SIGKILL) is stale
//   and is taken over, because the lock, not the file, says who runs.
import { becomeDaemon } from './daemonize/daemon.js';
import { startDaemon } from './daemonize/parent.js';
import { takeInstructions, type Instructions } from './daemonize/stage-channel.js';

export { DAEMONIZE_EXIT, DaemonizeError, type DaemonizeExitName } from './daemonize/errors.js';

/**
 * Where this process is in a daemonize() start. 'parent': any process not
 * started by daemonize() (including the original one); 'daemon': the final
 * process. 'child' names the intermediate stage, which here runs no
 * JavaScript (a forked, syscall-only process), so stage() never returns it.
 */
export type DaemonStage = 'parent' | 'child' | 'daemon';

export interface DaemonizeOptions {
  /**
   * Created (mode 0644) and flock'ed (LOCK_EX|LOCK_NB) before the daemon is
   * started, inherited with its lock, and holding the daemon's PID by the
   * time the original process exits. A relative path is resolved against the
   * current directory. Another holder of the lock: ALREADY_RUNNING.
   */
  pidFile?: string;
  /** argv[0] of the daemon, which process.title then reports (default: this process's argv[0]). */
  programName?: string;
  /**
   * Open fds (or objects with an `fd`) the daemon inherits at 3, 4, ... in
   * this order, before the PID file; their locks are never released. Used
   * in the original process only (see Daemon.files). In the daemon they are
   * FD_CLOEXEC: pass them to a child explicitly.
   */
  files?: ReadonlyArray<number | { fd: number }>;
  /**
   * From READY=1 on, the daemon's fds 1 and 2 are pipes it reads itself
   * (Daemon.stdout/stderr) instead of /dev/null. Before READY=1 its output
   * goes to the process that started it, whatever this says.
   */
  captureOutput?: boolean;
  /** The daemon's working directory (default '/', as daemon(7) says); null leaves it as it is. */
  workingDirectory?: string | null;
  /** The daemon's umask (default 0, as daemon(7) says); null leaves it as it is. */
  umask?: number | null;
  /** How long the original process waits for READY=1 (default 30 000 ms). */
  readyTimeoutMs?: number;
  /**
   * Daemonize even when a service manager supervises this process
   * (NOTIFY_SOCKET or INVOCATION_ID set). systemd sets INVOCATION_ID for
   * Type=forking services too: pass force there.
   */
  force?: boolean;
}

/** What daemonize() resolves with, in the daemon. */
export interface Daemon {
  pid: number;
  /** Where `files` are in the daemon: 3, 4, ... */
  files: number[];
  /** With captureOutput: what the daemon writes to fds 1 and 2 from READY=1 on (unref'ed streams). */
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  /** The PID file's absolute path, and the fd holding its lock (keep it open). */
  pidFile: string | null;
  pidFileFd: number | null;
}

let detected: { stage: DaemonStage; instructions: Instructions | null } | undefined;

function detect(): { stage: DaemonStage; instructions: Instructions | null } {
  const instructions = takeInstructions();
  return { stage: instructions ? 'daemon' : 'parent', instructions };
}

/**
 * Where this process is: 'daemon' in a process started by daemonize(),
 * 'parent' anywhere else. The first call in a daemon takes its instructions
 * off the inherited channel and closes it; call it (or daemonize()) before
 * spawning anything.
 */
export function stage(): DaemonStage {
  detected ??= detect();
  return detected.stage;
}

let started: Promise<Daemon> | null = null;

/**
 * Typical use, first thing in the program:
 *
 *     try {
 *       await daemonize({ pidFile: '/run/example.pid', programName: 'example' });
 *     } catch (error) {
 *       console.error(error instanceof Error ? error.message : error);
 *       process.exit(error instanceof DaemonizeError ? error.exitCode : 1);
 *     }
 *     // Only the daemon gets here; ready() (or notify('READY=1')) ends the start.
 *
 * In the original process: starts the daemon and never resolves; the process
 * exits 0 once the daemon reported READY=1, or with the daemon's exit status
 * (or a DAEMONIZE_EXIT code) and a message on stderr when it did not. Errors
 * found before the daemon exists (supervised, lock held, no addon, spawn
 * failed) reject with a DaemonizeError carrying `exitCode`; invalid options
 * reject with TypeError/RangeError. In the daemon: resolves with Daemon, taking
 * every setting from the original process (its own options are only checked).
 */
export function daemonize(options: DaemonizeOptions = {}): Promise<Daemon> {
  try {
    checkOptions(options);
    if (started) return started;
    detected ??= detect();
    const { instructions } = detected;
    started = instructions
      ? Promise.resolve(becomeDaemon(instructions))
      : startDaemon(options, nameOf(options), (options.files ?? []).map(fileFd));
    return started;
  } catch (error) {
    return Promise.reject(error);
  }
}

function checkOptions(options: DaemonizeOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('daemonize: options must be an object');
  const { pidFile, programName, files, workingDirectory, umask, readyTimeoutMs } = options;
  if (pidFile !== undefined && (typeof pidFile !== 'string' || pidFile === '' || pidFile.includes('\0'))) {
    throw new TypeError(`daemonize: pidFile must be a non-empty path, got ${JSON.stringify(pidFile)}`);
  }
  if (programName !== undefined && (typeof programName !== 'string' || programName === '' || programName.includes('\0'))) {
    throw new TypeError(`daemonize: programName must be a non-empty string without NUL, got ${JSON.stringify(programName)}`);
  }
  if (files !== undefined) {
    if (!Array.isArray(files)) throw new TypeError('daemonize: files must be an array of fds or objects with an fd');
    for (const [i, file] of files.entries()) fileFd(file, i);
  }
  if (workingDirectory !== undefined && workingDirectory !== null && (typeof workingDirectory !== 'string' || workingDirectory === '')) {
    throw new TypeError(`daemonize: workingDirectory must be a path or null, got ${JSON.stringify(workingDirectory)}`);
  }
  if (umask !== undefined && umask !== null && (!Number.isInteger(umask) || umask < 0 || umask > 0o777)) {
    throw new RangeError(`daemonize: umask must be an integer from 0 to 0o777 or null, got ${String(umask)}`);
  }
  if (readyTimeoutMs !== undefined && (typeof readyTimeoutMs !== 'number' || !(readyTimeoutMs > 0) || readyTimeoutMs > 2 ** 31 - 1)) {
    throw new RangeError(
      `daemonize: readyTimeoutMs must be a positive number of milliseconds (at most 2^31-1), got ${String(readyTimeoutMs)}`,
    );
  }
}

function fileFd(file: number | { fd: number }, index: number): number {
  const fd = typeof file === 'number' ? file : (file as { fd?: unknown } | null)?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new TypeError(`daemonize: files[${index}] is not a file descriptor or an object with one`);
  }
  return fd;
}

/**
 * The program's name for messages: programName, else the script's file name.
 * Cut at the last '/' by hand (Linux paths only): path.basename's first call
 * is a lazy compile that every daemonize() start would pay for a name that
 * only an error message reads.
 */
function nameOf(options: DaemonizeOptions): string {
  if (options.programName !== undefined) return options.programName;
  const script = process.argv[1] ?? process.argv0;
  return script.slice(script.lastIndexOf('/') + 1);
}
