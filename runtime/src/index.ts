// sd-daemon-runtime: the service-manager protocols a Node.js daemon speaks.
// One module per mechanism; this file only re-exports. The fake service
// manager is not here: it lives on the 'sd-daemon-runtime/testing' subpath,
// so a daemon never loads test tooling (nor the built-ins it needs).
export * from './capabilities.js';
export * from './booted.js';
export * from './notify.js';
export type { SystemError } from './native.js';
export * from './watchdog.js';
export * from './lifecycle.js';
export * from './log.js';
export {
  encodeJournalRecord,
  JOURNAL_FIELD_NAME_MAX,
  JOURNAL_SOCKET,
  journalFieldNameProblem,
  sendJournal,
  type JournalFields,
  type JournalSendOptions,
  type JournalSendResult,
  type JournalValue,
} from './journal.js';
export * from './exit-codes.js';
export * from './listen-fds.js';
export * from './adopt.js';
export {
  DAEMONIZE_EXIT,
  DaemonizeError,
  daemonize,
  stage,
  type Daemon,
  type DaemonizeExitName,
  type DaemonizeOptions,
  type DaemonStage,
} from './daemonize.js';
