// Notify payloads, field by field (the harness and the contract:
// test/helpers/notify-payloads.ts): every key of the sd_notify vocabulary
// refuses a newline, a NUL, what is not a value and what is outside its type
// or range, naming the key and sending nothing; 4097 bytes is refused and
// exactly 4096 arrive byte for byte.
import { notify, type NotifyResult } from 'sd-daemon-runtime';

import { assertClean, type Env, devNull, describePayloads, type Rejected, runAccepted, runRejected } from '../helpers/notify-payloads.js';

// ---------------------------------------------------------------------------
// The vocabulary, with a valid value for each field and its kind.

type Kind = 'flag' | 'text' | 'integer' | 'usec' | 'watchdog' | 'notifyaccess' | 'fdpoll' | 'fdname' | 'custom';
interface Field {
  key: string;
  kind: Kind;
  valid: unknown;
  /** FDSTORE=1 needs fds to be a valid message at all. */
  fds?: boolean;
}

const FIELDS: Field[] = [
  { key: 'READY', kind: 'flag', valid: 1 },
  { key: 'RELOADING', kind: 'flag', valid: 1 },
  { key: 'STOPPING', kind: 'flag', valid: 1 },
  { key: 'STATUS', kind: 'text', valid: 'serving' },
  { key: 'ERRNO', kind: 'integer', valid: 5 },
  { key: 'BUSERROR', kind: 'text', valid: 'org.freedesktop.DBus.Error.Failed' },
  { key: 'MAINPID', kind: 'integer', valid: process.pid },
  { key: 'EXTEND_TIMEOUT_USEC', kind: 'usec', valid: 5_000_000 },
  { key: 'WATCHDOG', kind: 'watchdog', valid: 1 },
  { key: 'WATCHDOG_USEC', kind: 'usec', valid: 5_000_000n },
  { key: 'MONOTONIC_USEC', kind: 'usec', valid: 123_456n },
  { key: 'FDSTORE', kind: 'flag', valid: 1, fds: true },
  { key: 'FDSTOREREMOVE', kind: 'flag', valid: 1 },
  { key: 'FDNAME', kind: 'fdname', valid: 'db' },
  { key: 'FDPOLL', kind: 'fdpoll', valid: 0 },
  { key: 'NOTIFYACCESS', kind: 'notifyaccess', valid: 'main' },
  { key: 'RESTART_RESET', kind: 'flag', valid: 1 },
  { key: 'BARRIER', kind: 'flag', valid: 1 },
  { key: 'EXIT_STATUS', kind: 'integer', valid: 3 },
  { key: 'X_CUSTOM', kind: 'custom', valid: 'v' },
];

/** Values no field may carry: a newline or NUL in the text, and what is not a value at all. */
const EVERY_FIELD: Array<[string, unknown, 'TypeError' | 'RangeError']> = [
  ['a newline', 'a\nREADY=1', 'TypeError'],
  ['a NUL', 'a\0b', 'TypeError'],
  ['a trailing newline', 'a\n', 'TypeError'],
  ['null', null, 'TypeError'],
  ['an object', { toString: () => '1' }, 'TypeError'],
  ['an array', ['1'], 'TypeError'],
  ['a symbol', Symbol('s'), 'TypeError'],
  ['a function', () => 1, 'TypeError'],
];

/**
 * Per kind, two groups. 'doc': the errors the README lists or the brief names
 * (negative, NaN, infinite, fractional and unsafe numbers, invalid FDNAMEs).
 * 'type': values outside the field's documented type or range (README: "The
 * whole vocabulary is typed"; NotifyFields in runtime/src/notify.ts), which
 * the manager would ignore or misread.
 */
type Bad = [what: string, value: unknown, error: 'TypeError' | 'RangeError', group: 'doc' | 'type'];
const NUMBERS: Bad[] = [
  ['-1', -1, 'RangeError', 'doc'],
  ['NaN', NaN, 'RangeError', 'doc'],
  ['Infinity', Infinity, 'RangeError', 'doc'],
  ['-Infinity', -Infinity, 'RangeError', 'doc'],
  ['1.5', 1.5, 'RangeError', 'doc'],
  ['2^53 (unsafe)', 2 ** 53, 'RangeError', 'doc'],
  ['-1n', -1n, 'RangeError', 'doc'],
  ["the string '5'", '5', 'TypeError', 'type'],
  ['true', true, 'TypeError', 'type'],
];
const BY_KIND: Record<Kind, Bad[]> = {
  // READY?: true | 1 (and the other flags): nothing else means anything to the manager.
  flag: [
    ['-1', -1, 'RangeError', 'doc'],
    ['NaN', NaN, 'RangeError', 'doc'],
    ['0', 0, 'RangeError', 'type'],
    ['2', 2, 'RangeError', 'type'],
    ['false', false, 'TypeError', 'type'],
    ["'yes'", 'yes', 'TypeError', 'type'],
    ['5n', 5n, 'TypeError', 'type'],
  ],
  text: [
    ['a number', 5, 'TypeError', 'type'],
    ['true', true, 'TypeError', 'type'],
    ['a bigint', 5n, 'TypeError', 'type'],
  ],
  integer: NUMBERS,
  usec: [...NUMBERS, ['2^64 (beyond a usec_t)', 2n ** 64n, 'RangeError', 'type']],
  // WATCHDOG?: 1 | 'trigger'.
  watchdog: [
    ['-1', -1, 'RangeError', 'doc'],
    ['0', 0, 'RangeError', 'type'],
    ['2', 2, 'RangeError', 'type'],
    ["'trig'", 'trig', 'TypeError', 'type'],
    ["'TRIGGER'", 'TRIGGER', 'TypeError', 'type'],
    ['false', false, 'TypeError', 'type'],
  ],
  // NOTIFYACCESS?: 'none' | 'main' | 'exec' | 'all'.
  notifyaccess: [
    ["'bogus'", 'bogus', 'TypeError', 'type'],
    ["'MAIN'", 'MAIN', 'TypeError', 'type'],
    ["''", '', 'TypeError', 'type'],
    ['1', 1, 'TypeError', 'type'],
    ['true', true, 'TypeError', 'type'],
  ],
  // FDPOLL?: 0 | false.
  fdpoll: [
    ['-1', -1, 'RangeError', 'doc'],
    ['1', 1, 'RangeError', 'type'],
    ['true', true, 'TypeError', 'type'],
    ["'no'", 'no', 'TypeError', 'type'],
  ],
  // systemd's fdname_is_valid(): printable ASCII except ':', at most 255 characters.
  fdname: [
    ["a ':'", 'a:b', 'TypeError', 'doc'],
    ['a tab', 'a\tb', 'TypeError', 'doc'],
    ['a control character', '\u0001x', 'TypeError', 'doc'],
    ['DEL', 'x\u007f', 'TypeError', 'doc'],
    ['256 characters', 'n'.repeat(256), 'TypeError', 'doc'],
    ['non-ASCII', 'w\u00e9b', 'TypeError', 'doc'],
    ['CJK', '\u65e5\u672c', 'TypeError', 'doc'],
    ['an emoji', '\u{1f642}', 'TypeError', 'doc'],
    ['a number', 5, 'TypeError', 'type'],
  ],
  custom: [
    ['-1', -1, 'RangeError', 'doc'],
    ['NaN', NaN, 'RangeError', 'doc'],
    ['1.5', 1.5, 'RangeError', 'doc'],
    ['-1n', -1n, 'RangeError', 'doc'],
  ],
};

