// The journald logger: exact bytes per record ("<N>" on every line, one write
// call, one trailing newline), level filtering, line-buffered streams,
// console routing, and $JOURNAL_STREAM detection in a real child process.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';

import { createLogger, journalStreamMatches, PRIORITIES, routeConsole, type Logger, type Priority } from 'sd-daemon-runtime';

const fixture = fileURLToPath(new URL('./fixtures/log-journal-stream.mjs', import.meta.url));

/** A stream that records every write call separately, so "one write per record" is observable. */
function capture(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      writes.push(chunk.toString());
      callback();
    },
  });
  return { stream, writes };
}

function prefixedLogger(options: { level?: Priority } = {}): { logger: Logger; writes: string[] } {
  const { stream, writes } = capture();
  return { logger: createLogger({ stream, prefix: true, ...options }), writes };
}

/** "dev:ino" of a file as coreutils' stat(1) prints them, independent of Node's fstat. */
function devIno(path: string): { dev: bigint; ino: bigint } {
  let text: string;
  try {
    text = execFileSync('stat', ['-c', '%d:%i', path], { encoding: 'utf8' }).trim();
  } catch {
    const st = statSync(path, { bigint: true });
    text = `${st.dev}:${st.ino}`;
  }
  const [dev, ino] = text.split(':');
  return { dev: BigInt(dev!), ino: BigInt(ino!) };
}

