// The environment-fuzzing run's settings: the seed, how many cases, how many
// at once (all from RELIABILITY_*), the child script, and the limits every
// part of the run agrees on.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const CHILD = join(here, '..', '..', 'fixtures', 'env-fuzz-child.mjs');

const DEFAULT_SEED = 0x5d0e11;
export const SEED = (process.env.RELIABILITY_SEED ? Number(process.env.RELIABILITY_SEED) : DEFAULT_SEED) >>> 0;
export const CASES = Number(process.env.RELIABILITY_CASES ?? 500);
export const JOBS = Number(process.env.RELIABILITY_JOBS ?? 4);
export const ONLY = process.env.RELIABILITY_ONLY?.split(',').map((s) => Number(s.trim()));
// Generous: a child takes 60-400 ms here, several seconds on a loaded machine.
export const CASE_TIMEOUT_MS = 30_000;
// barrier()'s wait: long where the receiver closes the fd, short where it keeps it.
export const BARRIER_MS = 10_000;
export const BARRIER_HELD_MS = 200;
export const ABSENT_NAME = 'no-such-fd';
export const INT_MAX = 2n ** 31n - 1n;
export const U64_MAX = 2n ** 64n - 1n;
export const VARIABLES = [
  'NOTIFY_SOCKET',
  'LISTEN_PID',
  'LISTEN_PIDFDID',
  'LISTEN_FDS',
  'LISTEN_FDNAMES',
  'WATCHDOG_USEC',
  'WATCHDOG_PID',
  'JOURNAL_STREAM',
] as const;
export type Variable = (typeof VARIABLES)[number];
