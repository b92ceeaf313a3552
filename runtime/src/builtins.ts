// Node built-ins that a bare `node` has not loaded at start-up (net, dgram,
// os, stream, crypto...), fetched when first used instead of imported at the
// top: a static import would make every `import 'sd-daemon-runtime'` pay for
// loading them, whether or not the daemon ever adopts a socket or daemonizes.
// The ones Node has loaded already (fs, path, url, util) are not imported
// either, but taken with process.getBuiltinModule at the top of a module: an
// ES `import` of a built-in builds a namespace of all its exports, which runs
// their lazy getters (fs.promises, fs.ReadStream, util.MIMEType...) and loads
// streams, readline and more. Type-only imports cost nothing and stay.
export const builtin = {
  net: () => process.getBuiltinModule('node:net'),
  os: () => process.getBuiltinModule('node:os'),
  stream: () => process.getBuiltinModule('node:stream'),
  stringDecoder: () => process.getBuiltinModule('node:string_decoder'),
};

/** The number of an errno name on this platform ('ENOENT' -> 2), from os.constants. */
export function errnoNumber(code: keyof ReturnType<typeof builtin.os>['constants']['errno']): number {
  return builtin.os().constants.errno[code];
}
