// One measured sender process of the notify cases: sends WATCHDOG=1 to
// $NOTIFY_SOCKET `warmup` times untimed (loads the addon, opens and checks
// the socket, lets the JIT settle), then `count` times timed, and prints
// { nsPerCall } as JSON.
//
// Usage: node notify-sender.mjs <ours|sd-notify|systemd-notify> <warmup> <count>
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const [impl, warmupArg, countArg] = process.argv.slice(2);
const warmup = Number(warmupArg);
const count = Number(countArg);

function fail(message) {
  console.error(`notify-sender ${impl}: ${message}`);
  process.exit(1);
}

let send;
if (impl === 'ours') {
  const { notify } = await import(new URL('../../runtime/dist/index.js', import.meta.url));
  // Every result is checked, as the C anchor checks sd_notify()'s return value.
  send = () => {
    const result = notify('WATCHDOG=1');
    if (!result.sent) fail(`not sent: ${result.reason} ${result.error?.message ?? ''}`);
  };
} else if (impl === 'sd-notify') {
  // npm sd-notify: watchdog() is sd_notify(0, "WATCHDOG=1") in its addon and
  // returns nothing to check; the receiver's count is the check.
  const sdNotify = createRequire(import.meta.url)('../node_modules/sd-notify');
  send = () => sdNotify.watchdog();
} else if (impl === 'systemd-notify') {
  // What a shell script (or a Node program without bindings) does: one process per message.
  send = () => {
    const result = spawnSync('systemd-notify', ['WATCHDOG=1'], { stdio: 'ignore' });
    if (result.status !== 0) fail(`systemd-notify exited ${result.status ?? result.signal} ${result.error?.message ?? ''}`);
  };
} else {
  fail('unknown implementation');
}

// One loop for the warm-up and the timed calls: the JIT compiles it during the
// warm-up, so a run making N timed calls compiles nothing that a run making 0
// does not (a second loop was compiled on-stack only in the run with calls,
// about 500 instructions per call of ours at 10,000 counted calls).
function loop(n) {
  for (let i = 0; i < n; i++) send();
}
loop(warmup);
// CPU time (user + system) beside wall time: it leaves out waiting for a core on a loaded machine.
const cpuStart = process.cpuUsage();
const start = process.hrtime.bigint();
loop(count);
const elapsed = Number(process.hrtime.bigint() - start);
const cpu = process.cpuUsage(cpuStart);
const cpuNs = (cpu.user + cpu.system) * 1000;
console.log(
  JSON.stringify({ calls: count, warmup, totalNs: elapsed, nsPerCall: elapsed / count, cpuNsPerCall: count ? cpuNs / count : 0 }),
);
