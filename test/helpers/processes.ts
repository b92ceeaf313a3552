// What /proc says about a daemon's processes, for tests that start daemons
// through init scripts and must prove they are gone.
import { readdirSync, readFileSync } from 'node:fs';

/** The process exists and has not ended: a daemon reparented to an init that does not reap it stays a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** Every live process whose command line names `file` (the daemon and any stage of it still around). */
export function processesRunning(file: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(file) && alive(Number(entry))) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}
