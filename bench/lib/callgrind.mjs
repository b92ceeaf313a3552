// Instruction counts: the same processes the wall-time cases time, run under
// `valgrind --tool=callgrind`, which counts every user-space instruction
// they execute (Ir). On a shared 2-core machine wall time cannot settle a 2%
// question; an instruction count can, because it does not depend on what
// else runs. Node is started with the flags below, ours and the anchor
// alike: without them V8's worker threads, hash seeds and random seeds make
// the count drift by about 3% from run to run; with them it repeats to about
// 0.001%. Kernel work (syscalls, page faults) is not counted: wall time stays
// beside the count as the check that both agree.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { cleanEnv, NODE, scratch, track } from './proc.mjs';
import { BenchFailure, median } from './stats.mjs';

/** Node's flags for every counted run (ours and the anchors). */
export const NODE_FLAGS = ['--single-threaded', '--v8-pool-size=0', '--hash-seed=1', '--random-seed=1'];

let serial = 0;

/** A fresh directory for one counted run's callgrind.out files. */
function outDir() {
  const dir = path.join(scratch(), 'callgrind', `run-${++serial}`);
  mkdirSync(dir, { recursive: true });
  // World-writable, the directories above it searchable (mkdtemp made the
  // scratch directory 0700): a counted run may be started as an ordinary
  // user (see counted()'s `uid`).
  chmodSync(scratch(), 0o755);
  chmodSync(path.dirname(dir), 0o755);
  chmodSync(dir, 0o777);
  return dir;
}

/**
 * The valgrind command line that counts `command args`. `children`: follow
 * every exec'd child too (--trace-children=yes), each process writing its own
 * callgrind.out.<pid>, which counted() sums. No cache or branch simulation:
 * Ir only, the cheapest callgrind can run.
 *
 * Valgrind's own messages go to valgrind.<pid> in the same directory, one
 * per process valgrind starts (the command, and each child it execs), and
 * none for a forked copy that never exec'd (--child-silent-after-fork): see
 * readTotals() for why that matters.
 */
export function valgrindArgv(dir, command, args, { children = false } = {}) {
  return [
    '--tool=callgrind',
    `--callgrind-out-file=${path.join(dir, 'callgrind.out.%p')}`,
    `--log-file=${path.join(dir, 'valgrind.%p')}`,
    '--child-silent-after-fork=yes',
    `--trace-children=${children ? 'yes' : 'no'}`,
    '--dump-instr=no',
    '--compress-strings=no',
    command,
    ...args,
  ];
}

/**
 * The `totals:` of every callgrind.out file in `dir`: one per counted process.
 *
 * A process that forks a child whose exec then fails (spawn of a command that
 * is not installed: ENOENT) leaves a second file: the forked copy exits under
 * callgrind with the counters it inherited, the parent's count up to the fork,
 * under the parent's command line (yo license: 6.8G instructions of yo counted
 * twice). Such a copy has no valgrind.<pid> log (only processes valgrind
 * started have one); it is listed with `forkCopy: true` and left out of the sum.
 */
export function readTotals(dir) {
  const files = readdirSync(dir);
  const started = new Set(files.filter((f) => f.startsWith('valgrind.')).map((f) => f.slice('valgrind.'.length)));
  const processes = [];
  for (const file of files) {
    if (!file.startsWith('callgrind.out.')) continue;
    const pid = file.slice('callgrind.out.'.length);
    const text = readFileSync(path.join(dir, file), 'utf8');
    const match = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text);
    const cmd = /^cmd:\s+(.*)$/m.exec(text)?.[1] ?? '?';
    if (!match) throw new BenchFailure(`${file}: no totals line (callgrind was killed before it wrote its counts?)${logTail(dir)}`);
    processes.push({ pid: Number(pid), instructions: Number(match[1]), cmd, ...(started.has(pid) ? {} : { forkCopy: true }) });
  }
  return processes.sort((a, b) => a.pid - b.pid);
}

/** The end of valgrind's own messages in `dir` (they go to files, not stderr), for a failure's message. */
export function logTail(dir) {
  let text = '';
  try {
    for (const file of readdirSync(dir).sort())
      if (file.startsWith('valgrind.'))
        text += readFileSync(path.join(dir, file), 'utf8')
          .split('\n')
          .filter((l) => !/^==\d+== (Copyright|Using Valgrind|$)/.test(l))
          .join('\n');
  } catch {}
  return text.trim() ? `; valgrind: ${text.trim().slice(-1500)}` : '';
}

/**
 * Starts `command args` under callgrind and returns { child, dir, done }:
 * `done` resolves with the exit code once valgrind exits. For the cases that
 * must act on the process while it runs (socket activation, daemonize).
 */
export function startCounted(command, args, { children = false, env = cleanEnv(), stdio = ['ignore', 'pipe', 'pipe'], wrap } = {}) {
  const dir = outDir();
  let argv = ['valgrind', ...valgrindArgv(dir, command, args, { children })];
  if (wrap) argv = wrap(argv);
  const child = spawn(argv[0], argv.slice(1), { env, stdio });
  track(child.pid);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-20_000)));
  const done = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, dir, done, stderr: () => stderr };
}

