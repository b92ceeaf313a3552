// The receiving end of NOTIFY_SOCKET for the reliability suite: a python3
// process (fixtures/dgram-receiver.py) binding real AF_UNIX datagram sockets
// with SO_PASSCRED, so what arrives is checked by code that shares nothing
// with the runtime's addon. Every datagram comes back with the sender's pid
// (SCM_CREDENTIALS), its exact bytes and the kinds of the fds it carried.
// sync() is the barrier: it resolves once the receiver has drained every
// socket, so everything sent before the call has been collected.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'dgram-receiver.py');

export interface SocketSpec {
  name: string;
  /** An absolute path or '@abstract'. */
  address: string;
  /**
   * 'read' closes received fds at once (barriers resolve); 'hold' keeps them
   * 1.5 s (barriers time out); 'stale' binds and closes at once, leaving a
   * socket file nobody listens on.
   */
  mode: 'read' | 'hold' | 'stale';
}

export interface Datagram {
  sock: string;
  pid: number | null;
  uid: number | null;
  gid: number | null;
  data: Buffer;
  /** One entry per received fd: 'fifo', 'socket', 'file', 'chr', 'dir', 'other'. */
  fds: string[];
  trunc: boolean;
  ctrunc: boolean;
}

export class DgramReceiver {
  readonly #child: ChildProcess;
  readonly #byPid = new Map<number, Datagram[]>();
  readonly #all: Datagram[] = [];
  readonly #syncs = new Map<string, () => void>();
  #nextSync = 0;
  #stderr = '';
  #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.on('exit', () => resolve()));
  }

  static async start(sockets: SocketSpec[]): Promise<DgramReceiver> {
    const child = spawn('python3', [script, JSON.stringify(sockets)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const receiver = new DgramReceiver(child);
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (receiver.#stderr += chunk));
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\n')) !== -1) {
        const line = JSON.parse(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
        if (line.t === 'ready') ready();
        else if (line.t === 'sync') {
          receiver.#syncs.get(line.id)?.();
          receiver.#syncs.delete(line.id);
        } else if (line.t === 'msg') {
          const datagram: Datagram = { ...line, data: Buffer.from(line.data, 'base64') };
          receiver.#all.push(datagram);
          // Bounded: a long run that only ever take()s by pid keeps the recent ones only.
          if (receiver.#all.length > 10_000) receiver.#all.splice(0, 5_000);
          if (datagram.pid !== null) {
            const list = receiver.#byPid.get(datagram.pid) ?? [];
            list.push(datagram);
            receiver.#byPid.set(datagram.pid, list);
          }
        }
      }
    });
    await Promise.race([
      isReady,
      receiver.#exited.then(() => {
        throw new Error(`dgram-receiver.py exited before binding its sockets:\n${receiver.#stderr}`);
      }),
    ]);
    return receiver;
  }

  /** Resolves once every datagram queued before this call has been read and reported. */
  sync(timeoutMs = 10_000): Promise<void> {
    const id = String(this.#nextSync++);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`receiver did not answer sync ${id} in ${timeoutMs} ms; stderr:\n${this.#stderr}`)),
        timeoutMs,
      );
      this.#syncs.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.#child.stdin!.write(`sync ${id}\n`);
    });
  }

  /** Removes and returns what `pid` sent so far (call sync() first). */
  take(pid: number): Datagram[] {
    const list = this.#byPid.get(pid) ?? [];
    this.#byPid.delete(pid);
    return list;
  }

  /** Removes and returns everything received so far, from any sender. */
  takeAll(): Datagram[] {
    const all = this.#all.splice(0);
    this.#byPid.clear();
    return all;
  }

  async close(): Promise<void> {
    this.#child.stdin!.end();
    const killer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
    await this.#exited;
    clearTimeout(killer);
  }
}
