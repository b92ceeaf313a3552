// What the fault-injection scenarios share (each runs under a real systemd
// user manager booted by test/helpers/user-manager.ts): the generated project
// installed into that manager, a bounded loopback HTTP load client, the
// CLOCK_MONOTONIC both sides read, and the one `reliability: ` figures line
// each scenario prints for docs/RELIABILITY.md.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { generate, leaveRunDir, runIn } from './generator.js';
import { arg, freePort, sleep } from './units.js';
import type { UnitProperties, UserManager } from './user-manager.js';
import { hostSystemdVersion } from './systemd.js';

/** A script under test/fixtures/. */
export const fixture = (name: string): string => path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', name);

/** CLOCK_MONOTONIC in µs: what systemd's *TimestampMonotonic properties and MONOTONIC_USEC count. */
export const monotonicUsec = (): bigint => process.hrtime.bigint() / 1000n;

/** Prints the scenario's figures, one line, for the docs table. */
export function figures(scenario: string, values: Record<string, string | number | boolean>): string {
  const line = `reliability: ${scenario} ${Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')}`;
  console.log(line);
  return line;
}

/** min/median/max of some numbers, rounded, for a figures line. */
export function spread(values: readonly number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: Math.round(sorted[0] ?? NaN), median: Math.round(median), max: Math.round(sorted.at(-1) ?? NaN) };
}

export interface InstalledProject {
  dir: string;
  name: string;
  service: string;
  socket: string;
  port: number;
}

/**
 * Generates a user-scope project where the manager's services can read it
 * (the shared dir: PrivateTmp= hides /tmp), installs it (the bundled runtime; TypeScript through the test run's npm
 * cache), builds it,
 * and installs its units with its own install script, run inside the
 * manager's mount namespace, as test/e2e/generated.test.ts does. The socket
 * unit listens on a free loopback port. Nothing is started.
 */
export async function installGenerated(
  manager: UserManager,
  name: string,
  options: Record<string, unknown> = {},
): Promise<InstalledProject> {
  const port = await freePort();
  const project = await generate(
    {
      runtime: 'bundled',
      scope: 'user',
      systemdVersion: hostSystemdVersion(),
      sockets: `tcp:127.0.0.1:${port}`,
      description: `${name} under faults`,
      ...options,
    },
    name,
    manager.shareDir,
  );
  leaveRunDir();
  runIn(project.dir, 'npm', ['install']);
  runIn(project.dir, 'npm', ['run', 'build']);
  runIn(project.dir, 'chmod', ['-R', 'a+rX', project.dir]);
  const configHome = path.dirname(path.dirname(manager.unitDir));
  const script = manager.inside(path.join(project.dir, 'scripts', 'install-units.mjs'));
  const install = await manager.inNamespace('env', `XDG_CONFIG_HOME=${configHome}`, process.execPath, script);
  assert.equal(install.code, 0, `install-units:\n${install.stdout}${install.stderr}`);
  return { dir: project.dir, name, service: `${name}.service`, socket: `${name}.socket`, port };
}

/**
 * A test drop-in for a unit: its output appended to `log` (journald does not
 * run under the harness), plus [Service] and [Unit] settings. Reloads the
 * manager. With `acrossTests`, the unit is not among those useUserManager()
 * stops after each test (a background run that spans several tests).
 */
export async function dropIn(
  manager: UserManager,
  unit: string,
  log: string,
  options: { service?: string[]; unit?: string[]; acrossTests?: boolean } = {},
): Promise<void> {
  const unitSection = options.unit?.length ? `[Unit]\n${options.unit.join('\n')}\n\n` : '';
  const text = `# Written by the reliability suite.\n${unitSection}[Service]\nStandardOutput=append:${log}\nStandardError=append:${log}\n${(options.service ?? []).join('\n')}\n`;
  await writeUnit(manager, `${unit}.d/90-reliability.conf`, text, options);
  await manager.daemonReload();
}

/**
 * manager.writeUnit(), or, with `acrossTests`, the same file written so that
 * useUserManager()'s afterEach does not stop the unit (the manager's exit at
 * the end still does). Call daemonReload() afterwards.
 */
export async function writeUnit(manager: UserManager, name: string, text: string, options: { acrossTests?: boolean } = {}): Promise<void> {
  if (!options.acrossTests) {
    await manager.writeUnit(name, text);
    return;
  }
  const file = path.join(manager.unitDir, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
}

/** `node <fixture>` as a Type=notify unit of the suite's own, output appended to `log`. */
export function fixtureService(description: string, script: string, log: string, lines: string[]): string {
  return [
    '[Unit]',
    `Description=${description}`,
    // Fault trials start a unit many times a minute: the default start limit (5 in 10 s) is not what is under test.
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    `ExecStart=${arg(process.execPath)} ${arg(script)}`,
    `StandardOutput=append:${log}`,
    `StandardError=append:${log}`,
    // A fixture killed by SIGABRT (the watchdog's signal) leaves no core file behind.
    'LimitCORE=0',
    ...lines,
    '',
  ].join('\n');
}

/** The JSON lines a fixture printed (records of the runtime's logger and stack traces are skipped). */
export function jsonLines<T = Record<string, unknown>>(log: string): T[] {
  return log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as T);
}

