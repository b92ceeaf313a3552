// sd-daemon(3) logging: a line on stdout/stderr that starts with "<N>" is
// stored by journald at syslog priority N. A record is written with one write
// call (records from concurrent writers never interleave) and the prefix goes
// on every line of it (journald splits the stream at newlines, so a stack
// trace would otherwise lose its priority from the second line on).
//
// Known gaps, as journald reads the stream: a NUL byte also ends a line there,
// and a line over journald's LineMax (48K by default) is cut into pieces; the
// pieces after the first carry no prefix and get the unit's default priority.
import type { InspectOptions } from 'node:util';

import { builtin } from './builtins.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { fstatSync, writeSync } = process.getBuiltinModule('node:fs');
const { formatWithOptions } = process.getBuiltinModule('node:util');

/** The syslog priorities, most important first (syslog(3) LOG_EMERG .. LOG_DEBUG). */
export const PRIORITIES = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;
export type Priority = keyof typeof PRIORITIES;

const NAMES = Object.keys(PRIORITIES) as Priority[];
// Precomputed once: the prefix of a record's first line, and what replaces
// each newline inside a record so the next line carries the prefix too.
const PREFIX = NAMES.map((_, n) => `<${n}>`);
const NEWLINE_PREFIX = NAMES.map((_, n) => `\n<${n}>`);
// Like console.log, minus colours: journald stores the bytes verbatim.
const INSPECT: InspectOptions = { colors: false };
// journald's default LineMax: a partial line this long is flushed as a record.
const MAX_PENDING = 48 * 1024;

export interface LoggerOptions {
  /** Where records go (default process.stderr). */
  stream?: NodeJS.WritableStream;
  /**
   * Whether each line starts with "<N>". 'auto' (the default) turns it on
   * when the stream is stdout or stderr and $JOURNAL_STREAM says that fd is
   * connected to journald; true/false force it.
   */
  prefix?: boolean | 'auto';
  /** The least important priority emitted (default 'debug': everything). */
  level?: Priority;
}

export interface Logger {
  emerg(...args: unknown[]): void;
  alert(...args: unknown[]): void;
  crit(...args: unknown[]): void;
  err(...args: unknown[]): void;
  warning(...args: unknown[]): void;
  notice(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  /** One record at a priority given by name or number (0-7). */
  log(priority: Priority | number, ...args: unknown[]): void;
  /**
   * A Writable whose every line becomes a record at `priority`. Input is
   * line-buffered: a partial line is held until its newline, or until end().
   * Useful for piping a child's output into the journal at a priority.
   */
  stream(priority: Priority): NodeJS.WritableStream;
  /** True when records carry "<N>" prefixes (decided once, at creation). */
  readonly prefixed: boolean;
  /** The least important priority emitted; settable, e.g. on reload. */
  level: Priority;
  /** Whether a record at `priority` would be written: check before costly formatting. */
  enabled(priority: Priority | number): boolean;
  /**
   * Writes the records still batched for stdout/stderr now (they are written
   * at the end of the current tick and at exit anyway). A no-op for other streams.
   */
  flush(): void;
}

/** Writes whole records to a sink; stdout and stderr get the batched FdSink. */
interface Sink {
  write(text: string): void;
  flush(): void;
}

// Atomic write size of a pipe (PIPE_BUF on Linux).
const PIPE_BUF = 4096;

/**
 * Records for stdout/stderr go straight to the fd, several per write(2): one
 * system call per few KiB instead of one per record is most of what logging
 * costs (process.stderr.write makes one per record). A batch holds whole
 * records and at most PIPE_BUF bytes, so on a pipe shared with other
 * processes every write is atomic and a record is never split or interleaved
 * with another writer's bytes. A batch is written at the end of the current
 * tick, when the next record would not fit, on flush(), and at process exit;
 * only a process killed outright (SIGKILL) loses the current tick's records.
 * A non-blocking fd that is full (EAGAIN: a slow reader) is waited on, so
 * nothing is dropped or reordered. A reader that has gone away (EPIPE) or a
 * closed fd drops the records: logging never throws or kills the daemon.
 */
class FdSink implements Sink {
  #pending = '';
  #pendingBytes = 0;
  #scheduled = false;
  readonly #flushSoon = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(readonly fd: number) {
    process.on('exit', () => this.flush());
  }

