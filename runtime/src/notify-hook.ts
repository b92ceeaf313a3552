// A hook on notify(), kept out of the public entry point (index.ts does not
// re-export this module). Only a daemon started by daemonize() sets one, until
// its READY=1 has reached the process that started it (daemonize.ts says
// why); otherwise it is null and notify() pays one comparison for it.
import type { NotifyResult } from './notify.js';

/** Sees a validated message before it goes out; `send` delivers it. */
export type NotifyInterceptor = (text: string, env: NodeJS.ProcessEnv, send: () => NotifyResult) => NotifyResult;

// A live binding: notify.ts always reads the current value.
export let interceptor: NotifyInterceptor | null = null;

export function setNotifyInterceptor(next: NotifyInterceptor | null): void {
  interceptor = next;
}
