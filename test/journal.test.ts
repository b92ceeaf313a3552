// The journal's native protocol against a real systemd-journald (private to
// this test: see helpers/journald.ts), read back with `journalctl -o json`:
// every field as sent, binary values with newlines and NULs, a 1 MiB record
// through a sealed memfd, the logger's JOURNAL_STREAM detection, and the
// "<N>" fallback on stderr when the socket is absent, said once.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { encodeJournalRecord, journalFieldNameProblem, sendJournal } from 'sd-daemon-runtime';
import { PrivateJournald, valueBytes } from './helpers/journald.js';
import { addon } from './helpers/native.js';

const fixture = fileURLToPath(new URL('./fixtures/journal-send.mjs', import.meta.url));
const b64 = (bytes: Buffer): { base64: string } => ({ base64: bytes.toString('base64') });

/** What the fixture logs after the one fallback warning, as `<N>` lines on stderr (raw() last, unprefixed). */
const FALLBACK_LINES = [
  '<6>plain info',
  '<4>served /x',
  '<3>two',
  '<3>lines',
  '<5>from a stream',
  '<5>second line',
  'raw bytes, no prefix',
  '',
];
describe('journal native protocol (encoding)', function () {
  it('writes KEY=value lines, and the length-prefixed form for a value with a newline', function () {
    const bytes = encodeJournalRecord({ MESSAGE: 'one\ntwo', PRIORITY: 6, FLAG: true, BIG: 10n, NUL: Buffer.from([0x61, 0, 0x62]) });
    const expected = Buffer.concat([
      Buffer.from('MESSAGE\n'),
      Buffer.from([7, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from('one\ntwo\n'),
      Buffer.from('PRIORITY=6\nFLAG=1\nBIG=10\nNUL=a\0b\n'),
    ]);
    assert.deepEqual(bytes, expected);
  });

  it('repeats a field given as an array, and leaves undefined out', function () {
    assert.equal(encodeJournalRecord({ TAG: ['a', 'b'], SKIP: undefined }).toString(), 'TAG=a\nTAG=b\n');
  });

  const badNames: [string, RegExp][] = [
    ['', /cannot be empty/],
    ['lower', /A-Z, 0-9 and _ only.*"LOWER"/],
    ['1ST', /not starting with a digit.*"F_1ST"/],
    ['_PID', /journald's own \(trusted\)/],
    ['A-B', /"A_B"/],
    ['X'.repeat(65), /65 characters; journald ignores names over 64/],
  ];
  for (const [name, message] of badNames) {
    it(`refuses the field name ${JSON.stringify(name.slice(0, 12))} with the cause and the fix`, function () {
      assert.match(journalFieldNameProblem(name)!, message);
      assert.throws(
        () => encodeJournalRecord({ [name]: 'x' }),
        (error: Error) => error instanceof TypeError && message.test(error.message),
      );
    });
  }

  it('accepts 64-character names and names with digits after the first character', function () {
    assert.equal(journalFieldNameProblem('X'.repeat(64)), null);
    assert.equal(journalFieldNameProblem('CODE_LINE2'), null);
  });

  it('refuses values that have no journal form, naming the field', function () {
    assert.throws(() => encodeJournalRecord({ A: null as never }), /A has a value of type null/);
    assert.throws(() => encodeJournalRecord({ A: Number.NaN }), /A is NaN/);
    assert.throws(() => encodeJournalRecord({}), /no fields/);
  });

  it('without the addon, a journal logger writes <N> lines on stderr and says once why', function () {
    const dir = mkdtempSync(join(tmpdir(), 'journal-no-native-'));
    try {
      const specFile = join(dir, 'spec.json');
      writeFileSync(specFile, JSON.stringify({ run: 'no-native', journal: true }));
      const result = spawnSync(process.execPath, [fixture, 'logger'], {
        encoding: 'utf8',
        env: { ...process.env, SPEC_FILE: specFile, SD_DAEMON_RUNTIME_NATIVE: 'off' },
        timeout: 60_000,
      });
      assert.equal(result.status, 0, result.stderr);
      const lines = result.stderr.split('\n');
      assert.match(
        lines[0]!,
        /^<4>sd-daemon-runtime: cannot send to the journal at \/run\/systemd\/journal\/socket \(sd-daemon-runtime: native addon not loaded: SD_DAEMON_RUNTIME_NATIVE=off.*fix: the native addon is needed/,
      );
      assert.deepEqual(lines.slice(1), FALLBACK_LINES);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the addon's memfd, once sealed as for the journal, refuses writes, growth and shrinking", function () {
    const native = addon();
    const fd = native.memfdCreate('journal-test');
    assert.ok(fd >= 0, `memfd_create: ${fd}`);
    try {
      assert.equal(writeSync(fd, 'record'), 6);
      const { F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE } = native.constants;
      assert.equal(native.addSeals(fd, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), 0);
      assert.throws(() => writeSync(fd, 'x', 0), { code: 'EPERM' });
      assert.throws(() => ftruncateSync(fd, 1), { code: 'EPERM' });
      assert.throws(() => ftruncateSync(fd, 100), { code: 'EPERM' });
      // F_SEAL_SEAL: no more seals can be changed either.
      assert.equal(native.addSeals(fd, F_SEAL_WRITE), -1 /* EPERM */);
      assert.equal(readFileSync(`/proc/self/fd/${fd}`, 'utf8'), 'record');
      // CLOEXEC, so a child never inherits a record.
      assert.equal(native.getCloexec(fd), 1);
    } finally {
      closeSync(fd);
    }
  });

  it('reports an absent socket as a value, never throwing', function () {
    const result = sendJournal({ MESSAGE: 'nobody listens' }, { socket: join(tmpdir(), `no-journal-${randomUUID()}`) });
    assert.equal(result.sent, false);
    assert.equal(!result.sent && result.reason, 'no-socket');
    assert.match(!result.sent ? result.error.message : '', /ENOENT/);
  });
});

describe('journal native protocol (a real systemd-journald)', function () {
  this.timeout(180_000);
  let journald: PrivateJournald;
  let dir: string;

  before(async function () {
    journald = await PrivateJournald.start(this);
    dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
  });

  after(async function () {
    await journald?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function send(
    mode: string,
    spec: object,
    stderrFile?: string,
    env: NodeJS.ProcessEnv = {},
  ): { out: Record<string, unknown>; stderr: string } {
    const fd = stderrFile ? openSync(stderrFile, 'w') : undefined;
    const specFile = join(dir, `spec-${randomUUID()}.json`);
    writeFileSync(specFile, JSON.stringify(spec));
    try {
      const result = journald.run(
        process.execPath,
        [fixture, mode],
        { ...process.env, ...env, SPEC_FILE: specFile },
        { stdio: ['ignore', 'pipe', fd ?? 'pipe'] },
      );
      assert.equal(result.status, 0, `fixture failed: ${result.stderr}`);
      return {
        out: JSON.parse(result.stdout.trim().split('\n').at(-1)!),
        stderr: stderrFile ? readFileSync(stderrFile, 'utf8') : result.stderr,
      };
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  it('stores every field as sent: multi-line MESSAGE, PRIORITY, CODE_*, custom and repeated fields, NUL and newline bytes', async function () {
    const run = randomUUID().replaceAll('-', '');
    const binary = Buffer.from([0x00, 0x0a, 0xff, 0x41, 0x00, 0x0a, 0x0a, 0x42]);
    const { out } = send('send', {
      fields: {
        MESSAGE: 'first line\nsecond line',
        PRIORITY: 3,
        CODE_FILE: '/srv/app/main.js',
        CODE_LINE: 42,
        CODE_FUNC: 'handle',
        TEST_RUN: run,
        TAG: ['one', 'two'],
        BINARY: b64(binary),
        WITH_NUL: b64(Buffer.from('a\0b')),
      },
    });
    assert.deepEqual(out.result, { sent: true, via: 'datagram', bytes: (out.result as { bytes: number }).bytes });
    const [entry] = await journald.waitForEntries(`TEST_RUN=${run}`, 1);
    assert.equal(entry!.MESSAGE, 'first line\nsecond line');
    assert.equal(entry!.PRIORITY, '3');
    assert.equal(entry!.CODE_FILE, '/srv/app/main.js');
    assert.equal(entry!.CODE_LINE, '42');
    assert.equal(entry!.CODE_FUNC, 'handle');
    assert.deepEqual(entry!.TAG, ['one', 'two']);
    assert.deepEqual(valueBytes(entry!.BINARY!), binary);
    assert.deepEqual(valueBytes(entry!.WITH_NUL!), Buffer.from('a\0b'));
    assert.equal(entry!._TRANSPORT, 'journal');
    // Added as libsystemd adds it: the program's name, as the stdout stream would carry it.
    assert.equal(entry!.SYSLOG_IDENTIFIER, 'node');
  });

  it('passes a 1 MiB record as a sealed memfd, stored byte for byte', async function () {
    const run = randomUUID().replaceAll('-', '');
    // Every byte value, newlines and NULs included, repeated to 1 MiB.
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const { out } = send('send', { fields: { MESSAGE: 'a big one', TEST_RUN: run, BIG: b64(big) } });
    assert.equal((out.result as { via: string }).via, 'memfd');
    assert.equal((out.result as { sent: boolean }).sent, true);
    const [entry] = await journald.waitForEntries(`TEST_RUN=${run}`, 1);
    assert.equal(entry!.MESSAGE, 'a big one');
    const stored = valueBytes(entry!.BIG!);
    assert.equal(stored.length, big.length);
    assert.ok(stored.equals(big), 'the 1 MiB value differs from what was sent');
  });

  it("the logger with journal: 'auto' sends records there when JOURNAL_STREAM matches stderr; raw() stays on stderr", async function () {
    const run = randomUUID().replaceAll('-', '');
    const stderrFile = join(dir, `stderr-${run}`);
    closeSync(openSync(stderrFile, 'w'));
    const st = statSync(stderrFile, { bigint: true });
    const { out, stderr } = send('logger', { run }, stderrFile, { JOURNAL_STREAM: `${st.dev}:${st.ino}` });
    assert.equal(out.journal, true);
    const entries = await journald.waitForEntries(`TEST_RUN=${run}`, 5);
    // One record per call (a multi-line one stays whole); the stream's lines are one record each.
    assert.deepEqual(
      entries.map((e) => [e.PRIORITY, e.MESSAGE]),
      [
        ['6', 'plain info'],
        ['4', 'served /x'],
        ['3', 'two\nlines'],
        ['5', 'from a stream'],
        ['5', 'second line'],
      ],
    );
    const served = entries[1]!;
    assert.equal(served.REQUEST_ID, 'r-42');
    assert.deepEqual(valueBytes(served.PAYLOAD!), Buffer.from([0x61, 0x00, 0x0a, 0x62]));
    // CODE_* name the logging call in the fixture, as sd_journal_send's macros name theirs.
    assert.equal(served.CODE_FILE, fixture);
    assert.match(String(served.CODE_LINE), /^\d+$/);
    assert.equal(readFileSync(fixture, 'utf8').split('\n')[Number(served.CODE_LINE) - 1]!.includes("logger.record('warning'"), true);
    assert.equal(stderr, 'raw bytes, no prefix\n');
  });

  it('without a matching JOURNAL_STREAM, the auto logger writes lines to stderr and nothing to the journal', async function () {
    const run = randomUUID().replaceAll('-', '');
    const stderrFile = join(dir, `stderr-${run}`);
    const { out, stderr } = send('logger', { run }, stderrFile, { JOURNAL_STREAM: '1:1' });
    assert.equal(out.journal, false);
    assert.equal(stderr, 'plain info\nserved /x\ntwo\nlines\nfrom a stream\nsecond line\nraw bytes, no prefix\n');
    assert.deepEqual(journald.entries(`TEST_RUN=${run}`), []);
  });

  it('with the socket absent, records become <N> lines on stderr and that is said once', function () {
    const run = randomUUID().replaceAll('-', '');
    const stderrFile = join(dir, `stderr-${run}`);
    const { out, stderr } = send('logger', { run, journal: true, socket: '/run/systemd/journal/no-such-socket' }, stderrFile);
    assert.equal(out.journal, true);
    const lines = stderr.split('\n');
    assert.match(
      lines[0]!,
      /^<4>sd-daemon-runtime: cannot send to the journal at \/run\/systemd\/journal\/no-such-socket \(sendmsg ENOENT.*fix: journald is not running here/,
    );
    assert.deepEqual(lines.slice(1), FALLBACK_LINES);
    assert.equal(stderr.match(/cannot send to the journal/g)!.length, 1);
  });
});
