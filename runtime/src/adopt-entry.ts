// The socket-activation part of the implementation, an entry of its own in
// the bundle (scripts/bundle.js): listen() and the other adoption calls load
// this and the chunks it needs, not the whole runtime.
export * from './adopt.js';
export * from './listen-fds.js';
