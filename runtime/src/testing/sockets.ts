// The listening sockets a fake manager binds and hands a daemon at fd 3 and
// up, as a .socket unit with FileDescriptorName= would.
import dgram from 'node:dgram';
import { linkSync, lstatSync, renameSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { isAbsolute, join } from 'node:path';

import { fdOf, isValidFdName, type FdSource } from '../notify.js';
import { parseUnixAddress } from '../unix-address.js';

/** A listening socket the manager binds and hands over, like a .socket unit with FileDescriptorName=. */
export type FakeSocketSpec =
  | { name: string; tcp: { host?: string; port?: number; backlog?: number } }
  | { name: string; udp: { host?: string; port?: number } }
  /** An absolute path, a path relative to the manager's dir, or '@abstract'. */
  | { name: string; unix: string; backlog?: number }
  /** An fd you own (the manager neither binds nor closes it). */
  | { name: string; fd: FdSource };

/** A socket as handed to the daemon. */
export interface FakeSocket {
  name: string;
  /** Where the daemon finds it: 3 (SD_LISTEN_FDS_START) and up. */
  fd: number;
  kind: 'tcp' | 'udp' | 'unix' | 'fd';
  /** tcp/udp: the bound address and port (port 0 resolved to the real one). */
  host?: string;
  port?: number;
  family?: 'IPv4' | 'IPv6';
  /** unix: the bound path, or '@name' for an abstract socket. */
  path?: string;
}

export interface OpenedSocket {
  socket: FakeSocket;
  fd: number;
  /** Closes the manager's copy once the daemon holds its own. */
  release(): void;
}

/** A bound TCP or UDP socket as the daemon's FakeSocket: the real address and port (port 0 resolved). */
function inetSocket(name: string, fd: number, kind: 'tcp' | 'udp', address: net.AddressInfo): FakeSocket {
  return { name, fd, kind, host: address.address, port: address.port, family: address.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}

/**
 * Binds what `spec` asks for, to be the daemon's fd `fdNumber`. Relative unix
 * paths are taken in `dir`; each unix path bound is added to `unixPaths`, for
 * the manager to remove on close().
 */
export async function openSocket(spec: FakeSocketSpec, fdNumber: number, dir: string, unixPaths: Set<string>): Promise<OpenedSocket> {
  if (!spec || typeof spec.name !== 'string' || !isValidFdName(spec.name)) {
    throw new TypeError(
      `spawn: socket name ${JSON.stringify(spec?.name)} is not a valid FileDescriptorName= (printable ASCII except ':', at most 255)`,
    );
  }
  const name = spec.name;
  if ('fd' in spec) {
    return { socket: { name, fd: fdNumber, kind: 'fd' }, fd: fdOf(spec.fd), release: () => {} };
  }
  if ('tcp' in spec) {
    const server = net.createServer();
    await listen(server, { host: spec.tcp.host ?? '127.0.0.1', port: spec.tcp.port ?? 0, backlog: spec.tcp.backlog });
    return {
      socket: inetSocket(name, fdNumber, 'tcp', server.address() as net.AddressInfo),
      fd: fdOf(server),
      release: () => server.close(),
    };
  }
  if ('udp' in spec) {
    const host = spec.udp.host ?? '127.0.0.1';
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: host, port: spec.udp.port ?? 0 }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return { socket: inetSocket(name, fdNumber, 'udp', socket.address()), fd: fdOf(socket), release: () => socket.close() };
  }
  if ('unix' in spec) {
    const text = spec.unix;
    const abstract = text.startsWith('@');
    const path = abstract || isAbsolute(text) ? text : join(dir, text);
    const parsed = parseUnixAddress(path);
    if (parsed.kind !== 'path' && parsed.kind !== 'abstract') {
      throw new RangeError(
        `spawn: unix socket ${JSON.stringify(path)} ${parsed.kind === 'invalid' ? parsed.problem : 'is not a unix address'}`,
      );
    }
    // Like a .socket unit, replace a stale socket file left by an earlier run.
    if (!abstract) removeStaleSocket(path);
    const server = net.createServer();
    await listen(server, { path: abstract ? `\0${text.slice(1)}` : path, backlog: spec.backlog });
    if (!abstract) unixPaths.add(path);
    return {
      socket: { name, fd: fdNumber, kind: 'unix', path },
      fd: fdOf(server),
      release: () => (abstract ? server.close() : closeKeepingPath(server, path)),
    };
  }
  throw new TypeError(`spawn: socket ${JSON.stringify(name)} needs one of tcp, udp, unix or fd`);
}

function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Closes our copy of a listening unix socket without losing its path: libuv
 * unlinks the path of a pipe server it closes, and the daemon still serves
 * there. A hard link keeps the socket's name across the close.
 */
function closeKeepingPath(server: net.Server, path: string): void {
  const keep = `${path}.keep-${process.pid}`;
  try {
    linkSync(path, keep);
  } catch {
    server.close();
    return;
  }
  server.close();
  renameSync(keep, path);
}

/** Unlinks `path` if it is a socket (never a regular file someone put there). */
export function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there.
  }
}
