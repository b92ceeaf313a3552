// The app of the daemonize-ready case: daemonizes (PID file given as the
// first argument), reports ready, and stays up like a daemon until the bench
// kills it. The original process exits 0 once READY=1 has arrived. The
// optional second argument is readyTimeoutMs: the counted runs give the
// daemon minutes, since under callgrind on a loaded machine its start can
// take longer than the default 30 s (only a timer's length changes).
import { daemonize, DaemonizeError, ready } from '../../runtime/dist/index.js';

const readyTimeout = (arg) => (arg === undefined ? undefined : Number(arg));

try {
  await daemonize({ pidFile: process.argv[2], readyTimeoutMs: readyTimeout(process.argv[3]) });
} catch (error) {
  console.error(error.message);
  process.exit(error instanceof DaemonizeError ? error.exitCode : 1);
}
ready();
setInterval(() => {}, 1 << 30);