  write(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.#pendingBytes + bytes > PIPE_BUF) this.flush();
    if (bytes > PIPE_BUF) {
      writeAll(this.fd, text);
      return;
    }
    this.#pending += text;
    this.#pendingBytes += bytes;
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flushSoon);
    }
  }

  flush(): void {
    if (this.#pendingBytes === 0) return;
    const text = this.#pending;
    this.#pending = '';
    this.#pendingBytes = 0;
    writeAll(this.fd, text);
  }
}

let sleeper: Int32Array | undefined;

/** write(2) until every byte is out, waiting while the fd is full; drops on a dead reader. */
function writeAll(fd: number, text: string): void {
  let data: string | Buffer = text;
  let offset = 0;
  const total = Buffer.byteLength(text);
  while (offset < total) {
    try {
      offset += typeof data === 'string' ? writeSync(fd, data) : writeSync(fd, data, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      // A full non-blocking pipe: sleep 1 ms, as a blocking write would wait.
      sleeper ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(sleeper, 0, 0, 1);
    }
    // After a partial write, continue from the byte offset.
    if (typeof data === 'string' && offset < total) data = Buffer.from(text);
  }
}

const fdSinks = new Map<number, FdSink>();

function sinkFor(out: NodeJS.WritableStream): Sink {
  const fd = out === process.stderr ? 2 : out === process.stdout ? 1 : -1;
  if (fd === -1) return { write: (text) => void out.write(text), flush: () => {} };
  // One sink per fd, shared by every logger on it: their records keep their order.
  let sink = fdSinks.get(fd);
  if (!sink) fdSinks.set(fd, (sink = new FdSink(fd)));
  return sink;
}

/**
 * True when $JOURNAL_STREAM ("<st_dev>:<st_ino>", set by systemd when stdout
 * or stderr is connected to journald) names the file open at `fd`. Comparing
 * the inode, not just the variable's presence, matters: a child that
 * inherited the variable but has its output redirected must not emit
 * prefixes into a file. Never throws: garbage or a closed fd yields false.
 */
export function journalStreamMatches(fd = 2, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.JOURNAL_STREAM;
  if (!value) return false;
  const match = /^(\d+):(\d+)$/.exec(value);
  if (!match) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(match[1]!) && st.ino === BigInt(match[2]!);
  } catch {
    return false;
  }
}

/** Resolves a priority name or number to 0-7; anything else is a programmer error. */
function priorityNumber(priority: Priority | number): number {
  if (typeof priority === 'number') {
    if (!Number.isInteger(priority) || priority < 0 || priority > 7) {
      throw new RangeError(`log: priority must be an integer from 0 (emerg) to 7 (debug), got ${priority}`);
    }
    return priority;
  }
  // hasOwn, so that 'toString' and friends are not priorities.
  if (typeof priority !== 'string' || !Object.hasOwn(PRIORITIES, priority)) {
    throw new TypeError(`log: unknown priority ${JSON.stringify(priority)} (expected one of ${NAMES.join(', ')})`);
  }
  return PRIORITIES[priority];
}

function autoPrefix(stream: NodeJS.WritableStream): boolean {
  if (stream === process.stderr) return journalStreamMatches(2);
  if (stream === process.stdout) return journalStreamMatches(1);
  return false;
}