describe('log: records for journald', function () {
  it('maps each method to its syslog priority, one write per record', function () {
    const { logger, writes } = prefixedLogger();
    const names = Object.keys(PRIORITIES) as Priority[];
    for (const name of names) logger[name](`at ${name}`);
    assert.deepEqual(
      writes,
      names.map((name) => `<${PRIORITIES[name]}>at ${name}\n`),
    );
    assert.deepEqual(PRIORITIES, { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 });
  });

  it('prefixes every line of a multi-line record and writes it in one call', function () {
    const { logger, writes } = prefixedLogger();
    logger.err('first\nsecond\nthird');
    assert.deepEqual(writes, ['<3>first\n<3>second\n<3>third\n']);
  });

  it('renders an Error with its stack, every stack line keeping the priority', function () {
    const { logger, writes } = prefixedLogger();
    const error = new Error('boom');
    logger.crit('request failed:', error);
    assert.equal(writes.length, 1);
    const record = writes[0]!;
    assert.ok(record.startsWith('<2>request failed: Error: boom\n<2>    at '), record);
    assert.ok(record.endsWith('\n') && !record.endsWith('\n\n'));
    const lines = record.slice(0, -1).split('\n');
    assert.ok(lines.length > 2);
    for (const line of lines) assert.ok(line.startsWith('<2>'), `unprefixed line: ${JSON.stringify(line)}`);
    assert.equal(record, `<2>${format('request failed:', error).replaceAll('\n', '\n<2>')}\n`);
  });

  it('formats arguments like console.log (printf-style, inspect, no colours)', function () {
    const { logger, writes } = prefixedLogger();
    logger.info('%s=%d', 'port', 8080, { extra: [1, 2] });
    logger.info('100%'); // a lone string is not a format string
    logger.info('%s');
    logger.info(42, null, undefined);
    assert.deepEqual(writes, ['<6>port=8080 { extra: [ 1, 2 ] }\n', '<6>100%\n', '<6>%s\n', '<6>42 null undefined\n']);
  });

  const trailing: [string, unknown[], string][] = [
    ['an empty message still makes one line', [''], '<6>\n'],
    ['no arguments still make one line', [], '<6>\n'],
    ['a trailing newline ends the record, it adds no empty line', ['done\n'], '<6>done\n'],
    ['a second trailing newline is an empty line', ['done\n\n'], '<6>done\n<6>\n'],
    ['a lone newline is one empty line', ['\n'], '<6>\n'],
    ['empty lines inside keep their prefix', ['a\n\nb'], '<6>a\n<6>\n<6>b\n'],
  ];
  for (const [title, args, expected] of trailing) {
    it(title, function () {
      const { logger, writes } = prefixedLogger();
      logger.info(...args);
      assert.deepEqual(writes, [expected]);
    });
  }

  it('writes bare lines when the prefix is off', function () {
    const { stream, writes } = capture();
    const logger = createLogger({ stream, prefix: false });
    logger.err('a\nb');
    logger.info('');
    logger.debug('x\n');
    assert.equal(logger.prefixed, false);
    assert.deepEqual(writes, ['a\nb\n', '\n', 'x\n']);
  });

  it("'auto' leaves the prefix off on a stream that is neither stdout nor stderr", function () {
    const { stream } = capture();
    assert.equal(createLogger({ stream }).prefixed, false);
    assert.equal(createLogger({ stream, prefix: 'auto' }).prefixed, false);
    assert.equal(createLogger({ stream, prefix: true }).prefixed, true);
  });

  it('log() takes a priority by name or number', function () {
    const { logger, writes } = prefixedLogger();
    logger.log('warning', 'by name');
    logger.log(0, 'by number');
    logger.log(7, 'a', 'b');
    assert.deepEqual(writes, ['<4>by name\n', '<0>by number\n', '<7>a b\n']);
  });

  it('throws for priorities that do not exist', function () {
    const { logger, writes } = prefixedLogger();
    assert.throws(() => logger.log(8, 'x'), RangeError);
    assert.throws(() => logger.log(-1, 'x'), RangeError);
    assert.throws(() => logger.log(1.5, 'x'), RangeError);
    assert.throws(() => logger.log('warn' as Priority, 'x'), TypeError);
    assert.throws(() => logger.log('toString' as Priority, 'x'), TypeError);
    assert.throws(() => createLogger({ level: 'verbose' as Priority }), TypeError);
    assert.throws(() => createLogger({ prefix: 'yes' as unknown as boolean }), TypeError);
    assert.deepEqual(writes, []);
  });

  describe('raw() and record() on a stream', function () {
    it('raw() writes exactly what it is given: no prefix, no newline, no level check', function () {
      const { stream, writes } = capture();
      const logger = createLogger({ stream, prefix: true, level: 'emerg' });
      logger.raw('<5>formatted by me\n');
      logger.raw(Buffer.from('bytes'));
      assert.deepEqual(writes, ['<5>formatted by me\n', 'bytes']);
    });

    it('raw() refuses what is neither text nor bytes', function () {
      const { logger } = prefixedLogger();
      assert.throws(() => logger.raw(42 as never), /log.raw: data must be a string or bytes, got number/);
    });

    it('record() writes its message at its priority; fields have no place on a stream', function () {
      const { logger, writes } = prefixedLogger();
      logger.record('warning', { REQUEST_ID: 'r-1' }, 'served %s in %d ms', '/x', 12);
      logger.record(3, { MESSAGE: 'from\nthe field', CODE: 7 });
      assert.deepEqual(writes, ['<4>served /x in 12 ms\n', '<3>from\n<3>the field\n']);
    });

    it('record() respects the level and refuses a priority or fields that are wrong', function () {
      const { logger, writes } = prefixedLogger({ level: 'err' });
      logger.record('info', { A: 1 }, 'dropped');
      assert.deepEqual(writes, []);
      assert.throws(() => logger.record('loud' as never, {}, 'x'), /unknown priority "loud"/);
      assert.throws(() => logger.record('err', null as never, 'x'), /log.record: fields must be an object, got null/);
      assert.throws(() => logger.record('err', { PRIORITY: 1 }, 'x'), /PRIORITY comes from the priority argument/);
      assert.throws(() => logger.record('err', { MESSAGE: 'a' }, 'b'), /the message is given twice/);
    });

    it("createLogger refuses a journal option that is not true, false or 'auto', and bad default fields at once", function () {
      assert.throws(() => createLogger({ journal: 'yes' as never }), /journal must be true, false or 'auto', got yes/);
      assert.throws(() => createLogger({ fields: { 'bad-name': 'x' } }), /"bad-name" is not a journal field name.*"BAD_NAME"/);
      assert.throws(() => createLogger({ fields: { PRIORITY: 3 } }), /fields cannot set PRIORITY/);
    });

    it('a stream logger never sends to the journal, even when asked for auto', function () {
      const { stream } = capture();
      assert.equal(createLogger({ stream, journal: 'auto' }).journal, false);
      assert.equal(createLogger({ stream }).journal, false);
    });
  });

  describe('level filtering', function () {
    it('emits only priorities at or above the level', function () {
      const { logger, writes } = prefixedLogger({ level: 'warning' });
      logger.debug('no');
      logger.info('no');
      logger.notice('no');
      logger.log(5, 'no');
      logger.warning('yes');
      logger.err('yes');
      logger.emerg('yes');
      assert.deepEqual(writes, ['<4>yes\n', '<3>yes\n', '<0>yes\n']);
      assert.equal(logger.level, 'warning');
      assert.equal(logger.enabled('warning'), true);
      assert.equal(logger.enabled('notice'), false);
      assert.equal(logger.enabled(3), true);
    });

    it('can change the level at run time (e.g. on reload)', function () {
      const { logger, writes } = prefixedLogger({ level: 'err' });
      logger.info('dropped');
      logger.level = 'debug';
      logger.debug('kept');
      logger.level = 'emerg';
      logger.alert('dropped');
      assert.deepEqual(writes, ['<7>kept\n']);
      assert.throws(() => {
        logger.level = 'loud' as Priority;
      }, TypeError);
    });

    it("defaults to 'debug': everything is emitted", function () {
      const { logger, writes } = prefixedLogger();
      assert.equal(logger.level, 'debug');
      logger.debug('x');
      assert.deepEqual(writes, ['<7>x\n']);
    });
  });

  describe('stream(priority)', function () {
    function finished(w: NodeJS.WritableStream): Promise<void> {
      return new Promise((resolve, reject) => {
        w.on('finish', resolve);
        w.on('error', reject);
      });
    }

    it('turns each written line into a record, holding partial lines until their newline', async function () {
      const { logger, writes } = prefixedLogger();
      const out = logger.stream('notice');
      const done = finished(out);
      out.write('partial');
      assert.deepEqual(writes, []);
      out.write(' line\nnext');
      assert.deepEqual(writes, ['<5>partial line\n']);
      out.write(' one\nsecond\nthird\n');
      // Every complete line of one chunk in one write, each still its own record.
      assert.deepEqual(writes.slice(1), ['<5>next one\n<5>second\n<5>third\n']);
      out.write('\n');
      assert.deepEqual(writes.slice(2), ['<5>\n']);
      out.end('tail without newline');
      await done;
      assert.deepEqual(writes.slice(3), ['<5>tail without newline\n']);
    });

    it('writes nothing more at end() when no partial line is pending', async function () {
      const { logger, writes } = prefixedLogger();
      const out = logger.stream('info');
      const done = finished(out);
      out.end('complete\n');
      await done;
      assert.deepEqual(writes, ['<6>complete\n']);
    });

    it('keeps a multi-byte character split across Buffer chunks whole', async function () {
      const { logger, writes } = prefixedLogger();
      const out = logger.stream('info');
      const done = finished(out);
      const bytes = Buffer.from('café ✓\n', 'utf8');
      out.write(bytes.subarray(0, 4)); // "caf" + the first byte of "é"
      out.write(bytes.subarray(4, 8)); // the rest of "é", " ", the first two bytes of "✓"
      out.end(bytes.subarray(8));
      await done;
      assert.deepEqual(writes, ['<6>café ✓\n']);
    });

    it('respects the level, and writes bare lines without the prefix', async function () {
      const filtered = prefixedLogger({ level: 'info' });
      const dropped = filtered.logger.stream('debug');
      const droppedDone = finished(dropped);
      dropped.write('a\n');
      dropped.end('b');
      await droppedDone;
      assert.deepEqual(filtered.writes, []);

      const { stream, writes } = capture();
      const bare = createLogger({ stream, prefix: false }).stream('err');
      const bareDone = finished(bare);
      bare.write('x\ny');
      bare.end('z');
      await bareDone;
      assert.deepEqual(writes, ['x\n', 'yz\n']);
    });

    it('flushes a partial line once it reaches 48 KiB instead of holding it forever', async function () {
      const { logger, writes } = prefixedLogger();
      const out = logger.stream('info');
      const done = finished(out);
      out.write('x'.repeat(48 * 1024 - 1));
      assert.deepEqual(writes, []);
      out.write('y');
      assert.deepEqual(writes, [`<6>${'x'.repeat(48 * 1024 - 1)}y\n`]);
      out.end('rest\n');
      await done;
      assert.deepEqual(writes.slice(1), ['<6>rest\n']);
    });

    it('works as a pipe destination', async function () {
      const { logger, writes } = prefixedLogger();
      const { Readable } = await import('node:stream');
      const out = logger.stream('warning');
      const done = finished(out);
      Readable.from(['one\ntw', 'o\nthree']).pipe(out as Writable);
      await done;
      assert.deepEqual(writes.join(''), '<4>one\n<4>two\n<4>three\n');
    });
  });

  describe('routeConsole', function () {
    it('sends console methods to their priorities and restores the originals', function () {
      const { logger, writes } = prefixedLogger();
      const originals = [console.log, console.info, console.debug, console.warn, console.error];
      const restore = routeConsole(logger);
      try {
        console.log('log %d', 1);
        console.info('info');
        console.debug('debug');
        console.warn('warn');
        console.error('error\nsecond line');
      } finally {
        restore();
      }
      assert.deepEqual(writes, ['<6>log 1\n', '<6>info\n', '<7>debug\n', '<4>warn\n', '<3>error\n<3>second line\n']);
      assert.deepEqual([console.log, console.info, console.debug, console.warn, console.error], originals);
      restore(); // a second call changes nothing
      assert.equal(console.log, originals[0]);
    });

    it('routes console.trace (built on console.error) with every stack line prefixed', function () {
      const { logger, writes } = prefixedLogger();
      const restore = routeConsole(logger);
      try {
        console.trace('where');
      } finally {
        restore();
      }
      assert.equal(writes.length, 1);
      assert.ok(writes[0]!.startsWith('<3>Trace: where\n<3>    at '), writes[0]);
    });
  });
});

