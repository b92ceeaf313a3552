// A real systemd-journald for the journal tests, private to them: it runs in
// its own mount namespace with a tmpfs on /run (so its sockets sit at the
// standard /run/systemd/journal/socket there, and the host's /run, journal
// and /var/log are never touched), Storage=volatile, and no kmsg reading.
// Commands run inside that namespace with nsenter; journalctl reads the
// journal files back. Needs root, unshare, nsenter and systemd-journald.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';

import { requireOrSkip } from './prerequisites.js';

export const JOURNALD = ['/lib/systemd/systemd-journald', '/usr/lib/systemd/systemd-journald'].find((path) => existsSync(path));

/** One journal entry as `journalctl -o json` prints it: binary values are arrays of byte values. */
export type JsonEntry = Record<string, string | number[] | (string | number[])[] | null>;

const SETUP = `set -e
mount -t tmpfs -o mode=0755 journal-test /run
mkdir -p /run/systemd/journal /run/systemd/journald.conf.d /run/log/journal
# journald needs a machine ID; an image with an empty /etc/machine-id gets one
# for this namespace only.
if ! grep -qE '^[0-9a-f]{32}$' /etc/machine-id 2>/dev/null; then
  tr -d '-' < /proc/sys/kernel/random/uuid > /run/machine-id
  mount --bind /run/machine-id /etc/machine-id
fi
cat > /run/systemd/journald.conf.d/test.conf <<'CONF'
[Journal]
Storage=volatile
ReadKMsg=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
RateLimitBurst=0
CONF
exec "$JOURNALD"
`;

export class PrivateJournald {
  private constructor(
    private readonly child: ChildProcess,
    private readonly output: { text: string },
  ) {}

  /** Checks the prerequisites (loud skip, failure under CI=true), then starts journald and waits for its socket. */
  static async start(context: Mocha.Context): Promise<PrivateJournald> {
    requireOrSkip(context, process.getuid?.() === 0, 'a private systemd-journald needs root (mount namespaces)');
    requireOrSkip(context, JOURNALD !== undefined, 'systemd-journald is not installed (apt-get install systemd)');
    const unshare = spawnSync('unshare', ['--mount', 'true']);
    requireOrSkip(context, unshare.status === 0, `unshare --mount does not work here: ${unshare.stderr?.toString().trim()}`);
    // journald needs a machine ID: an empty /etc/machine-id is given one inside
    // the namespace (SETUP), but a missing file leaves nothing to mount over.
    requireOrSkip(context, existsSync('/etc/machine-id'), '/etc/machine-id is missing: run systemd-machine-id-setup');
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', SETUP], {
      env: { ...process.env, JOURNALD: JOURNALD!, SYSTEMD_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = { text: '' };
    child.stdout!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
    const journald = new PrivateJournald(child, output);
    // The socket appears once journald is set up; seconds, not milliseconds, on a loaded machine.
    const deadline = Date.now() + 30_000;
    while (!existsSync(`/proc/${child.pid}/root/run/systemd/journal/socket`)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`systemd-journald exited at start: ${output.text}`);
      if (Date.now() > deadline) throw new Error(`systemd-journald did not create its socket within 30 s: ${output.text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return journald;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Runs a command inside journald's mount namespace (so /run/systemd/journal/socket is its socket). */
  run(
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
    stdio?: Parameters<typeof spawnSync>[2],
  ): SpawnSyncReturns<string> {
    return spawnSync('nsenter', ['--target', String(this.pid), '--mount', '--', command, ...args], {
      encoding: 'utf8',
      env,
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
      ...stdio,
    }) as SpawnSyncReturns<string>;
  }

  /** Every entry matching `match` (FIELD=value), read back with journalctl -o json --all. */
  entries(match: string): JsonEntry[] {
    const result = this.run('journalctl', ['--directory=/run/log/journal', '-o', 'json', '--all', '--no-pager', match]);
    if (result.status !== 0 && result.status !== 1) throw new Error(`journalctl failed (${result.status}): ${result.stderr}`);
    return result.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as JsonEntry);
  }

  /** Waits (seconds, polling) until `count` entries match: journald stores datagrams asynchronously. */
  async waitForEntries(match: string, count: number, timeoutMs = 30_000): Promise<JsonEntry[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.entries(match);
      if (found.length >= count) return found;
      if (Date.now() > deadline)
        throw new Error(
          `expected ${count} journal entries matching ${match}, found ${found.length} within ${timeoutMs} ms; journald said: ${this.output.text}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** A journal value as text: a string stays, bytes (an array) are decoded as UTF-8. */
export function valueBytes(value: JsonEntry[string]): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return Buffer.from(value as number[]);
  throw new Error(`not a single journal value: ${JSON.stringify(value)?.slice(0, 200)}`);
}
