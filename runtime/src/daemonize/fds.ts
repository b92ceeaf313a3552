// Small fd helpers every side of daemonize() uses: close or write without
// throwing (at those points there is nobody left to tell), and the sun_path
// bytes of the private abstract sockets.
import { parseUnixAddress } from '../unix-address.js';

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { closeSync, writeSync } = process.getBuiltinModule('node:fs');

export function safeClose(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}

/** Synchronous, so nothing is lost at process.exit, and never throws: our own stdout may be gone. */
export function writeQuietly(fd: number, data: string | Buffer): void {
  try {
    const buffer = typeof data === 'string' ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
  } catch {
    // Nobody to tell.
  }
}

/** The sun_path of one of daemonize()'s own '@sd-daemonize/...' sockets. */
export function abstractSunPath(address: string): Buffer {
  const parsed = parseUnixAddress(address);
  if (parsed.kind !== 'abstract') throw new Error(`daemonize: ${address} is not an abstract socket address`);
  return parsed.sunPath;
}
