// The journal's native protocol (what sd_journal_sendv(3) speaks): one
// datagram per record to /run/systemd/journal/socket, each field either
//   KEY=value\n                                  (a value without newlines)
//   KEY\n<value length, u64 little-endian><value>\n   (any bytes: newlines, NUL)
// A record too large for one datagram (EMSGSIZE, ENOBUFS) goes instead as a
// sealed memfd passed with SCM_RIGHTS in an empty datagram, which journald
// maps rather than copies. Unlike stdout, the journal keeps every field as
// sent: several lines in one MESSAGE, binary values, your own KEY=value pairs.
//
// sendJournal() reports an absent socket (no journald, a sandbox without
// /run) or a missing addon in its result; the logger (log.ts) then writes the
// record to stderr as "<N>" lines and says so once there.
import { errnoNumber } from './builtins.js';
import { failed, nativeBinding, nativeLoadError, systemError, type NativeBinding } from './native.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { closeSync, writeSync } = process.getBuiltinModule('node:fs');
const { basename } = process.getBuiltinModule('node:path');

/** Where journald receives native records (sd_journal_sendv's address). */
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';
/** journald ignores field names longer than this (its journal_field_valid()). */
export const JOURNAL_FIELD_NAME_MAX = 64;
/**
 * How long a send waits for room in journald's queue before the record goes
 * to stderr instead (libsystemd waits for ever; a stuck journald must not
 * freeze the event loop).
 */
const SEND_TIMEOUT_MS = 5000;

/** A field value: text (UTF-8), bytes, or a number/bigint/boolean written in decimal (true is 1). */
export type JournalValue = string | Uint8Array | number | bigint | boolean;
/**
 * A record's fields, spelled as stored: MESSAGE, PRIORITY, CODE_FILE,
 * CODE_LINE, CODE_FUNC, SYSLOG_IDENTIFIER, MESSAGE_ID or your own KEY. An
 * array repeats the field (the journal allows a field several times);
 * undefined leaves it out.
 */
export type JournalFields = Record<string, JournalValue | readonly JournalValue[] | undefined>;

export type JournalSendResult =
  | { sent: true; bytes: number; via: 'datagram' | 'memfd' }
  | { sent: false; reason: 'no-native' | 'no-socket' | 'send-failed'; socket: string; error: Error };

export interface JournalSendOptions {
  /** The socket to send to (default /run/systemd/journal/socket). */
  socket?: string;
}

const NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

/**
 * Why `name` cannot be a field sent by a client, or null when it can. As
 * journald's journal_field_valid() with protected fields refused: 1-64
 * characters of A-Z, 0-9 and _, not starting with a digit, and no leading
 * underscore (journald adds those fields itself and drops a client's).
 */
export function journalFieldNameProblem(name: string): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'a field name cannot be empty';
  if (name.length > JOURNAL_FIELD_NAME_MAX)
    return `${JSON.stringify(name)} is ${name.length} characters; journald ignores names over ${JOURNAL_FIELD_NAME_MAX}`;
  if (name.startsWith('_'))
    return `${JSON.stringify(name)} starts with "_": such fields are journald's own (trusted) and it drops them from clients`;
  if (!NAME_PATTERN.test(name))
    return `${JSON.stringify(name)} is not a journal field name: use A-Z, 0-9 and _ only, not starting with a digit (e.g. ${JSON.stringify(suggestName(name))})`;
  return null;
}

function suggestName(name: string): string {
  const upper = name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return /^[0-9]/.test(upper) ? `F_${upper}` : upper || 'FIELD';
}

function valueBytes(name: string, value: JournalValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'boolean') return Buffer.from(value ? '1' : '0');
  if (typeof value === 'bigint') return Buffer.from(String(value));
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`journal: ${name} is ${value}, which has no decimal form`);
    return Buffer.from(String(value));
  }
  throw new TypeError(
    `journal: ${name} has a value of type ${value === null ? 'null' : typeof value} (expected a string, bytes, a number, a bigint or a boolean)`,
  );
}

/**
 * The exact datagram bytes for `fields`, in the order given. Values with a
 * newline take the length-prefixed form (as sd_journal_sendv decides); every
 * name is checked first. Throws TypeError naming the field and the fix.
 */
