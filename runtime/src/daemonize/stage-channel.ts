// The stage channel: how a process learns that daemonize() started it, and
// what the original process wants of it. The original binds a datagram socket
// at '@sd-daemonize/<token>/stage', queues the instructions on it and passes
// it to the daemon at an fd above 2; the daemon finds it by that name, takes
// the instructions and closes it.
//
// Why a socket and not an environment variable: the kernel keeps showing a
// process's exec-time environment in /proc/<pid>/environ whatever it unsets
// later, and a variable is inherited by everything spawned before it is
// removed. An inherited socket bound to the channel's name and holding the
// matching instructions cannot be set by accident, and the daemon's
// environment stays byte for byte the original's.
import { failed, nativeBinding } from '../native.js';
import { formatSunPath } from '../unix-address.js';
import { safeClose } from '../quiet-fd.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { readdirSync } = process.getBuiltinModule('node:fs');

const NAME_PREFIX = 'sd-daemonize/';

/** The private sockets of one start: the channel and the notify socket the daemon's READY=1 goes to. */
export function channelAddresses(token: string): { stage: string; notify: string } {
  return { stage: `@${NAME_PREFIX}${token}/stage`, notify: `@${NAME_PREFIX}${token}/notify` };
}

/** What the original process tells the daemon, queued on the stage channel. */
export interface Instructions {
  version: 1;
  token: string;
  notifySocket: string;
  /** NOTIFY_SOCKET as the original process had it (forced under a manager), null when unset. */
  restoreNotifySocket: string | null;
  files: number;
  pidFile: { path: string; fd: number } | null;
  workingDirectory: string | null;
  umask: number | null;
  captureOutput: boolean;
  /**
   * The write end of the pipe whose EOF tells the original process that the
   * daemon ended. Nothing the daemon spawns may keep it open after the daemon
   * ends: Node's start marks the inherited fds close-on-exec already (libuv's
   * uv_disable_stdio_inheritance, from fd 0 up to the first gap after 15), and
   * takeInstructions() says so explicitly rather than rely on that.
   */
  lifeFd: number;
}

/**
 * The instructions of an inherited stage channel, taken off it (the channel is
 * closed, so nothing spawned from here inherits it), or null in any process
 * daemonize() did not start.
 */
export function takeInstructions(): Instructions | null {
  const native = nativeBinding();
  if (!native || process.platform !== 'linux') return null;
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  for (const entry of entries) {
    const fd = Number(entry);
    if (!(fd > 2)) continue;
    const info = native.socketInfo(fd);
    if (failed(info) || info.domain !== 1 /* AF_UNIX */ || info.path === undefined) continue;
    const address = formatSunPath(info.path);
    if (!address.startsWith(`@${NAME_PREFIX}`) || !address.endsWith('/stage')) continue;
    // Ours by name: take the instructions (if this process is the first to
    // look) and close it.
    const received = native.recvmsg(fd, 65536);
    safeClose(fd);
    if (failed(received)) continue;
    for (const passed of received.fds) safeClose(passed);
    // Abstract names are visible to every local user (/proc/net/unix): take
    // instructions only from our own user (or root), as the kernel vouches
    // (it sends the real uid, so that is what we compare).
    if (received.uid !== process.getuid?.() && received.uid !== 0) continue;
    const instructions = parseInstructions(received.data.toString('utf8'));
    if (instructions && address === channelAddresses(instructions.token).stage) {
      native.setCloexec(instructions.lifeFd, true);
      return instructions;
    }
  }
  return null;
}

function parseInstructions(text: string): Instructions | null {
  try {
    const value = JSON.parse(text) as Partial<Instructions>;
    if (value.version !== 1 || typeof value.token !== 'string' || typeof value.notifySocket !== 'string') return null;
    if (!Number.isInteger(value.files) || !Number.isInteger(value.lifeFd)) return null;
    return value as Instructions;
  } catch {
    return null;
  }
}
