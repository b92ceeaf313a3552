// The sun_path bytes of daemonize()'s private abstract sockets. Closing and
// writing without throwing are in quiet-fd.ts, shared with the fake manager.
import { parseUnixAddress } from '../unix-address.js';

/** The sun_path of one of daemonize()'s own '@sd-daemonize/...' sockets. */
export function abstractSunPath(address: string): Buffer {
  const parsed = parseUnixAddress(address);
  if (parsed.kind !== 'abstract') throw new Error(`daemonize: ${address} is not an abstract socket address`);
  return parsed.sunPath;
}
