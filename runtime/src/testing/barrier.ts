// BARRIER=1 (sd_notify_barrier(3)): a daemon sends it with the write end of a
// pipe and waits until the read end reports EOF. The manager's answer is
// simply to close that fd once it has read the datagram, so everything sent
// before the barrier has been processed. systemd answers a barrier before any
// unit lookup or NotifyAccess= check (manager_dispatch_notify_fd()), and the
// barrier changes nothing else: it is not applied as a notification.

/** Whether an accepted datagram is a barrier. A rejected one is not answered as one. */
export function isBarrier(lines: readonly string[], rejected: boolean): boolean {
  return !rejected && lines.includes('BARRIER=1');
}

/** The warnings systemd logs about a malformed barrier: it must be the only line, with exactly one fd. */
export function barrierProblems(lines: readonly string[], fdCount: number): string[] {
  if (lines.length !== 1) return ['Extra notification messages sent with BARRIER=1, ignoring everything.'];
  if (fdCount !== 1) return ['Got incorrect number of fds with BARRIER=1, closing them.'];
  return [];
}
