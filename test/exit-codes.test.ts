// Exit status names: the table against systemd's src/shared/exit-status.c,
// and against what the systemd installed here prints for itself.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import {
  describeExitCode,
  EXIT_CODES,
  ExitCode,
  exitCodeClass,
  exitCodeInfo,
  exitCodeByName,
  exitCodeName,
  parseExitCode,
  RETIRED_EXIT_CODES,
  type ExitCodeClass,
} from 'sd-daemon-runtime';
import { requireOrSkip } from './helpers/prerequisites.js';

describe('exit codes', function () {
  // [code, name, class] exactly as `systemd-analyze exit-status` prints them.
  const named: [number, string, ExitCodeClass][] = [
    [0, 'SUCCESS', 'libc'],
    [1, 'FAILURE', 'libc'],
    [2, 'INVALIDARGUMENT', 'LSB'],
    [3, 'NOTIMPLEMENTED', 'LSB'],
    [4, 'NOPERMISSION', 'LSB'],
    [5, 'NOTINSTALLED', 'LSB'],
    [6, 'NOTCONFIGURED', 'LSB'],
    [7, 'NOTRUNNING', 'LSB'],
    [64, 'USAGE', 'BSD'],
    [65, 'DATAERR', 'BSD'],
    [66, 'NOINPUT', 'BSD'],
    [67, 'NOUSER', 'BSD'],
    [68, 'NOHOST', 'BSD'],
    [69, 'UNAVAILABLE', 'BSD'],
    [70, 'SOFTWARE', 'BSD'],
    [71, 'OSERR', 'BSD'],
    [72, 'OSFILE', 'BSD'],
    [73, 'CANTCREAT', 'BSD'],
    [74, 'IOERR', 'BSD'],
    [75, 'TEMPFAIL', 'BSD'],
    [76, 'PROTOCOL', 'BSD'],
    [77, 'NOPERM', 'BSD'],
    [78, 'CONFIG', 'BSD'],
    [200, 'CHDIR', 'systemd'],
    [203, 'EXEC', 'systemd'],
    [217, 'USER', 'systemd'],
    [222, 'STDERR', 'systemd'],
    [224, 'PAM', 'systemd'],
    [226, 'NAMESPACE', 'systemd'],
    [228, 'SECCOMP', 'systemd'],
    [231, 'APPARMOR', 'systemd'],
    [233, 'RUNTIME_DIRECTORY', 'systemd'],
    [235, 'CHOWN', 'systemd'],
    [241, 'CONFIGURATION_DIRECTORY', 'systemd'],
    [242, 'NUMA_POLICY', 'systemd'],
    [243, 'CREDENTIALS', 'systemd'],
    [244, 'BPF', 'systemd'],
    [245, 'KSM', 'systemd'],
    [246, 'MEMORY_THP', 'systemd'],
    [255, 'EXCEPTION', 'systemd'],
  ];

  describe('named codes', function () {
    for (const [code, name, cls] of named) {
      it(`${code} is ${name} (${cls})`, function () {
        assert.equal(exitCodeName(code), name);
        assert.equal(exitCodeClass(code), cls);
        assert.equal(describeExitCode(code), `${code}/${name}`);
        assert.equal((ExitCode as Record<string, number>)[name], code);
        assert.equal(parseExitCode(name), code);
      });
    }
  });

  describe('unnamed codes', function () {
    // 223 (TCPWRAP) and 234 (MAKE_STARTER) are retired and never reused.
    for (const code of [8, 63, 79, 127, 199, 223, 234, 247, 254]) {
      it(`${code} has no name`, function () {
        assert.equal(exitCodeName(code), undefined);
        assert.equal(exitCodeClass(code), undefined);
        assert.equal(exitCodeInfo(code), undefined);
        assert.equal(describeExitCode(code), String(code));
      });
    }
  });

  describe('values that are not exit statuses', function () {
    for (const code of [-1, 256, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      it(`${code}: no name, and describeExitCode throws RangeError`, function () {
        assert.equal(exitCodeName(code), undefined);
        assert.equal(exitCodeClass(code), undefined);
        assert.throws(() => describeExitCode(code), RangeError);
      });
    }
  });

  describe('parseExitCode (as SuccessExitStatus= reads a status)', function () {
    const cases: [string, number | undefined][] = [
      ['CONFIG', 78],
      ['APPARMOR', 231],
      ['78', 78],
      ['0', 0],
      ['255', 255],
      ['223', 223],
      ['256', undefined],
      ['config', undefined], // names are case-sensitive, as in systemd
      ['EX_CONFIG', undefined],
      ['EXIT_NAMESPACE', undefined],
      ['APPARMOR_PROFILE', undefined],
      ['', undefined],
      ['-1', undefined],
      ['1.5', undefined],
      [' 1', undefined],
      ['toString', undefined],
    ];
    for (const [text, expected] of cases) {
      it(`${JSON.stringify(text)} -> ${expected}`, function () {
        assert.equal(parseExitCode(text), expected);
      });
    }
  });

  describe('exitCodeByName (every name a user may meet)', function () {
    const cases: [string, number | undefined][] = [
      ['CONFIG', 78],
      ['EX_CONFIG', 78],
      ['EX_USAGE', 64],
      ['EX_OK', 0],
      ['OK', 0],
      ['SUCCESS', 0],
      ['NAMESPACE', 226],
      // Retired names from older releases.
      ['TCPWRAP', 223],
      ['MAKE_STARTER', 234],
      ['BUS_ENDPOINT', 236],
      // A current name wins over the retired use of the same name (237 in v218-v229).
      ['SMACK_PROCESS_LABEL', 236],
      // EX_ only prefixes the BSD codes, as in sysexits.h.
      ['EX_NAMESPACE', undefined],
      ['EX_SUCCESS', undefined],
      ['78', undefined],
      ['ok', undefined],
      ['', undefined],
      ['toString', undefined],
    ];
    for (const [name, expected] of cases) {
      it(`${JSON.stringify(name)} -> ${expected}`, function () {
        assert.equal(exitCodeByName(name), expected);
      });
    }

    it('parseExitCode stays as strict as SuccessExitStatus=: no aliases, no retired names', function () {
      for (const name of ['OK', 'EX_OK', 'EX_CONFIG', 'TCPWRAP', 'MAKE_STARTER', 'BUS_ENDPOINT'])
        assert.equal(parseExitCode(name), undefined, name);
    });
  });

  describe('retired names', function () {
    it('lists each with its last version, frozen, in code order, never a current name for the same code', function () {
      assert.ok(Object.isFrozen(RETIRED_EXIT_CODES));
      assert.deepEqual(
        RETIRED_EXIT_CODES.map((e) => [e.code, e.name, e.since, e.until]),
        [
          [223, 'TCPWRAP', 8, 211],
          [234, 'MAKE_STARTER', 214, 234],
          [236, 'BUS_ENDPOINT', 217, 229],
          [237, 'SMACK_PROCESS_LABEL', undefined, 229],
        ],
      );
      for (const retired of RETIRED_EXIT_CODES) {
        assert.ok(Object.isFrozen(retired));
        assert.notEqual(exitCodeName(retired.code), retired.name);
      }
    });
  });

  describe('the table', function () {
    it('is in code order, with unique codes and names, each round-tripping through ExitCode', function () {
      const codes = EXIT_CODES.map((e) => e.code);
      assert.deepEqual(
        codes,
        [...codes].sort((a, b) => a - b),
      );
      assert.equal(new Set(codes).size, codes.length);
      assert.equal(new Set(EXIT_CODES.map((e) => e.name)).size, EXIT_CODES.length);
      // OK is the one alias (sysexits.h's EX_OK); every other key is a table entry.
      assert.deepEqual(Object.keys(ExitCode).sort(), [...EXIT_CODES.map((e) => e.name), 'OK'].sort());
      assert.equal(ExitCode.OK, 0);
      for (const info of EXIT_CODES) {
        assert.equal(ExitCode[info.name], info.code);
        assert.deepEqual(exitCodeInfo(info.code), info);
      }
    });

    it('covers 0-1, 2-7, 64-78 and systemd 200-246 except the retired 223 and 234, plus 255', function () {
      const expected = [0, 1, 2, 3, 4, 5, 6, 7];
      for (let c = 64; c <= 78; c++) expected.push(c);
      for (let c = 200; c <= 246; c++) if (c !== 223 && c !== 234) expected.push(c);
      expected.push(255);
      assert.deepEqual(
        EXIT_CODES.map((e) => e.code),
        expected,
      );
    });

    it('gives the introducing systemd version for systemd codes only, where established', function () {
      for (const info of EXIT_CODES) {
        if (info.class !== 'systemd') assert.equal(info.since, undefined, info.name);
        else if (info.name !== 'EXCEPTION') assert.ok(Number.isInteger(info.since), info.name);
      }
      const since = Object.fromEntries(EXIT_CODES.filter((e) => e.since !== undefined).map((e) => [e.name, e.since]));
      assert.equal(since.CHDIR, 8);
      assert.equal(since.NAMESPACE, 38);
      assert.equal(since.NUMA_POLICY, 243);
      assert.equal(since.CREDENTIALS, 247);
      assert.equal(since.BPF, 250);
      assert.equal(since.KSM, 254);
      assert.equal(since.MEMORY_THP, 260);
    });

    it('is frozen', function () {
      assert.ok(Object.isFrozen(ExitCode));
      assert.ok(Object.isFrozen(EXIT_CODES));
      assert.equal(Reflect.set(ExitCode, 'CONFIG', 1), false);
      assert.equal(ExitCode.CONFIG, 78);
    });
  });

  describe('against the systemd installed here', function () {
    // `systemd-analyze exit-status` prints systemd's own table and needs no
    // running manager: every name, number and class must match ours, minus
    // the codes newer than this systemd, which it must not know.
    let analyze: string;
    let version: number;

    before(function () {
      try {
        analyze = execFileSync('systemd-analyze', ['exit-status'], {
          encoding: 'utf8',
          env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: 'cat' },
        });
        const versionLine = execFileSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).split('\n')[0]!;
        version = Number(/^systemd (\d+)/.exec(versionLine)?.[1]);
      } catch (error) {
        requireOrSkip(this, false, `systemd-analyze is not usable here (${(error as Error).message.split('\n')[0]})`);
      }
      assert.ok(Number.isInteger(version), 'could not read the systemd version');
    });

    it('matches name, code and class for every code this systemd knows', function () {
      const lines = analyze.trim().split('\n');
      assert.match(lines[0]!, /^NAME\s+STATUS\s+CLASS$/);
      const theirs = lines.slice(1).map((line) => {
        const [name, code, cls] = line.trim().split(/\s+/);
        return { code: Number(code), name, class: cls };
      });
      const ours = EXIT_CODES.filter((e) => e.since === undefined || e.since <= version).map((e) => ({
        code: e.code,
        name: e.name,
        class: e.class,
      }));
      assert.deepEqual(ours, theirs);
      // And the newer ones really are unknown to it (this proves their version annotations are not too old).
      const newer = EXIT_CODES.filter((e) => e.since !== undefined && e.since > version).map((e) => e.code);
      for (const code of newer) assert.ok(!theirs.some((t) => t.code === code), `systemd ${version} knows ${code}`);
    });

    it('no longer prints the retired names: each code is unnamed or renamed there', function () {
      const printed = new Map(
        analyze
          .trim()
          .split('\n')
          .slice(1)
          .map((line) => line.trim().split(/\s+/))
          .map(([name, code]) => [Number(code), name]),
      );
      for (const retired of RETIRED_EXIT_CODES) {
        assert.ok(retired.until < version, `${retired.name} is said to be printed up to ${retired.until}, this is ${version}`);
        assert.notEqual(printed.get(retired.code), retired.name);
        assert.equal(printed.get(retired.code), exitCodeName(retired.code));
      }
    });
  });
});
