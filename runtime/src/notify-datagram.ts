// The one reader of sd_notify datagrams, for every part of the runtime that
// receives them (the fake service manager, the daemonize() parent). It reads
// the bytes as systemd's manager_dispatch_notify_fd() and
// service_notify_message() do (src/core/manager.c, src/core/service.c):
// - one trailing NUL is tolerated and dropped; a NUL anywhere else makes the
//   whole datagram invalid;
// - lines are split on \n and \r alike (strv_split(buf, NEWLINE)), and empty
//   lines vanish;
// - a KEY=VALUE field sent twice keeps its FIRST value, the one
//   strv_find_startswith() finds; a line without '=' (or starting with it) is
//   kept as a line but is no field.
// What a receiver does with the sender (credentials, NotifyAccess=) and with
// the fds is its own policy: this module only reads the text.
// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { isUtf8 } = process.getBuiltinModule('node:buffer');

/** One datagram read from a notify socket. */
export interface NotifyDatagram {
  /** The text (UTF-8 decoded) with the one tolerated trailing NUL removed. */
  raw: string;
  /** The non-empty lines, in order. */
  lines: string[];
  /** KEY=VALUE lines; a key sent twice keeps its first value. */
  fields: Record<string, string>;
  /** The bytes are valid UTF-8; systemd ignores a STATUS= that is not. */
  utf8: boolean;
  /**
   * Why systemd would ignore the datagram as a whole, in its own words, or
   * null when it is well formed. Only embedded NUL bytes are a property of
   * the bytes; a missing sender or an oversized datagram is the receiver's to
   * judge (see NOTIFY_MAX_BYTES in notify.ts).
   */
  problem: string | null;
}

/** Reads a notify datagram's bytes. Never throws: a malformed datagram is a value with `problem` set. */
export function parseNotifyDatagram(data: Buffer): NotifyDatagram {
  let text = data;
  let problem: string | null = null;
  const nul = data.indexOf(0);
  if (nul !== -1 && nul < data.length - 1) problem = 'Received notify message with embedded NUL bytes. Ignoring.';
  else if (nul === data.length - 1) text = data.subarray(0, -1);
  const raw = text.toString('utf8');
  const lines = raw.split(/[\r\n]+/).filter((line) => line.length > 0);
  const fields: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    if (!Object.hasOwn(fields, key)) fields[key] = line.slice(eq + 1);
  }
  return { raw, lines, fields, utf8: isUtf8(text), problem };
}
