// The socket-activation part of the implementation, an entry of its own in
// the bundle (scripts/bundle.js): listen() and the other adoption calls load
// its file and the addon's chunk, not the rest of the runtime.
export * from './adopt.js';
export * from './listen-fds.js';