/** Polls until the property set satisfies `holds`; the last properties seen, or throws naming them. */
export async function until(
  manager: UserManager,
  unit: string,
  properties: readonly string[],
  holds: (p: UnitProperties) => boolean,
  timeoutMs: number,
  explain: () => Promise<string> | string = () => '',
): Promise<UnitProperties> {
  const deadline = Date.now() + timeoutMs;
  let last: UnitProperties = {};
  for (;;) {
    last = await manager.show(unit, properties);
    if (holds(last)) return last;
    if (Date.now() >= deadline) break;
    await sleep(25);
  }
  throw new Error(`${unit}: condition not met within ${timeoutMs} ms; last seen ${JSON.stringify(last)}${await explain()}`);
}

export interface Reply {
  status: number;
  body: string;
  ms: number;
}

/**
 * One request. Without `agent`: on a fresh connection that asks the server to
 * close it after the response (`Connection: close`), so no request ever races
 * a server closing an idle keep-alive connection. With a keep-alive agent: on
 * one of its pooled connections. Rejects on any error, on a timeout, and on a
 * body shorter than its Content-Length.
 */
export function request(
  port: number,
  options: { path?: string; timeoutMs?: number; method?: string; agent?: http.Agent } = {},
): Promise<Reply> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        timeout: timeoutMs,
        ...(options.agent ? { agent: options.agent } : { agent: false, headers: { connection: 'close' } }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('aborted', () => reject(Object.assign(new Error('response aborted before its end'), { code: 'ABORTED' })));
        response.on('error', reject);
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          const length = response.headers['content-length'];
          if (length !== undefined && Number(length) !== body.length) {
            reject(Object.assign(new Error(`truncated: ${body.length} of ${length} bytes`), { code: 'TRUNCATED' }));
            return;
          }
          resolve({ status: response.statusCode ?? 0, body: body.toString('utf8'), ms: performance.now() - started });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end();
  });
}

export interface LoadResult {
  sent: number;
  answered: number;
  failed: number;
  /** Failures by error code, e.g. { ECONNRESET: 2 }. */
  failures: Record<string, number>;
  /** The first few failures, with when they happened (ms since the load started). */
  samples: string[];
  /** The longest time one request waited for its complete, correct response. */
  longestMs: number;
  /** The longest time with no response completing at all. */
  longestGapMs: number;
  elapsedMs: number;
}

export interface LoadOptions {
  port: number;
  /** Requests in flight at most (default 4). */
  concurrency?: number;
  /** Steady rate to aim at, requests per second over all connections (default 250). */
  ratePerSecond?: number;
  path?: string;
  timeoutMs?: number;
  /**
   * Keep-alive clients: the workers share a pool of `concurrency` persistent
   * connections (Node's http.Agent, which does not retry a request whose
   * connection the server closed), instead of one connection per request.
   */
  keepAlive?: boolean;
  /** What a correct response is; a false or a throw counts the request as failed. */
  check: (reply: Reply) => boolean;
}

export interface Load {
  readonly sent: number;
  readonly answered: number;
  /** Stops sending; resolves once every request in flight has ended. */
  stop(): Promise<LoadResult>;
}

/**
 * A bounded loopback client: `concurrency` workers send requests on a steady
 * schedule (request i is due at start + i / rate; a worker that falls behind,
 * during a stall, catches up without exceeding `concurrency` in flight) until
 * stop(). Every request ends in `answered` (complete and correct) or `failed`.
 */
export function startLoad(options: LoadOptions): Load {
  const concurrency = options.concurrency ?? 4;
  const intervalMs = 1000 / (options.ratePerSecond ?? 250);
  const started = performance.now();
  const result: LoadResult = { sent: 0, answered: 0, failed: 0, failures: {}, samples: [], longestMs: 0, longestGapMs: 0, elapsedMs: 0 };
  let lastCompletion = started;
  let stopped = false;
  const agent = options.keepAlive ? new http.Agent({ keepAlive: true, maxSockets: concurrency }) : undefined;
  const fail = (code: string, message: string): void => {
    result.failed++;
    result.failures[code] = (result.failures[code] ?? 0) + 1;
    if (result.samples.length < 10) result.samples.push(`${Math.round(performance.now() - started)} ms: ${code} ${message}`);
  };
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const due = started + result.sent * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) {
        await sleep(wait);
        continue; // another worker may have taken this slot meanwhile
      }
      result.sent++;
      try {
        const reply = await request(options.port, { path: options.path, timeoutMs: options.timeoutMs, agent });
        let ok = false;
        try {
          ok = options.check(reply);
        } catch {
          ok = false;
        }
        if (ok) {
          result.answered++;
          result.longestMs = Math.max(result.longestMs, reply.ms);
        } else {
          fail('WRONG_ANSWER', `${reply.status} ${reply.body.slice(0, 200)}`);
        }
      } catch (error) {
        const { code, message } = error as NodeJS.ErrnoException;
        fail(code ?? 'ERROR', message);
      }
      const now = performance.now();
      result.longestGapMs = Math.max(result.longestGapMs, now - lastCompletion);
      lastCompletion = now;
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    get sent() {
      return result.sent;
    },
    get answered() {
      return result.answered;
    },
    async stop() {
      stopped = true;
      await Promise.all(workers);
      agent?.destroy();
      result.elapsedMs = performance.now() - started;
      result.longestMs = Math.round(result.longestMs);
      result.longestGapMs = Math.round(result.longestGapMs);
      return result;
    },
  };
}