/**
 * Counts one run of `command args` to its exit: { instructions, processes }
 * (the sum over every counted process, and each one's share). Fails unless
 * it exits 0. Valgrind slows a process 50-100x: the timeout is generous.
 *
 * `uid`: start valgrind as that user. Callgrind creates each process's
 * output file when the process starts (open O_CREAT, mode 0600, as the user
 * it starts as) and reopens it to write the counts at exit; a process that
 * setuid()s in between (yo run as root drops to uid 1000) is refused its own
 * file (EACCES) and its count is lost. Started as the user it would drop to,
 * it has nothing to drop and owns its file.
 */
export async function counted(command, args, { children = false, env, cwd, uid, wrap, after, timeoutMs = 30 * 60_000 } = {}) {
  const dir = outDir();
  let argv = ['valgrind', ...valgrindArgv(dir, command, args, { children })];
  if (wrap) argv = wrap(argv);
  const result = await new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env: env ?? cleanEnv(), cwd, uid, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child.pid);
    let out = '';
    const keep = (chunk) => (out = (out + chunk).slice(-20_000));
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
  if (result.code !== 0)
    throw new BenchFailure(
      `callgrind of ${command} ${args.join(' ')} exited ${result.code ?? result.signal}: ${result.out.trim().slice(-1500)}${logTail(dir)}`,
    );
  // `after`: what must happen before the count is complete (a daemon that
  // outlived the process started here writes its count when it is stopped).
  if (after) await after(result.out);
  return sum(dir);
}

/** { instructions, processes } from a finished counted run's directory, which is then removed. Forked copies are listed, not summed. */
export function sum(dir) {
  const processes = readTotals(dir);
  if (!processes.some((p) => !p.forkCopy)) throw new BenchFailure(`no callgrind output in ${dir}${logTail(dir)}`);
  rmSync(dir, { recursive: true, force: true });
  return { instructions: processes.reduce((total, p) => total + (p.forkCopy ? 0 : p.instructions), 0), processes };
}

/**
 * Runs the counted variants `rounds` times each, up to `parallel` at a time
 * (a count does not depend on the machine's load, so counted runs may share
 * it; the wall-time runs never run beside them). Each variant's `count()`
 * returns { instructions, processes }.
 *
 * Returns { counts: { [name]: number[] }, processes: { [name]: [...] }, failures }.
 */
export async function countAll({ variants, rounds, parallel = 2 }) {
  const counts = Object.fromEntries(variants.map((v) => [v.name, []]));
  const processes = {};
  const failures = {};
  const jobs = [];
  for (let round = 0; round < rounds; round++) for (const v of variants) jobs.push(v);
  const worker = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      if (failures[job.name]) continue;
      try {
        const result = await job.count();
        counts[job.name].push(result.instructions);
        processes[job.name] ??= result.processes.map((p) => ({
          cmd: p.cmd.slice(0, 200),
          instructions: p.instructions,
          ...(p.forkCopy ? { forkCopy: true } : {}),
        }));
      } catch (error) {
        failures[job.name] = error instanceof BenchFailure ? error.message : `${error.stack ?? error}`;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { counts, processes, failures };
}

/** The spread of repeated counts of one thing: (max - min) / min, a fraction. */
export function spread(values) {
  if (!values || values.length < 2) return null;
  return (Math.max(...values) - Math.min(...values)) / Math.min(...values);
}

/**
 * The `instructions` block of a results.json entry: medians of the counts,
 * their ratio, each variant's counts as measured and their spread, and the
 * target judged on the instruction ratio. `extras`: [{ name, variant }].
 */
export function instructionEntry({ counts, processes = {}, failures = {}, ours, anchor, anchorName, target = null, extras = [], how }) {
  const value = (name) => (counts[name]?.length ? median(counts[name]) : null);
  const o = value(ours);
  const a = anchor ? value(anchor) : null;
  const ratio = o !== null && a !== null ? o / a : null;
  const failed = Object.entries(failures).map(([name, message]) => `${name} (instructions): ${message}`);
  return {
    ours: o,
    anchor: a,
    anchorName: anchorName ?? null,
    ratio,
    target,
    met: target === null ? null : failed.length === 0 && ratio !== null && ratio <= target,
    counts,
    spread: Object.fromEntries(Object.entries(counts).map(([name, values]) => [name, spread(values)])),
    extra: extras.map(({ name, variant, target: extraTarget = null }) => {
      const v = value(variant);
      const r = o !== null && v !== null ? o / v : null;
      return { name, value: v, ratio: r, target: extraTarget, met: extraTarget === null ? null : r !== null && r <= extraTarget };
    }),
    processes,
    ...(how ? { how } : {}),
    ...(failed.length ? { failed } : {}),
  };
}

export { NODE };
