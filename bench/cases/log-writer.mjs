// One measured logging process: writes `count` records to stderr (fd 2,
// which the bench points at /dev/null, a file or a pipe) and prints, on
// stdout, when it started and when the last record had been handed to the
// kernel, as CLOCK_MONOTONIC nanoseconds (shared with the pipe reader, so the
// bench can time the pipe case up to the reader's confirmation).
//
// Usage: node log-writer.mjs <ours|pino|stderr-write> <count>
// Record i is "record <i> <PAYLOAD>"; ours and stderr-write put "<6>" in
// front (info), pino writes its default JSON line with that message.
import { createRequire } from 'node:module';

import { PAYLOAD } from './log-format.mjs';

const [impl, countArg] = process.argv.slice(2);
const count = Number(countArg);

// Any real program touches process.stderr (console.error, warnings); doing it
// here in every variant puts fd 2 in the state Node leaves it in, which for a
// pipe is non-blocking (what makes a synchronous logger meet EAGAIN).
process.stderr;

let writeAll;
if (impl === 'ours') {
  const { createLogger } = await import(new URL('../../runtime/dist/index.js', import.meta.url));
  const logger = createLogger({ stream: process.stderr, prefix: true });
  writeAll = () => {
    for (let i = 0; i < count; i++) logger.info(`record ${i} ${PAYLOAD}`);
    // Records are batched per tick: flush() hands the rest to the kernel now.
    logger.flush?.();
  };
} else if (impl === 'pino') {
  const pino = createRequire(import.meta.url)('../node_modules/pino');
  const destination = pino.destination({ dest: 2, sync: true });
  const logger = pino(destination);
  writeAll = () => {
    for (let i = 0; i < count; i++) logger.info(`record ${i} ${PAYLOAD}`);
    destination.flushSync();
  };
} else if (impl === 'stderr-write') {
  writeAll = () =>
    new Promise((resolve, reject) => {
      for (let i = 0; i < count - 1; i++) process.stderr.write(`<6>record ${i} ${PAYLOAD}\n`);
      // Writes complete in order: the last one's callback means all are out
      // (on a pipe, process.stderr queues what the kernel does not take yet).
      process.stderr.write(`<6>record ${count - 1} ${PAYLOAD}\n`, (error) => (error ? reject(error) : resolve()));
    });
} else {
  console.error(`log-writer: unknown implementation ${impl}`);
  process.exit(2);
}

const start = process.hrtime.bigint();
await writeAll();
const end = process.hrtime.bigint();
console.log(JSON.stringify({ impl, count, startNs: String(start), endNs: String(end) }));
