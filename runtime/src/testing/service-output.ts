// What a run of the service printed: the tail of its stdout and stderr (with
// stdio 'pipe'), and when its pipes closed, which is when all of it has been
// read. Kept to the last MiB each, so a chatty daemon cannot grow the test.
import type { ChildProcess } from 'node:child_process';

const OUTPUT_LIMIT = 1 << 20;

export class ServiceOutput {
  stdout = '';
  stderr = '';
  /** The child's stdio pipes are closed: all its output is in stdout/stderr. */
  readonly closed: Promise<void>;

  /** `onChange` runs after each chunk, so waiters look again. */
  constructor(child: ChildProcess, onChange: () => void) {
    this.closed = new Promise((resolve) => child.once('close', () => resolve()));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout = keepTail(this.stdout + chunk);
      onChange();
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = keepTail(this.stderr + chunk);
      onChange();
    });
  }
}

function keepTail(text: string): string {
  return text.length > OUTPUT_LIMIT ? text.slice(-OUTPUT_LIMIT) : text;
}
