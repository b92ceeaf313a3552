// What this runtime can do on this machine, so callers (and bug reports) can
// tell a disabled mechanism from a missing one.
import { nativeBinding, nativeLoadError } from './native.js';

export interface Capabilities {
  /** The native addon is loaded; without it notify() and fd probes are no-ops. */
  native: boolean;
  /** Why the addon is missing (every location tried), when it is. */
  nativeError: string | null;
  /** Notification to path and abstract ('@') sockets. */
  notify: boolean;
  /** Passing fds with notifications (FDSTORE=1, BARRIER=1). */
  fdPassing: boolean;
  /** vsock notification sockets (vsock:CID:PORT): recognised, not supported. */
  vsock: false;
  platform: NodeJS.Platform;
}

export function capabilities(): Capabilities {
  const loaded = nativeBinding() !== null;
  return {
    native: loaded,
    nativeError: nativeLoadError()?.message ?? null,
    notify: loaded,
    fdPassing: loaded,
    vsock: false,
    platform: process.platform,
  };
}
