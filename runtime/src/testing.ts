// A fake service manager for tests: it runs a daemon the way systemd runs a
// Type=notify service (NOTIFY_SOCKET, LISTEN_FDS/LISTEN_FDNAMES/LISTEN_PID,
// WATCHDOG_USEC/WATCHDOG_PID, the fd store) and records every notification
// with the sender's credentials, so a test can await READY=1, send signals and
// collect the exit status. Message handling follows systemd's
// service_notify_message() and manager_dispatch_notify_fd() (src/core/), and
// every warning systemd would log is kept as a violation a test can assert on.
//
// Limitations (what a fake without cgroups or PID 1 cannot do):
// - "The service's processes" means the process group of the spawned process
//   (it is started as a group leader) plus the current main PID. A process
//   that calls setsid() escapes it, as it would escape a KillMode= based on
//   process groups; under systemd the cgroup would still hold it.
// - A sender that has exited before its message is read cannot be traced to a
//   service; it is attributed to the only running service, if there is one.
// - Stored fds are not polled for POLLHUP/POLLERR (FDPOLL= is recorded only).
// - Each spawn binds fresh listening sockets; a .socket unit would keep them
//   across restarts. The fd store keeps sockets across spawns, as it does
//   under systemd.
// - NotifyAccess=exec behaves as main: there are no ExecStartPre=-style
//   control processes here.
//
// This file is the 'sd-daemon-runtime/testing' entry and only re-exports.
// One module per part, under testing/:
//   fake-manager.ts     the manager: spawn, routing, close   (FakeServiceManager)
//   fake-service.ts     one run's state machine               (FakeService)
//   service-notify.ts   what each notification field does to a run (NotifyAccess=, MAINPID=, ...)
//   service-output.ts   the run's captured stdout/stderr
//   service-watchdog.ts WatchdogSec=: the deadline and its counts
//   service-stop.ts     KillMode= and TimeoutStopSec=
//   waiting.ts          waitFor() and friends; the failure report
//   notify-receiver.ts  reads and judges each notify datagram
//   barrier.ts          BARRIER=1
//   fd-store.ts         FDSTORE=1 / FDSTOREREMOVE=1
//   sockets.ts          the listening sockets handed over at fd 3..
//   fds.ts              what a received fd is; closing fds
//   processes.ts        the process tree standing in for the cgroup
//   notification.ts     what is recorded per datagram; waitFor() matches
//   clock.ts            CLOCK_MONOTONIC and deadlines that can move
// The datagram text itself is read by ../notify-datagram.ts: the one parser,
// for daemonize()'s parent to use as well.
export type { FakeServiceManagerOptions, FakeServiceSpawnOptions } from './testing/fake-manager.js';
export { FakeServiceManager } from './testing/fake-manager.js';
export type { FakeKillMode, FakeNotifyAccess, FakeServiceExit, FakeServiceResult, FakeServiceState } from './testing/fake-service.js';
export type { FakeWatchdogStatus } from './testing/service-watchdog.js';
export { FakeService } from './testing/fake-service.js';
export type { FakeSocket, FakeSocketSpec } from './testing/sockets.js';
export type { FakeReceivedFd } from './testing/fds.js';
export type { FakeStoredFd } from './testing/fd-store.js';
export type { FakeNotification, FakeNotificationMatch, FakeViolation, FakeWaitOptions } from './testing/notification.js';
