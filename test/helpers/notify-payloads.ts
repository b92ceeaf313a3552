// Hostile notify payloads (issue 5, "Notify payloads"): for every field of the
// sd_notify vocabulary, for the raw-text form, for fds and for each typed
// door, the values a careless or hostile caller could pass (a newline, a NUL,
// a datagram of 4097 bytes, 254 fds, an invalid FDNAME, the wrong type, a
// negative, NaN or unsafe number) must be a programmer error, a TypeError or
// RangeError whose message names the field or the limit, thrown before
// anything is sent. The proof that nothing was sent is a real receiver
// (python3, fixtures/dgram-receiver.py) on the NOTIFY_SOCKET given to each
// call: after the throw it is drained (sync, the receiver's barrier) and must
// have nothing; then a valid message must arrive, proving it was listening.
// The boundaries that must still pass (exactly 4096 bytes, 253 fds, a
// 255-character FDNAME) are sent and compared byte for byte, fds counted.
//
// The contract is runtime/README.md ("Programmer errors throw TypeError/
// RangeError before anything is sent: a newline or NUL in a value, a message
// over 4096 bytes, an invalid FDNAME, more than 253 fds, an empty state") and
// the typed vocabulary it documents (README "Notification" and NotifyFields
// in runtime/src/notify.ts): a value of another type than the field's is the
// same kind of programmer error.
//
// This module is the harness the test/reliability/notify-payloads-*.test.ts
// files share: the receiver, the fds, the two row runners and the summary line.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { notify, type NotifyResult } from 'sd-daemon-runtime';

import { DgramReceiver } from './dgram-receiver.js';

export type Env = NodeJS.ProcessEnv;

/** A call that must throw (or reject) before sending anything. */
export interface Rejected {
  what: string;
  call: (env: Env) => unknown;
  error: 'TypeError' | 'RangeError';
  /** Must appear in the message: the field, the option or the limit. */
  names: string | RegExp;
  /** Called with unsetEnv: NOTIFY_SOCKET must be gone afterwards too. */
  unsets?: boolean;
}

/** A boundary that must pass: the exact datagram, and how many fds arrive with it. */
export interface Accepted {
  what: string;
  call: (env: Env) => NotifyResult | Promise<NotifyResult>;
  text: string | RegExp;
  fds?: number;
}

const stats = { rejected: 0, accepted: 0, failures: 0, started: 0 };

let dir: string;
// Live bindings, set by describePayloads()'s before hook: the rows read them when they run.
export let receiver: DgramReceiver;
let address: string;
const opened: number[] = [];
export let devNull: number;
/** 254 distinct open fds, all /dev/null. */
export let many: number[];

const show = (x: unknown): string =>
  JSON.stringify(x, (_, v) =>
    typeof v === 'bigint' ? `${v}n` : typeof v === 'symbol' ? String(v) : typeof v === 'function' ? 'function' : v,
  )?.slice(0, 300) ?? String(x);

let probes = 0;

