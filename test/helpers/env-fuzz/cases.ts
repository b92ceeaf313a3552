// One case (the environment, the fds, what the child is asked to do), made
// from (seed, index) alone, and running it in a fresh process.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

import type { Datagram } from '../dgram-receiver.js';
import { ABSENT_NAME, BARRIER_HELD_MS, BARRIER_MS, CASE_TIMEOUT_MS, CHILD, SEED, VARIABLES, type Variable } from './config.js';
import { notifyModel } from './models.js';
import { EDGE_NUMBERS, garbage, fdName, numericForms, Rng } from './random.js';
import type { NotifyTargetExpect, World } from './world.js';

// ---------------------------------------------------------------------------
// One case: the environment, the fds, and what the child is asked to do.

export interface Case {
  index: number;
  env: Partial<Record<Variable, string>>;
  /** Indices into world.handed, in fd order from 3. */
  handed: number[];
  sentinelAt: number;
  clear: number[];
  statusText: string;
  /** What NOTIFY_SOCKET leads to, for values that are valid addresses. */
  notifyExpect?: NotifyTargetExpect;
  notifyLabel: string;
}

export function makeCase(world: World, index: number): Case {
  const r = new Rng(SEED, index);
  const k = r.weighted<number>([
    [20, () => 0],
    [30, () => 1],
    [25, () => 2],
    [15, () => 3],
    [10, () => 4],
  ]);
  const handed = Array.from({ length: k }, () => r.int(0, world.handed.length - 1));
  const sentinelAt = r.int(48, 63);
  const clear = [...handed.map((_, i) => 3 + i).filter(() => r.chance(0.75)), ...(r.chance(0.75) ? [sentinelAt] : [])];
  const env: Partial<Record<Variable, string>> = {};
  const set = (name: Variable, value: string | undefined): void => {
    if (value !== undefined) env[name] = value;
  };
  const pidForms = numericForms('{pid}', '{pidhex}');
  const otherPids = ['1', '{ppid}', '{pid+1}', '32768', '4194304'];

  set(
    'LISTEN_PID',
    r.weighted<string | undefined>([
      [20, () => undefined],
      [3, () => ''],
      [45, () => '{pid}'],
      [12, () => r.pick(pidForms)],
      [8, () => r.pick(otherPids)],
      [8, () => r.pick(EDGE_NUMBERS)],
      [4, () => garbage(r)],
    ]),
  );
  const count = String(Math.max(k, 1));
  set(
    'LISTEN_FDS',
    r.weighted<string | undefined>([
      [10, () => undefined],
      [3, () => ''],
      [40, () => count],
      [10, () => String(k + r.int(1, 3))],
      [4, () => String(r.int(1, Math.max(1, k - 1)))],
      [10, () => r.pick(numericForms(count, count))],
      [5, () => r.pick(['100000', '2147483644', '2147483645', '2147483646'])],
      [10, () => r.pick(EDGE_NUMBERS)],
      [4, () => garbage(r)],
    ]),
  );
  set(
    'LISTEN_FDNAMES',
    r.weighted<string | undefined>([
      [35, () => undefined],
      [5, () => ''],
      [
        45,
        () => {
          const n =
            Math.max(k, 1) +
            r.weighted<number>([
              [70, () => 0],
              [15, () => -1],
              [15, () => 1],
            ]);
          return Array.from({ length: Math.max(n, 0) }, () => fdName(r)).join(':');
        },
      ],
      [5, () => r.pick([':', '::', '::::', ':a', 'a:'])],
      [5, () => garbage(r, 40)],
    ]),
  );
  set(
    'LISTEN_PIDFDID',
    r.weighted<string | undefined>([
      [85, () => undefined],
      [5, () => '{pidfdid}'],
      [3, () => '{pidfdid+1}'],
      [
        7,
        () =>
          r.pick([
            '',
            '0',
            'abc',
            '-1',
            ' {pidfdid}',
            '0{pidfdid}',
            '+{pidfdid}',
            '18446744073709551615',
            '18446744073709551616',
            garbage(r),
          ]),
      ],
    ]),
  );
  set(
    'WATCHDOG_USEC',
    r.weighted<string | undefined>([
      [25, () => undefined],
      [5, () => ''],
      [30, () => r.pick(['1', '500', '1000', '999999', '1000000', '30000000', '120000000'])],
      [8, () => r.pick(['4294967294000', '4294967295000', '4294967296000', '100000000000000', '9007199254740993', '18446744073709551614'])],
      [15, () => r.pick(EDGE_NUMBERS)],
      [10, () => r.pick(numericForms('1000000', 'f4240'))],
      [7, () => garbage(r)],
    ]),
  );
  set(
    'WATCHDOG_PID',
    r.weighted<string | undefined>([
      [45, () => undefined],
      [3, () => ''],
      [30, () => '{pid}'],
      [8, () => r.pick(pidForms)],
      [7, () => r.pick(otherPids)],
      [5, () => r.pick(EDGE_NUMBERS)],
      [2, () => garbage(r)],
    ]),
  );
  set(
    'JOURNAL_STREAM',
    r.weighted<string | undefined>([
      [30, () => undefined],
      [5, () => ''],
      [25, () => '{stderr}'],
      [7, () => '{stdout}'],
      [
        13,
        () =>
          r.pick([
            '0{stderr}',
            '00{stderr}',
            ' {stderr}',
            '{stderr} ',
            '{stderr}\n',
            '{stderr}:0',
            '{stderr-ino+1}',
            '+{stderr}',
            '{stderr}x',
            '{stderr}0',
          ]),
      ],
      [
        10,
        () => r.pick(['1:2', ':', '8:', ':8', '-1:-1', '0x8:0x1', 'NaN:NaN', '99999999999999999999999:1', '18446744073709551616:1', '0:0']),
      ],
      [10, () => garbage(r)],
    ]),
  );

  let notifyExpect: NotifyTargetExpect | undefined;
  let notifyLabel = 'absent';
  const notify = r.weighted<string | undefined>([
    [15, () => undefined],
    [5, () => ((notifyLabel = 'empty'), '')],
    [
      65,
      () => {
        const target = r.weighted(world.targets.map((t) => [t.weight, () => t] as const));
        notifyExpect = target.expect;
        notifyLabel = target.label;
        return target.value;
      },
    ],
    [4, () => ((notifyLabel = 'relative path'), r.pick(['notify.sock', './notify.sock', '../x', '~/x', 'tmp/x', ' /tmp/x', '\\x']))],
    [
      3,
      () => (
        (notifyLabel = 'vsock'),
        r.pick(['vsock:2:1234', 'vsock:1:2', 'vsock-stream:2:1', 'vsock-dgram:3:4', 'vsock-seqpacket:2:9', 'vsock:', 'vsock:x:y'])
      ),
    ],
    [2, () => ((notifyLabel = 'vsock look-alike'), r.pick(['vsock', 'VSOCK:2:1', 'vsockx:2:1', 'vsock-raw:2:1', ' vsock:2:1']))],
    [
      3,
      () => {
        notifyLabel = 'garbage abstract name';
        notifyExpect = { kind: 'failed', code: 'ECONNREFUSED' };
        return `@sd-rel-none-${garbage(r, 30)}`;
      },
    ],
    [
      3,
      () => {
        notifyLabel = 'garbage under a missing directory';
        notifyExpect = { kind: 'failed', code: 'ENOENT' };
        return `${world.dir}/none/${garbage(r, 60, '/')}`;
      },
    ],
    // Not starting with '/' or '@': those are the address cases above, whose socket must be known.
    [3, () => ((notifyLabel = 'garbage'), garbage(r, 40).replace(/^[/@]/, 'x'))],
  ]);
  set('NOTIFY_SOCKET', notify);
  return { index, env, handed, sentinelAt, clear, statusText: garbage(r, 40, '\n'), notifyExpect, notifyLabel };
}

// ---------------------------------------------------------------------------
// Running a case.

export interface Run {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  datagrams: Datagram[];
  ms: number;
}

export async function runCase(world: World, c: Case): Promise<Run> {
  const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe', ...c.handed.map((h) => world.handed[h]!.fd)];
  while (stdio.length < c.sentinelAt) stdio.push('ignore');
  stdio.push(world.sentinel.fd);
  const target = notifyModel(c.env.NOTIFY_SOCKET, c.notifyExpect);
  const barrierMs = target.kind === 'sent' && target.hold ? BARRIER_HELD_MS : BARRIER_MS;
  const spec = { id: c.index, clear: c.clear, statusText: c.statusText, absent: ABSENT_NAME, barrierMs, variables: VARIABLES };
  const started = performance.now();
  const child = spawn(process.execPath, [CHILD, JSON.stringify(spec)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...c.env },
    stdio,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, CASE_TIMEOUT_MS);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  const ms = performance.now() - started;
  // Everything the child sent is queued at the receiver by now: drain, then collect by pid.
  await world.receiver.sync();
  return { pid: child.pid!, code, signal, timedOut, stdout, stderr, datagrams: world.receiver.take(child.pid!), ms };
}
