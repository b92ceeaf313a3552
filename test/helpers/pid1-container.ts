// A real PID-1 systemd in a container: systemd-nspawn boots an OS tree
// (this machine's root, or a debootstrap root of another Debian release) with
// --boot and a private network; the test finds the container's PID 1 (nspawn's
// child whose PID in its own namespace is 1: --register=no leaves machinectl
// out of it) and runs commands inside with `nsenter -t <PID 1> -a`.
// Everything is bounded in time: boot, every command, and the shutdown, which
// asks for a poweroff and kills nspawn if the container is still up after it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Bind {
  host: string;
  inside: string;
  readOnly?: boolean;
}

export interface BootOptions {
  /** A label for the machine name and messages, e.g. "252". */
  label: string;
  /** The OS tree to boot. */
  directory: string;
  /**
   * yes: a tmpfs root with only /usr from the tree (how this machine's own
   * root is booted without touching it); overlay: the tree under a tmpfs
   * overlay, so a cached debootstrap root stays as it was built.
   */
  volatile: 'yes' | 'overlay';
  binds: Bind[];
  /** Where the console output and, at shutdown, the journal go. */
  artifacts: string;
  /** Seconds to wait for the boot to settle (is-system-running --wait). */
  bootTimeoutS?: number;
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** What commands inside get: a clean environment, no pager, no colours. */
const INSIDE_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  SYSTEMD_PAGER: '',
  SYSTEMD_COLORS: '0',
  TERM: 'dumb',
};

/** Runs a host command with a deadline (SIGKILL after it), collecting its output. */
export function run(
  command: string,
  args: string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv; input?: string },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    if (options.input !== undefined) child.stdin!.end(options.input);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not run: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n[killed: \`${command} ${args.join(' ')}\` ran past its ${options.timeoutMs / 1000} s deadline]`;
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The PIDs of `pid`'s children (every thread's). */
function children(pid: number): number[] {
  const out: number[] = [];
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    for (const word of tasks.split(/\s+/)) if (word) out.push(Number(word));
  } catch {
    // gone, or not yet there
  }
  return out;
}

/** A descendant of `pid` that is PID 1 in its own PID namespace: the container's init. */
function findInit(pid: number): number | null {
  const queue = children(pid);
  while (queue.length > 0) {
    const candidate = queue.shift()!;
    try {
      const nspid = /^NSpid:\s+(.*)$/m
        .exec(readFileSync(`/proc/${candidate}/status`, 'utf8'))?.[1]
        ?.trim()
        .split(/\s+/);
      if (nspid && nspid.length > 1 && nspid.at(-1) === '1') return candidate;
    } catch {
      continue;
    }
    queue.push(...children(candidate));
  }
  return null;
}

export class Container {
  private constructor(
    readonly options: BootOptions,
    private readonly nspawn: ChildProcess,
    /** The container's PID 1, as the host sees it. */
    readonly pid1: number,
    /** Seconds from spawning nspawn until is-system-running answered. */
    readonly bootSeconds: number,
    /** What is-system-running said then (running or degraded). */
    readonly systemState: string,
  ) {}

