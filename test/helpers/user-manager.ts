// A real systemd user manager for end-to-end tests, booted privately on a
// machine where systemd is not PID 1.
//
// What the manager sees, and why:
// - a private mount namespace with a fresh tmpfs on /run holding
//   /run/systemd/system (without it `systemd --user` refuses to start) and the
//   /run/systemd/inaccessible/ nodes PID 1 makes at boot (without them
//   ProtectHome=, InaccessiblePaths= and ProtectKernel*= fail with 226/NAMESPACE);
// - its own cgroup subtree in every hierarchy, behind a cgroup namespace.
//   Started in the root cgroup, `systemd --user` moves every process of that
//   cgroup (this machine's PID 1 included) into init.scope; here it only ever
//   sees itself;
// - XDG_RUNTIME_DIR under /run: the base dir below is bind-mounted at /run/sd-e2e,
//   because PrivateTmp= hides os.tmpdir() and ProtectHome= hides /run/user, and
//   hardened services must still reach $XDG_RUNTIME_DIR/systemd/notify;
// - /dev/kmsg bound to a FIFO we read, and --log-target=kmsg: journald does not
//   run there, /dev/console must be a tty (systemd checks), and the manager's
//   messages belong in our error reports, not in this machine's kernel log.
//
// systemctl runs from the test process, outside the namespace: it reaches the
// manager through $XDG_RUNTIME_DIR/systemd/private under the base dir's real path.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
  type Dirent,
} from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type UnitProperties = Record<string, string>;

/** Where the base dir appears inside the manager's mount namespace. */
const INSIDE = '/run/sd-e2e';
/** Enough manager output to explain a failure, without growing forever. */
const OUTPUT_LIMIT = 256 * 1024;
/** Properties waitFor() always reads, so a timeout message says what the unit was doing. */
const STATE_PROPERTIES = ['ActiveState', 'SubState', 'Result', 'StatusText', 'MainPID', 'ExecMainCode', 'ExecMainStatus'];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A single-quoted shell word. */
const sh = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

function onPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return null;
}

function systemdBinary(): string | null {
  for (const candidate of ['/lib/systemd/systemd', '/usr/lib/systemd/systemd']) {
    if (existsSync(candidate)) return candidate;
  }
  return onPath('systemd');
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      let code = 0;
      if (error) {
        const { code: errorCode, killed, signal } = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
        code = typeof errorCode === 'number' ? errorCode : 127;
        if (killed) stderr += `\n(${command} killed by ${signal ?? 'a signal'} after ${timeoutMs} ms)`;
        else if (typeof errorCode === 'string') stderr += `\n(${command}: ${error.message})`;
      }
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** One cgroup mount, and the cgroup this process is in on that hierarchy. */
interface CgroupMount {
  mountPoint: string;
  fstype: 'cgroup' | 'cgroup2';
  /** Superblock options, minus those a second mount must not repeat. */
  options: string;
  /** Superblock (major:minor): a hierarchy mounted twice gets one subtree. */
  device: string;
  /** Our cgroup on this hierarchy, as a directory under mountPoint. */
  ourDir: string;
}

function cgroupMounts(): CgroupMount[] {
  // /proc/self/cgroup: "4:memory:/a/b" (v1, controllers or name=) or "0::/a/b" (v2).
  const ours = readFileSync('/proc/self/cgroup', 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [id, controllers = '', cgroup = '/'] = line.split(':');
      return { v2: id === '0' && controllers === '', controllers: controllers.split(',').filter(Boolean), cgroup };
    });
  const mounts: CgroupMount[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n')) {
    // "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu"
    const [left = '', right = ''] = line.split(' - ');
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const [, , device = '', root = '/', mountPoint = ''] = left.split(' ');
    const tokens = superOptions.split(',');
    const mine = ours.find((o) =>
      fstype === 'cgroup2' ? o.v2 : !o.v2 && o.controllers.length > 0 && o.controllers.every((c) => tokens.includes(c)),
    );
    if (!mine || !(mine.cgroup === root || mine.cgroup.startsWith(root === '/' ? '/' : `${root}/`))) continue;
    mounts.push({
      mountPoint,
      fstype,
      options: tokens.filter((t) => t !== 'rw' && t !== 'ro' && !t.startsWith('release_agent=')).join(',') || 'defaults',
      device,
      ourDir: path.join(mountPoint, mine.cgroup.slice(root.length)),
    });
  }
  return mounts;
}

