// watchdogEnabled() follows libsystemd's sd_watchdog_enabled(3) rules, and
// never throws whatever the environment holds.
import assert from 'node:assert/strict';

import { watchdogEnabled, type WatchdogStatus } from 'sd-daemon-runtime';

const me = String(process.pid);

describe('watchdogEnabled()', function () {
  const table: Array<[string, NodeJS.ProcessEnv, Partial<WatchdogStatus> & { enabled: boolean }]> = [
    ['unset', {}, { enabled: false, reason: 'disabled' }],
    ['empty', { WATCHDOG_USEC: '' }, { enabled: false, reason: 'disabled' }],
    ['2 s, no WATCHDOG_PID', { WATCHDOG_USEC: '2000000' }, { enabled: true, usec: 2000000n, timeoutMs: 2000 }],
    ['2 s for our pid', { WATCHDOG_USEC: '2000000', WATCHDOG_PID: me }, { enabled: true, usec: 2000000n, timeoutMs: 2000 }],
    ['1 us (the smallest)', { WATCHDOG_USEC: '1' }, { enabled: true, usec: 1n, timeoutMs: 0.001 }],
    ['for another process', { WATCHDOG_USEC: '2000000', WATCHDOG_PID: '1' }, { enabled: false, reason: 'other-process' }],
    ['zero', { WATCHDOG_USEC: '0' }, { enabled: false, reason: 'invalid' }],
    ['infinity', { WATCHDOG_USEC: '18446744073709551615' }, { enabled: false, reason: 'invalid' }],
    ['beyond 64 bits', { WATCHDOG_USEC: '99999999999999999999999' }, { enabled: false, reason: 'invalid' }],
    ['negative', { WATCHDOG_USEC: '-5' }, { enabled: false, reason: 'invalid' }],
    ['non-numeric', { WATCHDOG_USEC: 'soon' }, { enabled: false, reason: 'invalid' }],
    ['with spaces', { WATCHDOG_USEC: ' 2000000 ' }, { enabled: false, reason: 'invalid' }],
    ['with a unit', { WATCHDOG_USEC: '2s' }, { enabled: false, reason: 'invalid' }],
    ['fractional', { WATCHDOG_USEC: '1.5' }, { enabled: false, reason: 'invalid' }],
    ['hex', { WATCHDOG_USEC: '0x10' }, { enabled: false, reason: 'invalid' }],
    ['garbage WATCHDOG_PID', { WATCHDOG_USEC: '2000000', WATCHDOG_PID: 'me' }, { enabled: false, reason: 'invalid' }],
    ['WATCHDOG_PID zero', { WATCHDOG_USEC: '2000000', WATCHDOG_PID: '0' }, { enabled: false, reason: 'invalid' }],
    ['WATCHDOG_PID negative', { WATCHDOG_USEC: '2000000', WATCHDOG_PID: '-1' }, { enabled: false, reason: 'invalid' }],
    ['empty WATCHDOG_PID', { WATCHDOG_USEC: '2000000', WATCHDOG_PID: '' }, { enabled: false, reason: 'invalid' }],
  ];

  for (const [title, env, expected] of table) {
    it(`${title}: ${expected.enabled ? 'enabled' : (expected as { reason: string }).reason}`, function () {
      const result = watchdogEnabled({ env: { ...env } });
      const { error, ...rest } = result as WatchdogStatus & { error?: Error };
      assert.deepEqual(rest, expected);
      if (expected.enabled === false && (expected as { reason: string }).reason === 'invalid') {
        assert.ok(error instanceof Error);
        assert.match(error.message, /WATCHDOG_(USEC|PID)=/, 'the error names the variable');
      } else {
        assert.equal(error, undefined);
      }
    });
  }

  it('unsetEnv removes both variables on every path', function () {
    for (const env of [
      { WATCHDOG_USEC: '100', WATCHDOG_PID: me },
      { WATCHDOG_USEC: 'x', WATCHDOG_PID: 'y' },
      { WATCHDOG_USEC: '5', WATCHDOG_PID: '1' },
    ] as NodeJS.ProcessEnv[]) {
      watchdogEnabled({ env, unsetEnv: true });
      assert.deepEqual(env, {});
    }
  });

  it('reads process.env by default and leaves it alone without unsetEnv', function () {
    const saved = { usec: process.env.WATCHDOG_USEC, pid: process.env.WATCHDOG_PID };
    try {
      process.env.WATCHDOG_USEC = '3000000';
      process.env.WATCHDOG_PID = me;
      assert.deepEqual(watchdogEnabled(), { enabled: true, usec: 3000000n, timeoutMs: 3000 });
      assert.equal(process.env.WATCHDOG_USEC, '3000000');
    } finally {
      if (saved.usec === undefined) delete process.env.WATCHDOG_USEC;
      else process.env.WATCHDOG_USEC = saved.usec;
      if (saved.pid === undefined) delete process.env.WATCHDOG_PID;
      else process.env.WATCHDOG_PID = saved.pid;
    }
  });
});
