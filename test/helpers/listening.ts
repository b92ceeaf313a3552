// Node's server.listen() and socket.bind() as promises: they resolve once the
// socket is bound and reject with the bind error (EADDRINUSE, EACCES), which
// the callback forms would leave as an unhandled 'error' event.
import type dgram from 'node:dgram';
import type net from 'node:net';

/** `server.listen(...args)`, resolved with the server once it listens. */
export function listening(server: net.Server, ...args: unknown[]): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...(args as []), () => resolve(server));
  });
}

/** `socket.bind(port, host)`, resolved with the socket once it is bound. */
export function bound(socket: dgram.Socket, port: number, host: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve(socket));
  });
}