/** Makes `name` under our cgroup on every hierarchy; returns the new directories, one per hierarchy. */
function makeCgroupSubtrees(mounts: readonly CgroupMount[], name: string): string[] {
  const made = new Map<string, string>();
  for (const mount of mounts) {
    if (made.has(mount.device)) continue;
    const dir = path.join(mount.ourDir, name);
    mkdirSync(dir);
    // A v1 cpuset cgroup accepts no process until it has CPUs and memory nodes.
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const target = path.join(dir, file);
      if (existsSync(target) && readFileSync(target, 'utf8').trim() === '') {
        writeFileSync(target, readFileSync(path.join(mount.ourDir, file), 'utf8'));
      }
    }
    made.set(mount.device, dir);
  }
  return [...made.values()];
}

/** Kills whatever is left in a cgroup subtree (only our manager's services can be), then removes it. */
async function removeCgroupSubtree(dir: string): Promise<void> {
  const dirs: string[] = [];
  const walk = (d: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) if (entry.isDirectory()) walk(path.join(d, entry.name));
    dirs.push(d);
  };
  walk(dir);
  for (let attempt = 0; attempt < 20 && dirs.some((d) => existsSync(d)); attempt++) {
    for (const d of dirs) {
      let pids: string[] = [];
      try {
        pids = readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      } catch {
        // Already gone.
      }
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Exited meanwhile.
        }
      }
      try {
        rmdirSync(d);
      } catch {
        // Busy until its processes are reaped; retried below.
      }
    }
    if (dirs.some((d) => existsSync(d))) await sleep(50);
  }
}

function setupScript(options: { cgroupDirs: string[]; mounts: CgroupMount[]; base: string; systemd: string; node: string }): string {
  const { cgroupDirs, mounts, base, systemd, node } = options;
  return `#!/bin/sh
# Written by test/helpers/user-manager.ts; runs as: unshare --mount --propagation private /bin/sh <this file>
set -eu
if [ "\${1:-}" != --in-cgroup-namespace ]; then
  # Our own cgroup subtree on every hierarchy, then a cgroup namespace rooted there.
${cgroupDirs.map((d) => `  echo $$ > ${sh(path.join(d, 'cgroup.procs'))}`).join('\n')}
  exec unshare --cgroup /bin/sh "$0" --in-cgroup-namespace
fi

# Cgroup mounts made inside the namespace are rooted at our subtree.
${[...mounts]
  .reverse()
  .map((m) => `umount -l ${sh(m.mountPoint)}`)
  .join('\n')}
${mounts.map((m) => `mount -t ${m.fstype} -o ${sh(m.options)} ${m.fstype} ${sh(m.mountPoint)}`).join('\n')}

# /run as on a booted system; /run/systemd/system makes systemd --user agree to start.
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd/system /run/systemd/inaccessible
cd /run/systemd/inaccessible
mkdir dir
: > reg
mkfifo fifo
mknod chr c 0 0
mknod blk b 0 0
${sh(node)} -e 'require("net").createServer().listen("sock", () => process.exit(0))'
chmod 0000 dir reg fifo chr blk sock
cd /

# The base dir, where hardened services can reach it (XDG_RUNTIME_DIR lives there).
mkdir ${INSIDE}
mount --bind ${sh(base)} ${INSIDE}
# The manager logs to kmsg, which is our FIFO.
mount --bind ${sh(path.join(base, 'kmsg'))} /dev/kmsg

exec ${sh(systemd)} --user --log-target=kmsg --log-level=info
`;
}

export class UserManager {
  /** The manager's PID (the setup script exec()s into it). */
  readonly pid: number;
  /** systemd's major version, e.g. 252 (read once the manager answers). */
  version = 0;
  /** $XDG_RUNTIME_DIR as seen from this process (the manager sees it under /run/sd-e2e). */
  readonly runtimeDir: string;
  /** $XDG_CONFIG_HOME/systemd/user: where writeUnit() puts units. */
  readonly unitDir: string;
  /** World-readable, and visible to every service even with PrivateTmp=, ProtectHome= and DynamicUser=: use inside() to name its files in units. */
  readonly shareDir: string;