  static async boot(options: BootOptions): Promise<Container> {
    mkdirSync(options.artifacts, { recursive: true });
    const consolePath = path.join(options.artifacts, 'console.log');
    const consoleFd = openSync(consolePath, 'w');
    // Unique per run: nspawn keeps state under /run/systemd/nspawn/<machine>, and
    // two containers of the same tree (another test run) must not meet there.
    const machine = `sd-pid1-${options.label}-${process.pid}`;
    const args = [
      '--register=no',
      '--keep-unit',
      `--machine=${machine}`,
      `--directory=${options.directory}`,
      `--volatile=${options.volatile}`,
      // Without it PrivateNetwork= in the units is not applied and container ports show on the host.
      '--private-network',
      ...options.binds.map((b) => `--bind${b.readOnly === false ? '' : '-ro'}=${b.host}:${b.inside}`),
      '--boot',
      '--',
      'systemd.firstboot=off',
    ];
    const started = process.hrtime.bigint();
    const nspawn = spawn('systemd-nspawn', args, { stdio: ['ignore', consoleFd, consoleFd] });
    closeSync(consoleFd);
    // Set from the exit event, read by the loops below.
    const status: { exited: string | null } = { exited: null };
    nspawn.on('exit', (code, signal) => (status.exited = `systemd-nspawn exited (${signal ?? code})`));
    const consoleTail = (): string => readFileSync(consolePath, 'utf8').slice(-4000);

    const deadline = Date.now() + (options.bootTimeoutS ?? 90) * 1000;
    let pid1: number | null = null;
    while (pid1 === null) {
      if (status.exited)
        throw new Error(
          `${status.exited} before its container's PID 1 appeared: systemd-nspawn ${args.join(' ')}\n--- console ---\n${consoleTail()}`,
        );
      if (Date.now() > deadline) {
        nspawn.kill('SIGKILL');
        throw new Error(`no PID 1 under systemd-nspawn (PID ${nspawn.pid}) within the boot deadline\n--- console ---\n${consoleTail()}`);
      }
      pid1 = findInit(nspawn.pid!);
      if (pid1 === null) await sleep(100);
    }
    const container = new Container(options, nspawn, pid1, 0, '');
    // --wait blocks until the boot has finished (running, or degraded when a unit failed).
    let state: Result = { code: null, signal: null, stdout: '', stderr: '' };
    while (Date.now() < deadline) {
      state = await container.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: Math.max(1000, deadline - Date.now()) });
      if (/^(running|degraded)$/m.test(state.stdout)) break;
      if (status.exited) break;
      await sleep(500); // the bus may not be up yet at the very start
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const answer = state.stdout.trim();
    if (!/^(running|degraded)$/.test(answer)) {
      await container.shutdown();
      throw new Error(
        `the container's systemd did not finish booting within ${options.bootTimeoutS ?? 90} s: is-system-running said ${JSON.stringify(answer)} ${state.stderr}\n--- console ---\n${consoleTail()}`,
      );
    }
    return new Container(options, nspawn, pid1, seconds, answer);
  }

  /** Runs a command inside the container (all its namespaces, its root), with a deadline. */
  exec(command: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<Result> {
    return run('nsenter', ['-t', String(this.pid1), '-a', ...command], {
      timeoutMs: options.timeoutMs ?? 60_000,
      env: INSIDE_ENV,
      input: options.input,
    });
  }

  /** Like exec, but a non-zero exit fails with the command, its output and `explain`. */
  async check(command: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    const result = await this.exec(command, options);
    if (result.code !== 0) {
      throw new Error(
        `inside the ${this.options.label} container, \`${command.join(' ')}\` exited ${result.code ?? result.signal}:\n${result.stdout}${result.stderr}`,
      );
    }
    return result.stdout;
  }

  systemctl(...args: string[]): Promise<Result> {
    return this.exec(['systemctl', '--no-pager', ...args], { timeoutMs: 90_000 });
  }

  /** `systemctl show -p ...` as an object. */
  async show(unit: string, properties: string[]): Promise<Record<string, string>> {
    const out = await this.check(['systemctl', 'show', unit, ...properties.map((p) => `--property=${p}`)]);
    const values: Record<string, string> = {};
    for (const line of out.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return values;
  }

  /** Polls `unit`'s properties until `done` holds, or fails naming the last values seen. */
  async waitFor(
    unit: string,
    properties: string[],
    done: (values: Record<string, string>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, string>> {
    const deadline = Date.now() + timeoutMs;
    let values = await this.show(unit, properties);
    while (!done(values)) {
      if (Date.now() > deadline) {
        throw new Error(
          `${unit} did not reach the expected state within ${timeoutMs / 1000} s; last: ${JSON.stringify(values)}\n--- journal ---\n${await this.journal(unit)}`,
        );
      }
      await sleep(250);
      values = await this.show(unit, properties);
    }
    return values;
  }

  /** This boot's journal of `unit` (or all of it), as text. */
  async journal(unit?: string): Promise<string> {
    const result = await this.exec(['journalctl', '-b', '--no-pager', '-o', 'short-monotonic', ...(unit ? ['-u', unit] : [])], {
      timeoutMs: 60_000,
    });
    return `${result.stdout}${result.stderr}`;
  }

  /** Writes a file inside the container (through the container's own sh, so in its root). */
  async writeFile(file: string, content: string, mode = '0644'): Promise<void> {
    await this.check(['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', 'sh', file, mode], { input: content });
  }

  /**
   * Saves the journal, asks the container to power off, and waits for nspawn
   * to exit; kills nspawn if it has not within the deadline. Never throws.
   */
  async shutdown(timeoutMs = 60_000): Promise<void> {
    if (this.nspawn.exitCode !== null || this.nspawn.signalCode !== null) return;
    try {
      writeFileSync(path.join(this.options.artifacts, 'journal.txt'), await this.journal());
    } catch (error) {
      writeFileSync(path.join(this.options.artifacts, 'journal.txt'), `could not read the journal: ${(error as Error).message}\n`);
    }
    const gone = new Promise<void>((resolve) => this.nspawn.once('exit', () => resolve()));
    await this.exec(['systemctl', 'poweroff'], { timeoutMs: 20_000 }).catch(() => undefined);
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), timeoutMs).unref());
    if ((await Promise.race([gone.then(() => 'gone' as const), timer])) === 'late') {
      // SIGKILL to a PID namespace's init takes every process in it along.
      try {
        process.kill(this.pid1, 'SIGKILL');
      } catch {
        // already gone
      }
      this.nspawn.kill('SIGKILL');
      await Promise.race([gone, sleep(10_000)]);
    }
  }
}
