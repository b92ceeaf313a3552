// Closing and writing without throwing, for the moments when there is nobody
// left to tell: an fd that may already be closed, a stdout that may be gone
// while a process exits. Used by daemonize() and the fake service manager.

// Built-ins through process.getBuiltinModule, not `import`: see builtins.ts.
const { closeSync, writeSync } = process.getBuiltinModule('node:fs');

export function safeClose(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing left to release.
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

/** Resolves after `ms` milliseconds (a plain timer: node:timers/promises is not loaded at start-up). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
