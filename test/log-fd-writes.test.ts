// Logging to stdout/stderr through the default logger, in real children:
// records are batched into writes to the fd. A slow reader gets them all, in
// order; two writers sharing a pipe never split each other's; an uncaught
// exception does not lose the current tick's; raw() bytes keep their place;
// a reader gone away (EPIPE) does not kill the daemon.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';

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
