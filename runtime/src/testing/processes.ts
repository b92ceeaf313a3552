// The service's processes, as far as a fake without cgroups can tell: the
// process tree and the process group of the spawned process stand in for the
// service's cgroup (see the limitations in ../testing.ts).
import { readFileSync } from 'node:fs';

import { failed, type NativeBinding } from '../native.js';
import { safeClose } from '../quiet-fd.js';

/** /proc/<pid>/stat fields we need, or null when the process is gone. */
function procStat(pid: number): { state: string; ppid: number; pgrp: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain ') '.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]), pgrp: Number(rest[2]) };
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}

/** Whether `pid` descends from one of `ancestors` or sits in the process group led by `group`. */
export function belongsTo(pid: number, ancestors: ReadonlySet<number>, group: number): boolean {
  let current = pid;
  for (let depth = 0; depth < 64 && current > 1; depth++) {
    const stat = procStat(current);
    if (stat === null) return false;
    if (depth === 0 && stat.pgrp === group) return true;
    if (ancestors.has(stat.ppid)) return true;
    current = stat.ppid;
  }
  return false;
}

/** kill(2) that answers whether the signal went out; a pid of 0 or -1 (everyone) is refused. */
export function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  if (!(pid > 0 || pid < -1)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Calls `onGone` when `pid`, which need not be our child (a MAINPID= that
 * moved), exits: a pidfd becomes readable then. Close the watch when done.
 */
export function watchProcessExit(binding: NativeBinding, pid: number, onGone: () => void): { close(): void } {
  const pidfd = binding.pidfdOpen(pid);
  if (!failed(pidfd)) {
    const watcher = new binding.FdWatcher(pidfd, onGone);
    return {
      close: () => {
        watcher.close();
        safeClose(pidfd);
      },
    };
  }
  // Kernels before 5.3 have no pidfd: look every 50 ms.
  const timer = setInterval(() => {
    if (!isAlive(pid)) onGone();
  }, 50);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
