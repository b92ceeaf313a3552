// What the fake manager records for each datagram and each warning, and how a
// test names the notification it waits for.
import type { FakeReceivedFd } from './fds.js';

/** One datagram received on the notify socket. */
export interface FakeNotification {
  /** The text exactly as received (one trailing NUL, which systemd tolerates, removed). */
  raw: string;
  /** The non-empty lines, split on \n and \r as systemd splits them. */
  lines: readonly string[];
  /** KEY=VALUE lines; a key sent twice keeps its first value, the one systemd reads. */
  fields: Readonly<Record<string, string>>;
  /** The sender, from SCM_CREDENTIALS (0 when the kernel sent none). */
  pid: number;
  uid: number;
  gid: number;
  fds: readonly FakeReceivedFd[];
  /** CLOCK_MONOTONIC in milliseconds (the clock of MONOTONIC_USEC, divided by 1000). */
  receivedAt: number;
  /** false when the manager ignored the message as a whole; `rejection` says why. */
  accepted: boolean;
  rejection: string | null;
}

/** A notification while the manager still decides about it: a service may reject it. */
export type PendingNotification = { -readonly [K in keyof FakeNotification]: FakeNotification[K] };

/** A warning systemd would log about a notification (or about the service's protocol). */
export interface FakeViolation {
  text: string;
  pid: number | null;
  message: FakeNotification | null;
}

/**
 * What waitFor() waits for: 'READY=1' (a line, exactly), 'STATUS' (a field,
 * any value), { STATUS: /serving/ } (fields matching strings or patterns), or
 * a predicate.
 */
export type FakeNotificationMatch = string | Readonly<Record<string, string | RegExp>> | ((message: FakeNotification) => boolean);

export interface FakeWaitOptions {
  /** Default 5000. */
  timeoutMs?: number;
  /** Index in `messages` to start from (default 0): pass messages.length to wait for a new one. */
  since?: number;
  /** Match rejected messages too (default false). */
  includeRejected?: boolean;
}

export function toPredicate(match: FakeNotificationMatch): (message: FakeNotification) => boolean {
  if (typeof match === 'function') return match;
  if (typeof match === 'string') {
    if (match.includes('=')) return (message) => message.lines.includes(match);
    return (message) => Object.hasOwn(message.fields, match);
  }
  const wanted = Object.entries(match);
  return (message) =>
    wanted.every(([key, expected]) => {
      const value = message.fields[key];
      if (value === undefined) return false;
      return typeof expected === 'string' ? value === expected : expected.test(value);
    });
}

/** The match in words, for the error when it never arrives. */
export function describeMatch(match: FakeNotificationMatch): string {
  if (typeof match === 'function') return `a message accepted by ${match.name || 'the predicate'}`;
  if (typeof match === 'string') return match.includes('=') ? match : `a ${match}= field`;
  return Object.entries(match)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' + ');
}