/** Out of the range the manager parses (pid_t, an errno int, an exit status byte). */
const RANGE: Record<string, Bad[]> = {
  MAINPID: [['2^31 (beyond pid_t)', 2 ** 31, 'RangeError', 'type']],
  ERRNO: [['2^31 (beyond int)', 2 ** 31, 'RangeError', 'type']],
  EXIT_STATUS: [['256 (beyond an exit status)', 256, 'RangeError', 'type']],
};

/** The object form of one field set to `value`, with whatever makes the rest of the message valid. */
function fieldCall(field: Field, value: unknown, extra: Record<string, unknown> = {}): (env: Env) => NotifyResult {
  return (env) => notify({ [field.key]: value, ...extra } as never, { env, fds: field.fds ? [devNull] : undefined });
}

/** The exact wire text of a field's valid value (RELOADING brings its own MONOTONIC_USEC in these rows). */
function wire(field: Field): string {
  return `${field.key}=${String(field.valid)}`;
}

describePayloads('fields', function () {
  for (const field of FIELDS) {
    describe(`${field.key}`, function () {
      const rowsOf = (bad: Bad[]): Rejected[] =>
        bad.map(([what, value, error]) => ({ what: `${field.key}: ${what}`, call: fieldCall(field, value), error, names: field.key }));
      const all = [...BY_KIND[field.kind], ...(RANGE[field.key] ?? [])];

      it(`refuses a newline, a NUL, non-values${field.kind === 'fdname' ? ', invalid names' : ''} and bad numbers, naming ${field.key}; sends nothing`, async function () {
        const rows = rowsOf([
          ...EVERY_FIELD.map(([what, value, error]): Bad => [what, value, error, 'doc']),
          ...all.filter((b) => b[3] === 'doc'),
        ]);
        // With unsetEnv, the variable goes whatever happened.
        rows.push({
          what: `${field.key}: a NUL, with unsetEnv`,
          call: (env) => notify({ [field.key]: 'a\0b' } as never, { env, unsetEnv: true, fds: field.fds ? [devNull] : undefined }),
          error: 'TypeError',
          names: field.key,
          unsets: true,
        });
        assertClean(await runRejected(rows));
      });

      const typed = all.filter((b) => b[3] === 'type');
      if (typed.length > 0) {
        it(`refuses values outside its documented type or range (${typed.map((b) => b[0]).join(', ')}); sends nothing`, async function () {
          assertClean(await runRejected(rowsOf(typed)));
        });
      }

      it('refuses a message of 4097 bytes and sends one of exactly 4096', async function () {
        // RELOADING would add MONOTONIC_USEC; giving it keeps the size exact.
        const base: Record<string, unknown> = field.key === 'RELOADING' ? { MONOTONIC_USEC: 1n } : {};
        const head = [wire(field), ...Object.entries(base).map(([k, v]) => `${k}=${v}`)].join('\n');
        const pad = (total: number): string => 'p'.repeat(total - Buffer.byteLength(`${head}\nX_PAD=`));
        assertClean(
          await runRejected([
            {
              what: `${field.key} + X_PAD: 4097 bytes`,
              call: fieldCall(field, field.valid, { ...base, X_PAD: pad(4097) }),
              error: 'RangeError',
              names: /4097 bytes.*4096/,
            },
          ]),
        );
        assertClean(
          await runAccepted([
            {
              what: `${field.key} + X_PAD: 4096 bytes`,
              call: fieldCall(field, field.valid, { ...base, X_PAD: pad(4096) }),
              text: `${head}\nX_PAD=${pad(4096)}`,
              fds: field.fds ? 1 : 0,
            },
          ]),
        );
      });
    });
  }
});
