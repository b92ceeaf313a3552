// The journald logger: exact bytes per record ("<N>" on every line, one write
// call, one trailing newline), level filtering, line-buffered streams and
// console routing. $JOURNAL_STREAM detection in a real child:
// test/log-journal-stream.test.ts; the batched writes to fds 1 and 2:
// test/log-fd-writes.test.ts.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { format } from 'node:util';

import { createLogger, PRIORITIES, routeConsole, type Logger, type Priority } from 'sd-daemon-runtime';

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
