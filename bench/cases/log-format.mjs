// The records of the logging cases, and the check that every one arrived
// whole and in order used on the file case (anchors/pipe-reader.c makes the
// same check, in C, on the pipe).

/** The text of every record after "record <i> ": a typical access-log line. */
export const PAYLOAD = 'GET /api/items?page=3 200 1.84ms user=alice@example.org';

/**
 * Checks a stream of text, fed in chunks of any size: line i must be record
 * i, whole. `format` is 'prefixed' ("<6>record i PAYLOAD", ours and
 * process.stderr.write) or 'pino' (pino's JSON line, level 30, with that
 * message). The first wrong line is kept for the report; checking stops there.
 */
export class LineChecker {
  #format;
  #expected;
  #pending = '';
  lines = 0;
  error = null;

  constructor(format, expected) {
    if (format !== 'prefixed' && format !== 'pino') throw new Error(`unknown format ${format}`);
    this.#format = format;
    this.#expected = expected;
  }

  #ok(line, i) {
    if (this.#format === 'prefixed') return line === `<6>record ${i} ${PAYLOAD}`;
    return line.startsWith('{"level":30,') && line.endsWith(`,"msg":"record ${i} ${PAYLOAD}"}`);
  }

  push(text) {
    if (this.error) return;
    const data = this.#pending + text;
    let from = 0;
    let nl;
    while ((nl = data.indexOf('\n', from)) !== -1) {
      const line = data.slice(from, nl);
      if (this.lines >= this.#expected) {
        this.error = `more than ${this.#expected} lines: ${JSON.stringify(line.slice(0, 120))}`;
        return;
      }
      if (!this.#ok(line, this.lines)) {
        this.error = `line ${this.lines} is not record ${this.lines}: ${JSON.stringify(line.slice(0, 160))}`;
        return;
      }
      this.lines++;
      from = nl + 1;
    }
    this.#pending = data.slice(from);
  }

  /** True once every expected line has been seen and checked. */
  get complete() {
    return this.error === null && this.lines === this.#expected;
  }

  /** At end of input: an error message, or null when all lines arrived. */
  finish() {
    if (this.error) return this.error;
    if (this.#pending !== '') return `input ends inside a line: ${JSON.stringify(this.#pending.slice(0, 120))}`;
    if (this.lines !== this.#expected) return `${this.lines} of ${this.#expected} lines arrived`;
    return null;
  }
}
