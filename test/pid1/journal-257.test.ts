// The journal protocol and MAINPIDFDID= under a real PID-1 systemd 257 (the
// Debian 13 tree the PID-1 suite caches): a service whose stderr systemd
// connected to its journald logs through createLogger({ journal: 'auto' }),
// which must detect that from JOURNAL_STREAM and send native records that
// journalctl -u reads back with every field; and a Type=notify service hands
// its main process over with MAINPID= + MAINPIDFDID=, which systemd takes
// when the pidfd id is right and refuses when it is not.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { REPO } from '../helpers/generator.js';
import { requireOrSkip } from '../helpers/prerequisites.js';
import { Container, run, sleep } from '../helpers/pid1-container.js';
import { debianRoot } from '../helpers/pid1-roots.js';
import { ARTIFACTS } from './suite.js';

const FIXTURE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const RUNTIME_INSIDE = '/opt/sd-runtime';
const FIXTURES_INSIDE = '/opt/journal-proof';

describe('PID-1 systemd 257: journal native protocol and MAINPIDFDID', function () {
  this.timeout(120_000);
  let container: Container | undefined;
  const c = (): Container => {
    assert.ok(container, 'the container did not boot (see the before all hook)');
    return container;
  };

  before(async function () {
    this.timeout(2400_000);
    requireOrSkip(this, process.getuid?.() === 0, 'the PID-1 tests boot containers with systemd-nspawn and need root');
    const nspawn = await run('sh', ['-c', 'command -v systemd-nspawn && command -v debootstrap'], { timeoutMs: 10_000 });
    requireOrSkip(
      this,
      nspawn.code === 0,
      'systemd-nspawn or debootstrap missing: apt-get install systemd-container debootstrap (or run .ci/pid1.sh)',
    );
    const { dir } = await debianRoot('trixie');
    const artifacts = path.join(ARTIFACTS, 'journal-257');
    mkdirSync(artifacts, { recursive: true });
    container = await Container.boot({
      label: 'journal257',
      directory: dir,
      volatile: 'overlay',
      artifacts,
      binds: [
        { host: path.join(REPO, 'runtime'), inside: RUNTIME_INSIDE },
        { host: FIXTURE_DIR, inside: FIXTURES_INSIDE },
        { host: process.execPath, inside: process.execPath },
      ],
    });
  });

  after(async function () {
    this.timeout(120_000);
    await container?.shutdown();
  });

  async function unit(name: string, body: string): Promise<void> {
    await c().writeFile(`/etc/systemd/system/${name}`, body);
    await c().check(['systemctl', 'daemon-reload']);
  }

  it('a service logging with journal: auto sends native records that journalctl -u reads back, every field kept', async function () {
    const run_ = `run${Date.now()}`;
    await unit(
      'journal-proof.service',
      `[Service]\nType=oneshot\nEnvironment=RUNTIME=${RUNTIME_INSIDE}/dist/index.js TEST_RUN=${run_}\nExecStart=${process.execPath} ${FIXTURES_INSIDE}/journal-proof.mjs log\n`,
    );
    const started = await c().exec(['systemctl', 'start', 'journal-proof.service'], { timeoutMs: 90_000 });
    assert.equal(started.code, 0, `${started.stderr}\n${await c().journal('journal-proof.service')}`);
    let entries: Record<string, unknown>[] = [];
    for (let tries = 0; tries < 100; tries++) {
      const out = await c().check(['journalctl', '-u', 'journal-proof.service', '-o', 'json', '--all', '--no-pager', `TEST_RUN=${run_}`], {
        timeoutMs: 60_000,
      });
      entries = out
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      if (entries.length >= 4) break;
      await sleep(300);
    }
    assert.deepEqual(
      entries.map((e) => [e.PRIORITY, e.MESSAGE, e._TRANSPORT, e._SYSTEMD_UNIT]),
      [
        ['6', 'plain info', 'journal', 'journal-proof.service'],
        ['4', 'served /x', 'journal', 'journal-proof.service'],
        ['3', 'two\nlines', 'journal', 'journal-proof.service'],
        ['5', 'a 1 MiB field of newlines', 'journal', 'journal-proof.service'],
      ],
    );
    assert.equal(entries[1]!.REQUEST_ID, 'r-42');
    assert.deepEqual(entries[1]!.PAYLOAD, [0x61, 0x00, 0x0a, 0x62]);
    assert.equal(entries[1]!.CODE_FILE, `${FIXTURES_INSIDE}/journal-proof.mjs`);
    assert.equal(entries[1]!.SYSLOG_IDENTIFIER, 'node');
    // journalctl prints a value as a string when it is printable text (newlines are), else as an array of bytes.
    const raw = entries[3]!.BIG as string | number[];
    const big = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw);
    assert.ok(big.equals(Buffer.alloc(1024 * 1024, 0x0a)), `the 1 MiB field came back as ${big.length} bytes`);
  });

  for (const variant of ['right', 'wrong'] as const) {
    it(`MAINPID= with the ${variant} MAINPIDFDID=: systemd ${variant === 'right' ? 'takes the child as the main process' : 'refuses the hand-over'}`, async function () {
      const name = `mainpid-${variant}.service`;
      await unit(
        name,
        `[Service]\nType=notify\nNotifyAccess=all\nEnvironment=RUNTIME=${RUNTIME_INSIDE}/dist/index.js\nExecStart=${process.execPath} ${FIXTURES_INSIDE}/journal-proof.mjs mainpid ${variant}\n`,
      );
      const started = await c().exec(['systemctl', 'start', name], { timeoutMs: 90_000 });
      assert.equal(started.code, 0, `${started.stderr}\n${await c().journal(name)}`);
      await sleep(1000);
      const shown = await c().show(name, ['MainPID', 'ActiveState']);
      const said = await c().journal(name);
      const child = /child=(\d+)/.exec(said)?.[1];
      assert.ok(child, `the fixture did not say its child's PID:\n${said}`);
      // The PIDs inside: the container has its own PID namespace, as systemd sees it.
      const comm = (await c().check(['cat', `/proc/${shown.MainPID}/comm`])).trim();
      if (variant === 'right') {
        assert.equal(comm, 'sleep', `MainPID ${shown.MainPID} is ${comm}, not the child\n${said}`);
      } else {
        // systemd says why: "PIDFD ID of process N (ID) mismatches with received MAINPIDFDID=ID+1, not changing main PID."
        assert.match(said, /PIDFD ID of process \d+ \((\d+)\) mismatches with received MAINPIDFDID=\d+, not changing main PID/);
        assert.equal(comm, 'node', `MainPID ${shown.MainPID} is ${comm}: the wrong MAINPIDFDID was taken\n${said}`);
      }
      await c().exec(['systemctl', 'stop', name], { timeoutMs: 60_000 });
    });
  }
});
