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
import {
  callerLocation,
  encodeJournalRecord,
  JOURNAL_SOCKET,
  sendEncoded,
  withIdentifier,
  type JournalFields,
  type JournalSendResult,
} from './journal.js';

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
  /**
   * Send records to journald over its native protocol (journal.ts) instead
   * of writing lines to `stream`: every field kept, several lines in one
   * record, binary values. 'auto' turns it on when the stream is stdout or
   * stderr and $JOURNAL_STREAM says that fd is connected to journald; true
   * forces it. Default false: lines on the stream, as before. Where the
   * socket cannot be reached, records go to stderr as "<N>" lines, said once.
   */
  journal?: boolean | 'auto';
  /** Fields added to every journal record (e.g. { SYSLOG_IDENTIFIER: 'my-daemon' }). */
  fields?: JournalFields;
  /** Add CODE_FILE, CODE_LINE and CODE_FUNC of the logging call to journal records (costs a stack capture per record). */
  codeLocation?: boolean;
  /** The journal socket (default /run/systemd/journal/socket). */
  journalSocket?: string;
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
   * One record with fields of its own: `logger.record('info', { REQUEST_ID: id }, 'served %s', path)`.
   * In the journal every field is stored; on a stream only the message is
   * written (a line has no place for fields). With no message arguments, the
   * MESSAGE field is the message.
   */
  record(priority: Priority | number, fields: JournalFields, ...args: unknown[]): void;
  /**
   * Writes `data` to the logger's stream as it is: no prefix, no newline
   * added, no level check, never to the journal socket. For lines you format
   * yourself (include "<N>" when you want journald to read a priority). On
   * stdout/stderr it keeps its place among the batched records.
   */
  raw(data: string | Uint8Array): void;
  /**
   * A Writable whose every line becomes a record at `priority`. Input is
   * line-buffered: a partial line is held until its newline, or until end().
   * Useful for piping a child's output into the journal at a priority.
   */
  stream(priority: Priority): NodeJS.WritableStream;
  /** True when records carry "<N>" prefixes (decided once, at creation). */
  readonly prefixed: boolean;
  /** True when records go to journald's native socket (decided once, at creation). */
  readonly journal: boolean;
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
  /** Bytes as they are, in order with the records written before them. */
  writeBytes(data: Uint8Array): void;
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

  writeBytes(data: Uint8Array): void {
    this.flush();
    writeAll(this.fd, data);
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
function writeAll(fd: number, text: string | Uint8Array): void {
  let data: string | Uint8Array = text;
  let offset = 0;
  const total = typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength;
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
    if (typeof data === 'string' && offset < total) data = Buffer.from(data);
  }
}

const fdSinks = new Map<number, FdSink>();