describe('log: $JOURNAL_STREAM detection', function () {
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'sd-log-'));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('journalStreamMatches', function () {
    let path: string;
    let fd: number;

    before(function () {
      path = join(dir, 'probe');
      fd = openSync(path, 'w');
    });

    after(function () {
      closeSync(fd);
    });

    it('is true when dev:ino names the file open at the fd', function () {
      const { dev, ino } = devIno(path);
      assert.equal(journalStreamMatches(fd, { JOURNAL_STREAM: `${dev}:${ino}` }), true);
    });

    const mismatches: [string, (dev: bigint, ino: bigint) => string | undefined][] = [
      ['another inode', (dev, ino) => `${dev}:${ino + 1n}`],
      ['another device', (dev, ino) => `${dev + 1n}:${ino}`],
      ['unset', () => undefined],
      ['empty', () => ''],
      ['garbage', () => 'garbage'],
      ['only a number', (dev) => `${dev}`],
      ['three fields', (dev, ino) => `${dev}:${ino}:0`],
      ['a sign', (dev, ino) => `+${dev}:${ino}`],
      ['whitespace', (dev, ino) => ` ${dev}:${ino}`],
      ['a trailing newline', (dev, ino) => `${dev}:${ino}\n`],
      ['hexadecimal', (dev, ino) => `0x${dev.toString(16)}:${ino}`],
    ];
    for (const [title, make] of mismatches) {
      it(`is false for ${title}`, function () {
        const { dev, ino } = devIno(path);
        const value = make(dev, ino);
        assert.equal(journalStreamMatches(fd, value === undefined ? {} : { JOURNAL_STREAM: value }), false);
      });
    }

    it('is false for a closed fd, without throwing', function () {
      const { dev, ino } = devIno(path);
      assert.equal(journalStreamMatches(987654, { JOURNAL_STREAM: `${dev}:${ino}` }), false);
    });
  });

  describe('in a child whose output is a file', function () {
    interface Run {
      stdout: string;
      stderr: string;
      report: { lazyBefore: boolean; prefixed: boolean; materialized: boolean };
    }

    let counter = 0;
    /** Runs the fixture with stdout and stderr on files; JOURNAL_STREAM from `journal(stdoutFile, stderrFile)`. */
    function run(target: string, journal: (out: string, err: string) => string | undefined): Run {
      const n = counter++;
      const outPath = join(dir, `out-${n}`);
      const errPath = join(dir, `err-${n}`);
      const reportPath = join(dir, `report-${n}`);
      const outFd = openSync(outPath, 'w');
      const errFd = openSync(errPath, 'w');
      const reportFd = openSync(reportPath, 'w');
      try {
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
        const value = journal(outPath, errPath);
        if (value !== undefined) env.JOURNAL_STREAM = value;
        const result = spawnSync(process.execPath, [fixture, target], { stdio: ['ignore', outFd, errFd, reportFd], env });
        assert.equal(result.status, 0, `fixture failed: ${readFileSync(errPath, 'utf8')}`);
      } finally {
        closeSync(outFd);
        closeSync(errFd);
        closeSync(reportFd);
      }
      return {
        stdout: readFileSync(outPath, 'utf8'),
        stderr: readFileSync(errPath, 'utf8'),
        report: JSON.parse(readFileSync(reportPath, 'utf8')),
      };
    }

    const of = (path: string): string => {
      const { dev, ino } = devIno(path);
      return `${dev}:${ino}`;
    };

    it('prefixes every line on stderr when JOURNAL_STREAM names it (the default logger)', function () {
      const { stderr, stdout, report } = run('default', (_out, err) => of(err));
      assert.equal(stderr, '<5>hello\n<5>world\n<3>failed: 42\n');
      assert.equal(stdout, '');
      assert.deepEqual(report, { lazyBefore: true, prefixed: true, materialized: true });
    });

    it('writes bare lines when JOURNAL_STREAM names another file', function () {
      const { stderr, report } = run('default', (out) => of(out));
      assert.equal(stderr, 'hello\nworld\nfailed: 42\n');
      assert.equal(report.prefixed, false);
    });

    it('writes bare lines when JOURNAL_STREAM is off by one inode', function () {
      const { stderr } = run('stderr', (_out, err) => {
        const { dev, ino } = devIno(err);
        return `${dev}:${ino + 1n}`;
      });
      assert.equal(stderr, 'hello\nworld\nfailed: 42\n');
    });

    for (const garbage of [undefined, '', 'journal', '1:2:3', '-1:5', 'a:b']) {
      it(`writes bare lines with JOURNAL_STREAM=${JSON.stringify(garbage)}`, function () {
        const { stderr, report } = run('stderr', () => garbage);
        assert.equal(stderr, 'hello\nworld\nfailed: 42\n');
        assert.equal(report.prefixed, false);
      });
    }

    it('checks fd 1 for a logger on stdout', function () {
      const matching = run('stdout', (out) => of(out));
      assert.equal(matching.stdout, '<5>hello\n<5>world\n<3>failed: 42\n');
      assert.equal(matching.stderr, '');
      // JOURNAL_STREAM names stderr only: the stdout logger must not prefix.
      const other = run('stdout', (_out, err) => of(err));
      assert.equal(other.stdout, 'hello\nworld\nfailed: 42\n');
    });
  });
});

