// Parses the address forms systemd puts in $NOTIFY_SOCKET (and that our fake
// manager binds): an absolute path, an abstract name written with a leading
// '@', or a vsock address, which this runtime recognises but cannot reach.

/** sizeof(sockaddr_un.sun_path) on Linux. */
export const SUN_PATH_MAX = 108;

export type UnixAddress =
  | { kind: 'path' | 'abstract'; text: string; sunPath: Buffer }
  | { kind: 'vsock'; text: string }
  | { kind: 'invalid'; text: string; problem: string };

/**
 * The exact sun_path bytes for an address: a path keeps its terminating NUL;
 * an abstract name ('@name') becomes a leading NUL plus the name, with no
 * terminator, because the kernel compares abstract names by length.
 */
export function parseUnixAddress(text: string): UnixAddress {
  if (text.startsWith('/') || text.startsWith('@')) {
    if (text.includes('\0')) return { kind: 'invalid', text, problem: 'contains a NUL byte' };
    const abstract = text.startsWith('@');
    const body = Buffer.from(abstract ? text.slice(1) : text, 'utf8');
    const sunPath = abstract ? Buffer.concat([Buffer.from([0]), body]) : Buffer.concat([body, Buffer.from([0])]);
    if (sunPath.length > SUN_PATH_MAX) {
      return {
        kind: 'invalid',
        text,
        problem: `is ${body.length} bytes long; a socket address holds at most ${SUN_PATH_MAX - 1}`,
      };
    }
    return { kind: abstract ? 'abstract' : 'path', text, sunPath };
  }
  if (/^vsock(-stream|-dgram|-seqpacket)?:/.test(text)) return { kind: 'vsock', text };
  return { kind: 'invalid', text, problem: "is neither an absolute path, an abstract name ('@...') nor a vsock address" };
}

/** Renders raw sun_path bytes from getsockname the way systemd writes them. */
export function formatSunPath(raw: Buffer): string {
  if (raw.length === 0) return '';
  if (raw[0] === 0) return '@' + raw.subarray(1).toString('utf8');
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
}
