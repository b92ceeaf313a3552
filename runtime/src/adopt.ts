// Puts fds the manager passed us (socket units, the FD store) into Node's own
// servers and sockets, by name, and falls back to an address of our choosing
// when the process was started without them, so the same code runs under
// systemd and in development. Node adopts fds natively (server.listen({ fd }),
// socket.bind({ fd }), new net.Socket({ fd })); this module only decides which
// fd goes where and says precisely why when one cannot.
//
// Outcomes:
//   not activated              -> the fallback address (listen/bindDgram), null (adoptConnection)
//   activated, name found      -> that fd, if its kind suits the call; else an Error naming fd, name and kind
//   activated, name missing    -> an Error listing what was passed, or the fallback with `optional: true`
//   LISTEN_* malformed         -> the listenFds() Error: the manager meant something we cannot read,
//                                 and quietly serving on the fallback address instead would hide it
import type dgram from 'node:dgram';
import type net from 'node:net';

import { builtin } from './builtins.js';

import { listenFds } from './listen-fds.js';
import type { FdKind, ListenFd, ListenFdsResult } from './listen-fds.js';
import { isValidFdName } from './fd-name.js';

/** Where to listen when not activated: a TCP port (host defaults as in server.listen) or a unix socket path. */
export type Fallback = { port: number; host?: string } | { path: string };

export interface AdoptOptions {
  /**
   * The fd's name (FileDescriptorName= in the .socket unit, FDNAME= for the
   * FD store). Omitted: the first passed fd, not yet adopted, that this call
   * can use. Several fds may share a name (one socket unit with two Listen*=
   * lines); each call takes the next suitable one.
   */
  name?: string;
  /**
   * Remove LISTEN_* from process.env (on every outcome, as listenFds() does);
   * later calls still find the fds, because adoption reads process.env once
   * per process and remembers the result.
   */
  unsetEnv?: boolean;
  /** A listenFds() result to adopt from instead of process.env (say you called listenFds({ unsetEnv: true }) first). */
  activation?: ListenFdsResult;
  /**
   * Activated, but no fd has this name: fall back instead of failing. For fds
   * that may legitimately be absent, such as an FD store entry on first start.
   */
  optional?: boolean;
}

export interface ListenOptions extends AdoptOptions {
  fallback?: Fallback;
  /**
   * Passed to listen(2). Node calls listen(2) again on an adopted socket, with
   * 511 unless told otherwise, which replaces the socket unit's Backlog=.
   */
  backlog?: number;
}

export interface BindDgramOptions extends AdoptOptions {
  fallback?: { port: number; host?: string };
}

/** What listen() and bindDgram() did. */
export interface Adoption {
  /** True when a passed fd was adopted; false when the fallback address was used. */
  activated: boolean;
  /** The adopted fd's name, or the requested name when falling back. */
  name: string | undefined;
  fd?: number;
  kind?: FdKind;
  /** As server.address() / socket.address(); the path for a unix socket. */
  address: net.AddressInfo | string | null;
}

/** An fd that cannot go where it was asked to; names it, its LISTEN_FDNAMES name and its kind. */
export interface AdoptionError extends Error {
  fd?: number;
  fdName?: string;
  kind?: FdKind;
}

