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
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import {
  barrier,
  errno,
  extendTimeout,
  mainPid,
  notify,
  ready,
  reloading,
  removeStoredFds,
  setWatchdogUsec,
  startWatchdog,
  status,
  stopping,
  storeFds,
  watchdogPing,
  watchdogTrigger,
  type NotifyResult,
} from 'sd-daemon-runtime';

import { DgramReceiver } from '../helpers/dgram-receiver.js';

type Env = NodeJS.ProcessEnv;

/** A call that must throw (or reject) before sending anything. */
interface Rejected {
  what: string;
  call: (env: Env) => unknown;
  error: 'TypeError' | 'RangeError';
  /** Must appear in the message: the field, the option or the limit. */
  names: string | RegExp;
  /** Called with unsetEnv: NOTIFY_SOCKET must be gone afterwards too. */
  unsets?: boolean;
}

/** A boundary that must pass: the exact datagram, and how many fds arrive with it. */
interface Accepted {
  what: string;
  call: (env: Env) => NotifyResult | Promise<NotifyResult>;
  text: string | RegExp;
  fds?: number;
}

const stats = { rejected: 0, accepted: 0, failures: 0, started: 0 };

let dir: string;
let receiver: DgramReceiver;
let address: string;
const opened: number[] = [];
let devNull: number;
/** 254 distinct open fds, all /dev/null. */
let many: number[];

const show = (x: unknown): string =>
  JSON.stringify(x, (_, v) =>
    typeof v === 'bigint' ? `${v}n` : typeof v === 'symbol' ? String(v) : typeof v === 'function' ? 'function' : v,
  )?.slice(0, 300) ?? String(x);

let probes = 0;