/** Renders one record: every line prefixed when asked, always ending in exactly one newline. */
function render(n: number, message: string, prefixed: boolean): string {
  // A single trailing newline ends the record rather than adding an empty
  // line, so logging text read from a file does not create blank entries.
  const last = message.length - 1;
  const body = last >= 0 && message.charCodeAt(last) === 10 ? message.slice(0, last) : message;
  if (!prefixed) return body + '\n';
  if (body.indexOf('\n') === -1) return PREFIX[n] + body + '\n';
  return PREFIX[n] + body.replaceAll('\n', NEWLINE_PREFIX[n]!) + '\n';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const out = options.stream ?? process.stderr;
  const prefix = options.prefix ?? 'auto';
  if (prefix !== true && prefix !== false && prefix !== 'auto') {
    throw new TypeError(`createLogger: prefix must be true, false or 'auto', got ${String(prefix)}`);
  }
  const prefixed = prefix === 'auto' ? autoPrefix(out) : prefix;
  const sink = sinkFor(out);
  let threshold = priorityNumber(options.level ?? 'debug');

  function emit(n: number, args: unknown[]): void {
    if (n > threshold) return;
    // A lone string needs no formatting: util.format only substitutes %
    // sequences when there are further arguments, so the result is the same.
    const message = args.length === 1 && typeof args[0] === 'string' ? args[0] : formatWithOptions(INSPECT, ...args);
    sink.write(render(n, message, prefixed));
  }

  function lineStream(priority: Priority): NodeJS.WritableStream {
    const n = priorityNumber(priority);
    // StringDecoder keeps a multi-byte character split across chunks whole.
    const decoder = new (builtin.stringDecoder().StringDecoder)('utf8');
    let pending = '';
    const flushLines = (text: string): void => {
      const data = pending + text;
      const end = data.lastIndexOf('\n');
      if (end === -1) {
        pending = data;
        // A writer that never sends a newline must not grow memory without
        // bound; journald would cut such a line at LineMax anyway.
        if (pending.length >= MAX_PENDING) {
          pending = '';
          if (n <= threshold) sink.write(render(n, data, prefixed));
        }
        return;
      }
      pending = data.slice(end + 1);
      if (n > threshold) return;
      // All complete lines of this chunk go out in one write; each stays its own record.
      const lines = data.slice(0, end);
      sink.write(prefixed ? PREFIX[n] + lines.replaceAll('\n', NEWLINE_PREFIX[n]!) + '\n' : lines + '\n');
    };
    return new (builtin.stream().Writable)({
      decodeStrings: false,
      write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
        // Strings written with another encoding ('hex', 'base64'...) stand for bytes.
        if (typeof chunk === 'string' && encoding === 'utf8') flushLines(chunk);
        else flushLines(decoder.write(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk));
        callback();
      },
      final(callback: (error?: Error | null) => void): void {
        flushLines(decoder.end());
        if (pending !== '') {
          const rest = pending;
          pending = '';
          if (n <= threshold) sink.write(render(n, rest, prefixed));
        }
        callback();
      },
    });
  }

  return {
    emerg: (...args: unknown[]) => emit(0, args),
    alert: (...args: unknown[]) => emit(1, args),
    crit: (...args: unknown[]) => emit(2, args),
    err: (...args: unknown[]) => emit(3, args),
    warning: (...args: unknown[]) => emit(4, args),
    notice: (...args: unknown[]) => emit(5, args),
    info: (...args: unknown[]) => emit(6, args),
    debug: (...args: unknown[]) => emit(7, args),
    log: (priority: Priority | number, ...args: unknown[]) => emit(priorityNumber(priority), args),
    stream: lineStream,
    prefixed,
    get level(): Priority {
      return NAMES[threshold]!;
    },
    set level(value: Priority) {
      threshold = priorityNumber(value);
    },
    enabled: (priority: Priority | number) => priorityNumber(priority) <= threshold,
    flush: () => sink.flush(),
  };
}

const METHODS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug', 'log', 'stream', 'enabled', 'flush'] as const;

/**
 * The default logger, on process.stderr. It is built on first use, so merely
 * importing the runtime neither stats fds nor reads the environment; after
 * that first use its methods are the real logger's, with no indirection.
 */
export const log: Logger = {} as Logger;
let defaultLogger: Logger | undefined;

function materialize(): Logger {
  if (defaultLogger) return defaultLogger;
  const real = createLogger();
  defaultLogger = real;
  for (const name of METHODS) {
    Object.defineProperty(log, name, { value: real[name], writable: true, enumerable: true, configurable: true });
  }
  Object.defineProperty(log, 'prefixed', { value: real.prefixed, enumerable: true, configurable: true });
  return real;
}

for (const name of METHODS) {
  Object.defineProperty(log, name, {
    get: () => materialize()[name],
    enumerable: true,
    configurable: true,
  });
}
Object.defineProperty(log, 'prefixed', { get: () => materialize().prefixed, enumerable: true, configurable: true });
// The level stays an accessor: it must reach the real logger's threshold.
Object.defineProperty(log, 'level', {
  get: () => materialize().level,
  set: (value: Priority) => {
    materialize().level = value;
  },
  enumerable: true,
  configurable: true,
});

/**
 * Sends console output through `logger` (default: `log`): console.log and
 * console.info become info, console.debug debug, console.warn warning and
 * console.error err (console.trace and console.assert follow, as Node builds
 * them on error and warn). Everything goes to the logger's stream, stdout
 * included. console.group indentation is not applied. Returns a function
 * that puts the original methods back.
 */
export function routeConsole(logger: Logger = log): () => void {
  const original = { log: console.log, info: console.info, debug: console.debug, warn: console.warn, error: console.error };
  // Bound, so a Logger implementation that relies on `this` works too.
  console.log = logger.info.bind(logger);
  console.info = logger.info.bind(logger);
  console.debug = logger.debug.bind(logger);
  console.warn = logger.warning.bind(logger);
  console.error = logger.err.bind(logger);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    Object.assign(console, original);
  };
}
