// The CommonJS twin of daemonize-app.mjs, for the daemonize-ready-cjs case:
// the same app as a .cjs program requiring the runtime's CommonJS entry
// (dist/index.cjs, what `require('sd-daemon-runtime')` resolves to through
// the `require` export condition), because a CommonJS start does not pay for
// Node's ES module loader: the floor differs.
const { daemonize, DaemonizeError, ready } = require('../../runtime/dist/index.cjs');

// The second argument: readyTimeoutMs, as in daemonize-app.mjs.
const timeout = process.argv[3] === undefined ? undefined : Number(process.argv[3]);

daemonize({ pidFile: process.argv[2], readyTimeoutMs: timeout }).then(
  () => {
    ready();
    setInterval(() => {}, 1 << 30);
  },
  (error) => {
    console.error(error.message);
    process.exit(error instanceof DaemonizeError ? error.exitCode : 1);
  },
);
