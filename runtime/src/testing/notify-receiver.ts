// The datagram receiver: reads the notify socket whenever it is readable and
// turns each datagram into a notification, judged as systemd's
// manager_dispatch_notify_fd() judges it before any unit sees it (sender
// credentials, size, NUL bytes, lost fds, barriers). Which service it belongs
// to is the manager's question.
import { constants as osConstants } from 'node:os';

import { systemError, type FdWatcher, type NativeBinding, type ReceivedMessage } from '../native.js';
import { NOTIFY_MAX_BYTES } from '../notify.js';
import { parseNotifyDatagram } from '../notify-datagram.js';
import { barrierProblems, isBarrier } from './barrier.js';
import { nowMs } from './clock.js';
import { safeClose } from '../quiet-fd.js';
import { describeFd } from './fds.js';
import type { PendingNotification } from './notification.js';

/** systemd's NOTIFY_BUFFER_MAX: a longer datagram is dropped as a whole. */
const NOTIFY_BUFFER_MAX = NOTIFY_MAX_BYTES;

/** One datagram, read and judged, on its way to the manager. */
export interface IncomingNotification {
  message: PendingNotification;
  /** An accepted BARRIER=1: answered by closing its fd, applied as nothing else. */
  barrier: boolean;
  /** The bytes are valid UTF-8 (systemd ignores a STATUS= that is not). */
  utf8: boolean;
  /** Warnings that do not reject the datagram: lost fds, a malformed barrier. */
  problems: string[];
}

export class NotifyReceiver {
  readonly #binding: NativeBinding;
  #fd: number;
  #watcher: FdWatcher | null;
  readonly #onNotification: (incoming: IncomingNotification) => void;
  readonly #onError: (text: string) => void;

  /** Takes over `fd`, a bound datagram socket with SO_PASSCRED, and reads it whenever it is readable. */
  constructor(
    binding: NativeBinding,
    fd: number,
    onNotification: (incoming: IncomingNotification) => void,
    onError: (text: string) => void,
  ) {
    this.#binding = binding;
    this.#fd = fd;
    this.#onNotification = onNotification;
    this.#onError = onError;
    this.#watcher = new binding.FdWatcher(fd, () => this.drain());
  }

  /** Reads until EAGAIN: one readiness callback may stand for many datagrams. Safe to call at any time. */
  drain(): void {
    while (this.#fd >= 0 && this.#watcher) {
      const received = this.#binding.recvmsg(this.#fd, NOTIFY_BUFFER_MAX);
      if (typeof received === 'number') {
        if (received === -osConstants.errno.EAGAIN || received === -osConstants.errno.EINTR) return;
        // A real error would wake us forever; systemd stops reading the socket too.
        this.#onError(`Failed to receive notification message: ${systemError(received, 'recvmsg').message}`);
        this.#watcher.close();
        this.#watcher = null;
        return;
      }
      this.#onNotification(this.#judge(received));
    }
  }

  /** Stops reading and closes the socket. */
  close(): void {
    this.#watcher?.close();
    this.#watcher = null;
    safeClose(this.#fd);
    this.#fd = -1;
  }

  #judge(received: ReceivedMessage): IncomingNotification {
    const fds = received.fds.map((fd) => describeFd(this.#binding, fd));
    const datagram = parseNotifyDatagram(received.data);
    let rejection: string | null = null;
    if (received.pid === null || received.pid <= 0) rejection = 'Received notify message without valid credentials. Ignoring.';
    else if (received.truncated) rejection = `Received notify message exceeded maximum size (${NOTIFY_BUFFER_MAX} bytes). Ignoring.`;
    else rejection = datagram.problem;
    const message: PendingNotification = {
      raw: datagram.raw,
      lines: datagram.lines,
      fields: datagram.fields,
      pid: received.pid ?? 0,
      uid: received.uid ?? -1,
      gid: received.gid ?? -1,
      fds,
      receivedAt: nowMs(),
      accepted: rejection === null,
      rejection,
    };
    const barrier = isBarrier(datagram.lines, rejection !== null);
    const problems: string[] = [];
    if (received.controlTruncated) problems.push('Some file descriptors sent with the notification message were lost (MSG_CTRUNC).');
    if (barrier) problems.push(...barrierProblems(datagram.lines, fds.length));
    return { message, barrier, utf8: datagram.utf8, problems };
  }
}
