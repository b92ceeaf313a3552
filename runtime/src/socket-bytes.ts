// The kernel's socket structures as bytes, built and read here so the addon
// passes them through untouched (and the kernel checks them): socket
// addresses (struct sockaddr_un / sockaddr_in / sockaddr_in6) and control
// messages (cmsg(3): SCM_CREDENTIALS and SCM_RIGHTS).
//
// struct cmsghdr is { size_t cmsg_len; int cmsg_level; int cmsg_type; } then
// the data, each message padded to sizeof(size_t): on LP64 (x64, arm64) a
// 16-byte header and 8-byte padding. Fields are in the machine's byte order,
// except the port and address of inet sockets (network order).

/** sizeof(size_t) of this Node (and so of the addon and the kernel ABI it uses). */
const WORD = ['arm', 'ia32', 'mips', 'mipsel', 'ppc', 's390'].includes(process.arch) ? 4 : 8;
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
/** The kernel's limit on fds in one SCM_RIGHTS message (SCM_MAX_FD); it refuses more with EINVAL. */
export const SCM_MAX_FD = 253;
/** sizeof(struct sockaddr_storage): room for any address getsockname returns. */
export const SOCKADDR_MAX = 128;

const align = (n: number): number => Math.ceil(n / WORD) * WORD;
const HEADER = align(WORD + 8);
const space = (dataBytes: number): number => HEADER + align(dataBytes);
const UCRED_BYTES = 12; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }

/** Room for all a receiver accepts in one message: credentials and a full SCM_RIGHTS. */
export const RECEIVE_CONTROL_BYTES = space(UCRED_BYTES) + space(4 * SCM_MAX_FD);

/** The sender's credentials and the fds one message carried. */
export interface Control {
  pid: number | null;
  uid: number | null;
  gid: number | null;
  fds: number[];
}

function view(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * The control bytes for sendmsg: SCM_CREDENTIALS when `ucred` is given, then
 * SCM_RIGHTS when `fds` has any (empty Buffer: neither).
 */
export function encodeControl(fds: readonly number[] | null, ucred: readonly [number, number, number] | null): Buffer {
  const rights = fds?.length ? fds : null;
  const bytes = Buffer.alloc((ucred ? space(UCRED_BYTES) : 0) + (rights ? space(4 * rights.length) : 0));
  const v = view(bytes);
  let at = 0;
  const put = (type: number, values: readonly number[]): void => {
    const length = HEADER + 4 * values.length;
    if (WORD === 8) v.setBigUint64(at, BigInt(length), LITTLE);
    else v.setUint32(at, length, LITTLE);
    v.setInt32(at + WORD, SOL_SOCKET, LITTLE);
    v.setInt32(at + WORD + 4, type, LITTLE);
    // pid is signed, uid and gid unsigned: setUint32 takes either range as the same 32 bits.
    for (const [i, value] of values.entries()) v.setUint32(at + HEADER + 4 * i, value >>> 0, LITTLE);
    at += align(length);
  };
  if (ucred) put(SCM_CREDENTIALS, ucred);
  if (rights) put(SCM_RIGHTS, rights);
  return bytes;
}

/** Reads the control messages recvmsg returned (`control`: exactly the bytes it filled). */
export function decodeControl(control: Buffer): Control {
  const v = view(control);
  const out: Control = { pid: null, uid: null, gid: null, fds: [] };
  for (let at = 0; at + HEADER <= control.length; ) {
    const length = WORD === 8 ? Number(v.getBigUint64(at, LITTLE)) : v.getUint32(at, LITTLE);
    // The kernel writes well-formed messages; stop (as CMSG_NXTHDR does) at anything else.
    if (length < HEADER || at + length > control.length) break;
    const level = v.getInt32(at + WORD, LITTLE);
    const type = v.getInt32(at + WORD + 4, LITTLE);
    const data = at + HEADER;
    if (level === SOL_SOCKET && type === SCM_CREDENTIALS && length - HEADER === UCRED_BYTES) {
      out.pid = v.getInt32(data, LITTLE);
      out.uid = v.getUint32(data + 4, LITTLE);
      out.gid = v.getUint32(data + 8, LITTLE);
    } else if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let i = data; i + 4 <= at + length; i += 4) out.fds.push(v.getInt32(i, LITTLE));
    }
    at += align(length);
  }
  return out;
}

/** struct sockaddr_un for the exact sun_path bytes unix-address.ts makes. */
export function unixSockaddr(sunPath: Buffer): Buffer {
  const bytes = Buffer.alloc(2 + sunPath.length);
  view(bytes).setUint16(0, AF_UNIX, LITTLE);
  sunPath.copy(bytes, 2);
  return bytes;
}

/** What a socket address says; `path` holds raw sun_path bytes (abstract names start with a NUL). */
export interface SocketAddressInfo {
  family: number;
  address?: string;
  port?: number;
  path?: Buffer;
}

/**
 * Reads the address getsockname wrote (`raw`: exactly its length). Inet
 * addresses come out as inet_ntop(3) writes them ('::ffff:1.2.3.4' for a
 * mapped IPv4 one), through Node's own renderer.
 */
export function readSockaddr(raw: Buffer): SocketAddressInfo {
  const family = raw.length >= 2 ? view(raw).getUint16(0, LITTLE) : 0;
  if (family === AF_UNIX) return { family, path: Buffer.from(raw.subarray(2)) };
  if (family === AF_INET && raw.length >= 8) return { family, address: [...raw.subarray(4, 8)].join('.'), port: raw.readUInt16BE(2) };
  if (family === AF_INET6 && raw.length >= 24) {
    const groups = Array.from({ length: 8 }, (_, i) => raw.readUInt16BE(8 + 2 * i).toString(16)).join(':');
    // node:net only now, and only for IPv6: importing the runtime must not load it.
    const { SocketAddress } = process.getBuiltinModule('node:net');
    return { family, address: new SocketAddress({ address: groups, family: 'ipv6' }).address, port: raw.readUInt16BE(2) };
  }
  return { family };
}
