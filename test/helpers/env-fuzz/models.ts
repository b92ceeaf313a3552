// The oracle's models: the documented result for each variable's value,
// written from runtime/README.md and the result tables in the headers of
// runtime/src/listen-fds.ts and watchdog.ts, never from the runtime's answers.
import assert from 'node:assert/strict';
import { constants as osConstants } from 'node:os';

import { INT_MAX, U64_MAX } from './config.js';
import type { NotifyTargetExpect } from './world.js';

// ---------------------------------------------------------------------------
// The oracle.

export type Json = any;
export interface Outcome {
  ok?: Json;
  threw?: Json;
}
export interface FdState {
  dev: string;
  ino: string;
  cloexec: boolean;
  link: string;
}

export const DIGITS = /^[0-9]+$/;
export const errnoOf = (code: string): number => -(osConstants.errno as Record<string, number>)[code]!;

export type ListenExpect =
  | { status: 'not-activated'; reason: string }
  | { status: 'malformed'; variable: string; code: string; message?: RegExp }
  | { status: 'activated'; count: number; names: string[] };

export interface ListenModel {
  expect: ListenExpect;
  /** fds whose FD_CLOEXEC listenFds() may set: [3, claimEnd). */
  claimEnd: number;
}

/** Canonical decimal in [min, max] (listen-fds.ts header): the malformed code, or the value. */
export function parseListen(variable: string, text: string, min: bigint, max: bigint): { value: bigint } | { code: string } {
  if (text === '') return { code: 'EINVAL' };
  if (/^-[0-9]+$/.test(text)) return { code: variable === 'LISTEN_FDS' ? 'EINVAL' : 'ERANGE' };
  if (!DIGITS.test(text)) return { code: 'EINVAL' };
  const value = BigInt(text);
  if (value < min) return { code: variable === 'LISTEN_FDS' ? 'EINVAL' : 'ERANGE' };
  if (value > max) return { code: 'ERANGE' };
  return { value };
}

export function listenModel(
  env: Record<string, string>,
  pid: number,
  pidfdId: string | null,
  before: Record<string, FdState>,
): ListenModel {
  const none = (expect: ListenExpect): ListenModel => ({ expect, claimEnd: 3 });
  const pidText = env.LISTEN_PID;
  if (pidText === undefined) return none({ status: 'not-activated', reason: 'no-listen-pid' });
  const p = parseListen('LISTEN_PID', pidText, 1n, INT_MAX);
  if ('code' in p) return none({ status: 'malformed', variable: 'LISTEN_PID', code: p.code });
  if (p.value !== BigInt(pid)) return none({ status: 'not-activated', reason: 'other-process' });
  const idText = env.LISTEN_PIDFDID;
  if (idText !== undefined) {
    const id = parseListen('LISTEN_PIDFDID', idText, 0n, U64_MAX);
    if ('code' in id) return none({ status: 'malformed', variable: 'LISTEN_PIDFDID', code: id.code });
    if (pidfdId !== null && BigInt(pidfdId) !== id.value) return none({ status: 'not-activated', reason: 'other-pidfd' });
  }
  const countText = env.LISTEN_FDS;
  if (countText === undefined) return none({ status: 'not-activated', reason: 'no-listen-fds' });
  const n = parseListen('LISTEN_FDS', countText, 1n, INT_MAX - 3n);
  if ('code' in n) return none({ status: 'malformed', variable: 'LISTEN_FDS', code: n.code });
  const count = Number(n.value);
  for (let fd = 3; fd < 3 + count; fd++) {
    if (!(fd in before)) {
      return {
        expect: {
          status: 'malformed',
          variable: 'LISTEN_FDS',
          code: 'EBADF',
          message: new RegExp(`^LISTEN_FDS=${count} but fd ${fd} is not open$`),
        },
        claimEnd: fd,
      };
    }
  }
  const claimEnd = 3 + count;
  const namesText = env.LISTEN_FDNAMES;
  const names = namesText === undefined ? new Array<string>(count).fill('unknown') : namesText.split(':');
  if (names.length !== count) return { expect: { status: 'malformed', variable: 'LISTEN_FDNAMES', code: 'EINVAL' }, claimEnd };
  return { expect: { status: 'activated', count, names }, claimEnd };
}

export type NotifyExpect = { kind: 'disabled' } | { kind: 'invalid' } | { kind: 'unsupported'; strict: boolean } | NotifyTargetExpect;

/** README's NOTIFY_SOCKET table, plus what the case knows about the socket behind a valid address. */
export function notifyModel(value: string | undefined, known: NotifyTargetExpect | undefined): NotifyExpect {
  if (value === undefined || value === '') return { kind: 'disabled' };
  if (value.startsWith('/') || value.startsWith('@')) {
    const body = value.startsWith('@') ? value.slice(1) : value;
    if (Buffer.byteLength(body, 'utf8') > 107) return { kind: 'invalid' };
    assert.ok(known, `no expectation for the valid address ${JSON.stringify(value)}`);
    return known;
  }
  // vsock:CID:PORT (and the -stream/-dgram/-seqpacket forms systemd accepts)
  // is "recognised, not implemented"; a malformed one may be either answer.
  if (/^vsock(-stream|-dgram|-seqpacket)?:[0-9]+:[0-9]+$/.test(value)) return { kind: 'unsupported', strict: true };
  if (/^vsock(-stream|-dgram|-seqpacket)?:/.test(value)) return { kind: 'unsupported', strict: false };
  return { kind: 'invalid' };
}

export type WatchdogExpect = { enabled: true; usec: bigint } | { enabled: false; reason: 'disabled' | 'other-process' | 'invalid' };

/** README: WATCHDOG_USEC a decimal number, neither 0 nor infinity; WATCHDOG_PID, when set, ours. */
export function watchdogModel(env: Record<string, string>, pid: number): WatchdogExpect {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || usecText === '') return { enabled: false, reason: 'disabled' };
  if (!DIGITS.test(usecText)) return { enabled: false, reason: 'invalid' };
  const usec = BigInt(usecText);
  if (usec === 0n || usec >= U64_MAX) return { enabled: false, reason: 'invalid' };
  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined) {
    if (!DIGITS.test(pidText) || BigInt(pidText) === 0n) return { enabled: false, reason: 'invalid' };
    if (BigInt(pidText) !== BigInt(pid)) return { enabled: false, reason: 'other-process' };
  }
  return { enabled: true, usec };
}

export function journalModel(value: string | undefined, fd: FdState | undefined): boolean {
  if (!value || !fd) return false;
  const m = /^(\d+):(\d+)$/.exec(value);
  return m !== null && BigInt(m[1]!) === BigInt(fd.dev) && BigInt(m[2]!) === BigInt(fd.ino);
}

export const same = (a: unknown, b: unknown): boolean => {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
};
export const show = (x: unknown): string => {
  const text = JSON.stringify(x);
  return text === undefined ? String(x) : text.length > 400 ? `${text.slice(0, 400)}...` : text;
};