/** Runs each row; returns one line per row that broke the contract. */
async function runRejected(rows: Rejected[]): Promise<string[]> {
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

async function runAccepted(rows: Accepted[]): Promise<string[]> {
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

function assertClean(problems: string[]): void {
  assert.equal(problems.length, 0, `\n  ${problems.join('\n  ')}`);
}

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

describe('reliability: notify payloads are programmer errors before anything is sent (real receiver on NOTIFY_SOCKET)', function () {
  this.timeout(60_000);

  before(async function () {
    stats.started = performance.now();
    dir = mkdtempSync('/tmp/rn-');
    address = join(dir, 'notify.sock');
    receiver = await DgramReceiver.start([{ name: 'notify', address, mode: 'read' }]);
    devNull = openSync('/dev/null', 'r');
    opened.push(devNull);
    many = Array.from({ length: 254 }, () => openSync('/dev/null', 'r'));
    opened.push(...many);
  });

  after(async function () {
    for (const fd of opened) closeSync(fd);
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
    const cases = stats.rejected + stats.accepted;
    console.log(
      `\n  reliability: notify-payloads cases=${cases} rejected=${stats.rejected} accepted-boundaries=${stats.accepted} failures=${stats.failures} wall-ms=${Math.round(performance.now() - stats.started)}`,
    );
  });

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

  describe('over-long text values (bytes, not characters)', function () {
    it('STATUS, BUSERROR, X_ and raw text: 4097 bytes is a RangeError naming the limit, 4096 passes', async function () {
      const rejected: Rejected[] = [];
      const accepted: Accepted[] = [];
      for (const key of ['STATUS', 'BUSERROR', 'X_CUSTOM']) {
        const room = (total: number): number => total - Buffer.byteLength(`${key}=`);
        rejected.push({
          what: `${key} of 4097 ASCII bytes`,
          call: (env) => notify({ [key]: 's'.repeat(room(4097)) } as never, { env }),
          error: 'RangeError',
          names: /4097 bytes.*4096/,
        });
        // 2-byte characters: fewer than 4096 characters, more than 4096 bytes.
        rejected.push({
          what: `${key} of 4097 bytes in 2-byte characters`,
          call: (env) => notify({ [key]: '\u00e9'.repeat(room(4097) / 2) } as never, { env }),
          error: 'RangeError',
          names: /4096/,
        });
        rejected.push({
          what: `${key} of 1 MiB`,
          call: (env) => notify({ [key]: 'x'.repeat(1 << 20) } as never, { env }),
          error: 'RangeError',
          names: /4096/,
        });
        accepted.push({
          what: `${key} of 4096 ASCII bytes`,
          call: (env) => notify({ [key]: 's'.repeat(room(4096)) } as never, { env }),
          text: `${key}=${'s'.repeat(room(4096))}`,
        });
        accepted.push({
          what: `${key} of 4096 bytes in 2-byte characters`,
          call: (env) => notify({ [key]: `${'\u00e9'.repeat((room(4096) - 1) / 2)}x` } as never, { env }),
          text: `${key}=${'\u00e9'.repeat((room(4096) - 1) / 2)}x`,
        });
      }
      rejected.push({
        what: 'raw text of 4097 bytes',
        call: (env) => notify(`STATUS=${'s'.repeat(4090)}`, { env }),
        error: 'RangeError',
        names: /4097 bytes.*4096/,
      });
      rejected.push({
        what: 'raw RELOADING=1 that MONOTONIC_USEC pushes past 4096',
        call: (env) => notify(`RELOADING=1\nX_PAD=${'p'.repeat(4090 - 18)}`, { env }),
        error: 'RangeError',
        names: /4096/,
      });
      accepted.push({
        what: 'raw text of 4096 bytes',
        call: (env) => notify(`STATUS=${'s'.repeat(4089)}`, { env }),
        text: `STATUS=${'s'.repeat(4089)}`,
      });
      assertClean(await runRejected(rejected));
      assertClean(await runAccepted(accepted));
    });
  });

  describe('field names and the raw form', function () {
    it('refuses invalid keys, a NUL, an empty or absent state, and what is not a state', async function () {
      const keys = ['ready', 'X-DASH', '1ABC', '', 'A B', 'A=B', 'X_\n', 'STATUS\0'];
      const rows: Rejected[] = keys.map((key) => ({
        what: `key ${JSON.stringify(key)}`,
        call: (env) => notify({ [key]: '1' } as never, { env }),
        error: 'TypeError',
        names: JSON.stringify(key),
      }));
      rows.push(
        { what: 'raw text with a NUL', call: (env) => notify('READY=1\0', { env }), error: 'TypeError', names: 'NUL' },
        { what: 'raw text with a NUL mid-field', call: (env) => notify('STATUS=a\0b\nREADY=1', { env }), error: 'TypeError', names: 'NUL' },
        { what: 'an empty raw text', call: (env) => notify('', { env }), error: 'TypeError', names: 'empty' },
        { what: 'an object with no fields', call: (env) => notify({}, { env }), error: 'TypeError', names: 'no fields' },
        {
          what: 'an object whose fields are all undefined',
          call: (env) => notify({ STATUS: undefined }, { env }),
          error: 'TypeError',
          names: 'no fields',
        },
        { what: 'null', call: (env) => notify(null as never, { env }), error: 'TypeError', names: 'state' },
        { what: 'undefined', call: (env) => notify(undefined as never, { env }), error: 'TypeError', names: 'state' },
        { what: 'a number', call: (env) => notify(5 as never, { env }), error: 'TypeError', names: 'state' },
        { what: 'a symbol', call: (env) => notify(Symbol('READY=1') as never, { env }), error: 'TypeError', names: 'state' },
        // README: "an invalid FDNAME" is a programmer error; the raw form carries FDNAME= too.
        {
          what: "raw FDSTORE=1 with FDNAME=a:b (':' separates names in LISTEN_FDNAMES)",
          call: (env) => notify('FDSTORE=1\nFDNAME=a:b', { env, fds: [devNull] }),
          error: 'TypeError',
          names: 'FDNAME',
        },
        {
          what: 'raw FDSTOREREMOVE=1 with a 256-character FDNAME',
          call: (env) => notify(`FDSTOREREMOVE=1\nFDNAME=${'n'.repeat(256)}`, { env }),
          error: 'TypeError',
          names: 'FDNAME',
        },
      );
      assertClean(await runRejected(rows));
    });

    it('accepts FDNAME at its limits: 255 characters, empty, every printable ASCII character but ":"', async function () {
      const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i))
        .filter((c) => c !== ':')
        .join('');
      assertClean(
        await runAccepted([
          {
            what: 'FDNAME of 255 characters',
            call: (env) => storeFds('n'.repeat(255), [devNull], { env }),
            text: `FDSTORE=1\nFDNAME=${'n'.repeat(255)}`,
            fds: 1,
          },
          { what: 'an empty FDNAME', call: (env) => removeStoredFds('', { env }), text: 'FDSTOREREMOVE=1\nFDNAME=' },
          {
            what: 'FDNAME of all printable ASCII but ":"',
            call: (env) => storeFds(printable, [devNull], { env }),
            text: `FDSTORE=1\nFDNAME=${printable}`,
            fds: 1,
          },
          {
            what: 'STATUS with control characters other than newline (a status line may hold them)',
            call: (env) => status('a\tb\u0001c\u007f', { env }),
            text: 'STATUS=a\tb\u0001c\u007f',
          },
        ]),
      );
    });
  });

  describe('file descriptors (real ones)', function () {
    it('254 fds is a RangeError naming the limit in every form; 253 pass and arrive', async function () {
      const fds254 = many;
      const fds253 = many.slice(0, 253);
      assertClean(
        await runRejected([
          {
            what: 'object form, 254 fds',
            call: (env) => notify({ FDSTORE: 1, FDNAME: 'many' }, { env, fds: fds254 }),
            error: 'RangeError',
            names: /254.*253/,
          },
          {
            what: 'raw form, 254 fds',
            call: (env) => notify('FDSTORE=1\nFDNAME=many', { env, fds: fds254 }),
            error: 'RangeError',
            names: /254.*253/,
          },
          { what: 'storeFds(), 254 fds', call: (env) => storeFds('many', fds254, { env }), error: 'RangeError', names: /254.*253/ },
          {
            what: 'storeFds(), 254 fds, with unsetEnv',
            call: (env) => storeFds('many', fds254, { env, unsetEnv: true }),
            error: 'RangeError',
            names: /253/,
            unsets: true,
          },
          {
            what: 'object form, 1000 copies of one fd',
            call: (env) => notify({ FDSTORE: 1 }, { env, fds: Array(1000).fill(devNull) }),
            error: 'RangeError',
            names: /1000.*253/,
          },
        ]),
      );
      assertClean(
        await runAccepted([
          {
            what: 'object form, 253 fds',
            call: (env) => notify({ FDSTORE: 1, FDNAME: 'many' }, { env, fds: fds253 }),
            text: 'FDSTORE=1\nFDNAME=many',
            fds: 253,
          },
          {
            what: 'storeFds(), 253 fds, FDPOLL=0',
            call: (env) => storeFds('many', fds253, { env, poll: false }),
            text: 'FDSTORE=1\nFDNAME=many\nFDPOLL=0',
            fds: 253,
          },
        ]),
      );
    });

    it('refuses what is not an fd, naming it, before sending anything', async function () {
      const notFd = (what: string, fd: unknown, error: 'TypeError' | 'RangeError' = 'TypeError'): Rejected => ({
        what: `fds: [${what}]`,
        call: (env) => notify({ FDSTORE: 1, FDNAME: 'x' }, { env, fds: [fd as number] }),
        error,
        names: /file descriptor/,
      });
      assertClean(
        await runRejected([
          notFd('-1', -1),
          notFd('1.5', 1.5),
          notFd('NaN', NaN),
          notFd("'3'", '3'),
          notFd('true', true),
          notFd('{}', {}),
          notFd('{ fd: -1 }', { fd: -1 }),
          notFd('null', null),
          notFd('undefined', undefined),
          // Not an int: the kernel's fds are ints. 2^32 + fd must not become fd (it is our /dev/null here).
          notFd('2^32 + an open fd', 2 ** 32 + devNull),
          notFd('{ fd: 2^32 + an open fd }', { fd: 2 ** 32 + devNull }),
          {
            what: 'FDSTORE=1 without fds',
            call: (env) => notify({ FDSTORE: 1, FDNAME: 'x' }, { env }),
            error: 'TypeError',
            names: 'FDSTORE',
          },
          { what: 'storeFds() with no fds', call: (env) => storeFds('x', [], { env }), error: 'TypeError', names: 'FDSTORE' },
        ]),
      );
    });

    it('refuses a pid option that is not a pid', async function () {
      const badPid = (what: string, pid: unknown): Rejected => ({
        what: `pid: ${what}`,
        call: (env) => notify('READY=1', { env, pid: pid as number }),
        error: 'RangeError',
        names: 'pid',
      });
      assertClean(
        await runRejected([
          badPid('0', 0),
          badPid('-1', -1),
          badPid('1.5', 1.5),
          badPid('NaN', NaN),
          badPid("'5'", '5'),
          // pid_t is an int: these cannot name a process (2^32 + our pid would be sent as our own pid).
          badPid('2^31', 2 ** 31),
          badPid('2^32 + our pid', 2 ** 32 + process.pid),
        ]),
      );
    });
  });

  describe('the typed doors', function () {
    it('each refuses bad input naming the field or option, before sending', async function () {
      const rows: Rejected[] = [
        { what: "ready({ status: 'a\\nb' })", call: (env) => ready({ env, status: 'a\nREADY=1' }), error: 'TypeError', names: 'STATUS' },
        { what: "ready({ status: 'a\\0b' })", call: (env) => ready({ env, status: 'a\0b' }), error: 'TypeError', names: 'STATUS' },
        {
          what: 'ready({ status: 4097 bytes })',
          call: (env) => ready({ env, status: 's'.repeat(4090) }),
          error: 'RangeError',
          names: /4096/,
        },
        { what: "reloading({ status: 'x\\n' })", call: (env) => reloading({ env, status: 'x\n' }), error: 'TypeError', names: 'STATUS' },
        { what: "stopping({ status: '\\0' })", call: (env) => stopping({ env, status: '\0' }), error: 'TypeError', names: 'STATUS' },
        { what: "status('a\\nb')", call: (env) => status('a\nb', { env }), error: 'TypeError', names: 'STATUS' },
        { what: 'status(null)', call: (env) => status(null as never, { env }), error: 'TypeError', names: 'STATUS' },
        { what: 'status(5000 characters)', call: (env) => status('x'.repeat(5000), { env }), error: 'RangeError', names: /4096/ },
        { what: 'errno(-1)', call: (env) => errno(-1, { env }), error: 'RangeError', names: 'ERRNO' },
        { what: 'errno(NaN)', call: (env) => errno(NaN, { env }), error: 'RangeError', names: 'ERRNO' },
        { what: 'errno(1.5)', call: (env) => errno(1.5, { env }), error: 'RangeError', names: 'ERRNO' },
        { what: "errno('5')", call: (env) => errno('5' as never, { env }), error: 'TypeError', names: 'ERRNO' },
        { what: "errno(5, { status: 'a\\nb' })", call: (env) => errno(5, { env, status: 'a\nb' }), error: 'TypeError', names: 'STATUS' },
        { what: 'mainPid(0)', call: (env) => mainPid(0, { env }), error: 'RangeError', names: 'MAINPID' },
        { what: 'mainPid(-1)', call: (env) => mainPid(-1, { env }), error: 'RangeError', names: 'MAINPID' },
        { what: 'mainPid(NaN)', call: (env) => mainPid(NaN, { env }), error: 'RangeError', names: 'MAINPID' },
        { what: 'extendTimeout(-1)', call: (env) => extendTimeout(-1, { env }), error: 'RangeError', names: 'EXTEND_TIMEOUT_USEC' },
        { what: 'extendTimeout(NaN)', call: (env) => extendTimeout(NaN, { env }), error: 'RangeError', names: 'EXTEND_TIMEOUT_USEC' },
        {
          what: 'extendTimeout(Infinity)',
          call: (env) => extendTimeout(Infinity, { env }),
          error: 'RangeError',
          names: 'EXTEND_TIMEOUT_USEC',
        },
        {
          what: 'extendTimeout(2^60 ms)',
          call: (env) => extendTimeout(2 ** 60, { env }),
          error: 'RangeError',
          names: 'EXTEND_TIMEOUT_USEC',
        },
        {
          what: 'extendTimeout(-1) with unsetEnv',
          call: (env) => extendTimeout(-1, { env, unsetEnv: true }),
          error: 'RangeError',
          names: 'EXTEND_TIMEOUT_USEC',
          unsets: true,
        },
        { what: 'setWatchdogUsec(-1)', call: (env) => setWatchdogUsec(-1, { env }), error: 'RangeError', names: 'WATCHDOG_USEC' },
        { what: 'setWatchdogUsec(-1n)', call: (env) => setWatchdogUsec(-1n, { env }), error: 'RangeError', names: 'WATCHDOG_USEC' },
        { what: 'setWatchdogUsec(NaN)', call: (env) => setWatchdogUsec(NaN, { env }), error: 'RangeError', names: 'WATCHDOG_USEC' },
        { what: "storeFds('a:b', [fd])", call: (env) => storeFds('a:b', [devNull], { env }), error: 'TypeError', names: 'FDNAME' },
        { what: "storeFds('a\\nb', [fd])", call: (env) => storeFds('a\nb', [devNull], { env }), error: 'TypeError', names: 'FDNAME' },
        {
          what: 'storeFds(256 characters, [fd])',
          call: (env) => storeFds('n'.repeat(256), [devNull], { env }),
          error: 'TypeError',
          names: 'FDNAME',
        },
        {
          what: "storeFds('w\u00e9b', [fd])",
          call: (env) => storeFds('w\u00e9b', [devNull], { env }),
          error: 'TypeError',
          names: 'FDNAME',
        },
        { what: "removeStoredFds('a:b')", call: (env) => removeStoredFds('a:b', { env }), error: 'TypeError', names: 'FDNAME' },
        { what: "removeStoredFds('\\u0001')", call: (env) => removeStoredFds('\u0001', { env }), error: 'TypeError', names: 'FDNAME' },
        { what: 'barrier({ timeoutMs: -1 })', call: (env) => barrier({ env, timeoutMs: -1 }), error: 'RangeError', names: 'timeoutMs' },
        { what: 'barrier({ timeoutMs: NaN })', call: (env) => barrier({ env, timeoutMs: NaN }), error: 'RangeError', names: 'timeoutMs' },
        {
          what: 'barrier({ timeoutMs: Infinity })',
          call: (env) => barrier({ env, timeoutMs: Infinity }),
          error: 'RangeError',
          names: 'timeoutMs',
        },
        { what: 'barrier({ pid: 0 })', call: (env) => barrier({ env, pid: 0, timeoutMs: 1000 }), error: 'RangeError', names: 'pid' },
        { what: 'watchdogPing({ pid: -1 })', call: (env) => watchdogPing({ env, pid: -1 }), error: 'RangeError', names: 'pid' },
        {
          what: 'watchdogTrigger({ fds: [-1] })',
          call: (env) => watchdogTrigger({ env, fds: [-1] }),
          error: 'TypeError',
          names: /file descriptor/,
        },
      ];
      // The keeper's setTimeout() is a door onto WATCHDOG_USEC= too. Its first
      // ping goes out at start: drained before the row is judged.
      for (const [what, ms] of [
        ['0', 0],
        ['-1', -1],
        ['NaN', NaN],
        ['Infinity', Infinity],
      ] as const) {
        rows.push({
          what: `watchdog keeper setTimeout(${what})`,
          call: async (env) => {
            const keeper = startWatchdog({ env: { ...env, WATCHDOG_USEC: '60000000' }, logger: null });
            await receiver.sync();
            receiver.takeAll();
            try {
              return keeper.setTimeout(ms);
            } finally {
              keeper.stop();
            }
          },
          error: 'RangeError',
          names: 'setTimeout',
        });
      }
      const problems = await runRejected(rows);
      assertClean(problems);
    });

    it('each refuses a value outside its documented type or range', async function () {
      assertClean(
        await runRejected([
          { what: 'status(42)', call: (env) => status(42 as never, { env }), error: 'TypeError', names: 'STATUS' },
          { what: 'mainPid(2^31)', call: (env) => mainPid(2 ** 31, { env }), error: 'RangeError', names: 'MAINPID' },
          { what: 'storeFds(5, [fd])', call: (env) => storeFds(5 as never, [devNull], { env }), error: 'TypeError', names: 'FDNAME' },
          { what: 'errno(5n)', call: (env) => errno(5n as never, { env }), error: 'TypeError', names: 'ERRNO' },
          { what: 'removeStoredFds(null)', call: (env) => removeStoredFds(null as never, { env }), error: 'TypeError', names: 'FDNAME' },
        ]),
      );
    });

    it('each sends its exact wire text at valid extremes', async function () {
      assertClean(
        await runAccepted([
          { what: 'errno(0)', call: (env) => errno(0, { env }), text: 'ERRNO=0' },
          { what: 'extendTimeout(0.0004) rounds to 0 usec', call: (env) => extendTimeout(0.0004, { env }), text: 'EXTEND_TIMEOUT_USEC=0' },
          {
            what: 'setWatchdogUsec(2^64 - 2)',
            call: (env) => setWatchdogUsec(2n ** 64n - 2n, { env }),
            text: 'WATCHDOG_USEC=18446744073709551614',
          },
          { what: 'mainPid(our pid)', call: (env) => mainPid(process.pid, { env }), text: `MAINPID=${process.pid}` },
          {
            what: 'status() of 4089 bytes (4096 with STATUS=)',
            call: (env) => status('s'.repeat(4089), { env }),
            text: `STATUS=${'s'.repeat(4089)}`,
          },
          { what: 'reloading() carries MONOTONIC_USEC', call: (env) => reloading({ env }), text: /^RELOADING=1\nMONOTONIC_USEC=[0-9]+$/ },
          {
            what: 'barrier() resolves once the receiver closes the fd',
            call: (env) => barrier({ env, timeoutMs: 10_000 }),
            text: 'BARRIER=1',
            fds: 1,
          },
        ]),
      );
    });
  });
});
