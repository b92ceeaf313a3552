// What the e2e tests share: the prerequisite rule, unit text builders, fixture
// paths and staging, and reading what fixtures printed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { readFileSync, realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { UserManager } from './user-manager.js';
import { requireOrSkip } from './prerequisites.js';
import { generate, leaveRunDir, runIn, type Generated } from './generator.js';
import { hostSystemdVersion } from './systemd.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

/** A script under test/fixtures/. */
export const fixture = (name: string): string => path.join(here, '..', 'fixtures', name);

/**
 * For a suite's before(): skips it with a loud reason when a manager cannot be
 * booted here, except under CI=true, where a missing prerequisite is a failure.
 */
export function skipUnlessPrerequisites(context: Mocha.Context): void {
  const reason = UserManager.prerequisites();
  requireOrSkip(context, reason === null, `the end-to-end tests need a real systemd user manager: ${reason}`);
}

/**
 * Registers the hooks every e2e suite needs: boot a manager before the tests
 * (or skip by the rule above), stop the test's units after each (printing the
 * manager's output when it failed), and stop the manager at the end. Returns
 * a getter for the running manager.
 */
export function useUserManager(): () => UserManager {
  let manager: UserManager | undefined;
  before(async function () {
    this.timeout(60_000);
    skipUnlessPrerequisites(this);
    manager = await UserManager.start();
  });
  afterEach(async function () {
    if (!manager) return;
    if (this.currentTest?.state === 'failed') {
      console.error(`--- systemd --user output (last 8 KiB) ---\n${manager.managerOutput().slice(-8192)}`);
    }
    await manager.stopUnits();
  });
  after(async function () {
    this.timeout(60_000);
    await manager?.stop();
  });
  return () => {
    if (!manager) throw new Error('the user manager did not start');
    return manager;
  };
}

/** One ExecStart= argument, quoted for systemd (C escapes, %-specifiers, $-expansion). */
export function arg(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%').replaceAll('$', '$$$$')}"`;
}

export function service(description: string, lines: string[]): string {
  return `[Unit]\nDescription=${description}\n\n[Service]\n${lines.join('\n')}\n`;
}

/** `node <fixture>` with its output appended to `log`. */
export function nodeService(script: string, log: string): string[] {
  return [`ExecStart=${arg(process.execPath)} ${arg(script)}`, `StandardOutput=append:${log}`, `StandardError=append:${log}`];
}

export interface Event {
  event: string;
  monotonicUsec?: string;
  uid?: number;
  sent?: boolean;
  reason?: string;
  error?: string;
}

/** A line the e2e daemons (http-daemon.mjs, hardened-daemon.mjs) log: which process, what happened, what the runtime said. */
export interface DaemonLine {
  pid: number;
  event: string;
  sent?: boolean;
  running?: boolean;
  timeoutMs?: number;
}

/** The JSON lines a fixture printed (other lines, such as stack traces, are skipped). */
export function events<T extends object = Event>(log: string): T[] {
  return log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as T);
}

/**
 * Copies a fixture and the runtime package (its published files and its
 * dependencies) under the manager's shared dir. A DynamicUser= service runs as
 * a uid that owns nothing: a checkout under /home or /root is hidden by
 * ProtectHome=, one under /tmp by PrivateTmp=, and any 0700 directory on the
 * way is closed to it, so it runs from a world-readable copy.
 */
export async function stageForAnyUser(manager: UserManager, script: string): Promise<string> {
  const app = path.join(manager.shareDir, 'app');
  const runtime = realpathSync(path.join(repo, 'node_modules', 'sd-daemon-runtime'));
  const pkg = JSON.parse(readFileSync(path.join(runtime, 'package.json'), 'utf8')) as {
    files?: string[];
    dependencies?: Record<string, string>;
  };
  const dest = path.join(app, 'node_modules', 'sd-daemon-runtime');
  for (const entry of ['package.json', ...(pkg.files ?? [])]) {
    const source = path.join(runtime, entry);
    if (await fs.stat(source).catch(() => null)) await fs.cp(source, path.join(dest, entry), { recursive: true });
  }
  const require = createRequire(path.join(runtime, 'package.json'));
  for (const dependency of Object.keys(pkg.dependencies ?? {})) {
    const dir = path.dirname(require.resolve(`${dependency}/package.json`));
    await fs.cp(dir, path.join(app, 'node_modules', dependency), { recursive: true });
  }
  const copy = path.join(app, path.basename(script));
  await fs.copyFile(script, copy);
  spawnSync('chmod', ['-R', 'a+rX', app]);
  return copy;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on right now (the kernel's pick), for a ListenStream= line. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** GET http://127.0.0.1:<port><path> on a fresh connection (no keep-alive across restarts). */
export function get(port: number, timeoutMs = 10_000, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET http://127.0.0.1:${port}${path}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/**
 * Starts `socket`, checks that `service` is not running before any
 * connection, then makes the first request, which starts it (the connection
 * waits in the listen queue meanwhile). `explain` adds the service's log and
 * the manager's output to failure messages.
 */
export async function firstRequestThroughSocket(
  manager: UserManager,
  socket: string,
  service: string,
  port: number,
  explain: () => Promise<string>,
): Promise<{ status: number; body: string }> {
  const start = await manager.systemctl('start', socket);
  assert.equal(start.code, 0, `systemctl start ${socket}: ${start.stderr}${await explain()}`);
  await manager.waitFor(socket, { ActiveState: 'active', SubState: 'listening' });
  assert.equal((await manager.show(service, ['ActiveState'])).ActiveState, 'inactive', 'the service started before any connection');
  let reply: { status: number; body: string };
  try {
    reply = await get(port, 20_000);
  } catch (error) {
    assert.fail(`GET on the socket unit's port ${port}: ${(error as Error).message}${await explain()}`);
  }
  assert.equal(reply.status, 200, `${reply.body}${await explain()}`);
  return reply;
}

/**
 * Generates a user-scope project for this machine's systemd where the manager's
 * services can see it (PrivateTmp= hides /tmp from them), installs and builds
 * it, and runs its own install-units where the manager sees the project, so
 * the drop-in points ExecStart= at a path services can reach.
 */
export async function installGenerated(manager: UserManager, options: Record<string, string>, name: string): Promise<Generated> {
  const p = await generate({ runtime: 'bundled', scope: 'user', systemdVersion: hostSystemdVersion(), ...options }, name, manager.shareDir);
  leaveRunDir();
  runIn(p.dir, 'npm', ['install']);
  if (options.language !== 'js') runIn(p.dir, 'npm', ['run', 'build']); // a JavaScript project has no build step
  runIn(p.dir, 'chmod', ['-R', 'a+rX', p.dir]);
  const configHome = path.dirname(path.dirname(manager.unitDir));
  const script = manager.inside(path.join(p.dir, 'scripts', 'install-units.mjs'));
  const install = await manager.inNamespace('env', `XDG_CONFIG_HOME=${configHome}`, process.execPath, script);
  assert.equal(install.code, 0, `install-units:\n${install.stdout}${install.stderr}`);
  return p;
}
