// log-devnull, log-file, log-pipe: 200,000 info records to stderr, ours
// (createLogger({ stream: process.stderr, prefix: true })) against pino 10
// with a synchronous destination on fd 2, plus process.stderr.write() per
// record. Timed inside the writer from the first record to the last one
// handed to the kernel (flush included); for the pipe, up to the moment the
// reader has checked the last line. Lost, reordered or split lines fail the
// case: on the pipe for every variant, in the file as well.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

import { BENCH, cleanEnv, lastJson, lines, NODE, scratch, track } from '../lib/proc.mjs';
import { buildEntry } from '../lib/result.mjs';
import { alternate, BenchFailure, fmt, median } from '../lib/stats.mjs';
import { LineChecker, PAYLOAD } from './log-format.mjs';

const WRITER = path.join(BENCH, 'cases', 'log-writer.mjs');
const COUNT = 200_000;
const SLOW_MS = 200;
const IMPLS = ['ours', 'pino', 'stderr-write'];
const formatOf = (impl) => (impl === 'pino' ? 'pino' : 'prefixed');
const ms = (fromNs, toNs) => Number(BigInt(toNs) - BigInt(fromNs)) / 1e6;

/** Runs the writer with `fd` as its stderr; returns its JSON report. */
function write(impl, fd, count) {
  const result = spawnSync(NODE, [WRITER, impl, String(count)], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', fd],
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.status !== 0) throw new BenchFailure(`log-writer ${impl} exited ${result.status ?? result.signal}`);
  return lastJson(result.stdout, `log-writer ${impl}`);
}

function toDevNull(impl, count) {
  const fd = openSync('/dev/null', 'w');
  try {
    const report = write(impl, fd, count);
    return ms(report.startNs, report.endNs);
  } finally {
    closeSync(fd);
  }
}

function toFile(impl, count, sizes) {
  const file = path.join(scratch(), `log-${impl}.txt`);
  const fd = openSync(file, 'w');
  try {
    const report = write(impl, fd, count);
    // Checked after the clock stopped: every record, whole, in order.
    const checker = new LineChecker(formatOf(impl), count);
    checker.push(readFileSync(file, 'latin1'));
    const error = checker.finish();
    if (error) throw new BenchFailure(`${impl} to a file: ${error}`);
    sizes[impl] = statSync(file).size / count;
    return ms(report.startNs, report.endNs);
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}

const exited = (child) => new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));

async function toPipe(impl, count, fifo, readerBinary) {
  // Held open read-write so that the reader's open() returns at once; closed
  // once the writer has its own copy, so the reader sees EOF when it exits.
  let fd = openSync(fifo, 'r+');
  let reader;
  let writer;
  try {
    // anchors/pipe-reader.c: slow for SLOW_MS, then much faster than any writer; checks every line.
    reader = spawn(readerBinary, [fifo, formatOf(impl), String(count), String(SLOW_MS), PAYLOAD], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    track(reader.pid);
    const readerOut = lines(reader.stdout);
    if ((await readerOut.next()) !== 'open') throw new BenchFailure('pipe reader did not open the FIFO');
    writer = spawn(NODE, [WRITER, impl, String(count)], { env: cleanEnv(), stdio: ['ignore', 'pipe', fd] });
    track(writer.pid);
    closeSync(fd);
    fd = -1;
    let writerOut = '';
    writer.stdout.setEncoding('utf8').on('data', (chunk) => (writerOut += chunk));
    const [writerStatus, readerStatus] = await Promise.all([exited(writer), exited(reader)]);
    if (writerStatus !== 0) throw new BenchFailure(`log-writer ${impl} exited ${writerStatus}`);
    const verdict = JSON.parse(await readerOut.next());
    if (readerStatus !== 0) throw new BenchFailure(`pipe reader exited ${readerStatus}`);
    if (verdict.error) throw new BenchFailure(`${impl} through a pipe: ${verdict.error}`);
    const report = lastJson(writerOut, `log-writer ${impl}`);
    return ms(report.startNs, verdict.lastLineNs);
  } catch (error) {
    if (fd !== -1) closeSync(fd);
    for (const child of [writer, reader]) if (child && child.exitCode === null) child.kill('SIGKILL');
    throw error;
  }
}

function logCase({ quick, tools }, sink) {
  const id = `log-${sink}`;
  const title = `200,000 <6> records to stderr on ${sink === 'devnull' ? '/dev/null' : sink === 'file' ? 'a file' : 'a pipe with a slow reader'}`;
  return {
    id,
    title,
    async run() {
      const sizes = {};
      let fifo;
      if (sink === 'pipe') {
        fifo = path.join(scratch(), 'log.fifo');
        rmSync(fifo, { force: true });
        const made = spawnSync('mkfifo', [fifo]);
        if (made.status !== 0) throw new Error(`mkfifo ${fifo} failed`);
      }
      // The warm-up round (file cache, the kernel's pipe and page allocations)
      // writes a tenth of the records: pino on a pipe takes seconds per run.
      const measure =
        (impl) =>
        ({ warmup }) => {
          const count = warmup ? COUNT / 10 : COUNT;
          return sink === 'devnull'
            ? toDevNull(impl, count)
            : sink === 'file'
              ? toFile(impl, count, sizes)
              : toPipe(impl, count, fifo, tools.pipeReader);
        };
      const { samples, failures } = await alternate({
        variants: IMPLS.map((impl) => ({ name: impl, run: measure(impl) })),
        warmup: 1,
        runs: quick ? 5 : 9,
      });
      const rate = (impl) => (samples[impl]?.length ? `${fmt(COUNT / (median(samples[impl]) / 1000) / 1000)}k` : '-');
      const notes = [`median records/s: ours ${rate('ours')}, pino ${rate('pino')}, process.stderr.write ${rate('stderr-write')}`];
      if (sink === 'file')
        notes.push(`bytes per record: ${IMPLS.map((impl) => `${impl} ${sizes[impl] ? fmt(sizes[impl]) : '-'}`).join(', ')}`);
      if (sink === 'pipe')
        notes.push(
          `reader reads 4 KiB per 1 ms for the first ${SLOW_MS} ms, then at full speed; time runs until it has checked the last line`,
        );
      return buildEntry({
        id,
        title,
        unit: 'ms',
        samples,
        failures,
        ours: 'ours',
        anchor: 'pino',
        anchorName: 'pino 10, destination({ dest: 2, sync: true })',
        // ">= 0.9x the throughput of process.stderr.write": time ratio <= 1/0.9.
        extras: [
          {
            name: 'process.stderr.write per record',
            variant: 'stderr-write',
            target: sink === 'pipe' ? null : Number((1 / 0.9).toFixed(3)),
          },
        ],
        target: 0.5,
        notes,
      });
    },
  };
}

export default function logCases(ctx) {
  return ['devnull', 'file', 'pipe'].map((sink) => logCase(ctx, sink));
}