const LISTEN_VARIABLES = ['LISTEN_PID', 'LISTEN_PIDFDID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

// process.env is read once per process: after unsetEnv the variables are
// gone, but the fds are still ours, and later calls must find them by name.
let remembered: ListenFdsResult | undefined;
// An fd is adopted at most once: after its server closes it, its number may
// belong to something else entirely.
const adopted = new Set<number>();

function activation(options: AdoptOptions): ListenFdsResult {
  let result = options.activation;
  if (result === undefined) {
    remembered ??= listenFds({ unsetEnv: options.unsetEnv });
    result = remembered;
  }
  // Also when the result came from earlier: unsetEnv holds on every call.
  if (options.unsetEnv) for (const variable of LISTEN_VARIABLES) delete process.env[variable];
  return result;
}

/** Why `fd` cannot be used by a call, or null when it can. */
type Suitability = (fd: ListenFd) => string | null;

// Kinds no call here can adopt, and what to do instead.
const UNADOPTABLE: Partial<Record<FdKind, string>> = {
  'unix-dgram': 'Node cannot use AF_UNIX datagram sockets (node:dgram wraps only UDP, node:net only stream sockets)',
  'unix-seqpacket': 'Node cannot use SOCK_SEQPACKET sockets',
  fifo: 'it is not a socket; use it through node:fs with its fd',
  file: 'it is not a socket; use it through node:fs with its fd',
  'character-device': 'it is not a socket; use it through node:fs with its fd',
  mqueue: 'it is a POSIX message queue, for which Node has no API',
  other: 'it is not a TCP, UDP or unix stream socket',
};

const STREAM = new Set<FdKind>(['tcp4', 'tcp6', 'unix-stream']);
const UDP = new Set<FdKind>(['udp4', 'udp6']);

const forListen: Suitability = (fd) => {
  // 'unknown' (no addon): let Node try, it checks the handle type itself.
  if (fd.kind === 'unknown') return null;
  if (STREAM.has(fd.kind)) return fd.listening ? null : 'it is a connected socket (Accept=yes); adopt it with adoptConnection()';
  if (UDP.has(fd.kind)) return 'it is a datagram socket; adopt it with bindDgram()';
  return UNADOPTABLE[fd.kind] ?? null;
};

function forDgram(type: string | undefined): Suitability {
  return (fd) => {
    if (fd.kind === 'unknown') return null;
    if (UDP.has(fd.kind)) {
      // Node resolves send() addresses by the family the socket was created
      // with, so a udp6 fd in a 'udp4' socket would misbehave later, not now.
      return type === undefined || type === fd.kind
        ? null
        : `the dgram socket was created as '${type}'; use dgram.createSocket('${fd.kind}')`;
    }
    if (STREAM.has(fd.kind)) return `it is a stream socket; adopt it with ${fd.listening ? 'listen()' : 'adoptConnection()'}`;
    return UNADOPTABLE[fd.kind] ?? null;
  };
}

const forConnection: Suitability = (fd) => {
  if (fd.kind === 'unknown') return null;
  if (STREAM.has(fd.kind)) return fd.listening ? 'it is a listening socket; adopt it with listen()' : null;
  if (UDP.has(fd.kind)) return 'it is a datagram socket; adopt it with bindDgram()';
  return UNADOPTABLE[fd.kind] ?? null;
};

function describe(fd: ListenFd): string {
  return `fd ${fd.fd} (name ${JSON.stringify(fd.name)}, kind ${fd.kind})`;
}

function adoptionError(message: string, fd?: ListenFd): AdoptionError {
  const error = new Error(message) as AdoptionError;
  if (fd) {
    error.fd = fd.fd;
    error.fdName = fd.name;
    error.kind = fd.kind;
  }
  return error;
}

/**
 * The passed fd this call should adopt, or null to fall back (not activated,
 * or an optional name that was not passed). Throws what the caller must hear:
 * a malformed environment, a missing name, an unsuitable kind.
 */
function choose(call: string, options: AdoptOptions, suits: Suitability): ListenFd | null {
  const result = activation(options);
  const { name } = options;
  if (name !== undefined && (typeof name !== 'string' || !isValidFdName(name))) {
    throw new TypeError(`${call}: ${JSON.stringify(name)} is not a valid fd name (printable ASCII except ':', at most 255 characters)`);
  }
  if (result.status === 'malformed') throw result.error;
  if (result.status === 'not-activated') return null;

  const named = name === undefined ? result.fds : result.fds.filter((fd) => fd.name === name);
  const passed = result.fds.map(describe).join(', ') || 'none';
  if (named.length === 0) {
    if (options.optional) return null;
    throw adoptionError(`${call}: no fd named ${JSON.stringify(name)} was passed; passed: ${passed}`);
  }
  const free = named.filter((fd) => !adopted.has(fd.fd));
  const chosen = free.find((fd) => suits(fd) === null);
  if (chosen) return chosen;
  if (free.length === 0) {
    throw adoptionError(`${call}: ${named.map(describe).join(', ')} already adopted`, named[0]);
  }
  if (name === undefined && options.optional) return null;
  const first = free[0]!;
  const reasons = free.map((fd) => `${describe(fd)} cannot be adopted: ${suits(fd)}`).join('; ');
  throw adoptionError(`${call}: ${reasons}`, first);
}

function notActivatedReason(options: AdoptOptions): string {
  const result = activation(options);
  if (result.status === 'not-activated') return `not socket-activated (${result.reason})`;
  return options.name === undefined ? 'no passed fd suits this call' : `no fd named ${JSON.stringify(options.name)} was passed`;
}

/** Waits for 'listening' or 'error' from whatever `start` set going. */
function started(emitter: net.Server | dgram.Socket, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onListening = (): void => {
      emitter.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      emitter.off('listening', onListening);
      reject(error);
    };
    // Before starting: dgram emits 'listening' synchronously for an fd.
    emitter.once('listening', onListening);
    emitter.once('error', onError);
    try {
      start();
    } catch (error) {
      emitter.off('listening', onListening);
      emitter.off('error', onError);
      reject(error);
    }
  });
}

