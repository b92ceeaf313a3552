// The app of the daemonize-ready case: daemonizes (PID file given as the
// first argument), reports ready, and stays up like a daemon until the bench
// kills it. The original process exits 0 once READY=1 has arrived.
import { daemonize, DaemonizeError, ready } from '../../runtime/dist/index.js';

try {
  await daemonize({ pidFile: process.argv[2] });
} catch (error) {
  console.error(error.message);
  process.exit(error instanceof DaemonizeError ? error.exitCode : 1);
}
ready();
setInterval(() => {}, 1 << 30);
