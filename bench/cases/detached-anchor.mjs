// The single-stage anchor of the daemonize-ready case: the least a Node
// daemonizer can do. Spawns `node -e` detached (new session), which writes a
// byte to an inherited pipe once it runs; this process prints the child's
// PID (so the bench can stop it) and exits when the byte arrives.
import { spawn } from 'node:child_process';

const child = spawn(process.execPath, ['-e', "require('node:fs').writeSync(3, 'r'); setInterval(() => {}, 1 << 30)"], {
  detached: true,
  stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
});
child.stdio[3].once('data', () => {
  console.log(child.pid);
  process.exit(0);
});