  private readonly units = new Set<string>();
  private readonly exited: Promise<void>;
  private exitStatus: string | null = null;
  private output = '';
  private stopped = false;
  private readonly killOnExit = (): void => {
    try {
      if (this.exitStatus === null) process.kill(this.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };

  private constructor(
    child: ChildProcess,
    private readonly base: string,
    private readonly cgroupDirs: string[],
    private readonly kmsg: net.Socket,
  ) {
    child.on('error', (error) => {
      this.exitStatus ??= `not started: ${error.message}`;
    });
    if (child.pid === undefined) throw new Error('systemd --user: spawning the setup script failed');
    this.pid = child.pid;
    this.runtimeDir = path.join(base, 'runtime');
    this.unitDir = path.join(base, 'config', 'systemd', 'user');
    this.shareDir = path.join(base, 'share');
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    kmsg.on('data', collect);
    kmsg.on('error', () => {});
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = signal ? `killed by ${signal}` : `exit code ${code}`;
        resolve();
      });
    });
    // Last resort if the test process exits without calling stop().
    process.once('exit', this.killOnExit);
  }

  /** Why a manager cannot be started here, or null when it can. */
  static prerequisites(): string | null {
    if (process.platform !== 'linux') return `systemd runs on Linux only (this is ${process.platform})`;
    if (process.getuid?.() !== 0) return 'not root: a private mount namespace and a cgroup subtree need root';
    for (const tool of ['unshare', 'nsenter', 'setpriv', 'mount', 'umount', 'mkfifo', 'systemctl']) {
      if (!onPath(tool)) return `${tool} is not on PATH`;
    }
    if (!systemdBinary()) return 'no systemd binary (looked for /lib/systemd/systemd, /usr/lib/systemd/systemd and systemd on PATH)';
    if (cgroupMounts().length === 0) return 'no cgroup filesystem is mounted';
    const probe = spawnSync('unshare', ['--mount', '--cgroup', '--propagation', 'private', 'true'], { encoding: 'utf8' });
    if (probe.status !== 0) return `unshare --mount --cgroup fails here: ${(probe.stderr || probe.error?.message || '').trim()}`;
    return null;
  }

  /** Boots a manager and waits until it answers; throws with its output if it does not. */
  static async start(options: { timeoutMs?: number } = {}): Promise<UserManager> {
    const timeoutMs = options.timeoutMs ?? 20_000;
    const reason = UserManager.prerequisites();
    if (reason) throw new Error(`cannot start systemd --user: ${reason}`);
    const systemd = systemdBinary() as string;

    // Short, because socket paths under it are limited to 107 bytes.
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'sd-e2e-'));
    let kmsg: net.Socket | undefined;
    let cgroupDirs: string[] = [];
    let manager: UserManager | undefined;
    try {
      await fs.chmod(base, 0o755);
      await fs.mkdir(path.join(base, 'runtime'), { mode: 0o700 });
      await fs.mkdir(path.join(base, 'config', 'systemd', 'user'), { recursive: true });
      await fs.mkdir(path.join(base, 'logs'));
      await fs.mkdir(path.join(base, 'share'), { mode: 0o755 });
      const fifo = spawnSync('mkfifo', [path.join(base, 'kmsg')], { encoding: 'utf8' });
      if (fifo.status !== 0) throw new Error(`mkfifo failed: ${fifo.stderr}`);
      // Read-write, so the FIFO never reports end-of-file and the manager's open() never blocks.
      const fd = openSync(path.join(base, 'kmsg'), fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
      kmsg = new net.Socket({ fd, readable: true, writable: false });

      const mounts = cgroupMounts();
      cgroupDirs = makeCgroupSubtrees(mounts, path.basename(base));
      const script = path.join(base, 'setup.sh');
      await fs.writeFile(script, setupScript({ cgroupDirs, mounts, base, systemd, node: process.execPath }), { mode: 0o755 });
      const env = {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        HOME: process.env.HOME ?? '/root',
        LANG: 'C.UTF-8',
        XDG_RUNTIME_DIR: `${INSIDE}/runtime`,
        XDG_CONFIG_HOME: path.join(base, 'config'),
      };
      // setpriv --pdeathsig: the manager dies with this process, even if that is killed before stop().
      const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '/bin/sh', script], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      manager = new UserManager(child, base, cgroupDirs, kmsg);
      await manager.waitUntilAnswering(timeoutMs);
      // As PID 1 does for the system manager's socket: DynamicUser= services must reach it.
      await fs.chmod(manager.runtimeDir, 0o755);
      await fs.chmod(path.join(manager.runtimeDir, 'systemd', 'notify'), 0o777);
      return manager;
    } catch (error) {
      if (manager) {
        await manager.stop();
      } else {
        kmsg?.destroy();
        for (const dir of cgroupDirs) await removeCgroupSubtree(dir);
        await fs.rm(base, { recursive: true, force: true });
      }
      throw error;
    }
  }

  private async waitUntilAnswering(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    // `systemctl is-system-running` would print "offline" here: it asks sd_booted(),
    // which looks for /run/systemd/system in *our* mount namespace. SystemState is the
    // same answer, read from the manager itself.
    while (Date.now() < deadline) {
      if (this.exitStatus !== null) break;
      const r = await this.systemctl('show', '--property=SystemState', '--value');
      const state = r.stdout.trim();
      last = r.code === 0 ? `SystemState=${state}` : r.stderr.trim();
      if (r.code === 0 && state !== '' && state !== 'initializing' && state !== 'starting') {
        const version = await this.systemctl('show', '--property=Version', '--value');
        this.version = Number.parseInt(version.stdout, 10);
        return;
      }
      await sleep(100);
    }
    const why = this.exitStatus !== null ? `exited (${this.exitStatus})` : `did not answer within ${timeoutMs} ms`;
    throw new Error(`systemd --user ${why}; last answer: ${last || '(none)'}\n--- manager output ---\n${this.output}`);
  }

  /** Everything the manager and its setup script printed (the last 256 KiB). */
  managerOutput(): string {
    return this.output;
  }

  /** `systemctl --user <args>`; never throws, read `code`. */
  systemctl(...args: string[]): Promise<CommandResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: this.runtimeDir, SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' };
    // Never fall back to some other session's bus.
    delete env.DBUS_SESSION_BUS_ADDRESS;
    return run('systemctl', ['--user', '--no-pager', ...args], env, 20_000);
  }

  /** Runs a command in the manager's mount namespace (where /run is the manager's /run). */
  inNamespace(command: string, ...args: string[]): Promise<CommandResult> {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, XDG_RUNTIME_DIR: `${INSIDE}/runtime`, SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' };
    return run('nsenter', [`--target=${this.pid}`, '--mount', '--', command, ...args], env, 20_000);
  }

  /** Writes $XDG_CONFIG_HOME/systemd/user/<name>; call daemonReload() afterwards. */
  async writeUnit(name: string, text: string): Promise<string> {
    const file = path.join(this.unitDir, name);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
    this.units.add(name.split('/')[0]!.replace(/\.d$/, ''));
    return file;
  }

  async daemonReload(): Promise<void> {
    const r = await this.systemctl('daemon-reload');
    if (r.code !== 0)
      throw new Error(`systemctl --user daemon-reload failed (${r.code}): ${r.stderr}\n--- manager output ---\n${this.output}`);
  }

  /** The unit's properties, as `systemctl show` prints them. */
  async show(unit: string, properties: readonly string[]): Promise<UnitProperties> {
    const r = await this.systemctl('show', unit, `--property=${properties.join(',')}`);
    if (r.code !== 0) throw new Error(`systemctl --user show ${unit} failed (${r.code}): ${r.stderr}`);
    const result: UnitProperties = {};
    for (const line of r.stdout.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) result[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return result;
  }

  /**
   * Polls the unit until every expected property has its value (or the
   * predicate holds) and returns the properties seen last. On timeout, throws
   * with them and the manager's output.
   */
  async waitFor(
    unit: string,
    condition: UnitProperties | ((properties: UnitProperties) => boolean),
    timeoutMs = 15_000,
    extraProperties: readonly string[] = [],
  ): Promise<UnitProperties> {
    const wanted = typeof condition === 'function' ? [] : Object.keys(condition);
    const properties = [...new Set([...STATE_PROPERTIES, ...wanted, ...extraProperties])];
    const holds =
      typeof condition === 'function' ? condition : (p: UnitProperties): boolean => wanted.every((key) => p[key] === condition[key]);
    const deadline = Date.now() + timeoutMs;
    let last: UnitProperties = {};
    for (;;) {
      last = await this.show(unit, properties);
      if (holds(last)) return last;
      if (Date.now() >= deadline) break;
      await sleep(50);
    }
    const expected = typeof condition === 'function' ? String(condition) : JSON.stringify(condition);
    throw new Error(
      `${unit}: ${expected} did not hold within ${timeoutMs} ms; last seen ${JSON.stringify(last)}\n--- manager output ---\n${this.output}`,
    );
  }

  /** A fresh log file for StandardOutput=append:<file> (journald does not run here). */
  async logFile(name: string): Promise<string> {
    const file = path.join(this.base, 'logs', `${name}.log`);
    await fs.writeFile(file, '');
    return file;
  }

  /** What a service wrote to a file from logFile(). */
  async readLog(file: string): Promise<string> {
    try {
      return await fs.readFile(file, 'utf8');
    } catch {
      return '';
    }
  }

  /** The path under which the manager and its services see `file`, a path under this manager's dirs. */
  inside(file: string): string {
    const relative = path.relative(this.base, file);
    if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`${file} is not under ${this.base}`);
    return path.posix.join(INSIDE, relative);
  }

  private async exitedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    return this.exitStatus !== null;
  }

  /** Stops every unit written with writeUnit() (whatever its state). */
  async stopUnits(): Promise<CommandResult | null> {
    if (this.units.size === 0) return null;
    return this.systemctl('stop', '--', ...this.units);
  }

  /**
   * Stops the units written here, asks the manager to exit, kills it by PID
   * if it does not, and removes its cgroups and files. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.exitStatus === null) {
      await this.stopUnits();
      await this.systemctl('exit');
      if (!(await this.exitedWithin(10_000))) {
        process.kill(this.pid, 'SIGKILL');
        await this.exitedWithin(5_000);
      }
    }
    process.removeListener('exit', this.killOnExit);
    this.kmsg.destroy();
    for (const dir of this.cgroupDirs) await removeCgroupSubtree(dir);
    await fs.rm(this.base, { recursive: true, force: true });
  }
}
