// Runs inside a private mount namespace whose /run/systemd/journal is ours:
// binds a datagram socket where journald's would be, lets libsystemd's
// sd_journal_sendv (argv[2], the compiled sendv.c) and then our sendJournal
// send the same record there, and prints what each sent as base64: the
// datagram, or the contents of the memfd that came instead.
import { closeSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

import { sendJournal } from 'sd-daemon-runtime';
import { nativeBinding } from '../../runtime/dist/native.js';

const native = nativeBinding();
const [, , sendv, specFile, entriesFile] = process.argv;
const fields = Object.fromEntries(
  JSON.parse(readFileSync(specFile, 'utf8')).map(([name, base64]) => [name, Buffer.from(base64, 'base64')]),
);
// The same fields as sd_journal_sendv's iovecs: "NAME=value", any bytes.
const entries = [];
for (const [name, value] of Object.entries(fields)) {
  const entry = Buffer.concat([Buffer.from(`${name}=`), value]);
  const header = Buffer.alloc(4);
  header.writeUInt32LE(entry.length);
  entries.push(header, entry);
}
writeFileSync(entriesFile, Buffer.concat(entries));

const server = native.bindDgram(Buffer.from('/run/systemd/journal/socket\0'));
if (server < 0) throw new Error(`bindDgram: ${server}`);

function receive() {
  for (let tries = 0; tries < 600; tries++) {
    const message = native.recvmsg(server, 8 * 1024 * 1024);
    if (typeof message === 'object') {
      if (message.fds.length === 0) return { via: 'datagram', data: message.data.toString('base64') };
      const data = readFileSync(`/proc/self/fd/${message.fds[0]}`);
      for (const fd of message.fds) closeSync(fd);
      return { via: 'memfd', data: data.toString('base64') };
    }
    spawnSync('sleep', ['0.05']);
  }
  throw new Error('nothing arrived within 30 s');
}

const c = spawnSync(sendv, [entriesFile], { encoding: 'utf8' });
if (c.status !== 0) throw new Error(`sendv failed (${c.status}): ${c.stderr}`);
const libsystemd = receive();
const result = sendJournal(fields);
if (!result.sent) throw new Error(`sendJournal: ${result.error.message}`);
const ours = receive();
process.stdout.write(JSON.stringify({ libsystemd, ours }) + '\n');
