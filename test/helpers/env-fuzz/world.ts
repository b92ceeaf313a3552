// What the parent provides for every case: the fds to hand over, the
// NOTIFY_SOCKET targets, the receiver behind them and the sentinel fd.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import dgram from 'node:dgram';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

import { DgramReceiver, type SocketSpec } from '../dgram-receiver.js';
import { listening } from '../listening.js';

// ---------------------------------------------------------------------------
// What the parent provides: fds to hand over, NOTIFY_SOCKET targets, the receiver.

export interface HandedKind {
  label: string;
  fd: number;
  /** The FdInfo listenFds() must report for it, minus fd and name. */
  info: Record<string, unknown>;
  dev: string;
  ino: string;
}

export type NotifyTargetExpect = { kind: 'sent'; sock: string; hold: boolean } | { kind: 'failed'; code: string };

export interface NotifyTarget {
  label: string;
  value: string;
  weight: number;
  expect: NotifyTargetExpect;
}

export interface World {
  dir: string;
  receiver: DgramReceiver;
  handed: HandedKind[];
  sentinel: { fd: number; dev: string; ino: string };
  targets: NotifyTarget[];
  cleanups: Array<() => void>;
}

export function identity(fd: number): { dev: string; ino: string } {
  const st = fstatSync(fd, { bigint: true });
  return { dev: String(st.dev), ino: String(st.ino) };
}

export function handleFd(thing: unknown): number {
  const fd = (thing as { _handle?: { fd?: number } })._handle?.fd;
  assert.ok(typeof fd === 'number' && fd >= 0, 'no fd behind the handle');
  return fd;
}

