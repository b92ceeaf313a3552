// sd-daemon-runtime: the service-manager protocols a Node.js daemon speaks.
// One module per mechanism; this file only re-exports.
export * from './capabilities.js';
export * from './notify.js';
export type { SystemError } from './native.js';
export * from './watchdog.js';
export * from './lifecycle.js';
export * from './log.js';
export * from './exit-codes.js';
export * from './listen-fds.js';
export * from './adopt.js';
export * from './testing.js';
export { DAEMONIZE_EXIT, DaemonizeError, daemonize, stage, type Daemon, type DaemonizeExitName, type DaemonizeOptions, type DaemonStage } from './daemonize.js';