/**
 * Makes `server` (net, http, https, http2, tls: any net.Server) serve on the
 * passed listening socket called `name` (TCP or unix stream), or, when the
 * process was not activated, on `fallback`. Resolves once listening.
 *
 * Rejects when: LISTEN_* is malformed; activated but nothing named `name` was
 * passed (unless `optional`); the fd is of a kind a server cannot use (the
 * Error names fd, name and kind); not activated and no fallback was given;
 * Node itself fails to listen.
 */
export async function listen(server: net.Server, options: ListenOptions = {}): Promise<Adoption> {
  const { backlog } = options;
  const chosen = choose('listen()', options, forListen);
  if (chosen) {
    adopted.add(chosen.fd);
    try {
      await started(server, () => server.listen({ fd: chosen.fd, backlog }));
    } catch (error) {
      adopted.delete(chosen.fd);
      throw error;
    }
    // Node reports no address for a unix socket it did not bind itself.
    return { activated: true, name: chosen.name, fd: chosen.fd, kind: chosen.kind, address: server.address() ?? chosen.path ?? null };
  }
  const { fallback } = options;
  if (!fallback) throw adoptionError(`listen(): ${notActivatedReason(options)}, and no fallback address was given`);
  const target = 'path' in fallback ? { path: fallback.path, backlog } : { port: fallback.port, host: fallback.host, backlog };
  await started(server, () => server.listen(target));
  return { activated: false, name: options.name, address: server.address() };
}

/**
 * Makes `socket` (from dgram.createSocket('udp4' | 'udp6')) receive on the
 * passed UDP socket called `name`, or, when the process was not activated,
 * bind it to `fallback`. Resolves once bound. Rejects as listen() does; a
 * passed socket of the other IP family than `socket.type` is unsuitable.
 */
export async function bindDgram(socket: dgram.Socket, options: BindDgramOptions = {}): Promise<Adoption> {
  const type = (socket as unknown as { type?: string }).type;
  const chosen = choose('bindDgram()', options, forDgram(type));
  if (chosen) {
    adopted.add(chosen.fd);
    try {
      await started(socket, () => socket.bind({ fd: chosen.fd }));
    } catch (error) {
      adopted.delete(chosen.fd);
      throw error;
    }
    return { activated: true, name: chosen.name, fd: chosen.fd, kind: chosen.kind, address: socket.address() };
  }
  const { fallback } = options;
  if (!fallback) throw adoptionError(`bindDgram(): ${notActivatedReason(options)}, and no fallback address was given`);
  await started(socket, () => socket.bind({ port: fallback.port, address: fallback.host }));
  return { activated: false, name: options.name, address: socket.address() };
}

/**
 * The connection an Accept=yes socket unit passed (its default name is
 * 'connection'), as a net.Socket; null when the process was not activated.
 * To serve it with an http.Server, `server.emit('connection', socket)`.
 * Throws as listen() rejects.
 */
export function adoptConnection(options: string | AdoptOptions = {}): net.Socket | null {
  const resolved = typeof options === 'string' ? { name: options } : options;
  const chosen = choose('adoptConnection()', resolved, forConnection);
  if (!chosen) return null;
  adopted.add(chosen.fd);
  try {
    return new (builtin.net().Socket)({ fd: chosen.fd, readable: true, writable: true });
  } catch (error) {
    adopted.delete(chosen.fd);
    throw error;
  }
}
