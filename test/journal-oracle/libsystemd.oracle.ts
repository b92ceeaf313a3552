// Our journal records against libsystemd's own: the same fields sent by
// sd_journal_sendv(3) (test/journal-oracle/sendv.c, compiled here against
// libsystemd-dev) and by sendJournal() must be the same bytes, byte for byte,
// for text, repeated fields, values with newlines (the length-prefixed form)
// and NULs, and a 1 MiB record (which each may carry in a datagram or a
// memfd: the bytes must still match). Both send to a socket this test binds
// at /run/systemd/journal/socket inside a private mount namespace.
// Run by .ci/journal-oracle.sh (it installs gcc and libsystemd-dev).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { requireOrSkip } from '../helpers/prerequisites.js';

const here = fileURLToPath(new URL('.', import.meta.url));

describe('journal records, byte for byte against libsystemd (sd_journal_sendv)', function () {
  this.timeout(180_000);
  let dir: string;
  let sendv: string;

  before(function () {
    requireOrSkip(this, process.getuid?.() === 0, 'the oracle needs root (a private mount namespace)');
    dir = mkdtempSync(join(tmpdir(), 'journal-oracle-'));
    // Named "node", so libsystemd's default SYSLOG_IDENTIFIER
    // (program_invocation_short_name) is the one we derive from node's argv[0].
    sendv = join(dir, 'node');
    const cc = spawnSync('gcc', ['-O1', '-DSD_JOURNAL_SUPPRESS_LOCATION', '-o', sendv, join(here, 'sendv.c'), '-lsystemd'], {
      encoding: 'utf8',
    });
    requireOrSkip(
      this,
      cc.status === 0,
      `cannot build the libsystemd oracle (apt-get install gcc libsystemd-dev): ${cc.error?.message ?? cc.stderr}`,
    );
  });

  after(function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function compare(fields: [string, Buffer][]): { libsystemd: { via: string; data: string }; ours: { via: string; data: string } } {
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify(fields.map(([name, value]) => [name, value.toString('base64')])));
    const script = `set -e
mkdir -p /run/systemd/journal
mount -t tmpfs journal-oracle /run/systemd/journal
exec "$NODE" "$CAPTURE" "$SENDV" "$SPEC" "$ENTRIES"`;
    const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
      encoding: 'utf8',
      env: {
        ...process.env,
        NODE: process.execPath,
        CAPTURE: join(here, 'capture.mjs'),
        SENDV: sendv,
        SPEC: spec,
        ENTRIES: join(dir, 'entries'),
      },
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout);
  }

  it('text fields, a repeated field, a multi-line MESSAGE and values with NULs: the same datagram', function () {
    const { libsystemd, ours } = compare([
      ['MESSAGE', Buffer.from('first line\nsecond line\n')],
      ['PRIORITY', Buffer.from('3')],
      ['CODE_FILE', Buffer.from('/srv/app/main.js')],
      ['WITH_NUL', Buffer.from('a\0b')],
      ['BINARY', Buffer.from([0x00, 0x0a, 0xff, 0x0a, 0x00])],
      ['EMPTY', Buffer.alloc(0)],
    ]);
    assert.equal(libsystemd.via, 'datagram');
    assert.equal(ours.via, 'datagram');
    assert.equal(ours.data, libsystemd.data);
  });

  it('a record that names its SYSLOG_IDENTIFIER: nothing appended by either', function () {
    const { libsystemd, ours } = compare([
      ['MESSAGE', Buffer.from('hello')],
      ['SYSLOG_IDENTIFIER', Buffer.from('my-daemon')],
    ]);
    assert.equal(ours.data, libsystemd.data);
    assert.equal(Buffer.from(ours.data, 'base64').toString(), 'MESSAGE=hello\nSYSLOG_IDENTIFIER=my-daemon\n');
  });

  it('a 1 MiB record: the same bytes, whichever way each carried it', function () {
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const { libsystemd, ours } = compare([
      ['MESSAGE', Buffer.from('a big one')],
      ['BIG', big],
    ]);
    assert.equal(ours.via, 'memfd');
    assert.ok(
      Buffer.from(ours.data, 'base64').equals(Buffer.from(libsystemd.data, 'base64')),
      `libsystemd sent ${libsystemd.via}, we sent ${ours.via}: the bytes differ`,
    );
  });
});
