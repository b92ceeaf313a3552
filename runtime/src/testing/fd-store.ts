// The fd store (FileDescriptorStoreMax=, FDSTORE=1, FDSTOREREMOVE=1): fds a
// service hands its manager to get back on its next start.
import { nowMs } from './clock.js';
import { safeClose } from '../quiet-fd.js';
import type { FakeReceivedFd } from './fds.js';

/** An fd held in the store (FDSTORE=1). */
export interface FakeStoredFd extends FakeReceivedFd {
  /** FDNAME=, or 'stored' when none (or an invalid one) was given. */
  name: string;
  /** false when stored with FDPOLL=0. */
  poll: boolean;
  storedBy: number;
  storedAt: number;
}

/** Received fds the store handled without keeping (duplicates): closed without a warning. */
const duplicates = new WeakSet<FakeReceivedFd>();

/** Whether the store took care of `received` (kept it, or recognised it as one it already holds). */
export function handledByStore(received: FakeReceivedFd): boolean {
  return received.stored || duplicates.has(received);
}

/** FileDescriptorStore: newest first, the order systemd hands fds over in (it prepends). */
export class FdStore {
  entries: FakeStoredFd[] = [];

  constructor(readonly max: number) {}

  add(received: FakeReceivedFd, name: string, poll: boolean, pid: number): 'stored' | 'duplicate' | 'full' {
    if (this.entries.length >= this.max) return 'full';
    // systemd suppresses the same open file stored twice (same_fd). dev+ino
    // identify a socket or pipe exactly; two opens of one regular file share
    // them, so those are kept apart.
    if (received.type === 'socket' || received.type === 'fifo') {
      const same = this.entries.find((e) => e.type === received.type && e.dev === received.dev && e.ino === received.ino);
      if (same) {
        duplicates.add(received);
        return 'duplicate';
      }
    }
    received.stored = true;
    this.entries.unshift({ ...received, name, poll, storedBy: pid, storedAt: nowMs() });
    return 'stored';
  }

  /** Closes and forgets the entries named `name`, or all of them. Returns how many. */
  remove(name?: string): number {
    const removed = this.entries.filter((e) => name === undefined || e.name === name);
    this.entries = this.entries.filter((e) => !removed.includes(e));
    for (const entry of removed) safeClose(entry.fd);
    return removed.length;
  }
}