export function encodeJournalRecord(fields: JournalFields): Buffer {
  if (fields === null || typeof fields !== 'object')
    throw new TypeError(`journal: a record is an object of fields, got ${fields === null ? 'null' : typeof fields}`);
  // Text fields (the usual record) are joined as one string and encoded
  // once; only bytes and values with a newline are added as Buffers.
  const parts: Buffer[] = [];
  let text = '';
  let count = 0;
  for (const [name, raw] of Object.entries(fields)) {
    if (raw === undefined) continue;
    const problem = journalFieldNameProblem(name);
    if (problem) throw new TypeError(`journal: ${problem}`);
    for (const value of Array.isArray(raw) ? (raw as readonly JournalValue[]) : [raw as JournalValue]) {
      count++;
      if (typeof value === 'string' ? value.indexOf('\n') === -1 : typeof value !== 'object' || value === null) {
        text += `${name}=${typeof value === 'string' ? value : valueBytes(name, value).toString('latin1')}\n`;
        continue;
      }
      const bytes = valueBytes(name, value);
      if (text !== '') {
        parts.push(Buffer.from(text, 'utf8'));
        text = '';
      }
      if (bytes.indexOf(10) === -1) {
        parts.push(Buffer.from(`${name}=`, 'latin1'), bytes, NEWLINE);
      } else {
        const header = Buffer.alloc(name.length + 9);
        header.write(name, 0, 'latin1');
        header[name.length] = 10;
        header.writeBigUInt64LE(BigInt(bytes.length), name.length + 1);
        parts.push(header, bytes, NEWLINE);
      }
    }
  }
  if (count === 0) throw new TypeError('journal: the record has no fields');
  if (text !== '') parts.push(Buffer.from(text, 'utf8'));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

const NEWLINE = Buffer.from('\n');

let socketAddressCache: { path: string; address: Buffer } | undefined;

function socketAddress(path: string): Buffer {
  if (socketAddressCache?.path !== path) socketAddressCache = { path, address: Buffer.from(`${path}\0`) };
  return socketAddressCache.address;
}

/** A record too big for one datagram: written into a memfd, sealed, and the fd sent alone. */
function sendMemfd(native: NativeBinding, address: Buffer, data: Buffer): number {
  const fd = native.memfdCreate('journal-data');
  if (failed(fd)) return fd;
  try {
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset);
    const { F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE } = native.constants;
    // Sealed, journald may map the record without copying it: nobody can change it any more.
    const sealed = native.addSeals(fd, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
    if (failed(sealed)) return sealed;
    return native.sendmsg(address, EMPTY, [fd], null, SEND_TIMEOUT_MS);
  } catch (error) {
    // Node's fs errors carry the negative errno, as the addon's results do.
    return (error as { errno?: number }).errno ?? -errnoNumber('EIO');
  } finally {
    closeSync(fd);
  }
}

const EMPTY = Buffer.alloc(0);
// The errnos the datagram path tells apart, negative as the addon returns
// them; looked up on first send (node:os is not loaded before).
let errnos: { EMSGSIZE: number; ENOBUFS: number; ENOENT: number; ECONNREFUSED: number } | undefined;

let defaultIdentifier: string | undefined;

/**
 * SYSLOG_IDENTIFIER for a record that names none: the program's name,
 * basename(argv[0]) ("node"), as libsystemd appends
 * program_invocation_short_name. It is what journalctl -t and the short
 * output show; the stdout stream gets the same from systemd by default.
 */
export function withIdentifier(fields: JournalFields): JournalFields {
  if (fields.SYSLOG_IDENTIFIER !== undefined) return fields;
  defaultIdentifier ??= basename(process.argv0 || process.execPath);
  return { ...fields, SYSLOG_IDENTIFIER: defaultIdentifier };
}

/**
 * Sends one record to journald. Like sd_journal_sendv, it adds
 * SYSLOG_IDENTIFIER (the program's name) when the record has none. Never throws because of the environment
 * (read the result); throws TypeError for an invalid record. Does not fall
 * back on its own: the logger (createLogger({ journal })) does that.
 */
export function sendJournal(fields: JournalFields, options: JournalSendOptions = {}): JournalSendResult {
  const data = encodeJournalRecord(withIdentifier(fields));
  return sendEncoded(data, options.socket ?? JOURNAL_SOCKET);
}

/** @internal The send path for bytes already encoded (the logger's). */
export function sendEncoded(data: Buffer, socket: string): JournalSendResult {
  const native = nativeBinding();
  if (native === null) return { sent: false, reason: 'no-native', socket, error: nativeLoadError()! };
  const address = socketAddress(socket);
  errnos ??= {
    EMSGSIZE: -errnoNumber('EMSGSIZE'),
    ENOBUFS: -errnoNumber('ENOBUFS'),
    ENOENT: -errnoNumber('ENOENT'),
    ECONNREFUSED: -errnoNumber('ECONNREFUSED'),
  };
  let result = native.sendmsg(address, data, null, null, SEND_TIMEOUT_MS);
  let via: 'datagram' | 'memfd' = 'datagram';
  // Too big for a datagram through this socket's send buffer: the memfd way, as libsystemd does.
  if (result === errnos.EMSGSIZE || result === errnos.ENOBUFS) {
    via = 'memfd';
    result = sendMemfd(native, address, data);
  }
  if (failed(result)) {
    const reason = result === errnos.ENOENT || result === errnos.ECONNREFUSED ? 'no-socket' : 'send-failed';
    return {
      sent: false,
      reason,
      socket,
      error: systemError(result, via === 'memfd' ? 'sendmsg (memfd)' : 'sendmsg', `to ${socket}`, socket),
    };
  }
  return { sent: true, bytes: data.length, via };
}

/**
 * Where the caller of the logging call is, for CODE_FILE, CODE_LINE and
 * CODE_FUNC (what sd_journal_send's macros fill in from __FILE__ and
 * friends). `skip` frames above the caller are left out. Costs a stack
 * capture (about 60 us of CPU per record, measured: three times the rest of
 * a record), so only loggers created with { codeLocation: true } call it.
 */
export function callerLocation(skip: number): { CODE_FILE?: string; CODE_LINE?: number; CODE_FUNC?: string } {
  const holder: { stack?: NodeJS.CallSite[] } = {};
  const previous = Error.prepareStackTrace;
  const previousLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = skip + 2;
  Error.prepareStackTrace = (_error, frames) => frames;
  try {
    Error.captureStackTrace(holder, callerLocation);
    const frame = holder.stack?.[skip];
    if (!frame) return {};
    const file = frame.getFileName() ?? undefined;
    const line = frame.getLineNumber() ?? undefined;
    const func = frame.getFunctionName() ?? undefined;
    return { CODE_FILE: file?.startsWith('file://') ? new URL(file).pathname : file, CODE_LINE: line, CODE_FUNC: func };
  } finally {
    Error.prepareStackTrace = previous;
    Error.stackTraceLimit = previousLimit;
  }
}
