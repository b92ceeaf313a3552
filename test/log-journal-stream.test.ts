// $JOURNAL_STREAM detection: journalStreamMatches() against the dev:ino of
// real files, and the default logger in a real child whose output is a file
// (prefixed only when JOURNAL_STREAM names the very file it writes to).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { journalStreamMatches } from 'sd-daemon-runtime';
import { tempDir } from './helpers/temp-dir.js';

const fixture = fileURLToPath(new URL('./fixtures/log-journal-stream.mjs', import.meta.url));

/** "dev:ino" of a file as coreutils' stat(1) prints them, independent of Node's fstat. */
function devIno(path: string): { dev: bigint; ino: bigint } {
  let text: string;
  try {
    text = execFileSync('stat', ['-c', '%d:%i', path], { encoding: 'utf8' }).trim();
  } catch {
    const st = statSync(path, { bigint: true });
    text = `${st.dev}:${st.ino}`;
  }
  const [dev, ino] = text.split(':');
  return { dev: BigInt(dev!), ino: BigInt(ino!) };
}

describe('log: $JOURNAL_STREAM detection', function () {
  const dir = tempDir('sd-log-');

  describe('journalStreamMatches', function () {
    let path: string;
    let fd: number;

    before(function () {
      path = join(dir, 'probe');
      fd = openSync(path, 'w');
    });

    after(function () {
      closeSync(fd);
    });

    it('is true when dev:ino names the file open at the fd', function () {
      const { dev, ino } = devIno(path);
      assert.equal(journalStreamMatches(fd, { JOURNAL_STREAM: `${dev}:${ino}` }), true);
    });

    const mismatches: [string, (dev: bigint, ino: bigint) => string | undefined][] = [
      ['another inode', (dev, ino) => `${dev}:${ino + 1n}`],
      ['another device', (dev, ino) => `${dev + 1n}:${ino}`],
      ['unset', () => undefined],
      ['empty', () => ''],
      ['garbage', () => 'garbage'],
      ['only a number', (dev) => `${dev}`],
      ['three fields', (dev, ino) => `${dev}:${ino}:0`],
      ['a sign', (dev, ino) => `+${dev}:${ino}`],
      ['whitespace', (dev, ino) => ` ${dev}:${ino}`],
      ['a trailing newline', (dev, ino) => `${dev}:${ino}\n`],
      ['hexadecimal', (dev, ino) => `0x${dev.toString(16)}:${ino}`],
    ];
    for (const [title, make] of mismatches) {
      it(`is false for ${title}`, function () {
        const { dev, ino } = devIno(path);
        const value = make(dev, ino);
        assert.equal(journalStreamMatches(fd, value === undefined ? {} : { JOURNAL_STREAM: value }), false);
      });
    }

    it('is false for a closed fd, without throwing', function () {
      const { dev, ino } = devIno(path);
      assert.equal(journalStreamMatches(987654, { JOURNAL_STREAM: `${dev}:${ino}` }), false);
    });
  });

  describe('in a child whose output is a file', function () {
    interface Run {
      stdout: string;
      stderr: string;
      report: { lazyBefore: boolean; prefixed: boolean; materialized: boolean };
    }

    let counter = 0;
    /** Runs the fixture with stdout and stderr on files; JOURNAL_STREAM from `journal(stdoutFile, stderrFile)`. */
    function run(target: string, journal: (out: string, err: string) => string | undefined): Run {
      const n = counter++;
      const outPath = join(dir, `out-${n}`);
      const errPath = join(dir, `err-${n}`);
      const reportPath = join(dir, `report-${n}`);
      const outFd = openSync(outPath, 'w');
      const errFd = openSync(errPath, 'w');
      const reportFd = openSync(reportPath, 'w');
      try {
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
        const value = journal(outPath, errPath);
        if (value !== undefined) env.JOURNAL_STREAM = value;
        const result = spawnSync(process.execPath, [fixture, target], { stdio: ['ignore', outFd, errFd, reportFd], env });
        assert.equal(result.status, 0, `fixture failed: ${readFileSync(errPath, 'utf8')}`);
      } finally {
        closeSync(outFd);
        closeSync(errFd);
        closeSync(reportFd);
      }
      return {
        stdout: readFileSync(outPath, 'utf8'),
        stderr: readFileSync(errPath, 'utf8'),
        report: JSON.parse(readFileSync(reportPath, 'utf8')),
      };
    }

    const of = (path: string): string => {
      const { dev, ino } = devIno(path);
      return `${dev}:${ino}`;
    };

    it('prefixes every line on stderr when JOURNAL_STREAM names it (the default logger)', function () {
      const { stderr, stdout, report } = run('default', (_out, err) => of(err));
      assert.equal(stderr, '<5>hello\n<5>world\n<3>failed: 42\n');
      assert.equal(stdout, '');
      assert.deepEqual(report, { lazyBefore: true, prefixed: true, materialized: true });
    });

    it('writes bare lines when JOURNAL_STREAM names another file', function () {
      const { stderr, report } = run('default', (out) => of(out));
      assert.equal(stderr, 'hello\nworld\nfailed: 42\n');
      assert.equal(report.prefixed, false);
    });

    it('writes bare lines when JOURNAL_STREAM is off by one inode', function () {
      const { stderr } = run('stderr', (_out, err) => {
        const { dev, ino } = devIno(err);
        return `${dev}:${ino + 1n}`;
      });
      assert.equal(stderr, 'hello\nworld\nfailed: 42\n');
    });

    for (const garbage of [undefined, '', 'journal', '1:2:3', '-1:5', 'a:b']) {
      it(`writes bare lines with JOURNAL_STREAM=${JSON.stringify(garbage)}`, function () {
        const { stderr, report } = run('stderr', () => garbage);
        assert.equal(stderr, 'hello\nworld\nfailed: 42\n');
        assert.equal(report.prefixed, false);
      });
    }

    it('checks fd 1 for a logger on stdout', function () {
      const matching = run('stdout', (out) => of(out));
      assert.equal(matching.stdout, '<5>hello\n<5>world\n<3>failed: 42\n');
      assert.equal(matching.stderr, '');
      // JOURNAL_STREAM names stderr only: the stdout logger must not prefix.
      const other = run('stdout', (_out, err) => of(err));
      assert.equal(other.stdout, 'hello\nworld\nfailed: 42\n');
    });
  });
});
