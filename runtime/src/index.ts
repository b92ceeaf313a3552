// sd-daemon-runtime: the service-manager protocols a Node.js daemon speaks.
// One module per mechanism; this file only re-exports.
export * from './capabilities.js';
export * from './notify.js';
export type { SystemError } from './native.js';