/** Runs each row; returns one line per row that broke the contract. */
export async function runRejected(rows: Rejected[]): Promise<string[]> {
  const problems: string[] = [];
  for (const row of rows) {
    stats.rejected++;
    const env: Env = { NOTIFY_SOCKET: address };
    let error: unknown;
    let result: unknown;
    try {
      result = await row.call(env);
    } catch (e) {
      error = e;
    }
    // The receiver's barrier: everything sent before this is in `leaked`.
    await receiver.sync();
    const leaked = receiver.takeAll();
    const sent = leaked.map((d) => `${show(d.data.toString('utf8').slice(0, 80))}${d.fds.length ? ` + ${d.fds.length} fd(s)` : ''}`);
    if (error === undefined) {
      problems.push(`${row.what}: accepted, returned ${show(result)}${sent.length ? `; the manager got ${sent.join(', ')}` : ''}`);
    } else {
      const e = error as Error;
      const names = typeof row.names === 'string' ? e.message?.includes(row.names) : row.names.test(e.message ?? '');
      if (e?.constructor?.name !== row.error || !names) {
        problems.push(`${row.what}: threw ${e?.constructor?.name}: ${show(e?.message)}; expected a ${row.error} naming ${row.names}`);
      }
      if (sent.length > 0) problems.push(`${row.what}: threw, but the manager got ${sent.join(', ')}`);
    }
    if (row.unsets && 'NOTIFY_SOCKET' in env) problems.push(`${row.what}: unsetEnv left NOTIFY_SOCKET behind`);
    // And the receiver was listening all along: a valid message arrives.
    const probe = `X_PROBE=${++probes}`;
    const sentProbe = notify(probe, { env: { NOTIFY_SOCKET: address } });
    await receiver.sync();
    const got = receiver.takeAll().map((d) => d.data.toString('utf8'));
    if (!sentProbe.sent || got.length !== 1 || got[0] !== probe)
      problems.push(`${row.what}: the receiver's liveness probe got ${show(got)} (${show(sentProbe)})`);
  }
  stats.failures += problems.length;
  return problems;
}

export async function runAccepted(rows: Accepted[]): Promise<string[]> {
  const problems: string[] = [];
  for (const row of rows) {
    stats.accepted++;
    let result: NotifyResult | undefined;
    try {
      result = await row.call({ NOTIFY_SOCKET: address });
    } catch (e) {
      problems.push(`${row.what}: threw ${(e as Error).constructor.name}: ${(e as Error).message}`);
    }
    await receiver.sync();
    const got = receiver.takeAll();
    if (result) {
      const text = got[0]?.data.toString('utf8') ?? '';
      const matches = typeof row.text === 'string' ? text === row.text : row.text.test(text);
      if (!result.sent || got.length !== 1 || !matches || got[0]!.fds.length !== (row.fds ?? 0) || got[0]!.trunc || got[0]!.ctrunc) {
        problems.push(
          `${row.what}: ${show(result)}; received ${got.length} datagram(s): ${show(got.map((d) => ({ bytes: d.data.length, head: d.data.toString('utf8').slice(0, 60), fds: d.fds.length, trunc: d.trunc, ctrunc: d.ctrunc })))}`,
        );
      } else if (result.bytes !== got[0]!.data.length) {
        problems.push(`${row.what}: reported ${result.bytes} bytes, ${got[0]!.data.length} arrived`);
      }
    }
  }
  stats.failures += problems.length;
  return problems;
}

export function assertClean(problems: string[]): void {
  assert.equal(problems.length, 0, `\n  ${problems.join('\n  ')}`);
}

/**
 * The suite every notify-payloads file runs in, under one title (so each
 * test's full title is what it was when the files were one): a receiver on
 * NOTIFY_SOCKET, /dev/null fds, and a summary line for `part` at the end.
 */
export function describePayloads(part: string, body: () => void): void {
  describe('reliability: notify payloads are programmer errors before anything is sent (real receiver on NOTIFY_SOCKET)', function () {
    this.timeout(60_000);

    before(async function () {
      Object.assign(stats, { rejected: 0, accepted: 0, failures: 0, started: performance.now() });
      dir = mkdtempSync('/tmp/rn-');
      address = join(dir, 'notify.sock');
      receiver = await DgramReceiver.start([{ name: 'notify', address, mode: 'read' }]);
      devNull = openSync('/dev/null', 'r');
      opened.push(devNull);
      many = Array.from({ length: 254 }, () => openSync('/dev/null', 'r'));
      opened.push(...many);
    });

    after(async function () {
      for (const fd of opened.splice(0)) closeSync(fd);
      await receiver?.close();
      rmSync(dir, { recursive: true, force: true });
      const cases = stats.rejected + stats.accepted;
      console.log(
        `\n  reliability: notify-payloads (${part}) cases=${cases} rejected=${stats.rejected} accepted-boundaries=${stats.accepted} failures=${stats.failures} wall-ms=${Math.round(performance.now() - stats.started)}`,
      );
    });

    body();
  });
}