function sinkFor(out: NodeJS.WritableStream): Sink {
  const fd = out === process.stderr ? 2 : out === process.stdout ? 1 : -1;
  if (fd === -1) return { write: (text) => void out.write(text), writeBytes: (data) => void out.write(data), flush: () => {} };
  // One sink per fd, shared by every logger on it: their records keep their order.
  let sink = fdSinks.get(fd);
  if (!sink) {
    sink = new FdSink(fd);
    fdSinks.set(fd, sink);
  }
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

// What the journal fallback said already: once per socket and cause, not per record.
const journalFallbackSaid = new Set<string>();

/**
 * A record that could not reach journald goes to stderr as "<N>" lines, and
 * the first time per cause that is said there too, with the fix.
 */
function journalFallback(n: number, message: string, result: Exclude<JournalSendResult, { sent: true }>): void {
  const sink = sinkFor(process.stderr);
  const error = result.error as Error & { code?: string };
  const key = `${result.socket}\0${result.reason}\0${error.code ?? ''}`;
  if (!journalFallbackSaid.has(key)) {
    journalFallbackSaid.add(key);
    const fix =
      result.reason === 'no-native'
        ? 'the native addon is needed to reach the journal socket (see capabilities().nativeError)'
        : result.reason === 'no-socket'
          ? 'journald is not running here, or a sandbox hides /run/systemd/journal from this process'
          : 'journald refused or did not take the record in time; check its state (systemctl status systemd-journald)';
    sink.write(
      render(
        4,
        `sd-daemon-runtime: cannot send to the journal at ${result.socket} (${error.message.split('\n')[0]}); records go to stderr as <N> lines from now on, without their other fields; fix: ${fix}`,
        true,
      ),
    );
  }
  sink.write(render(n, message, true));
}

function autoJournal(stream: NodeJS.WritableStream): boolean {
  return autoPrefix(stream);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const out = options.stream ?? process.stderr;
  const prefix = options.prefix ?? 'auto';
  if (prefix !== true && prefix !== false && prefix !== 'auto') {
    throw new TypeError(`createLogger: prefix must be true, false or 'auto', got ${String(prefix)}`);
  }
  const journalOption = options.journal ?? false;
  if (journalOption !== true && journalOption !== false && journalOption !== 'auto') {
    throw new TypeError(`createLogger: journal must be true, false or 'auto', got ${String(journalOption)}`);
  }
  const journal = journalOption === 'auto' ? autoJournal(out) : journalOption;
  const journalSocket = options.journalSocket ?? JOURNAL_SOCKET;
  const baseFields: JournalFields = { ...(options.fields ?? {}) };
  // Checked now, so a bad default field fails at creation, not at the first record.
  if (Object.keys(baseFields).length > 0) encodeJournalRecord(baseFields);
  for (const own of ['MESSAGE', 'PRIORITY']) {
    if (baseFields[own] !== undefined) throw new TypeError(`createLogger: fields cannot set ${own}: each record has its own`);
  }
  const codeLocation = options.codeLocation === true;
  const prefixed = prefix === 'auto' ? autoPrefix(out) : prefix;
  const sink = sinkFor(out);
  let threshold = priorityNumber(options.level ?? 'debug');

  /**
   * One record to journald; `skip` counts the logger's own frames above the
   * caller, or is null where no caller is meaningful (a piped stream's lines).
   */
  function sendRecord(n: number, message: string, fields: JournalFields | undefined, skip: number | null): void {
    const last = message.length - 1;
    const body = last >= 0 && message.charCodeAt(last) === 10 ? message.slice(0, last) : message;
    const record: JournalFields = { MESSAGE: body, PRIORITY: n, ...baseFields };
    if (codeLocation && skip !== null) Object.assign(record, callerLocation(skip + 1));
    if (fields) Object.assign(record, fields);
    const result = sendEncoded(encodeJournalRecord(withIdentifier(record)), journalSocket);
    if (!result.sent) journalFallback(n, body, result);
  }

  function format(args: unknown[]): string {
    // A lone string needs no formatting: util.format only substitutes %
    // sequences when there are further arguments, so the result is the same.
    return args.length === 1 && typeof args[0] === 'string' ? args[0] : formatWithOptions(INSPECT, ...args);
  }

  function emit(n: number, args: unknown[]): void {
    if (n > threshold) return;
    if (journal) sendRecord(n, format(args), undefined, 2);
    else sink.write(render(n, format(args), prefixed));
  }

  function record(priority: Priority | number, fields: JournalFields, args: unknown[]): void {
    const n = priorityNumber(priority);
    if (fields === null || typeof fields !== 'object')
      throw new TypeError(`log.record: fields must be an object, got ${fields === null ? 'null' : typeof fields}`);
    // The priority argument and the message are the record's; the same
    // fields again would be stored twice, so that is refused, not guessed at.
    if (fields.PRIORITY !== undefined)
      throw new TypeError('log.record: PRIORITY comes from the priority argument; leave it out of the fields');
    if (fields.MESSAGE !== undefined && args.length > 0) {
      throw new TypeError('log.record: the message is given twice (a MESSAGE field and message arguments); keep one');
    }
    if (n > threshold) return;
    let message: string;
    let rest = fields;
    if (args.length > 0) message = format(args);
    else {
      const given = fields.MESSAGE;
      message =
        given === undefined
          ? ''
          : typeof given === 'string'
            ? given
            : given instanceof Uint8Array
              ? Buffer.from(given).toString('utf8')
              : String(given);
      rest = { ...fields };
      delete rest.MESSAGE;
    }
    if (journal) sendRecord(n, message, rest, 2);
    else sink.write(render(n, message, prefixed));
  }

  function lineStream(priority: Priority): NodeJS.WritableStream {
    const n = priorityNumber(priority);
    // StringDecoder keeps a multi-byte character split across chunks whole.
    const decoder = new (builtin.stringDecoder().StringDecoder)('utf8');
    let pending = '';
    const writeOne = (text: string): void => {
      if (journal) sendRecord(n, text, undefined, null);
      else sink.write(render(n, text, prefixed));
    };
    const flushLines = (text: string): void => {
      const data = pending + text;
      const end = data.lastIndexOf('\n');
      if (end === -1) {
        pending = data;
        // A writer that never sends a newline must not grow memory without
        // bound; journald would cut such a line at LineMax anyway.
        if (pending.length >= MAX_PENDING) {
          pending = '';
          if (n <= threshold) writeOne(data);
        }
        return;
      }
      pending = data.slice(end + 1);
      if (n > threshold) return;
      const lines = data.slice(0, end);
      // In the journal, each line is a record, as journald makes of a stream.
      if (journal) {
        for (const line of lines.split('\n')) sendRecord(n, line, undefined, null);
        return;
      }
      // All complete lines of this chunk go out in one write; each stays its own record.
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
          if (n <= threshold) writeOne(rest);
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
    record: (priority: Priority | number, fields: JournalFields, ...args: unknown[]) => record(priority, fields, args),
    raw: (data: string | Uint8Array) => {
      if (typeof data === 'string') sink.write(data);
      else if (data instanceof Uint8Array) sink.writeBytes(data);
      else throw new TypeError(`log.raw: data must be a string or bytes, got ${data === null ? 'null' : typeof data}`);
    },
    stream: lineStream,
    prefixed,
    journal,
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

const METHODS = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
  'log',
  'record',
  'raw',
  'stream',
  'enabled',
  'flush',
] as const;

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
  Object.defineProperty(log, 'journal', { value: real.journal, enumerable: true, configurable: true });
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
Object.defineProperty(log, 'journal', { get: () => materialize().journal, enumerable: true, configurable: true });
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
