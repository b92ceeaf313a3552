// The daemon's side of a daemonize() start (steps 4-5 of the overview in
// daemonize.ts): apply the instructions taken off the stage channel, report
// how we end until READY=1, and hand fds 1 and 2 and NOTIFY_SOCKET over as
// READY=1 leaves. Loaded only by a process that daemonize() started.
import type net from 'node:net';

import { builtin } from '../builtins.js';
import type { Daemon } from '../daemonize.js';
import { failed, nativeBinding, systemError } from '../native.js';
import type { NotifyResult } from '../notify.js';
import { setNotifyInterceptor } from '../notify-hook.js';
import { safeClose } from '../quiet-fd.js';
import { abstractSunPath } from './fds.js';
import { removePidFile } from './pid-file.js';
import type { Instructions } from './stage-channel.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { closeSync, constants: fsConstants, openSync } = process.getBuiltinModule('node:fs');

export function becomeDaemon(instructions: Instructions): Daemon {
  // The stage channel was found through the addon, so it is loaded.
  const binding = nativeBinding()!;
  const notifyAddress = abstractSunPath(instructions.notifySocket);
  let readySent = false;

  // Until READY=1, tell the original process how we end, whatever ends us
  // through JavaScript (process.exit, an uncaught exception, an empty loop).
  const reportExit = (code: number): void => {
    if (readySent) return;
    const status = Number.isInteger(code) ? code & 0xff : 1;
    binding.sendmsg(notifyAddress, Buffer.from(`EXIT_STATUS=${status}`), null, null);
  };
  process.on('exit', reportExit);

  // The inherited files and the PID file stay open for the daemon's life, but
  // like every fd Node opens (and like sd_listen_fds()) they are not passed
  // on implicitly: a child that outlived us would keep the PID file locked.
  const files = Array.from({ length: instructions.files }, (_, i) => 3 + i);
  const pidFile = instructions.pidFile;
  for (const fd of pidFile ? [...files, pidFile.fd] : files) binding.setCloexec(fd, true);
  if (pidFile) {
    // Remove our PID file as we exit, if it is still ours.
    process.on('exit', () => removePidFile(pidFile));
  }
  if (instructions.umask !== null) process.umask(instructions.umask);
  if (instructions.workingDirectory !== null) process.chdir(instructions.workingDirectory);

  // captureOutput: pipes read here. The write ends are re-opened with
  // O_NONBLOCK through /proc, because they replace fds 1 and 2 under Node's
  // stdout/stderr streams, which may already exist and assume non-blocking
  // fds: a blocking pipe that fills up would stop the loop that empties it.
  let capture: { stdout: net.Socket; stderr: net.Socket; writeEnds: [number, number] } | null = null;
  if (instructions.captureOutput) {
    const ends = [binding.pipe(), binding.pipe()];
    const [out, err] = ends.map((pipe) => {
      if (failed(pipe)) throw systemError(pipe, 'pipe', 'for captureOutput');
      const writeEnd = openSync(`/proc/self/fd/${pipe[1]}`, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      closeSync(pipe[1]);
      return [pipe[0], writeEnd] as const;
    }) as [readonly [number, number], readonly [number, number]];
    const reader = (fd: number): net.Socket => new (builtin.net().Socket)({ fd, readable: true, writable: false }).unref();
    capture = { stdout: reader(out[0]), stderr: reader(err[0]), writeEnds: [out[1], err[1]] };
  }

  // Just before READY=1 leaves, fds 1 and 2 let go of the original process's
  // pipes (so it sees them end right after READY=1 and can exit); just
  // after, NOTIFY_SOCKET is as the original process had it.
  const handOverOutput = (): void => {
    const devNull = openSync('/dev/null', 'r+');
    const targets = capture?.writeEnds ?? [devNull, devNull];
    binding.dup2(targets[0], 1);
    binding.dup2(targets[1], 2);
    safeClose(devNull);
    if (capture) capture.writeEnds.forEach(safeClose);
  };
  const onNotify = (text: string, env: NodeJS.ProcessEnv, send: () => NotifyResult): NotifyResult => {
    if (env.NOTIFY_SOCKET !== instructions.notifySocket || !/^READY=1$/m.test(text)) return send();
    handOverOutput();
    const result = send();
    if (result.sent) {
      readySent = true;
      setNotifyInterceptor(null);
      process.off('exit', reportExit);
      if (instructions.restoreNotifySocket === null) delete env.NOTIFY_SOCKET;
      else env.NOTIFY_SOCKET = instructions.restoreNotifySocket;
    }
    return result;
  };
  process.env.NOTIFY_SOCKET = instructions.notifySocket;
  setNotifyInterceptor(onNotify);

  return {
    pid: process.pid,
    files,
    stdout: capture?.stdout ?? null,
    stderr: capture?.stderr ?? null,
    pidFile: pidFile?.path ?? null,
    pidFileFd: pidFile?.fd ?? null,
  };
}
