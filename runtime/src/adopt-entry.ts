// The socket-activation part of the implementation, an entry of its own in
// the bundle (scripts/bundle.js) so that esbuild splits adopt.ts and
// listen-fds.ts into a chunk of their own: listen() and the other adoption
// calls load that chunk (directly, not this re-export file, which is not
// written), not the whole runtime.
export * from './adopt.js';
export * from './listen-fds.js';
