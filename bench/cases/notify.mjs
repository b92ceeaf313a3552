// notify-path, notify-abstract: the per-call cost of WATCHDOG=1 (the message
// a daemon sends most often), ours against libsystemd's sd_notify() in C.
//
// Every message is received by a C receiver that checks its bytes; the
// counts must match exactly or the case fails. The receiver runs in a private
// network namespace with net.unix.max_dgram_qlen=512, as on a systemd host
// (see anchors/receiver.c), and reports how many datagrams it found per
// wake-up: about 1-3 means it was waiting for the senders, not the other way
// round; a burst as long as the queue means a sender may have blocked on it
// for a moment, and the case says so in its notes.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { countAll, counted, NODE_FLAGS } from '../lib/callgrind.mjs';
import { NODE, BENCH, cleanEnv, helper, lastJson, lines, scratch, terminate } from '../lib/proc.mjs';
import { buildEntry } from '../lib/result.mjs';
import { alternate, BenchFailure, fmt, median } from '../lib/stats.mjs';

const SENDER = path.join(BENCH, 'cases', 'notify-sender.mjs');
const PAYLOAD = 'WATCHDOG=1';

async function startReceiver(receiverBinary, address) {
  const child = helper(receiverBinary, [address, '--netns-qlen', '512'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = lines(child.stdout);
  const ready = await out.next();
  const match = /^ready qlen=(-?\d+) netns=(\w+) rcvbuf=(\d+)$/.exec(ready);
  if (!match) throw new BenchFailure(`receiver: ${ready}`);
  const ask = async (command, timeoutMs) => {
    child.stdin.write(`${command}\n`);
    return out.next(timeoutMs);
  };
  return { child, qlen: Number(match[1]), netns: match[2], rcvbuf: Number(match[3]), ask };
}

function runCase({ id, title, address, quick, tools }) {
  return async () => {
    const calls = quick ? 10_000 : 50_000;
    const warmupCalls = quick ? 1_000 : 5_000;
    // systemd-notify costs a process per message: far fewer iterations.
    const spawnCalls = quick ? 20 : 100;
    const receiver = await startReceiver(tools.receiver, address);
    const env = cleanEnv({ NOTIFY_SOCKET: address });
    // Senders join the receiver's namespace (an abstract name lives in one).
    const inNetns = (command, args) =>
      receiver.netns === 'private' ? ['nsenter', [`--net=/proc/${receiver.child.pid}/ns/net`, '--', command, ...args]] : [command, args];
    // Per sender: datagrams drained per receiver wake-up, and the longest burst.
    const bursts = {};
    // Per sender: CPU time per call of each run, in us (user + system: the
    // kernel's share included, the time spent waiting for a core left out).
    const cpu = {};

    /** One sender process: reset the receiver's counters, send, check the counts. */
    const measure =
      (who, command, args, expected, barriers = 0) =>
      async () => {
        if ((await receiver.ask(`reset ${PAYLOAD}`)) !== 'ok') throw new BenchFailure('receiver did not reset');
        const [cmd, argv] = inNetns(command, args);
        const result = spawnSync(cmd, argv, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
        if (result.status !== 0)
          throw new BenchFailure(`${who} exited ${result.status ?? result.signal}: ${result.stderr.trim().slice(-800)}`);
        const { nsPerCall, cpuNsPerCall } = lastJson(result.stdout, who);
        const report = await receiver.ask('report');
        const counts = Object.fromEntries(report.split(' ').map((kv) => kv.split('=')));
        if (Number(counts.count) !== expected || Number(counts.bad) !== 0 || Number(counts.barriers) !== barriers) {
          throw new BenchFailure(`${who}: receiver got ${report}, expected count=${expected} bad=0 barriers=${barriers}`);
        }
        const b = (bursts[who] ??= { mean: 0, longest: 0 });
        b.mean = Math.max(b.mean, (Number(counts.count) + Number(counts.barriers)) / Math.max(1, Number(counts.wakeups)));
        b.longest = Math.max(b.longest, Number(counts.maxbatch));
        if (typeof cpuNsPerCall === 'number') (cpu[who] ??= []).push(cpuNsPerCall / 1000);
        return nsPerCall / 1000;
      };

    const variants = [
      { name: 'ours', run: measure('ours', NODE, [SENDER, 'ours', warmupCalls, calls], warmupCalls + calls) },
      { name: 'c', run: measure('C sd_notify', tools.notifyAnchor, [warmupCalls, calls], warmupCalls + calls) },
      // The floor: one sendmsg(2) per call on a socket kept open, in C (anchors/notify.c).
      { name: 'c-kept', run: measure('C sendmsg kept', tools.notifyAnchor, [warmupCalls, calls, 'kept'], warmupCalls + calls) },
      { name: 'sd-notify', run: measure('npm sd-notify', NODE, [SENDER, 'sd-notify', warmupCalls, calls], warmupCalls + calls) },
      {
        name: 'systemd-notify',
        run: measure('systemd-notify', NODE, [SENDER, 'systemd-notify', 2, spawnCalls], 2 + spawnCalls, 2 + spawnCalls),
      },
    ];
    /**
     * Instructions per call: callgrind counts a sender process making
     * `warmupCalls` then N calls, and the same process making `warmupCalls`
     * then 0 calls; the difference over N is what one call costs, start-up
     * and warm-up cancelling out. Each counted run has its own receiver (at
     * the same kind of address, so the four can run side by side), which
     * checks every datagram as in the timed runs.
     */
    const countedCalls = quick ? 2_000 : 10_000;
    let countSerial = 0;
    const countOne = async (who, command, args, calls) => {
      // Its own address, taken before any await: the counted runs go side by side.
      const ownAddress = `${address}.${++countSerial}`;
      const own = await startReceiver(tools.receiver, ownAddress);
      try {
        if ((await own.ask(`reset ${PAYLOAD}`)) !== 'ok') throw new BenchFailure('receiver did not reset');
        const wrap = own.netns === 'private' ? (argv) => ['nsenter', `--net=/proc/${own.child.pid}/ns/net`, '--', ...argv] : undefined;
        const result = await counted(command, [...args, warmupCalls, calls], { env: cleanEnv({ NOTIFY_SOCKET: ownAddress }), wrap });
        const report = await own.ask('report', 600_000);
        const count = Number(Object.fromEntries(report.split(' ').map((kv) => kv.split('='))).count);
        if (count !== warmupCalls + calls)
          throw new BenchFailure(`${who} (counted): receiver got ${report}, expected count=${warmupCalls + calls}`);
        return result.instructions;
      } finally {
        own.child.stdin.end();
        await terminate(own.child.pid);
      }
    };
    const perCall = async (who, command, args) => {
      const [full, none] = await Promise.all([countOne(who, command, args, countedCalls), countOne(who, command, args, 0)]);
      return { instructions: (full - none) / countedCalls, processes: [] };
    };
    const countVariants = [
      { name: 'ours', count: () => perCall('ours', NODE, [...NODE_FLAGS, SENDER, 'ours']) },
      { name: 'c', count: () => perCall('C sd_notify', tools.notifyAnchor, []) },
    ];

    try {
      const { samples, failures } = await alternate({ variants, warmup: 1, runs: quick ? 5 : 7 });
      // One round: a count repeats (see the start-up cases' spread), and a node sender under callgrind takes minutes.
      const counts = await countAll({ variants: countVariants, rounds: 1, parallel: 2 });
      const longest = Math.max(0, ...Object.values(bursts).map((b) => b.longest));
      const notes = [
        `${calls} timed calls per run (systemd-notify: ${spawnCalls}); receiver queue length ${receiver.qlen} (${receiver.netns} network namespace); ` +
          `datagrams per receiver wake-up, worst run: ${Object.entries(bursts)
            .map(([who, b]) => `${who} ${fmt(b.mean)}`)
            .join(', ')}; longest burst ${longest}`,
      ];
      // The first run of each sender is alternate()'s warm-up round, not counted.
      const cpuMedian = (who) => (cpu[who]?.length > 1 ? median(cpu[who].slice(1)) : NaN);
      notes.push(
        `CPU time per call (user + system, median of the counted runs): ours ${fmt(cpuMedian('ours'))} us, ` +
          `C sd_notify ${fmt(cpuMedian('C sd_notify'))} us (ratio ${fmt(cpuMedian('ours') / cpuMedian('C sd_notify'))}), ` +
          `C sendmsg on a kept socket ${fmt(cpuMedian('C sendmsg kept'))} us (${fmt(cpuMedian('C sendmsg kept') / cpuMedian('C sd_notify'))}x sd_notify)`,
      );
      if (receiver.qlen > 0 && longest >= receiver.qlen)
        notes.push(`a burst reached the queue length (${receiver.qlen}): a sender may have blocked on a full queue for a moment`);
      return buildEntry({
        id,
        title,
        unit: 'us/call',
        samples,
        failures,
        ours: 'ours',
        anchor: 'c',
        anchorName: 'C libsystemd sd_notify()',
        extras: [
          { name: 'C sendmsg(2) on a kept socket (floor: one system call)', variant: 'c-kept' },
          { name: 'npm sd-notify watchdog()', variant: 'sd-notify' },
          { name: 'spawnSync systemd-notify WATCHDOG=1', variant: 'systemd-notify' },
        ],
        target: 0.3,
        counts,
        how: `per call: (Ir of a sender making ${warmupCalls} + ${countedCalls} calls - Ir of the same making ${warmupCalls} + 0) / ${countedCalls}; node ${NODE_FLAGS.join(' ')}`,
        notes,
        info: { qlen: receiver.qlen, netns: receiver.netns, bursts },
      });
    } finally {
      receiver.child.stdin.end();
      await terminate(receiver.child.pid);
    }
  };
}

export default function notifyCases(ctx) {
  return [
    {
      id: 'notify-path',
      title: 'notify WATCHDOG=1, path socket',
      run: runCase({ ...ctx, id: 'notify-path', title: 'notify WATCHDOG=1, path socket', address: path.join(scratch(), 'notify.sock') }),
    },
    {
      id: 'notify-abstract',
      title: 'notify WATCHDOG=1, abstract socket',
      run: runCase({
        ...ctx,
        id: 'notify-abstract',
        title: 'notify WATCHDOG=1, abstract socket',
        address: `@sd-bench/${process.pid}/notify`,
      }),
    },
  ];
}
