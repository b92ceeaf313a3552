// File descriptors that arrive with notifications: what each one is, read on
// arrival (before the manager decides to keep or close it), and closing them.
import { fstatSync } from 'node:fs';

import { failed, type NativeBinding } from '../native.js';
import { formatSunPath } from '../unix-address.js';

/** One fd that arrived with a notification, as fstat and getsockname saw it on arrival. */
export interface FakeReceivedFd {
  /** The manager's descriptor: closed once the message is handled, unless `stored`. */
  fd: number;
  /** Kept in the fd store. */
  stored: boolean;
  type: 'socket' | 'fifo' | 'file' | 'directory' | 'character-device' | 'block-device' | 'other';
  dev: number;
  ino: number;
  socket?: {
    type: 'stream' | 'dgram' | 'seqpacket' | number;
    family: 'unix' | 'inet' | 'inet6' | number;
    listening: boolean;
    address?: string;
    port?: number;
    /** unix sockets: the bound path, '@name' when abstract, '' when unbound. */
    path?: string;
  };
}

const SOCKET_TYPES: Record<number, 'stream' | 'dgram' | 'seqpacket'> = { 1: 'stream', 2: 'dgram', 5: 'seqpacket' };
const SOCKET_FAMILIES: Record<number, 'unix' | 'inet' | 'inet6'> = { 1: 'unix', 2: 'inet', 10: 'inet6' };

/** What an fd is, read before the manager decides whether to keep it. */
export function describeFd(binding: NativeBinding, fd: number): FakeReceivedFd {
  let type: FakeReceivedFd['type'] = 'other';
  let dev = 0;
  let ino = 0;
  try {
    const st = fstatSync(fd);
    dev = st.dev;
    ino = st.ino;
    if (st.isSocket()) type = 'socket';
    else if (st.isFIFO()) type = 'fifo';
    else if (st.isFile()) type = 'file';
    else if (st.isDirectory()) type = 'directory';
    else if (st.isCharacterDevice()) type = 'character-device';
    else if (st.isBlockDevice()) type = 'block-device';
  } catch {
    // fstat cannot fail on an fd we just received; keep 'other' if it does.
  }
  const described: FakeReceivedFd = { fd, stored: false, type, dev, ino };
  if (type === 'socket') {
    const info = binding.socketInfo(fd);
    if (!failed(info)) {
      described.socket = {
        type: SOCKET_TYPES[info.type] ?? info.type,
        family: SOCKET_FAMILIES[info.domain] ?? info.domain,
        listening: info.listening,
      };
      if (info.address !== undefined) described.socket.address = info.address;
      if (info.port !== undefined) described.socket.port = info.port;
      if (info.path !== undefined) described.socket.path = formatSunPath(info.path);
    }
  }
  return described;
}