export async function buildWorld(): Promise<World> {
  const cleanups: Array<() => void> = [];
  // Short: sun_path holds 107 bytes, and the boundary cases below need room.
  const dir = mkdtempSync('/tmp/rf-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  /** `prefix` filled up to exactly `bytes` UTF-8 bytes (`fill` must divide what is left). */
  const padTo = (prefix: string, bytes: number, fill = 'p'): string => {
    const left = bytes - Buffer.byteLength(prefix);
    const each = Buffer.byteLength(fill);
    assert.equal(left % each, 0, `cannot pad ${prefix} to ${bytes} bytes with ${fill}`);
    return prefix + fill.repeat(left / each);
  };
  const addresses = {
    recv: join(dir, 'recv.sock'),
    recvAbs: `@sd-rel-${tag}-recv`,
    uni: join(dir, 'r\u00e9cv-\u2713.sock'),
    uniAbs: `@sd-rel-${tag}-\u00f1\u65e5\u672c-\u{1f642}`,
    hold: join(dir, 'hold.sock'),
    // Exactly 107 bytes: the longest path sun_path can hold with its NUL.
    long107: padTo(`${dir}/L`, 107),
    stale: join(dir, 'stale.sock'),
  };
  const sockets: SocketSpec[] = [
    { name: 'recv', address: addresses.recv, mode: 'read' },
    { name: 'recvAbs', address: addresses.recvAbs, mode: 'read' },
    { name: 'uni', address: addresses.uni, mode: 'read' },
    { name: 'uniAbs', address: addresses.uniAbs, mode: 'read' },
    { name: 'hold', address: addresses.hold, mode: 'hold' },
    { name: 'long107', address: addresses.long107, mode: 'read' },
    { name: 'stale', address: addresses.stale, mode: 'stale' },
  ];
  const receiver = await DgramReceiver.start(sockets);
  cleanups.push(() => void receiver.close());

  writeFileSync(join(dir, 'file'), 'data');
  mkdirSync(join(dir, 'subdir'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  symlinkSync(addresses.recv, join(dir, 'link.sock'));
  const stream = await listening(net.createServer(), join(dir, 'stream.sock'));
  cleanups.push(() => void stream.close());

  const sent = (sock: string, hold = false): NotifyTargetExpect => ({ kind: 'sent', sock, hold });
  const failed = (code: string): NotifyTargetExpect => ({ kind: 'failed', code });
  const targets: NotifyTarget[] = [
    { label: 'receiver (path)', value: addresses.recv, weight: 30, expect: sent('recv') },
    { label: 'receiver (abstract)', value: addresses.recvAbs, weight: 12, expect: sent('recvAbs') },
    { label: 'receiver (non-ASCII path)', value: addresses.uni, weight: 5, expect: sent('uni') },
    { label: 'receiver (non-ASCII abstract)', value: addresses.uniAbs, weight: 5, expect: sent('uniAbs') },
    { label: 'receiver that keeps barrier fds', value: addresses.hold, weight: 6, expect: sent('hold', true) },
    { label: 'receiver at a 107-byte path', value: addresses.long107, weight: 3, expect: sent('long107') },
    { label: 'receiver through a symlink', value: join(dir, 'link.sock'), weight: 2, expect: sent('recv') },
    { label: 'receiver through //', value: `${dir}//recv.sock`, weight: 1, expect: sent('recv') },
    { label: 'receiver through /./', value: `${dir}/./recv.sock`, weight: 1, expect: sent('recv') },
    { label: 'receiver with a trailing slash', value: `${addresses.recv}/`, weight: 1, expect: failed('ENOTDIR') },
    { label: 'missing socket', value: join(dir, 'missing.sock'), weight: 3, expect: failed('ENOENT') },
    { label: 'missing directory', value: join(dir, 'nodir', 'x.sock'), weight: 2, expect: failed('ENOENT') },
    { label: 'through a regular file', value: join(dir, 'file', 'x'), weight: 1, expect: failed('ENOTDIR') },
    { label: 'regular file', value: join(dir, 'file'), weight: 3, expect: failed('ECONNREFUSED') },
    { label: 'directory', value: join(dir, 'subdir'), weight: 2, expect: failed('ECONNREFUSED') },
    { label: 'FIFO', value: join(dir, 'fifo'), weight: 1, expect: failed('ECONNREFUSED') },
    { label: '/dev/null', value: '/dev/null', weight: 1, expect: failed('ECONNREFUSED') },
    { label: '/', value: '/', weight: 1, expect: failed('ECONNREFUSED') },
    { label: 'stream socket', value: join(dir, 'stream.sock'), weight: 3, expect: failed('EPROTOTYPE') },
    { label: 'stale socket file', value: addresses.stale, weight: 2, expect: failed('ECONNREFUSED') },
    { label: 'unbound abstract name', value: `@sd-rel-${tag}-nobody`, weight: 2, expect: failed('ECONNREFUSED') },
    { label: "'@' alone", value: '@', weight: 2, expect: failed('ECONNREFUSED') },
    { label: '107-byte missing path', value: padTo(`${dir}/M`, 107), weight: 1, expect: failed('ENOENT') },
    { label: '108-byte path (too long)', value: padTo(`${dir}/M`, 108), weight: 1, expect: failed('ENOENT') },
    { label: '300-byte path (too long)', value: padTo(`${dir}/M`, 300), weight: 1, expect: failed('ENOENT') },
    { label: '107-byte missing path of 2-byte chars', value: padTo(`${dir}/`, 107, '\u00e9'), weight: 1, expect: failed('ENOENT') },
    { label: '108-byte path of fewer chars (too long)', value: `${padTo(`${dir}/`, 107, '\u00e9')}x`, weight: 1, expect: failed('ENOENT') },
    { label: 'abstract name of 107 bytes', value: `@${'a'.repeat(107)}`, weight: 1, expect: failed('ECONNREFUSED') },
    { label: 'abstract name of 108 bytes (too long)', value: `@${'a'.repeat(108)}`, weight: 1, expect: failed('ECONNREFUSED') },
    {
      label: 'abstract name of 53 2-byte chars + 1 (107 bytes)',
      value: `@${'\u00e9'.repeat(53)}a`,
      weight: 1,
      expect: failed('ECONNREFUSED'),
    },
    {
      label: 'abstract name of 54 2-byte chars (108 bytes, too long)',
      value: `@${'\u00e9'.repeat(54)}`,
      weight: 1,
      expect: failed('ECONNREFUSED'),
    },
  ];

  // The fds children get at 3.., each with what listenFds() must say about it.
  const handed: HandedKind[] = [];
  const add = (label: string, fd: number, info: Record<string, unknown>): void => void handed.push({ label, fd, info, ...identity(fd) });
  const tcp = await listening(net.createServer(), 0, '127.0.0.1');
  cleanups.push(() => void tcp.close());
  add('tcp4 listening', handleFd(tcp), { kind: 'tcp4', listening: true, host: '127.0.0.1', port: (tcp.address() as net.AddressInfo).port });
  try {
    const tcp6 = await listening(net.createServer(), 0, '::1');
    cleanups.push(() => void tcp6.close());
    add('tcp6 listening', handleFd(tcp6), { kind: 'tcp6', listening: true, host: '::1', port: (tcp6.address() as net.AddressInfo).port });
  } catch {
    // No IPv6 loopback here: the other kinds still cover activation.
  }
  const ctlPath = join(dir, 'ctl.sock');
  const ctl = await listening(net.createServer(), ctlPath);
  cleanups.push(() => void ctl.close());
  add('unix-stream listening', handleFd(ctl), { kind: 'unix-stream', listening: true, path: ctlPath });
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => udp.close());
  const udpFd = (udp as unknown as { [k: symbol]: { handle: { fd: number } } })[
    Object.getOwnPropertySymbols(udp).find((s) => s.description === 'state symbol')!
  ]!.handle.fd;
  add('udp4', udpFd, { kind: 'udp4', listening: false, host: '127.0.0.1', port: udp.address().port });
  const accepted: net.Socket[] = [];
  tcp.on('connection', (socket) => accepted.push(socket));
  const client = net.connect((tcp.address() as net.AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  cleanups.push(() => {
    client.destroy();
    for (const socket of accepted) socket.destroy();
  });
  add('tcp4 connected', handleFd(client), { kind: 'tcp4', listening: false, host: '127.0.0.1', port: client.localPort });
  const openFd = (path: string, flags: string): number => {
    const fd = openSync(path, flags);
    cleanups.push(() => closeSync(fd));
    return fd;
  };
  add('/dev/null', openFd('/dev/null', 'r'), { kind: 'character-device', listening: false });
  add('regular file', openFd(join(dir, 'file'), 'r'), { kind: 'file', listening: false });
  add('FIFO', openFd(join(dir, 'fifo'), 'r+'), { kind: 'fifo', listening: false });
  add('directory', openFd(join(dir, 'subdir'), 'r'), { kind: 'other', listening: false });

  const sentinelFd = openFd(join(dir, 'sentinel'), 'w+');
  return { dir, receiver, handed, sentinel: { fd: sentinelFd, ...identity(sentinelFd) }, targets, cleanups };
}
