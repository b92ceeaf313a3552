// Never silent: a present manager (NOTIFY_SOCKET set) that cannot be told is
// said on stderr, once per cause and socket, with what went wrong and how to
// fix it; the first notification that gets through again after failures is
// said once too, with how many were lost. The result objects stay as they
// are: this only makes sure a daemon that ignores them (it is common to) does
// not leave the operator guessing why systemd timed it out.
//
// This is the one place that reports delivery: the watchdog keep-alive relies
// on it instead of logging lost pings itself.
import { createLogger, type Logger } from './log.js';
import { NATIVE_SWITCH, nativeLoadError } from './native.js';
import type { NotifyResult } from './notify.js';

/** What an errno means for a notification, and what the operator can do about it. */
const ERRNO_CAUSES: Record<string, [cause: string, fix: string]> = {
  ENOENT: [
    'no socket exists at that path, as this process sees the filesystem',
    "the manager's socket is hidden from the service or gone: check sandboxing that replaces /run or the socket's directory (TemporaryFileSystem=, RootDirectory=, RootImage=, InaccessiblePaths=) and that the manager still runs",
  ],
  ECONNREFUSED: [
    'nothing is bound there (a socket left behind by a manager that exited, or not a socket at all)',
    'the service manager that started this process has exited, or NOTIFY_SOCKET names the wrong file; restart the service under a running manager',
  ],
  EACCES: [
    'permission denied on the socket or a directory above it',
    "the service's user (User=, DynamicUser=) must be able to write to the socket and search every directory above it",
  ],
  EPERM: [
    'the kernel or a security policy refused the send',
    'allow sendmsg in SystemCallFilter= and check SELinux/AppArmor policy for the service',
  ],
  EAFNOSUPPORT: ['AF_UNIX sockets are forbidden to this process', "add AF_UNIX to the unit's RestrictAddressFamilies="],
  EAGAIN: [
    'the manager did not take the message within 1000 ms (its queue is full: it is busy or hung)',
    "look at the service manager's health (systemctl status, its log); this message is lost, later ones are tried again",
  ],
  EPROTOTYPE: ['the socket there is not a datagram socket', "point NOTIFY_SOCKET at the service manager's notify socket"],
  ENOTSOCK: ['the file there is not a socket', "point NOTIFY_SOCKET at the service manager's notify socket"],
  EMFILE: ['this process has no file descriptor left', 'raise LimitNOFILE= or close file descriptors the daemon no longer needs'],
  ENFILE: ['the system has no file descriptor left', 'raise fs.file-max or find the process holding them'],
  ENOBUFS: ['the kernel has no memory for the message', 'free memory on the machine; later messages are tried again'],
  ENOMEM: ['the kernel has no memory for the message', 'free memory on the machine; later messages are tried again'],
  ETOOMANYREFS: [
    'the fds passed along are themselves in flight too deeply (SCM_RIGHTS nesting)',
    'pass fds that are not unix sockets carrying fds',
  ],
};

// What has gone wrong since the last delivered notification: the causes
// already reported (with their socket) and how many messages were lost. A
// daemon has one manager, so one record; the cap only guards against a
// program that cycles through addresses.
const reported = new Set<string>();
const MAX_CAUSES = 64;
let lost = 0;
let logger: Logger | undefined;

function out(): Logger {
  // Always "<N>"-prefixed: this is only written with NOTIFY_SOCKET set, that
  // is under a service manager, which reads stderr as a log stream; the
  // priority must survive there even without $JOURNAL_STREAM (file: output,
  // other supervisors). It shares stderr's sink with the runtime's `log`.
  logger ??= createLogger({ prefix: true });
  return logger;
}

/** Control characters escaped: a socket path or a raw message may hold a newline, and this must stay one log line. */
function oneLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The message as an operator would name it: its fields, long values cut short. */
function describeMessage(text: string): string {
  return text
    .split('\n')
    .map((line) => (line.length > 40 ? `${line.slice(0, 39)}…` : line))
    .join(' ');
}

/** [cause key, cause, fix] for a result that was not delivered. */
function classify(result: Extract<NotifyResult, { error: Error }>): [string, string, string] {
  switch (result.reason) {
    case 'no-native': {
      const error = nativeLoadError();
      // One line: "tried a (not found); b (...)", or the switch and its value.
      // The loader's last line (when present) is the command that builds the addon.
      const [tried = 'unknown reason', build] = (error?.message ?? 'unknown reason').split(/\n(?=to build it for )/);
      const why = tried
        .replace(/^sd-daemon-runtime: native addon not loaded[;:] /, '')
        .replace(/^tried:\n {2}/, 'tried ')
        .replaceAll('\n  ', '; ');
      if (error?.code === 'ERR_SD_NATIVE_OFF') {
        return [
          'no-native',
          `the native addon did not load (${why.split(';')[0]})`,
          `unset ${NATIVE_SWITCH} in the service's environment (it is a testing aid)`,
        ];
      }
      return [
        'no-native',
        `the native addon did not load (${why})`,
        `install sd-daemon-runtime where it ships a prebuild or can build its addon (its README lists the platforms)${build ? `; ${build}` : ''}`,
      ];
    }
    case 'invalid-address':
      return [
        'invalid-address',
        result.error.message,
        'set NOTIFY_SOCKET to an absolute path or an @abstract name, as service managers do, or unset it',
      ];
    case 'unsupported':
      return ['unsupported', result.error.message, 'run under a manager that offers a unix notify socket, or unset NOTIFY_SOCKET'];
    case 'send-failed': {
      const error = result.error as NodeJS.ErrnoException;
      const code = error.code === 'EWOULDBLOCK' ? 'EAGAIN' : (error.code ?? 'unknown');
      const known = ERRNO_CAUSES[code];
      if (known) return [code, `${code} from ${error.syscall ?? 'sendmsg'}: ${known[0]}`, known[1]];
      return [code, error.message, `see ${error.syscall ?? 'sendmsg'}(2) for ${code}; the message was not delivered`];
    }
  }
}

/**
 * Called with every notify() outcome. Costs one comparison on the hot path
 * (a delivered message while nothing failed).
 */
export function reportDelivery(text: string, result: NotifyResult): void {
  if (result.sent) {
    if (lost === 0) return;
    out().notice(
      oneLine(
        `sd-daemon-runtime: the service manager (NOTIFY_SOCKET=${result.socket}) is told again: ${describeMessage(text)} went through after ${lost} lost notification(s)`,
      ),
    );
    lost = 0;
    reported.clear();
    return;
  }
  if (result.reason === 'disabled') return;
  lost++;
  const [key, cause, fix] = classify(result);
  const seen = `${result.socket}\0${key}`;
  if (reported.has(seen)) return;
  if (reported.size >= MAX_CAUSES) reported.clear();
  reported.add(seen);
  out().err(
    oneLine(
      `sd-daemon-runtime: cannot tell the service manager (NOTIFY_SOCKET=${result.socket}) ${describeMessage(text)}: ${cause}; fix: ${fix}`,
    ),
  );
}