describe('logging to stdout/stderr: batched writes to the fd', function () {
  this.timeout(60_000);
  const runtime = new URL('../runtime/dist/index.js', import.meta.url).href;
  /** A child that logs `count` records of `tag` through the default logger on stderr. */
  const writer = (tag: string, count: number, extra = ''): string[] => [
    '--input-type=module',
    '-e',
    `import { log } from ${JSON.stringify(runtime)};
     for (let i = 0; i < ${count}; i++) log.info(\`${tag} \${i} \${'y'.repeat(i % 97)}\`);
     ${extra}`,
  ];

  it('a slow reader on a pipe gets every record, in order, whole', async function () {
    const child = spawn(process.execPath, writer('rec', 50_000), { stdio: ['ignore', 'ignore', 'pipe'] });
    // Read nothing for a while: the pipe fills and the writer must wait (EAGAIN), not drop.
    child.stderr.pause();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const chunks: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.resume();
    const [code] = (await once(child, 'close')) as [number];
    assert.equal(code, 0);
    const lines = Buffer.concat(chunks).toString().split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 50_000);
    lines.forEach((line, i) => assert.equal(line, `rec ${i} ${'y'.repeat(i % 97)}`));
  });

  it("two processes sharing one pipe never split or interleave each other's records", function () {
    const script =
      `${process.execPath} ${writer('a', 20_000)
        .map((arg) => `'${arg.replaceAll("'", "'\\''")}'`)
        .join(' ')} & ` +
      `${process.execPath} ${writer('b', 20_000)
        .map((arg) => `'${arg.replaceAll("'", "'\\''")}'`)
        .join(' ')} & wait`;
    const result = spawnSync('sh', ['-c', `(${script}) 2>&1 | cat`], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const lines = result.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 40_000);
    const next = { a: 0, b: 0 };
    for (const line of lines) {
      const match = /^([ab]) (\d+) (y*)$/.exec(line);
      assert.ok(match, `a split or interleaved record: ${JSON.stringify(line.slice(0, 80))}`);
      const tag = match[1] as 'a' | 'b';
      assert.equal(Number(match[2]), next[tag]++, "each writer's records stay in order");
      assert.equal(match[3]!.length, Number(match[2]) % 97);
    }
  });

  it('records of the current tick are written before an uncaught exception ends the process', function () {
    const result = spawnSync(
      process.execPath,
      writer('last', 3, "setTimeout(() => { log.err('about to throw'); throw new Error('boom'); }, 1);"),
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^last 0 \nlast 1 y\nlast 2 yy\nabout to throw\n[^]*Error: boom/);
  });

  it('raw() writes bytes as they are, in order with the batched records around it', function () {
    const result = spawnSync(
      process.execPath,
      writer(
        'rec',
        2,
        `
        log.raw(Buffer.from([0xff, 0x00, 0x0a]));
        log.raw('<3>my own line\\n');
        log.raw('no newline');
        log.raw(new Uint8Array([0x0a]));
        log.info('after');`,
      ),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    assert.equal(result.status, 0, result.stderr.toString());
    // Invalid UTF-8 and a NUL pass through untouched: bytes, not text.
    assert.deepEqual(
      result.stderr,
      Buffer.concat([
        Buffer.from('rec 0 \nrec 1 y\n'),
        Buffer.from([0xff, 0x00, 0x0a]),
        Buffer.from('<3>my own line\nno newline\nafter\n'),
      ]),
    );
  });

  it('a reader that went away (EPIPE) drops records without killing the daemon', async function () {
    const child = spawn(
      process.execPath,
      writer(
        'gone',
        0,
        `
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let i = 0; i < 10000; i++) log.info('gone ' + i);
      log.flush();
      process.stdout.write('still running');`,
      ),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr.destroy(); // the reader is gone before the first record
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number];
    assert.equal(code, 0);
    assert.equal(stdout, 'still running');
  });
});
